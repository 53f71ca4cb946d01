//! Workers rate-limiting bindings (`VISITOR_RATE_LIMITER`, `AGENT_RATE_LIMITER`).
//!
//! Bound directly (`limit({ key })` on the binding object) rather than
//! through `worker::RateLimiter`, which converts the argument and the
//! outcome with serde_wasm_bindgen, code the bundle otherwise does without.

use wasm_bindgen::prelude::*;
use worker::js_sys::{Object, Promise, Reflect};
use worker::Env;

use super::env::binding;
use super::js::{object, settled};
use super::timer::within;
use crate::error::GatewayError;
use crate::observe::RequestLog;

#[wasm_bindgen]
extern "C" {
    /// A Workers rate-limiting binding.
    pub type RateLimiter;

    #[wasm_bindgen(method, catch)]
    fn limit(this: &RateLimiter, options: &Object) -> Result<Promise, JsValue>;
}

/// How long a limiter may take before the request stops waiting for it, as
/// for KV: it answers from the location's own memory, so this only bounds
/// one in trouble.
pub const RATE_LIMIT_TIMEOUT_MS: u64 = 500;

/// What a route does when its limiter cannot say (it failed, or took longer
/// than `RATE_LIMIT_TIMEOUT_MS`). Either way the log line warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenUnavailable {
    /// Refuse with a 503 that may pass: for a public route, where the limiter
    /// is all that stands between the internet and the account's quota.
    Refuse,
    /// Let the request through: for routes whose callers are verified before
    /// the limiter, which is only a safety net there.
    Allow,
}

/// What the limiter said about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Allowed,
    Limited,
    Failed,
    TimedOut,
}

/// The rate limiter bound as `binding`, if that binding is one (its
/// constructor is the runtime's `Ratelimit`, as `worker` checks).
pub fn rate_limiter(env: &Env, name: &str) -> Option<RateLimiter> {
    let value = binding(env, name)?;
    let constructor = Object::from(value.clone()).constructor();
    (constructor.name() == "Ratelimit").then(|| value.unchecked_into())
}

/// Asks the limiter about `key`, waiting at most `RATE_LIMIT_TIMEOUT_MS`.
async fn ask(limiter: &RateLimiter, key: &str) -> Answer {
    let call = settled(limiter.limit(&object(&[("key", key.into())])));
    match within(RATE_LIMIT_TIMEOUT_MS, call).await {
        None => Answer::TimedOut,
        Some(Err(_)) => Answer::Failed,
        Some(Ok(outcome)) => match Reflect::get(&outcome, &"success".into()).ok().and_then(|s| s.as_bool()) {
            Some(true) => Answer::Allowed,
            Some(false) => Answer::Limited,
            None => Answer::Failed,
        },
    }
}

/// The route's answer to what the limiter said, and the log line's warning.
fn verdict(answer: Answer, when_unavailable: WhenUnavailable) -> (Result<(), GatewayError>, Option<&'static str>) {
    let warning = match answer {
        Answer::Allowed => return (Ok(()), None),
        Answer::Limited => return (Err(GatewayError::TooManyRequests), None),
        Answer::Failed => "rate_limiter_failed",
        Answer::TimedOut => "rate_limiter_timeout",
    };
    match when_unavailable {
        WhenUnavailable::Refuse => (Err(GatewayError::RateLimiterUnavailable), Some(warning)),
        WhenUnavailable::Allow => (Ok(()), Some(warning)),
    }
}

/// Applies the optional rate-limiting binding `binding` to `key`. No
/// binding, no limit; a limiter that cannot say is `when_unavailable`'s call.
pub async fn within_rate_limit(
    env: &Env,
    binding: &str,
    key: String,
    when_unavailable: WhenUnavailable,
    log: &RequestLog,
) -> Result<(), GatewayError> {
    let Some(limiter) = rate_limiter(env, binding) else {
        return Ok(());
    };
    let (result, warning) = verdict(ask(&limiter, &key).await, when_unavailable);
    if let Some(warning) = warning {
        log.warn(warning);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_obeyed_whatever_the_route() {
        for when in [WhenUnavailable::Refuse, WhenUnavailable::Allow] {
            assert_eq!(verdict(Answer::Allowed, when), (Ok(()), None));
            assert_eq!(verdict(Answer::Limited, when), (Err(GatewayError::TooManyRequests), None));
        }
    }

    #[test]
    fn no_answer_is_refused_or_allowed_as_the_route_says_and_always_warned() {
        for (answer, warning) in [(Answer::Failed, "rate_limiter_failed"), (Answer::TimedOut, "rate_limiter_timeout")] {
            assert_eq!(
                verdict(answer, WhenUnavailable::Refuse),
                (Err(GatewayError::RateLimiterUnavailable), Some(warning))
            );
            assert_eq!(verdict(answer, WhenUnavailable::Allow), (Ok(()), Some(warning)));
        }
    }
}
