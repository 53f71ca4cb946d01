use std::sync::Mutex;

use serde_json::{Map, Value};
use worker::js_sys::Date;

use super::runtime::{RequestContext, Runtime};
use super::Outcome;
use crate::core::query::Params;
use crate::core::sort::stable_sort_by;
use crate::edge::env::{binding, deployed_version_id};
use crate::edge::kv::kv_namespace;
use crate::edge::rate_limit::rate_limiter;
use crate::edge::request::RequestHead;
use crate::edge::timer::sleep;
use crate::error::GatewayError;
use crate::observe::RequestLog;
use crate::readiness::{readiness, UpstreamCheck, UpstreamPlan, UpstreamState};
use crate::settings::{
    UpstreamSettings, AGENT_RATE_LIMITER_BINDING, METRICS_BINDING, SHORT_ID_CACHE_BINDING, VISITOR_RATE_LIMITER_BINDING,
};
use crate::upscope::client::key_check_endpoint;

/// Upscope's last answer to `?upstream=1` in this isolate, and the check under way.
static UPSTREAM: Mutex<UpstreamState> = Mutex::new(UpstreamState::EMPTY);

/// How often a request waiting for another's check looks for its answer.
const WAIT_POLL_MS: u64 = 50;

/// Readiness: every setting `/visitor` and `/agent` need, checked with the
/// routes' own loaders. Names only, never values. Plain `/readyz` never
/// calls Upscope; `?upstream=1` also proves the API key with one
/// authenticated read (`Client::check_key`: `GET /usage` in the cloud, a
/// search on premise), whose answer is kept for 30 seconds.
pub async fn handle(
    req: &RequestHead,
    runtime: &Runtime,
    params: Params,
    log: &RequestLog,
) -> Result<Outcome, GatewayError> {
    let env = runtime.env();
    let check_upstream = match params.get("upstream") {
        None => false,
        Some("1") => true,
        Some(_) => {
            return Err(GatewayError::bad_request("invalid_parameter", "upstream: use upstream=1, or leave it out"))
        }
    };
    let report = readiness(env);
    // Members are inserted into the map (printed in name order), not
    // assigned through `Value` indexing, whose panic path costs the wasm.
    let mut body = Map::new();
    body.insert("version".into(), Value::from(env!("CARGO_PKG_VERSION")));
    if let Some(id) = deployed_version_id(env) {
        body.insert("version_id".into(), Value::from(id));
    }
    if !report.is_ready() {
        if check_upstream {
            // The edition's check, or the default edition's when that setting is the wrong one.
            let endpoint = key_check_endpoint(UpstreamSettings::edition(env).unwrap_or_default());
            body.insert("upstream".into(), upstream_member(endpoint, None, 0.0));
        }
        body.insert("status".into(), Value::from("not_ready"));
        body.insert("problems".into(), Value::from(report.problems));
        return Ok(Outcome::NotReady(Value::Object(body)));
    }
    let mut features = report.features;
    features.extend(["visitor", "agent"]);
    if kv_namespace(env, SHORT_ID_CACHE_BINDING).is_some() {
        features.push("short_id_cache");
    }
    if binding(env, METRICS_BINDING).is_some() {
        features.push("metrics");
    }
    if rate_limiter(env, VISITOR_RATE_LIMITER_BINDING).is_some() {
        features.push("visitor_rate_limit");
    }
    if rate_limiter(env, AGENT_RATE_LIMITER_BINDING).is_some() {
        features.push("agent_rate_limit");
    }
    stable_sort_by(&mut features, |a, b| a.cmp(b));
    body.insert("features".into(), Value::from(features));
    if check_upstream {
        // Only now: the settings the call needs (its timeout, the key) are known to be good.
        let ctx = RequestContext::new(runtime, req, params, log)?;
        let check = upstream_check(&ctx, runtime.settings.upstream_timeout_ms()?).await?;
        let endpoint = key_check_endpoint(runtime.settings.upstream()?.edition);
        body.insert("upstream".into(), upstream_member(endpoint, Some(&check), Date::now()));
        if let Err((_, message)) = check.outcome {
            body.insert("status".into(), Value::from("not_ready"));
            body.insert("problems".into(), Value::from(vec![message]));
            return Ok(Outcome::NotReady(Value::Object(body)));
        }
    }
    body.insert("status".into(), Value::from("ready"));
    Ok(Outcome::Json(Value::Object(body)))
}

/// This isolate's fresh answer, the answer of a check another request has
/// under way, or a new one from Upscope: however many requests arrive at
/// once, one call. The endpoint is public, and must not become a way to
/// spend the account's API calls or draw Upscope's rate limit onto it.
async fn upstream_check(ctx: &RequestContext<'_>, timeout_ms: u64) -> Result<UpstreamCheck, GatewayError> {
    let client = ctx.upscope()?;
    // Waiting is the gateway's own time, not the upstream deadline's; bounded,
    // since a check under way ends by its own deadline.
    let waited = ctx
        .transport
        .with_deadline_paused(async {
            for _ in 0..timeout_ms / WAIT_POLL_MS + 2 {
                let plan = upstream_state().plan(Date::now(), timeout_ms as f64);
                match plan {
                    UpstreamPlan::Use(check) => return Some(check),
                    UpstreamPlan::Check => return None,
                    UpstreamPlan::Wait => sleep(WAIT_POLL_MS).await,
                }
            }
            None
        })
        .await;
    if let Some(check) = waited {
        return Ok(check);
    }
    // Claimed before awaiting (nothing runs in between): requests arriving meanwhile wait.
    let now = Date::now();
    upstream_state().checking_since_ms = Some(now);
    let outcome = client.check_key().await.map_err(|e| (e.reason(), format!("Upscope: {}", e.message())));
    let check = UpstreamCheck { at_ms: now, outcome };
    let mut state = upstream_state();
    state.last = Some(check.clone());
    state.checking_since_ms = None;
    Ok(check)
}

fn upstream_state() -> std::sync::MutexGuard<'static, UpstreamState> {
    UPSTREAM.lock().unwrap_or_else(|e| e.into_inner())
}

/// `{"status":"ok"|"failed"|"not_checked","endpoint":"usage"|"search","reason":…,"age_seconds":…}`.
fn upstream_member(endpoint: &str, check: Option<&UpstreamCheck>, now: f64) -> Value {
    let mut member = Map::new();
    member.insert("endpoint".into(), Value::from(endpoint));
    match check {
        None => {
            member.insert("status".into(), Value::from("not_checked"));
            member.insert("reason".into(), Value::from("settings_not_ready"));
        }
        Some(check) => {
            let status = if check.outcome.is_ok() { "ok" } else { "failed" };
            member.insert("status".into(), Value::from(status));
            if let Err((reason, _)) = &check.outcome {
                member.insert("reason".into(), Value::from(reason.as_str()));
            }
            member.insert("age_seconds".into(), Value::from(((now - check.at_ms).max(0.0) / 1000.0) as u64));
        }
    }
    Value::Object(member)
}
