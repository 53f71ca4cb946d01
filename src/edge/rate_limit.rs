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
use crate::error::GatewayError;
use crate::observe::RequestLog;

#[wasm_bindgen]
extern "C" {
    /// A Workers rate-limiting binding.
    pub type RateLimiter;

    #[wasm_bindgen(method, catch)]
    fn limit(this: &RateLimiter, options: &Object) -> Result<Promise, JsValue>;
}

/// The rate limiter bound as `binding`, if that binding is one (its
/// constructor is the runtime's `Ratelimit`, as `worker` checks).
pub fn rate_limiter(env: &Env, name: &str) -> Option<RateLimiter> {
    let value = binding(env, name)?;
    let constructor = Object::from(value.clone()).constructor();
    (constructor.name() == "Ratelimit").then(|| value.unchecked_into())
}

/// Whether the limiter lets `key` through: `None` when it failed to say.
async fn allows(limiter: &RateLimiter, key: &str) -> Option<bool> {
    let outcome = settled(limiter.limit(&object(&[("key", key.into())]))).await.ok()?;
    Reflect::get(&outcome, &"success".into()).ok()?.as_bool()
}

/// Applies the optional rate-limiting binding `binding` to `key`. No
/// binding, no limit; a limiter that fails lets the request through, and
/// the log line says so.
pub async fn within_rate_limit(env: &Env, binding: &str, key: String, log: &RequestLog) -> Result<(), GatewayError> {
    let Some(limiter) = rate_limiter(env, binding) else {
        return Ok(());
    };
    match allows(&limiter, &key).await {
        Some(true) => Ok(()),
        Some(false) => Err(GatewayError::TooManyRequests),
        None => {
            log.warn("rate_limiter_failed");
            Ok(())
        }
    }
}
