//! The Workers implementation of `Transport`: the runtime's own Fetch API,
//! bounded by the request's upstream deadline (an `AbortSignal` cancels a
//! call that outlives it), recording each call in the request's log.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use worker::js_sys::{Date, Math};
use worker::{AbortController, AbortSignal, Delay, Fetch, Headers, Method as FetchMethod, Request, RequestInit};

use super::{HttpRequest, HttpResponse, Transport, TransportError};
use crate::observe::{CallRecord, CallResult, RequestLog};

/// A retry is only worth starting with at least this much time left after its pause.
const MIN_RETRY_WINDOW_MS: f64 = 250.0;

pub struct FetchTransport<'a> {
    /// `Date.now()` past which no upstream work may continue.
    deadline_ms: f64,
    log: &'a RequestLog,
}

impl<'a> FetchTransport<'a> {
    /// Upstream work for this request must end within `budget_ms` from now.
    pub fn new(budget_ms: u64, log: &'a RequestLog) -> Self {
        Self { deadline_ms: Date::now() + budget_ms as f64, log }
    }

    fn remaining_ms(&self) -> f64 {
        self.deadline_ms - Date::now()
    }

    async fn exchange(&self, request: HttpRequest, signal: &AbortSignal) -> Result<HttpResponse, TransportError> {
        let headers = Headers::new();
        for (name, value) in &request.headers {
            headers.set(name, value).map_err(|_| TransportError::Unreachable)?;
        }
        let mut init = RequestInit::new();
        init.with_method(FetchMethod::from(request.method.as_str().to_owned())).with_headers(headers);
        if let Some(body) = request.body {
            init.with_body(Some(body.into()));
        }
        let outbound = Request::new_with_init(&request.url, &init).map_err(|_| TransportError::Unreachable)?;
        let mut response =
            Fetch::Request(outbound).send_with_signal(signal).await.map_err(|_| TransportError::Unreachable)?;
        let status = response.status_code();
        let retry_after = response.headers().get("Retry-After").ok().flatten();
        // A body cut off midway is no answer at all.
        let body = response.text().await.map_err(|_| TransportError::Unreachable)?;
        Ok(HttpResponse { status, body, retry_after })
    }
}

/// `future`'s output, or `None` if `ms` pass first.
async fn within<F: Future>(ms: f64, future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut timer = pin!(Delay::from(Duration::from_millis(ms.max(0.0) as u64)));
    poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

impl Transport for FetchTransport<'_> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let endpoint = request.endpoint;
        let started = Date::now();
        let remaining = self.remaining_ms();
        let answer = if remaining <= 0.0 {
            Err(TransportError::TimedOut)
        } else {
            let controller = AbortController::default();
            match within(remaining, self.exchange(request, &controller.signal())).await {
                Some(answer) => answer,
                None => {
                    controller.abort();
                    Err(TransportError::TimedOut)
                }
            }
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
        Delay::from(Duration::from_millis(ms)).await;
        true
    }

    fn random_fraction(&self) -> f64 {
        Math::random()
    }
}
