//! The imperative edge of responses: turning decisions into `worker::Response`s
//! with the headers every answer carries.

use worker::{Response, Result};

use crate::core::framing::FrameAncestors;
use crate::error::GatewayError;
use crate::upscope::models::SessionUrl;
use crate::upscope::UpstreamError;

/// Headers on every response the gateway sends. Pages may hold signed
/// links and redirects lead to session URLs: nothing is cached, and no URL
/// of ours is ever sent on as a referrer.
fn finish(mut response: Response) -> Result<Response> {
    let headers = response.headers_mut();
    headers.set("X-Content-Type-Options", "nosniff")?;
    headers.set("Cache-Control", "no-store")?;
    headers.set("Referrer-Policy", "no-referrer")?;
    Ok(response)
}

/// Sends the browser on to a session URL. The URL is a credential: nothing
/// may cache the answer and the next page must not learn it as a referrer.
pub fn redirect_to_session(url: &SessionUrl) -> Result<Response> {
    let mut response = Response::empty()?.with_status(302);
    response.headers_mut().set("Location", url.expose())?;
    finish(response)
}

/// Adds the route's framing rules; every response passes through here last.
pub fn with_frame_ancestors(mut response: Response, framing: &FrameAncestors) -> Result<Response> {
    response.headers_mut().set("Content-Security-Policy", &framing.content_security_policy())?;
    Ok(response)
}

/// A page the gateway rendered itself (console, chooser).
pub fn html(body: String) -> Result<Response> {
    finish(Response::ok(body)?.with_headers(content_type("text/html; charset=utf-8")))
}

pub fn json(status: u16, body: &serde_json::Value) -> Result<Response> {
    finish(Response::from_json(body)?.with_status(status))
}

/// The single place an error becomes a response: HTML for browsers, JSON
/// when the request's `Accept` prefers it.
pub fn error(err: &GatewayError, wants_json: bool, retry_href: Option<&str>) -> Result<Response> {
    let mut response = if wants_json {
        Response::ok(err.to_json())?.with_headers(content_type("application/json"))
    } else {
        Response::ok(crate::pages::error_page(err, retry_href))?.with_headers(content_type("text/html; charset=utf-8"))
    }
    .with_status(err.status());
    let headers = response.headers_mut();
    match err {
        GatewayError::MethodNotAllowed { allow } => headers.set("Allow", allow)?,
        GatewayError::Upstream(UpstreamError::RateLimited { retry_after: Some(seconds) })
            if !seconds.is_empty() && seconds.len() <= 6 && seconds.bytes().all(|b| b.is_ascii_digit()) =>
        {
            headers.set("Retry-After", seconds)?
        }
        _ => {}
    }
    finish(response)
}

fn content_type(value: &str) -> worker::Headers {
    let headers = worker::Headers::new();
    // A static, valid header value cannot be refused.
    let _ = headers.set("Content-Type", value);
    headers
}
