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
mod cache;
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
mod upscope;

/// The Worker's `fetch` export, as `#[event(fetch)]` would write it, with
/// three differences:
/// - it hands over the runtime's `Response` as `routes::handle` built it;
/// - a failure of the shell itself (the runtime refusing to build a response)
///   is logged as the runtime's own error value: the macro goes through
///   `worker::Response` and formats `worker::Error` with `Display`, which links
///   every variant's formatting (matchit, std::io, serde errors and more) into
///   the bundle for a path that does not otherwise need it;
/// - the handler is polled once at once: an answer that needs no upstream
///   call (an unknown path, a refused link) is returned as it is, without a
///   Promise, closures and a microtask hop; otherwise the started future is
///   handed to the executor as a Promise, as before.
mod entry {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    use worker::js_sys::futures::future_to_promise;
    use worker::js_sys::Promise;
    use worker::wasm_bindgen::prelude::wasm_bindgen;
    use worker::wasm_bindgen::JsValue;
    use worker::{web_sys, Env, Request};

    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, js_sys = ::worker::js_sys)]
    pub fn fetch(req: web_sys::Request, env: Env, _ctx: worker::worker_sys::Context) -> JsValue {
        let mut answer = Box::pin(respond(req, env));
        // Every future polled here takes the waker of its latest poll, so a
        // first poll with a no-op waker is followed by the executor's own.
        match answer.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Ok(response)) => response,
            Poll::Ready(Err(err)) => Promise::reject(&err).into(),
            Poll::Pending => future_to_promise(answer).into(),
        }
    }

    async fn respond(req: web_sys::Request, env: Env) -> Result<JsValue, JsValue> {
        match crate::routes::handle(Request::from(req), env).await {
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
