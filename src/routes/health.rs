//! `/healthz`: liveness only; no settings read, no upstream call.

use super::Outcome;

/// Liveness and version; touches nothing upstream.
pub fn handle() -> Outcome {
    Outcome::Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}
