use worker::{Response, Result};

use crate::http;

/// Liveness and version; touches nothing upstream.
pub fn handle() -> Result<Response> {
    http::json(200, &serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}
