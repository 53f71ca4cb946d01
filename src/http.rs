//! The gateway's answers as plain values (`Answer`: status, body and the
//! headers particular to each kind), with no platform in sight:
//! `edge::response` turns an `Answer` into the runtime's `Response`, adding
//! the headers every answer carries.

use crate::error::GatewayError;
use crate::upscope::models::SessionUrl;
use crate::upscope::UpstreamError;

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";

/// A response before it is handed to the runtime (`edge::response`).
pub struct Answer {
    pub status: u16,
    pub body: Option<String>,
    /// Headers particular to this answer (`Content-Type`, `Location`, ...).
    pub headers: Vec<(&'static str, String)>,
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
    // to_string, not Value's Display: the same serializer (into a Vec<u8>)
    // as every other JSON the gateway writes, rather than a second one
    // behind a fmt::Write adapter. A Value always serialises.
    let body = serde_json::to_string(body).unwrap_or_default();
    Answer { status, body: Some(body), headers: vec![("Content-Type", JSON.to_owned())] }
}

/// The single place an error becomes a response: HTML for browsers, JSON
/// when the request's `Accept` prefers it.
pub fn error(err: &GatewayError, wants_json: bool, retry_href: Option<&str>) -> Answer {
    let (body, content_type) =
        if wants_json { (err.to_json(), JSON) } else { (crate::pages::error_page(err, retry_href), HTML) };
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
