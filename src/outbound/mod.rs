//! The `Transport` trait: every HTTP call the gateway makes goes through it.
//! The Upscope client and the Access key fetch speak `Transport`;
//! `edge::fetch::FetchTransport` is the Workers Fetch API with the request's
//! deadline, and tests use the in-memory `FakeTransport`.

/// Which outbound call this is, as it appears in the request's log line.
/// Names only: URLs carry IDs and session tokens, so they are never logged.
pub type Endpoint = &'static str;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// One HTTP request as the transport should send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub endpoint: Endpoint,
    pub method: Method,
    pub url: String,
    /// Header name and value; the API key is among them, so never log these.
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<String>,
}

/// No usable HTTP answer arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportError {
    /// Network failure, reset connection, unreadable answer.
    Unreachable,
    /// The request's upstream deadline passed first.
    TimedOut,
}

#[allow(async_fn_in_trait)] // single-threaded Workers runtime: no Send bound wanted
pub trait Transport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;

    /// Waits `ms` before a retry, if that still leaves time for the retry
    /// within the request's deadline; `false` (at once) when it would not.
    async fn pause_before_retry(&self, ms: u64) -> bool;

    /// A number in `[0, 1)` to spread retries out (jitter).
    fn random_fraction(&self) -> f64;
}

impl<T: Transport> Transport for &T {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request).await
    }
    async fn pause_before_retry(&self, ms: u64) -> bool {
        (**self).pause_before_retry(ms).await
    }
    fn random_fraction(&self) -> f64 {
        (**self).random_fraction()
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! An in-memory transport that answers from a script and records requests.

    use std::cell::{Cell, RefCell};
    use std::collections::VecDeque;

    use url::Url;

    use super::*;

    pub struct FakeTransport {
        pub answers: RefCell<VecDeque<Result<HttpResponse, TransportError>>>,
        pub requests: RefCell<Vec<HttpRequest>>,
        /// Pauses asked for, in order.
        pub pauses: RefCell<Vec<u64>>,
        /// Whether a retry still fits the deadline.
        pub time_left: Cell<bool>,
    }

    impl Default for FakeTransport {
        fn default() -> Self {
            Self {
                answers: RefCell::default(),
                requests: RefCell::default(),
                pauses: RefCell::default(),
                time_left: Cell::new(true),
            }
        }
    }

    impl FakeTransport {
        pub fn answering(answers: impl IntoIterator<Item = (u16, &'static str)>) -> Self {
            let fake = Self::default();
            for (status, body) in answers {
                fake.answers.borrow_mut().push_back(Ok(HttpResponse { status, body: body.into(), retry_after: None }));
            }
            fake
        }

        pub fn then(self, answer: Result<HttpResponse, TransportError>) -> Self {
            self.answers.borrow_mut().push_back(answer);
            self
        }

        /// `METHOD path?query` of each request, in order.
        pub fn calls(&self) -> Vec<String> {
            self.requests
                .borrow()
                .iter()
                .map(|r| {
                    let url = Url::parse(&r.url).unwrap();
                    let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
                    format!("{} {}{}", r.method.as_str(), url.path(), query)
                })
                .collect()
        }
    }

    impl Transport for FakeTransport {
        async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
            self.requests.borrow_mut().push(request);
            self.answers.borrow_mut().pop_front().expect("the test scripted too few answers")
        }
        async fn pause_before_retry(&self, ms: u64) -> bool {
            self.pauses.borrow_mut().push(ms);
            self.time_left.get()
        }
        fn random_fraction(&self) -> f64 {
            0.5
        }
    }

    /// Drives a future that never waits on real I/O (the fake answers at once).
    pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(out) => out,
            std::task::Poll::Pending => panic!("fake transport futures complete immediately"),
        }
    }
}
