//! `/healthz`: liveness only; no settings read, no upstream call.

use serde_json::{Map, Value};

use super::Outcome;

/// Liveness and version; touches nothing upstream. (Not `json!`, whose
/// `to_value(..).unwrap()` costs the wasm serde_json's error formatting.)
pub fn handle() -> Outcome {
    let mut body = Map::new();
    body.insert("status".into(), Value::from("ok"));
    body.insert("version".into(), Value::from(env!("CARGO_PKG_VERSION")));
    Outcome::Json(Value::Object(body))
}
