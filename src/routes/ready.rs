use serde_json::{Map, Value};
use worker::Env;

use super::Outcome;
use crate::core::sort::stable_sort_by;
use crate::edge::env::binding;
use crate::edge::kv::kv_namespace;
use crate::edge::rate_limit::rate_limiter;
use crate::readiness::readiness;
use crate::settings::{AGENT_RATE_LIMITER_BINDING, SHORT_ID_CACHE_BINDING, VISITOR_RATE_LIMITER_BINDING};

/// The Workers version-metadata binding (`[version_metadata]` in wrangler.toml); optional.
pub const VERSION_METADATA_BINDING: &str = "CF_VERSION_METADATA";

/// Readiness: every setting `/visitor` and `/agent` need, checked with the
/// routes' own loaders and without calling Upscope. Names only, never values.
pub fn handle(env: &Env) -> Outcome {
    let report = readiness(env);
    // Members are inserted into the map (printed in name order), not
    // assigned through `Value` indexing, whose panic path costs the wasm.
    let mut body = Map::new();
    body.insert("version".into(), Value::from(env!("CARGO_PKG_VERSION")));
    if let Some(id) = deployed_version_id(env) {
        body.insert("version_id".into(), Value::from(id));
    }
    if !report.is_ready() {
        body.insert("status".into(), Value::from("not_ready"));
        body.insert("problems".into(), Value::from(report.problems));
        return Outcome::NotReady(Value::Object(body));
    }
    let mut features = report.features;
    features.extend(["visitor", "agent"]);
    if kv_namespace(env, SHORT_ID_CACHE_BINDING).is_some() {
        features.push("short_id_cache");
    }
    if rate_limiter(env, VISITOR_RATE_LIMITER_BINDING).is_some() {
        features.push("visitor_rate_limit");
    }
    if rate_limiter(env, AGENT_RATE_LIMITER_BINDING).is_some() {
        features.push("agent_rate_limit");
    }
    stable_sort_by(&mut features, |a, b| a.cmp(b));
    body.insert("status".into(), Value::from("ready"));
    body.insert("features".into(), Value::from(features));
    Outcome::Json(Value::Object(body))
}

/// The id of the deployed Worker version, when the metadata binding is bound.
fn deployed_version_id(env: &Env) -> Option<String> {
    let metadata = binding(env, VERSION_METADATA_BINDING)?;
    if !metadata.is_object() {
        return None;
    }
    let id = worker::js_sys::Reflect::get(&metadata, &"id".into()).ok()?.as_string()?;
    Some(id).filter(|id| !id.is_empty() && id.len() <= 64)
}
