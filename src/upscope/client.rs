//! Upscope's REST protocol over a small HTTP `Transport`: which URL, which
//! headers, which body, and how each answer is read. The Workers Fetch API
//! sits behind `Transport`, so all of this is tested natively.

use url::Url;

use super::models::{self, ProxySessionRequest, SessionUrl, Visitor, WatchUrlRequest};
use super::UpstreamError;
use crate::core::ids::ShortId;

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

/// No HTTP answer arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError;

#[allow(async_fn_in_trait)] // single-threaded Workers runtime: no Send bound wanted
pub trait Transport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// The Upscope REST client. Deliberately not `Debug`: it holds the API key.
pub struct Client<T> {
    transport: T,
    base: Url,
    api_key: String,
}

impl<T: Transport> Client<T> {
    /// `base` is the API root, e.g. `https://api.upscope.io/v1.3`.
    pub fn new(transport: T, base: Url, api_key: String) -> Self {
        Self { transport, base, api_key }
    }

    /// `GET /list?search=QUERY&max_results=N`.
    pub async fn search(&self, query: &str, max_results: u32) -> Result<Vec<Visitor>, UpstreamError> {
        let mut url = self.endpoint(&["list"]);
        url.query_pairs_mut().append_pair("search", query).append_pair("max_results", &max_results.to_string());
        let body = self.call(Method::Get, url, None).await?;
        models::read_search(&body)
    }

    /// `POST /visitors/:short_id/watch_url`.
    pub async fn watch_url(&self, visitor: &ShortId, request: &WatchUrlRequest) -> Result<SessionUrl, UpstreamError> {
        let url = self.endpoint(&["visitors", visitor.as_str(), "watch_url"]);
        let body = self.call(Method::Post, url, Some(to_json(request))).await?;
        models::read_watch_url(&body)
    }

    /// `POST /proxy_sessions`.
    pub async fn create_proxy_session(&self, request: &ProxySessionRequest) -> Result<SessionUrl, UpstreamError> {
        let url = self.endpoint(&["proxy_sessions"]);
        let body = self.call(Method::Post, url, Some(to_json(request))).await?;
        models::read_proxy_url(&body)
    }

    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        // The base is validated as an http(s) URL, so it can have path segments.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    async fn call(&self, method: Method, url: Url, body: Option<String>) -> Result<String, UpstreamError> {
        let mut headers = vec![("X-Api-Key", self.api_key.clone()), ("Accept", "application/json".to_owned())];
        if body.is_some() {
            headers.push(("Content-Type", "application/json".to_owned()));
        }
        let request = HttpRequest { method, url: url.into(), headers, body };
        let response = self.transport.send(request).await.map_err(|TransportError| UpstreamError::Unreachable)?;
        if (200..300).contains(&response.status) {
            Ok(response.body)
        } else {
            Err(UpstreamError::from_status(response.status, &response.body, response.retry_after))
        }
    }
}

fn to_json<S: serde::Serialize>(value: &S) -> String {
    // Serialising these plain structs cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod testing {
    //! An in-memory transport that answers from a script and records requests.

    use std::cell::RefCell;
    use std::collections::VecDeque;

    use super::*;

    #[derive(Default)]
    pub struct FakeTransport {
        pub answers: RefCell<VecDeque<Result<HttpResponse, TransportError>>>,
        pub requests: RefCell<Vec<HttpRequest>>,
    }

    impl FakeTransport {
        pub fn answering(answers: impl IntoIterator<Item = (u16, &'static str)>) -> Self {
            let fake = Self::default();
            for (status, body) in answers {
                fake.answers.borrow_mut().push_back(Ok(HttpResponse { status, body: body.into(), retry_after: None }));
            }
            fake
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

    impl Transport for &FakeTransport {
        async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
            self.requests.borrow_mut().push(request);
            self.answers.borrow_mut().pop_front().expect("the test scripted too few answers")
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

    pub fn client(fake: &FakeTransport) -> Client<&FakeTransport> {
        Client::new(fake, Url::parse("https://api.example/v1.3").unwrap(), "test-key".into())
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::upscope::models::{Agent, Branding};

    #[test]
    fn search_sends_key_and_encoded_query() {
        let fake = FakeTransport::answering([(200, r#"{"status":"ok","visitors":[{"short_id":"a1"}]}"#)]);
        let visitors = block_on(client(&fake).search("id:alice+x@example.com", 10)).unwrap();
        assert_eq!(visitors.len(), 1);
        let req = &fake.requests.borrow()[0];
        assert_eq!(req.method, Method::Get);
        assert_eq!(req.url, "https://api.example/v1.3/list?search=id%3Aalice%2Bx%40example.com&max_results=10");
        assert!(req.headers.contains(&("X-Api-Key", "test-key".into())));
        assert_eq!(req.body, None);
    }

    #[test]
    fn watch_url_posts_json_to_the_visitor_path() {
        let fake = FakeTransport::answering([(200, r#"{"watch_url":"https://w.example/x"}"#)]);
        let request = WatchUrlRequest {
            agent: Agent { id: "a1".into(), name: "Ann".into() },
            branding: Branding::default(),
            permissions: Default::default(),
        };
        let url = block_on(client(&fake).watch_url(&ShortId::parse("abc").unwrap(), &request)).unwrap();
        assert_eq!(url.expose(), "https://w.example/x");
        assert_eq!(fake.calls(), ["POST /v1.3/visitors/abc/watch_url"]);
        let req = &fake.requests.borrow()[0];
        assert!(req.headers.contains(&("Content-Type", "application/json".into())));
        assert_eq!(req.body.as_deref(), Some(r#"{"agent":{"id":"a1","name":"Ann"}}"#));
    }

    #[test]
    fn base_with_trailing_slash_does_not_double_it() {
        let fake = FakeTransport::answering([(200, r#"{"url":"https://p.example/1"}"#)]);
        let c = Client::new(&fake, Url::parse("http://127.0.0.1:9/v1.3/").unwrap(), "k".into());
        let req = ProxySessionRequest { initial_url: "https://shop.example/".into(), allowed_domains: vec![] };
        block_on(c.create_proxy_session(&req)).unwrap();
        assert_eq!(fake.requests.borrow()[0].url, "http://127.0.0.1:9/v1.3/proxy_sessions");
    }

    #[test]
    fn failures_become_upstream_errors() {
        let fake = FakeTransport::answering([(401, r#"{"status":"error","error":"invalid_api_key"}"#)]);
        assert_eq!(
            block_on(client(&fake).search("x", 1)),
            Err(UpstreamError::Unauthorized(Some("invalid_api_key".into())))
        );
        let fake = FakeTransport::default();
        fake.answers.borrow_mut().push_back(Err(TransportError));
        assert_eq!(block_on(client(&fake).search("x", 1)), Err(UpstreamError::Unreachable));
    }
}
