//! Routing and the thin handlers: read the request, load settings, call a
//! flow, answer. Every failure comes back as a `GatewayError`.

mod agent;
mod health;
mod ready;
mod runtime;
mod view;
mod visitor;

use worker::js_sys::{Date, Math};
use worker::wasm_bindgen::JsValue;
use worker::{web_sys, Env};

use crate::core::framing::FrameAncestors;
use crate::core::href::path_and_query;
use crate::core::negotiate::prefers_json;
use crate::core::query::Params;
use crate::edge::metrics::write_data_point;
use crate::edge::request::{Header, RequestHead};
use crate::edge::response::into_response;
use crate::error::GatewayError;
use crate::http;
use crate::observe::{
    generated_request_id, log_line, request_id_from_ray, Level, RequestLog, Summary, UnreadableAnswer,
};
use crate::settings::{FramedPages, Settings};
use crate::upscope::models::SessionUrl;
use crate::upscope::UpstreamError;
use runtime::{RequestContext, Runtime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Visitor,
    Agent,
    View,
    Health,
    Ready,
}

impl Route {
    const ALL: [Route; 5] = [Route::Visitor, Route::Agent, Route::View, Route::Health, Route::Ready];

    fn path(self) -> &'static str {
        match self {
            Route::Visitor => "/visitor",
            Route::Agent => "/agent",
            Route::View => "/view",
            Route::Health => "/healthz",
            Route::Ready => "/readyz",
        }
    }
}

fn route(path: &str) -> Option<Route> {
    Route::ALL.into_iter().find(|r| r.path() == path)
}

/// The route as logged: unknown paths are not echoed into logs.
fn route_name(route: Option<Route>) -> &'static str {
    route.map_or("other", Route::path)
}

/// What a handler decided; turned into a response in `handle` only.
pub enum Outcome {
    Redirect(SessionUrl),
    Json(serde_json::Value),
    /// `/readyz` when a setting is wrong: 503 with the body.
    NotReady(serde_json::Value),
    /// A page the gateway renders itself (the console, the device chooser).
    Page(String),
    /// The page that asks an agent to confirm a link from another site.
    ConfirmLaunch(String),
}

/// Answers one request. `Err` only when the runtime refuses to build the
/// response itself; every failure of the gateway's own is an answer.
pub async fn handle(req: web_sys::Request, env: Env) -> std::result::Result<web_sys::Response, JsValue> {
    let started = Date::now();
    let log = RequestLog::default();
    let runtime = Runtime::of(&env);
    let req = RequestHead::read(&req);
    let (route, url) = route_of(&req);
    // Who may frame this route's pages is settled first, so even an error
    // page about another setting carries the right policy.
    let (framing, result) = match (&url, framing(route, &runtime.settings)) {
        (Err(err), _) => (&NOBODY, Err(err.clone())),
        (_, Err(err)) => (&NOBODY, Err(err)),
        (Ok((_, query)), Ok(framing)) => (framing, dispatch(&req, &runtime, route, *query, &log).await),
    };
    answer(&req, &runtime, route, url.ok(), framing, result, &log, started)
}

/// Answers a request that a panic (or any trap) of the wasm instance
/// serving it cost, on the fresh instance `src/edge/entry.js` started: the
/// gateway's own 500 page (JSON when asked), and its log line naming where
/// the panic happened (`site`, from `observe::panic_site`).
pub fn answer_after_panic(
    req: web_sys::Request,
    env: Env,
    site: String,
) -> std::result::Result<web_sys::Response, JsValue> {
    let started = Date::now();
    let log = RequestLog::default();
    log.panicked(site);
    let runtime = Runtime::of(&env);
    let req = RequestHead::read(&req);
    let (route, url) = route_of(&req);
    let framing = framing(route, &runtime.settings).unwrap_or(&NOBODY);
    let failed = Err(GatewayError::Internal("it stopped while answering this request"));
    answer(&req, &runtime, route, url.ok(), framing, failed, &log, started)
}

/// A request URL's path and query, or why it could not be read.
type PathAndQuery<'a> = std::result::Result<(&'a str, Option<&'a str>), GatewayError>;

/// The route a request asks for, and its path and query.
fn route_of(req: &RequestHead) -> (Option<Route>, PathAndQuery<'_>) {
    let url = path_and_query(&req.url)
        .ok_or_else(|| GatewayError::bad_request("bad_url", "The request URL could not be read."));
    let route = url.as_ref().ok().and_then(|(path, _)| route(path));
    (route, url)
}

/// Turns what the handler decided into the response, and writes the
/// request's metrics data point and its one log line.
#[allow(clippy::too_many_arguments)]
fn answer(
    req: &RequestHead,
    runtime: &Runtime,
    route: Option<Route>,
    url: Option<(&str, Option<&str>)>,
    framing: &FrameAncestors,
    result: std::result::Result<Outcome, GatewayError>,
    log: &RequestLog,
    started: f64,
) -> std::result::Result<web_sys::Response, JsValue> {
    let request_id = request_id_from_ray(req.header(Header::CfRay))
        .unwrap_or_else(|| generated_request_id(Math::random(), Math::random()));
    let wants_json = prefers_json(req.header(Header::Accept));
    // The launch confirmation is never framed, whatever the route allows:
    // in a frame, the page around it could have the agent click its button
    // unawares (an `AGENT_EMBED_ORIGINS` wildcard may cover anyone's site).
    let framing = if matches!(result, Ok(Outcome::ConfirmLaunch(_))) { &NOBODY } else { framing };
    let (outcome, answer) = match result {
        Ok(Outcome::Redirect(url)) => ("redirect", http::redirect_to_session(&url)),
        Ok(Outcome::Json(body)) => ("ok", http::json(200, &body)),
        Ok(Outcome::NotReady(body)) => ("not_ready", http::json(503, &body)),
        Ok(Outcome::Page(body)) => ("page", http::html(body)),
        Ok(Outcome::ConfirmLaunch(body)) => ("confirm_launch", http::html(body)),
        Err(err) => {
            if let GatewayError::Upstream(UpstreamError::Unreadable(answer)) = &err {
                let (endpoint, status, got) = (answer.endpoint, answer.status, answer.got.clone());
                log.unreadable(UnreadableAnswer { endpoint, status, got });
            }
            // A visitor in an iframe gets a way to try again when the trouble may pass.
            let retry = match url {
                Some((path, query)) if route == Some(Route::Visitor) && err.is_transient() => {
                    Some(retry_href(path, query))
                }
                _ => None,
            };
            let outcome = if log.has_panicked() { "panic" } else { err.code() };
            (outcome, http::error(&err, wants_json, retry.as_deref()))
        }
    };
    let status = answer.status;
    let response = into_response(answer, framing, &request_id)?;
    let summary = Summary {
        request_id: &request_id,
        method: &req.method,
        route: route_name(route),
        status,
        outcome,
        total_ms: (Date::now() - started).max(0.0) as u64,
    };
    // The data point first: a dataset that fails says so in the line.
    write_data_point(runtime.env(), &summary, log);
    // The console method sets the level Workers Logs files the line under.
    let line = log_line(&summary, log);
    let line = JsValue::from_str(&line);
    match Level::of(summary.status) {
        Level::Error => web_sys::console::error_1(&line),
        Level::Warn => web_sys::console::warn_1(&line),
        Level::Info => web_sys::console::log_1(&line),
    }
    Ok(response)
}

/// The request's own path and query, for a "Try again" link.
fn retry_href(path: &str, query: Option<&str>) -> String {
    match query {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    }
}

/// Test builds only (`scripts/build.sh panic`, never deployed): a panic on
/// request, to prove what a panic costs (`tests/integration/panic.test.mjs`).
/// `/__panic?now` panics in the request's first poll, `/__panic?later` in a
/// later one, after a timer settles. `/__panic?overflow` and `?oom` trap
/// without a panic: the call stack runs out, or memory does.
#[cfg(feature = "panic-on-purpose")]
mod on_purpose {
    use std::hint::black_box;

    use crate::edge::request::RequestHead;

    pub async fn panic_if_asked(req: &RequestHead) {
        match req.url.split_once("/__panic?").map(|(_, when)| when) {
            Some("now") => panic!("a panic on purpose"),
            Some("later") => {
                crate::edge::timer::sleep(20).await;
                panic!("a panic on purpose, later");
            }
            Some("overflow") => {
                black_box(recurse(black_box(0)));
            }
            Some("oom") => out_of_memory(),
            _ => {}
        }
    }

    /// Never returns: each call keeps a frame, until V8's stack limit.
    #[allow(unconditional_recursion)]
    fn recurse(depth: u64) -> u64 {
        let frame = black_box([depth; 32]);
        recurse(black_box(depth + 1)) + frame[black_box(1)]
    }

    /// 64 × 256 MiB kept: wasm32 memory ends at 4 GiB, so an allocation
    /// fails on the way and Rust aborts (a trap, no panic).
    fn out_of_memory() {
        let mut kept: Vec<Vec<u8>> = Vec::new();
        for _ in 0..64 {
            kept.push(black_box(Vec::with_capacity(256 << 20)));
        }
        black_box(&kept);
    }
}

/// Pages nobody may frame.
static NOBODY: FrameAncestors = FrameAncestors::NONE;

fn framing(route: Option<Route>, settings: &Settings<Env>) -> std::result::Result<&FrameAncestors, GatewayError> {
    let pages = match route {
        Some(Route::Visitor) => FramedPages::Visitor,
        Some(Route::Agent) => FramedPages::Agent,
        Some(Route::View) => FramedPages::View,
        Some(Route::Health | Route::Ready) | None => return Ok(&NOBODY),
    };
    settings.frame_ancestors(pages)
}

async fn dispatch(
    req: &RequestHead,
    runtime: &Runtime,
    route: Option<Route>,
    query: Option<&str>,
    log: &RequestLog,
) -> std::result::Result<Outcome, GatewayError> {
    #[cfg(feature = "panic-on-purpose")]
    on_purpose::panic_if_asked(req).await;
    let route = route.ok_or(GatewayError::RouteNotFound)?;
    // `/agent` takes a POST from its own launch confirmation (see `core::launch`).
    match (route, req.method.as_str()) {
        (_, "GET") | (Route::Agent, "POST") => {}
        (Route::Agent, _) => return Err(GatewayError::MethodNotAllowed { allow: "GET, POST" }),
        _ => return Err(GatewayError::MethodNotAllowed { allow: "GET" }),
    }
    let params = Params::parse(query)?;
    match route {
        // Liveness needs no settings and no upstream.
        Route::Health => Ok(health::handle()),
        // Readiness reads settings; the upstream only when asked (`?upstream=1`).
        Route::Ready => ready::handle(req, runtime, params, log).await,
        Route::Visitor => visitor::handle(&RequestContext::new(runtime, req, params, log)?).await,
        Route::Agent => agent::handle(&RequestContext::new(runtime, req, params, log)?).await,
        Route::View => view::handle(&RequestContext::new(runtime, req, params, log)?).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_exact_paths() {
        assert_eq!(route("/visitor"), Some(Route::Visitor));
        assert_eq!(route("/agent"), Some(Route::Agent));
        assert_eq!(route("/healthz"), Some(Route::Health));
        assert_eq!(route("/view"), Some(Route::View));
        assert_eq!(route("/readyz"), Some(Route::Ready));
        for other in ["/", "/visitor/", "/agent/x", "/VISITOR", "/healthz.json"] {
            assert_eq!(route(other), None, "{other}");
        }
        assert_eq!(route_name(Some(Route::Agent)), "/agent");
        assert_eq!(route_name(None), "other", "unknown paths are not echoed into logs");
    }
}
