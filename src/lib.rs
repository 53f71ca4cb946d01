//! Upscope co-browsing gateway: a Cloudflare Worker with two entry points.
//!
//! - `/visitor` opens a Universal-proxy session and redirects the visitor to it.
//! - `/agent` finds the visitor an agent names and redirects the agent to a
//!   fresh `watch_url`.
//!
//! `core` is pure logic; `auth` decides who the agent is; `upscope` speaks the REST API over a `Transport`;
//! `services` are the two flows; `routes` and `http` are the thin shell.

mod auth;
mod cache;
mod core;
mod error;
mod http;
mod observe;
mod outbound;
mod pages;
#[cfg(test)]
mod properties;
mod routes;
mod services;
mod settings;
mod upscope;

/// The Worker's `fetch` export, as `#[event(fetch)]` would write it, except
/// that it hands the runtime's `Response` over as `routes::handle` built it,
/// and a failure of the shell itself (the runtime refusing to build a
/// response) is logged as the runtime's own error value: the macro goes
/// through `worker::Response` and formats `worker::Error` with `Display`,
/// which links every variant's formatting (matchit, std::io, serde errors
/// and more) into the bundle for a path that does not otherwise need it.
mod entry {
    use worker::wasm_bindgen::prelude::wasm_bindgen;
    use worker::wasm_bindgen::JsValue;
    use worker::{web_sys, Env, Request};

    #[wasm_bindgen(
        wasm_bindgen = ::worker::wasm_bindgen,
        wasm_bindgen_futures = ::worker::wasm_bindgen_futures,
        js_sys = ::worker::js_sys
    )]
    pub async fn fetch(req: web_sys::Request, env: Env, _ctx: worker::worker_sys::Context) -> Result<JsValue, JsValue> {
        std::panic::AssertUnwindSafe(async move {
            match crate::routes::handle(Request::from(req), env).await {
                Ok(response) => Ok(JsValue::from(response)),
                Err(err) => {
                    web_sys::console::error_2(&"gateway: could not build the response:".into(), &err);
                    let init = web_sys::ResponseInit::new();
                    init.set_status(500);
                    Ok(web_sys::Response::new_with_opt_str_and_init(Some("Internal Server Error"), &init)?.into())
                }
            }
        })
        .await
    }
}
