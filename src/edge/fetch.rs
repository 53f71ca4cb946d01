//! The Workers implementation of `Transport`: the runtime's own Fetch API,
//! bounded by the request's upstream deadline (an `AbortSignal.timeout`
//! cancels a call, and the reading of its body, once it outlives it),
//! recording each call in the request's log.
//!
//! One exchange is one call into JS (`exchange` in `glue.js`) and one promise back: the headers go
//! over as one string, and the status, `Retry-After` and the whole body come
//! back as one. Through `worker::Fetch` every body is a stream read chunk by
//! chunk across the JS↔wasm boundary, and through `web_sys` each header,
//! init field and await is a crossing (and a wake) of its own.

use std::cell::Cell;
use std::future::Future;

use worker::js_sys::futures::JsFuture;
use worker::js_sys::{Date, Math, Promise};
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::JsValue;
use worker::web_sys;

use super::js::optional_line;
use super::response::header_lines;
use super::timer::sleep;
use crate::observe::{CallRecord, CallResult, RequestLog};
use crate::outbound::{HttpRequest, HttpResponse, Transport, TransportError};

/// A retry is only worth starting with at least this much time left after its pause.
const MIN_RETRY_WINDOW_MS: f64 = 250.0;

pub struct FetchTransport<'a> {
    /// `Date.now()` past which no upstream work may continue.
    deadline_ms: Cell<f64>,
    /// The deadline as a signal, made by the first call and shared by the
    /// rest: one runtime timer per request, however many calls it makes
    /// (made afresh only when the deadline moves).
    signal: Cell<Option<web_sys::AbortSignal>>,
    log: &'a RequestLog,
}

impl<'a> FetchTransport<'a> {
    /// Upstream work for this request must end within `budget_ms` from now.
    pub fn new(budget_ms: u64, log: &'a RequestLog) -> Self {
        Self { deadline_ms: Cell::new(Date::now() + budget_ms as f64), signal: Cell::new(None), log }
    }

    fn remaining_ms(&self) -> f64 {
        self.deadline_ms.get() - Date::now()
    }

    /// The deadline's signal, made by the first call after it was set.
    fn signal(&self, remaining_ms: f64) -> web_sys::AbortSignal {
        // Whole milliseconds, rounded up: a deadline is never cut short.
        let signal =
            self.signal.take().unwrap_or_else(|| web_sys::AbortSignal::timeout_with_u32(remaining_ms.ceil() as u32));
        self.signal.set(Some(signal.clone()));
        signal
    }

    /// Runs `work`, the gateway's own (bounded on its own), with the
    /// deadline's clock stopped: the time it took is added back. Nothing
    /// upstream is in flight meanwhile, so the old signal is simply dropped.
    pub async fn with_deadline_paused<F: Future>(&self, work: F) -> F::Output {
        let started = Date::now();
        let output = work.await;
        self.deadline_ms.set(self.deadline_ms.get() + (Date::now() - started).max(0.0));
        self.signal.set(None);
        output
    }
}

#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, module = "/src/edge/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = exchange)]
    fn exchange_in_js(
        url: &str,
        method: &str,
        head: &str,
        body: Option<String>,
        signal: &web_sys::AbortSignal,
    ) -> Promise;
}

/// One exchange: the status, `Retry-After`, and the whole body as text. Any
/// failure is `Err` (a body cut off midway, or by the deadline, is no answer
/// at all); the caller tells a timeout from the signal.
async fn exchange(request: HttpRequest, signal: &web_sys::AbortSignal) -> Result<HttpResponse, JsValue> {
    let head = header_lines(request.headers.iter().map(|(name, value)| (*name, value.as_str())))
        .ok_or_else(|| JsValue::from_str("a header value holds a line break"))?;
    let promise = exchange_in_js(&request.url, request.method.as_str(), &head, request.body, signal);
    let answer = JsFuture::from(promise).await?.as_string().ok_or(JsValue::NULL)?;
    read_answer(answer).ok_or(JsValue::NULL)
}

/// The answer `exchange` in JS resolves to, read back.
fn read_answer(mut answer: String) -> Option<HttpResponse> {
    let first = answer.find('\n')?;
    let second = first + 1 + answer[first + 1..].find('\n')?;
    let status = answer[..first].parse().ok()?;
    let retry_after = optional_line(&answer[first + 1..second])?.map(str::to_owned);
    let body = answer.split_off(second + 1);
    Some(HttpResponse { status, body, retry_after })
}

impl Transport for FetchTransport<'_> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let remaining = self.remaining_ms();
        // No time left: the call is never sent, so the log line holds no call for it.
        if remaining <= 0.0 {
            return Err(TransportError::TimedOut);
        }
        let endpoint = request.endpoint;
        let started = Date::now();
        let signal = self.signal(remaining);
        let answer = exchange(request, &signal).await.map_err(|_| {
            if signal.aborted() {
                TransportError::TimedOut
            } else {
                TransportError::Unreachable
            }
        });
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

#[cfg(test)]
mod tests {
    use super::read_answer;
    use crate::outbound::HttpResponse;

    #[test]
    fn reads_status_retry_after_and_a_body_with_line_breaks_of_its_own() {
        let ok = read_answer("200\n-\n{\"a\":\n1}\n".to_owned()).unwrap();
        assert_eq!(ok, HttpResponse { status: 200, body: "{\"a\":\n1}\n".to_owned(), retry_after: None });
        let refused = read_answer("429\n+30\n".to_owned()).unwrap();
        assert_eq!(refused, HttpResponse { status: 429, body: String::new(), retry_after: Some("30".to_owned()) });
        let empty_header = read_answer("503\n+\nx".to_owned()).unwrap();
        assert_eq!(empty_header.retry_after.as_deref(), Some(""));
        assert_eq!(empty_header.body, "x");
        for garbled in ["", "200", "200\n-", "x\n-\n", "200\n30\n"] {
            assert_eq!(read_answer(garbled.to_owned()), None, "{garbled:?}");
        }
    }
}
