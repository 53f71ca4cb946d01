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

/// The Worker's `fetch` export, as `#[event(fetch)]` would write it, with
/// three differences:
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
    pub fn fetch(req: web_sys::Request, env: Env, _ctx: worker::worker_sys::Context) -> JsValue {
        match run(respond(req, env), settled_later) {
            Run::Done(Ok(response)) => response,
            Run::Done(Err(err)) => Promise::reject(&err).into(),
            Run::Pending(promise) => promise.into(),
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
            Err(err) => {
                web_sys::console::error_2(&"gateway: could not build the response:".into(), &err);
                let init = web_sys::ResponseInit::new();
                init.set_status(500);
                Ok(web_sys::Response::new_with_opt_str_and_init(Some("Internal Server Error"), &init)?.into())
            }
        }
    }
}
