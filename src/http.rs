//! The imperative edge of responses: turning decisions into the runtime's
//! `Response`s with the headers every answer carries.
//!
//! An answer is first a plain value (`Answer`); `Answer::into_response`
//! then makes one `Headers` and one `Response` in the runtime. The runtime's
//! types are used directly rather than `worker::Response`, whose body and
//! header wrappers cost extra crossings and a copy of the body per request.

use worker::wasm_bindgen::JsValue;
use worker::web_sys;

use crate::core::framing::FrameAncestors;
use crate::error::GatewayError;
use crate::upscope::models::SessionUrl;
use crate::upscope::UpstreamError;

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";

/// A response before it is handed to the runtime.
pub struct Answer {
    pub status: u16,
    body: Option<String>,
    /// Headers particular to this answer (`Content-Type`, `Location`, ...).
    headers: Vec<(&'static str, String)>,
}

impl Answer {
    /// The runtime's `Response`, with the headers on every response the
    /// gateway sends: pages may hold signed links and redirects lead to
    /// session URLs, so nothing is cached, and no URL of ours is ever sent
    /// on as a referrer. `framing` is the route's framing policy.
    pub fn into_response(self, framing: &FrameAncestors, request_id: &str) -> Result<web_sys::Response, JsValue> {
        let headers = web_sys::Headers::new()?;
        for (name, value) in &self.headers {
            headers.set(name, value)?;
        }
        headers.set("X-Content-Type-Options", "nosniff")?;
        headers.set("Cache-Control", "no-store")?;
        headers.set("Referrer-Policy", "no-referrer")?;
        headers.set("Content-Security-Policy", &framing.content_security_policy())?;
        headers.set("X-Request-Id", request_id)?;
        let init = web_sys::ResponseInit::new();
        init.set_status(self.status);
        init.set_headers(&headers);
        web_sys::Response::new_with_opt_str_and_init(self.body.as_deref(), &init)
    }
}

/// Sends the browser on to a session URL. The URL is a credential: nothing
/// may cache the answer and the next page must not learn it as a referrer.
pub fn redirect_to_session(url: &SessionUrl) -> Answer {
    Answer { status: 302, body: None, headers: vec![("Location", url.expose().to_owned())] }
}

/// A page the gateway rendered itself (console, chooser).
pub fn html(body: String) -> Answer {
    Answer { status: 200, body: Some(body), headers: vec![("Content-Type", HTML.to_owned())] }
}

pub fn json(status: u16, body: &serde_json::Value) -> Answer {
    Answer { status, body: Some(body.to_string()), headers: vec![("Content-Type", JSON.to_owned())] }
}

/// The single place an error becomes a response: HTML for browsers, JSON
/// when the request's `Accept` prefers it.
pub fn error(err: &GatewayError, wants_json: bool, retry_href: Option<&str>) -> Answer {
    let (body, content_type) = if wants_json { (err.to_json(), JSON) } else { (crate::pages::error_page(err, retry_href), HTML) };
    let mut headers = vec![("Content-Type", content_type.to_owned())];
    match err {
        GatewayError::MethodNotAllowed { allow } => headers.push(("Allow", (*allow).to_owned())),
        GatewayError::Upstream(UpstreamError::RateLimited { retry_after: Some(seconds) })
            if !seconds.is_empty() && seconds.len() <= 6 && seconds.bytes().all(|b| b.is_ascii_digit()) =>
        {
            headers.push(("Retry-After", seconds.clone()))
        }
        _ => {}
    }
    Answer { status: err.status(), body: Some(body), headers }
}
