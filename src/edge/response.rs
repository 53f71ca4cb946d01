//! An `Answer` handed to the runtime: one `Headers` and one `Response`,
//! through `web_sys` directly rather than `worker::Response`, whose body and
//! header wrappers cost extra crossings and a copy of the body per request.

use worker::wasm_bindgen::JsValue;
use worker::web_sys;

use crate::core::framing::FrameAncestors;
use crate::http::Answer;

/// The runtime's `Response`, with the headers on every response the
/// gateway sends: pages may hold signed links and redirects lead to
/// session URLs, so nothing is cached, and no URL of ours is ever sent
/// on as a referrer. `framing` is the route's framing policy.
pub fn into_response(answer: Answer, framing: &FrameAncestors, request_id: &str) -> Result<web_sys::Response, JsValue> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in &answer.headers {
        headers.set(name, value)?;
    }
    headers.set("X-Content-Type-Options", "nosniff")?;
    headers.set("Cache-Control", "no-store")?;
    headers.set("Referrer-Policy", "no-referrer")?;
    headers.set("Content-Security-Policy", &framing.content_security_policy())?;
    headers.set("X-Request-Id", request_id)?;
    let init = web_sys::ResponseInit::new();
    init.set_status(answer.status);
    init.set_headers(&headers);
    web_sys::Response::new_with_opt_str_and_init(answer.body.as_deref(), &init)
}
