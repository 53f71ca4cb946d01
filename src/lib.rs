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

use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    routes::handle(req, env).await
}
