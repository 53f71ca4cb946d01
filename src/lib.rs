//! Upscope co-browsing gateway: a Cloudflare Worker with two entry points.
//!
//! - `/visitor` opens a Universal-proxy session and redirects the visitor to it.
//! - `/agent` finds the visitor an agent names and redirects the agent to a
//!   fresh `watch_url`.
//!
//! `core` is pure logic; `auth` decides who the agent is; `upscope` speaks the REST API over a `Transport`;
//! `services` are the two flows; `routes` and `http` are the thin shell.

#[cfg(test)]
mod architecture;
mod auth;
mod core;
mod edge;
mod error;
mod http;
mod observe;
mod outbound;
mod pages;
#[cfg(test)]
mod properties;
pub mod readiness;
mod routes;
mod services;
mod settings;
mod short_id_cache;
mod upscope;

/// The exports `src/edge/entry.js` (the Worker's entry) calls: `fetch` for
/// each request, and `answer_after_panic` for the requests a panic cost.
/// `fetch` is what `#[event(fetch)]` would write, with three differences:
/// - it hands over the runtime's `Response` as `routes::handle` built it;
/// - a failure of the shell itself (the runtime refusing to build a response)
///   is logged as the runtime's own error value: the macro goes through
///   `worker::Response` and formats `worker::Error` with `Display`, which links
///   every variant's formatting (matchit, std::io, serde errors and more) into
///   the bundle for a path that does not otherwise need it;
/// - the request runs on `edge::executor`: polled at once, so an answer that
///   needs no upstream call (an unknown path, a refused link) is returned as
///   it is, without a Promise; otherwise it continues inside the reactions of
///   its own promises, without a microtask hop per wake.
mod entry {
    use worker::js_sys::{Function, Promise};
    use worker::wasm_bindgen::prelude::wasm_bindgen;
    use worker::wasm_bindgen::JsValue;
    use worker::{web_sys, Env};

    use crate::edge::executor::{run, Deliver, Run};

    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
    pub fn fetch(req: web_sys::Request, env: Env) -> JsValue {
        crate::edge::panic::watch();
        match run(respond(req, env), settled_later) {
            Run::Done(Ok(response)) => response,
            Run::Done(Err(err)) => Promise::reject(&err).into(),
            Run::Pending(promise) => promise.into(),
        }
    }

    /// The gateway's own 500 for a request that a panic of the previous
    /// instance cost (`site`: where it happened), answered by this fresh one.
    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys, js_name = answerAfterPanic)]
    pub fn answer_after_panic(req: web_sys::Request, env: Env, site: String) -> JsValue {
        crate::edge::panic::watch();
        match crate::routes::answer_after_panic(req, env, site) {
            Ok(response) => response.into(),
            Err(err) => plain_500(&err),
        }
    }

    /// The Promise the runtime waits on, and what settles it.
    fn settled_later() -> (Promise, Deliver<Result<JsValue, JsValue>>) {
        let mut settle = None;
        let promise = Promise::new(&mut |resolve: Function, reject: Function| settle = Some((resolve, reject)));
        let deliver = move |answer: Result<JsValue, JsValue>| {
            // The executor of `new Promise` runs synchronously: both are set.
            if let Some((resolve, reject)) = settle {
                let _ = match answer {
                    Ok(response) => resolve.call1(&JsValue::UNDEFINED, &response),
                    Err(err) => reject.call1(&JsValue::UNDEFINED, &err),
                };
            }
        };
        (promise, Box::new(deliver))
    }

    async fn respond(req: web_sys::Request, env: Env) -> Result<JsValue, JsValue> {
        match crate::routes::handle(req, env).await {
            Ok(response) => Ok(JsValue::from(response)),
            Err(err) => Ok(plain_500(&err)),
        }
    }

    /// When the runtime would not build the gateway's own response: a bare 500.
    fn plain_500(err: &JsValue) -> JsValue {
        web_sys::console::error_2(&"gateway: could not build the response:".into(), err);
        let init = web_sys::ResponseInit::new();
        init.set_status(500);
        web_sys::Response::new_with_opt_str_and_init(Some("Internal Server Error"), &init)
            .map_or_else(|err| Promise::reject(&err).into(), JsValue::from)
    }
}
