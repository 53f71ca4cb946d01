//! Routing and the thin handlers: read the request, load settings, call a
//! flow, answer. Every failure comes back as a `GatewayError`.

mod agent;
mod health;
mod visitor;

use worker::{Env, Method, Request, Response, Result};

use crate::auth::access::KeyCache;
use crate::auth::webcrypto::WebCrypto;
use crate::auth::Verifiers;
use crate::core::framing::FrameAncestors;
use crate::core::negotiate::prefers_json;
use crate::core::query::Params;
use crate::error::GatewayError;
use crate::http;
use crate::settings::{frame_ancestors, UpstreamSettings};
use crate::upscope::fetch::FetchTransport;
use crate::upscope::models::SessionUrl;
use crate::upscope::Client;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Visitor,
    Agent,
    Health,
}

fn route(path: &str) -> Option<Route> {
    match path {
        "/visitor" => Some(Route::Visitor),
        "/agent" => Some(Route::Agent),
        "/healthz" => Some(Route::Health),
        _ => None,
    }
}

/// What a handler decided; turned into a response in `handle` only.
pub enum Outcome {
    Redirect(SessionUrl),
    Json(serde_json::Value),
}

pub async fn handle(req: Request, env: Env) -> Result<Response> {
    let wants_json = prefers_json(req.headers().get("Accept")?.as_deref());
    let url = req.url()?;
    let route = route(url.path());
    // Who may frame this route's pages is settled first, so even an error
    // page about another setting carries the right policy.
    let (framing, result) = match framing(route, &env) {
        Ok(framing) => (framing, dispatch(&req, &env, route, &url).await),
        Err(err) => (FrameAncestors::NONE, Err(err)),
    };
    let response = match result {
        Ok(Outcome::Redirect(url)) => http::redirect_to_session(&url),
        Ok(Outcome::Json(body)) => http::json(200, &body),
        Err(err) => http::error(&err, wants_json),
    }?;
    http::with_frame_ancestors(response, &framing)
}

fn framing(route: Option<Route>, env: &Env) -> std::result::Result<FrameAncestors, GatewayError> {
    match route {
        Some(Route::Visitor) => frame_ancestors(env, "EMBED_ORIGINS"),
        Some(Route::Agent) => frame_ancestors(env, "AGENT_EMBED_ORIGINS"),
        Some(Route::Health) | None => Ok(FrameAncestors::NONE),
    }
}

async fn dispatch(
    req: &Request,
    env: &Env,
    route: Option<Route>,
    url: &url::Url,
) -> std::result::Result<Outcome, GatewayError> {
    let route = route.ok_or(GatewayError::RouteNotFound)?;
    if req.method() != Method::Get {
        return Err(GatewayError::MethodNotAllowed { allow: "GET" });
    }
    let params = Params::parse(url.query())?;
    match route {
        Route::Health => Ok(health::handle()),
        Route::Visitor => visitor::handle(env, &params).await,
        Route::Agent => agent::handle(req, env, &params).await,
    }
}

/// Where Access signing keys stay between requests in this isolate.
static ACCESS_KEYS: KeyCache = KeyCache::new(None);

/// The real effects behind verification: WebCrypto, Fetch, this isolate's key cache, the clock.
fn verifiers() -> Verifiers<'static, WebCrypto, FetchTransport> {
    Verifiers {
        crypto: &WebCrypto,
        transport: &FetchTransport,
        access_keys: &ACCESS_KEYS,
        now_ms: worker::js_sys::Date::now(),
    }
}

/// The Upscope client for this request; fails with a clear 500 when the key is missing.
fn upscope_client(env: &Env) -> std::result::Result<Client<FetchTransport>, GatewayError> {
    let settings = UpstreamSettings::load(env)?;
    Ok(Client::new(FetchTransport, settings.base, settings.api_key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_exact_paths() {
        assert_eq!(route("/visitor"), Some(Route::Visitor));
        assert_eq!(route("/agent"), Some(Route::Agent));
        assert_eq!(route("/healthz"), Some(Route::Health));
        for other in ["/", "/visitor/", "/agent/x", "/VISITOR", "/healthz.json"] {
            assert_eq!(route(other), None, "{other}");
        }
    }
}
