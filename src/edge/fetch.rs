//! The Workers implementation of `Transport`: the runtime's own Fetch API,
//! bounded by the request's upstream deadline (an `AbortSignal.timeout`
//! cancels a call, and the reading of its body, once it outlives it),
//! recording each call in the request's log.
//!
//! It speaks to `fetch` through `web_sys` directly rather than through
//! `worker::Fetch`: that one turns every answer's body into a stream read
//! chunk by chunk across the JS↔wasm boundary, and the deadline would need a
//! timer closure of our own. Here the body arrives as one string from
//! `Response.text()`, and the runtime keeps the deadline's timer.

use std::cell::OnceCell;

use worker::js_sys::futures::JsFuture;
use worker::js_sys::{self, Date, Math};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::web_sys;

use super::timer::sleep;
use crate::observe::{CallRecord, CallResult, RequestLog};
use crate::outbound::{HttpRequest, HttpResponse, Transport, TransportError};

/// A retry is only worth starting with at least this much time left after its pause.
const MIN_RETRY_WINDOW_MS: f64 = 250.0;

pub struct FetchTransport<'a> {
    /// `Date.now()` past which no upstream work may continue.
    deadline_ms: f64,
    /// The deadline as a signal, made by the first call and shared by the
    /// rest: one runtime timer per request, however many calls it makes.
    signal: OnceCell<web_sys::AbortSignal>,
    log: &'a RequestLog,
}

impl<'a> FetchTransport<'a> {
    /// Upstream work for this request must end within `budget_ms` from now.
    pub fn new(budget_ms: u64, log: &'a RequestLog) -> Self {
        Self { deadline_ms: Date::now() + budget_ms as f64, signal: OnceCell::new(), log }
    }

    fn remaining_ms(&self) -> f64 {
        self.deadline_ms - Date::now()
    }
}

/// One exchange: the status, `Retry-After`, and the whole body as text. Any
/// failure is `Err`; the caller tells a timeout from the signal.
async fn exchange(request: HttpRequest, signal: &web_sys::AbortSignal) -> Result<HttpResponse, JsValue> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in &request.headers {
        headers.set(name, value)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(request.method.as_str());
    init.set_headers(&headers);
    init.set_body_opt_str(request.body.as_deref());
    init.set_signal(Some(signal));
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let response: web_sys::Response =
        JsFuture::from(global.fetch_with_str_and_init(&request.url, &init)).await?.dyn_into()?;
    let status = response.status();
    // Only a refusal can carry a Retry-After worth reading (a crossing saved per success).
    let retry_after =
        if (200..300).contains(&status) { None } else { response.headers().get("Retry-After").ok().flatten() };
    // A body cut off midway (or by the deadline) is no answer at all.
    let body = JsFuture::from(response.text()?).await?.as_string().ok_or(JsValue::NULL)?;
    Ok(HttpResponse { status, body, retry_after })
}

impl Transport for FetchTransport<'_> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let endpoint = request.endpoint;
        let started = Date::now();
        let remaining = self.remaining_ms();
        let answer = if remaining <= 0.0 {
            Err(TransportError::TimedOut)
        } else {
            // Whole milliseconds, rounded up: a deadline is never cut short.
            let signal = self.signal.get_or_init(|| web_sys::AbortSignal::timeout_with_u32(remaining.ceil() as u32));
            exchange(request, signal).await.map_err(|_| {
                if signal.aborted() {
                    TransportError::TimedOut
                } else {
                    TransportError::Unreachable
                }
            })
        };
        let result = match &answer {
            Ok(response) => CallResult::Status(response.status),
            Err(TransportError::Unreachable) => CallResult::Unreachable,
            Err(TransportError::TimedOut) => CallResult::TimedOut,
        };
        self.log.call(CallRecord { endpoint, result, ms: (Date::now() - started).max(0.0) as u64 });
        answer
    }

    async fn pause_before_retry(&self, ms: u64) -> bool {
        if self.remaining_ms() < ms as f64 + MIN_RETRY_WINDOW_MS {
            return false;
        }
        sleep(ms).await;
        true
    }

    fn random_fraction(&self) -> f64 {
        Math::random()
    }
}
