//! Workers rate-limiting bindings (`VISITOR_RATE_LIMITER`, `AGENT_RATE_LIMITER`).

use worker::Env;

use crate::error::GatewayError;
use crate::observe::RequestLog;

/// Applies the optional rate-limiting binding `binding` to `key`. No
/// binding, no limit; a limiter that fails lets the request through, and
/// the log line says so.
pub async fn within_rate_limit(env: &Env, binding: &str, key: String, log: &RequestLog) -> Result<(), GatewayError> {
    // Most deployments bind no limiter: a plain look-up settles that
    // without the formatted "undefined binding" error rate_limiter() builds.
    let bound = worker::js_sys::Reflect::get(env, &binding.into()).is_ok_and(|value| !value.is_undefined());
    let Some(limiter) = bound.then(|| env.rate_limiter(binding).ok()).flatten() else {
        return Ok(());
    };
    match limiter.limit(key).await {
        Ok(outcome) if outcome.success => Ok(()),
        Ok(_) => Err(GatewayError::TooManyRequests),
        Err(_) => {
            log.warn("rate_limiter_failed");
            Ok(())
        }
    }
}
