//! Upscope's REST protocol over a small HTTP `Transport`: which URL, which
//! headers, which body, how each answer is read, and which calls may be
//! retried, for either edition of Upscope (`settings::Edition`). The Workers
//! Fetch API sits behind `Transport`, so all of this is tested natively.
//!
//! The editions differ only where `url` and `call` say (docs/upscope-api.md):
//! on premise, the API is under `<base>/api`, the key is the bare
//! `Authorization` header, and the search is `/visitors/list/search?q=`.

use url::Url;

use super::models::{self, ProxySessionRequest, SessionUrl, Visitor, WatchUrlRequest};
use super::UpstreamError;
use crate::core::ids::ShortId;
use crate::outbound::{Endpoint, HttpRequest, HttpResponse, Method, Transport, TransportError};
use crate::settings::{Edition, UpstreamSettings};

/// A failed search is tried once more after this long, plus up to
/// `RETRY_JITTER_MS`, if the request's deadline leaves room.
pub const RETRY_BASE_MS: u64 = 100;
pub const RETRY_JITTER_MS: u64 = 150;

/// The Upscope REST client: the one reader of `UpstreamSettings`, which
/// say where the API is and with which key. Deliberately not `Debug`: it
/// holds the API key.
pub struct Client<'s, T> {
    transport: T,
    upstream: &'s UpstreamSettings,
}

impl<'s, T: Transport> Client<'s, T> {
    pub fn new(transport: T, upstream: &'s UpstreamSettings) -> Self {
        Self { transport, upstream }
    }

    /// `GET /list?search=QUERY&max_results=N`; on premise
    /// `GET /visitors/list/search?q=QUERY`, where no `max_results` is
    /// documented (whatever comes back goes through the same exact-match
    /// choice).
    pub async fn search(&self, query: &str, max_results: u32) -> Result<Vec<Visitor>, UpstreamError> {
        let (status, body) = self.call("search", Method::Get, self.search_url(query, max_results), None).await?;
        models::read_search(&body).map_err(|e| e.at("search", status, &body))
    }

    fn search_url(&self, query: &str, max_results: u32) -> Url {
        match self.upstream.edition {
            Edition::Cloud => {
                let mut url = self.endpoint(&["list"]);
                url.query_pairs_mut().append_pair("search", query).append_pair("max_results", &max_results.to_string());
                url
            }
            Edition::OnPremise => {
                let mut url = self.endpoint(&["visitors", "list", "search"]);
                url.query_pairs_mut().append_pair("q", query);
                url
            }
        }
    }

    /// `POST /visitors/:short_id/watch_url`.
    pub async fn watch_url(&self, visitor: &ShortId, request: &WatchUrlRequest) -> Result<SessionUrl, UpstreamError> {
        let url = self.endpoint(&["visitors", visitor.as_str(), "watch_url"]);
        let (status, body) = self.call("watch_url", Method::Post, url, Some(to_json(request))).await?;
        models::read_watch_url(&body).map_err(|e| e.at("watch_url", status, &body))
    }

    /// `POST /proxy_sessions`.
    pub async fn create_proxy_session(&self, request: &ProxySessionRequest) -> Result<SessionUrl, UpstreamError> {
        let url = self.endpoint(&["proxy_sessions"]);
        let (status, body) = self.call("proxy_sessions", Method::Post, url, Some(to_json(request))).await?;
        models::read_proxy_url(&body).map_err(|e| e.at("proxy_sessions", status, &body))
    }

    /// One authenticated read that proves the key (`/readyz?upstream=1`).
    /// Only its status matters: a 2xx proves the key (and, in the cloud,
    /// the subscription), whatever the body says. In the cloud `GET /usage`:
    /// the account's usage statistics (documented, read-only, cheap). On
    /// premise, where no usage endpoint is documented, a search for an own
    /// ID nobody has (`KEY_CHECK_QUERY`): the search is documented for every
    /// install (`/visitors/list/latest` only for MongoDB ones), and an
    /// exact-ID miss carries no visitor's data.
    pub async fn check_key(&self) -> Result<(), UpstreamError> {
        let url = match self.upstream.edition {
            Edition::Cloud => self.endpoint(&["usage"]),
            Edition::OnPremise => self.search_url(KEY_CHECK_QUERY, 1),
        };
        self.call(key_check_endpoint(self.upstream.edition), Method::Get, url, None).await.map(|_| ())
    }

    /// `<base>/<segments>`; on premise `<base>/api/<segments>`.
    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.upstream.base.clone();
        // The base is validated as an http(s) URL, so it can have path segments.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            if self.upstream.edition == Edition::OnPremise {
                path.push("api");
            }
            path.extend(segments);
        }
        url
    }

    async fn call(
        &self,
        endpoint: Endpoint,
        method: Method,
        url: Url,
        body: Option<String>,
    ) -> Result<(u16, String), UpstreamError> {
        let key = self.upstream.api_key.expose().to_owned();
        // On premise the header is the bare key: no scheme.
        let auth = match self.upstream.edition {
            Edition::Cloud => "X-Api-Key",
            Edition::OnPremise => "Authorization",
        };
        let mut headers = vec![(auth, key), ("Accept", "application/json".to_owned())];
        if body.is_some() {
            headers.push(("Content-Type", "application/json".to_owned()));
        }
        let request = HttpRequest { endpoint, method, url: url.into(), headers, body };
        let mut answer = self.transport.send(request.clone()).await;
        // Reads are retried once on trouble that may pass; POSTs create
        // sessions, so they are never sent twice.
        if method == Method::Get && worth_retrying(&answer) {
            let pause = RETRY_BASE_MS + (self.transport.random_fraction() * RETRY_JITTER_MS as f64) as u64;
            if self.transport.pause_before_retry(pause).await {
                answer = self.transport.send(request).await;
            }
        }
        match answer {
            Ok(response) if (200..300).contains(&response.status) => Ok((response.status, response.body)),
            Ok(response) => {
                // Header values may carry whitespace around them (RFC 9110 §5.5).
                let retry_after = response.retry_after.map(|value| value.trim().to_owned());
                Err(UpstreamError::from_status(response.status, &response.body, retry_after))
            }
            Err(TransportError::Unreachable) => Err(UpstreamError::Unreachable),
            Err(TransportError::TimedOut) => Err(UpstreamError::TimedOut),
        }
    }
}

/// What the on-premise key check searches for: an own ID no visitor has.
pub const KEY_CHECK_QUERY: &str = "id:upscope-gateway-key-check";

/// The endpoint `check_key` asks, as `/readyz` and the log line name it.
pub fn key_check_endpoint(edition: Edition) -> Endpoint {
    match edition {
        Edition::Cloud => "usage",
        Edition::OnPremise => "search",
    }
}

/// Network errors and gateway-side 502/503/504; never 429 (Upscope asked us
/// to wait) and never a timeout (the deadline is spent).
fn worth_retrying(answer: &Result<HttpResponse, TransportError>) -> bool {
    match answer {
        Ok(response) => matches!(response.status, 502..=504),
        Err(TransportError::Unreachable) => true,
        Err(TransportError::TimedOut) => false,
    }
}

fn to_json<S: serde::Serialize>(value: &S) -> String {
    // Serialising these plain structs cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod testing {
    use std::collections::HashMap;
    use std::sync::LazyLock;

    use super::*;
    pub use crate::outbound::testing::{block_on, FakeTransport};

    /// The upstream the client tests and the flows' tests talk to.
    pub static UPSTREAM: LazyLock<UpstreamSettings> = LazyLock::new(|| {
        upstream(&[("UPSCOPE_API_BASE", "https://api.example/v1.3"), ("UPSCOPE_API_KEY", "test-key")])
    });

    /// Upstream settings loaded from these Worker vars and secrets.
    pub fn upstream(vars: &[(&str, &str)]) -> UpstreamSettings {
        let vars: HashMap<&str, &str> = vars.iter().copied().collect();
        UpstreamSettings::load(&vars).unwrap_or_else(|e| panic!("{}", e.message()))
    }

    pub fn client(fake: &FakeTransport) -> Client<'static, &FakeTransport> {
        Client::new(fake, &UPSTREAM)
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
    fn usage_is_one_authenticated_get_whose_status_alone_counts() {
        let fake = FakeTransport::answering([(200, r#"{"usage":{"visitors":{}}}"#), (200, "not json")]);
        block_on(client(&fake).check_key()).unwrap();
        block_on(client(&fake).check_key()).unwrap();
        assert_eq!(fake.calls(), ["GET /v1.3/usage", "GET /v1.3/usage"]);
        assert!(fake.requests.borrow()[0].headers.contains(&("X-Api-Key", "test-key".into())));
        let refused = FakeTransport::answering([(401, r#"{"status":"error","error":"no_subscription"}"#)]);
        assert_eq!(block_on(client(&refused).check_key()).unwrap_err().reason(), "no_subscription");
    }

    fn on_premise(base: &str) -> UpstreamSettings {
        upstream(&[("UPSCOPE_EDITION", "on_premise"), ("UPSCOPE_API_BASE", base), ("UPSCOPE_API_KEY", "prem-key")])
    }

    /// The key in the bare `Authorization` header, and nowhere else.
    fn assert_on_premise_key(req: &HttpRequest) {
        assert!(req.headers.contains(&("Authorization", "prem-key".into())), "{:?}", req.headers);
        assert!(!req.headers.iter().any(|(name, _)| *name == "X-Api-Key"), "{:?}", req.headers);
    }

    #[test]
    fn on_premise_every_call_is_under_api_with_the_bare_key() {
        let settings = on_premise("https://support.acmetech.com/cobrowsing");
        let fake = FakeTransport::answering([
            (200, r#"{"status":"ok","visitors":[{"short_id":"a1"}]}"#),
            (200, r#"{"watch_url":"https://support.acmetech.com/w/x"}"#),
            (200, r#"{"url":"https://support.acmetech.com/p/1"}"#),
        ]);
        let c = Client::new(&fake, &settings);
        assert_eq!(block_on(c.search("id:alice+x@example.com", 10)).unwrap().len(), 1);
        block_on(c.watch_url(&ShortId::parse("abc").unwrap(), &request())).unwrap();
        let req = ProxySessionRequest { initial_url: "https://shop.example/".into(), allowed_domains: vec![] };
        block_on(c.create_proxy_session(&req)).unwrap();
        let urls: Vec<String> = fake.requests.borrow().iter().map(|r| r.url.clone()).collect();
        assert_eq!(
            urls,
            [
                // Documented: the search, with no max_results (none is documented on premise).
                "https://support.acmetech.com/cobrowsing/api/visitors/list/search?q=id%3Aalice%2Bx%40example.com",
                // Inferred: the cloud's paths without its version prefix.
                "https://support.acmetech.com/cobrowsing/api/visitors/abc/watch_url",
                "https://support.acmetech.com/cobrowsing/api/proxy_sessions",
            ]
        );
        for req in fake.requests.borrow().iter() {
            assert_on_premise_key(req);
            assert!(req.headers.contains(&("Accept", "application/json".into())));
        }
        assert_eq!(fake.requests.borrow()[1].body.as_deref(), Some(r#"{"agent":{"id":"a1","name":"Ann"}}"#));
        let slash = on_premise("http://127.0.0.1:9/cobrowsing/");
        let fake = FakeTransport::answering([(200, r#"{"visitors":[]}"#)]);
        block_on(Client::new(&fake, &slash).search("4821", 10)).unwrap();
        assert_eq!(fake.calls(), ["GET /cobrowsing/api/visitors/list/search?q=4821"]);
    }

    #[test]
    fn on_premise_the_key_check_is_a_search_for_nobody() {
        let settings = on_premise("https://support.acmetech.com/cobrowsing");
        let fake = FakeTransport::answering([(200, r#"{"status":"ok","visitors":[]}"#), (503, ""), (401, "")]);
        let c = Client::new(&fake, &settings);
        block_on(c.check_key()).unwrap();
        // Retried once on trouble that may pass, like any read.
        assert_eq!(block_on(c.check_key()).unwrap_err().reason(), "unauthorized");
        let query = url::form_urlencoded::byte_serialize(KEY_CHECK_QUERY.as_bytes()).collect::<String>();
        let check = format!("GET /cobrowsing/api/visitors/list/search?q={query}");
        assert_eq!(fake.calls(), [check.clone(), check.clone(), check]);
        assert_on_premise_key(&fake.requests.borrow()[0]);
        assert_eq!(fake.requests.borrow()[0].endpoint, "search");
        assert_eq!((key_check_endpoint(Edition::Cloud), key_check_endpoint(Edition::OnPremise)), ("usage", "search"));
    }

    #[test]
    fn on_premise_answers_are_read_as_strictly_as_the_clouds() {
        let settings = on_premise("https://support.acmetech.com/cobrowsing");
        for status in [301, 302, 307, 308] {
            let fake = FakeTransport::answering([(status, "")]);
            let c = Client::new(&fake, &settings);
            assert_eq!(block_on(c.search("x", 1)), Err(UpstreamError::Redirected(status)));
        }
        let fake = FakeTransport::answering([(200, r#"{"watch_url":"http://support.acmetech.com/w/secret"}"#)]);
        let err = block_on(Client::new(&fake, &settings).watch_url(&ShortId::parse("abc").unwrap(), &request()));
        assert!(matches!(err, Err(UpstreamError::BadResponse(_))));
        let fake = FakeTransport::answering([(200, "<html>login</html>")]);
        assert!(matches!(block_on(Client::new(&fake, &settings).search("x", 1)), Err(UpstreamError::Unreadable(_))));
    }

    #[test]
    fn base_with_trailing_slash_does_not_double_it() {
        let fake = FakeTransport::answering([(200, r#"{"url":"https://p.example/1"}"#)]);
        let settings = upstream(&[("UPSCOPE_API_BASE", "http://127.0.0.1:9/v1.3/"), ("UPSCOPE_API_KEY", "k")]);
        let c = Client::new(&fake, &settings);
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
        let fake = FakeTransport::default().then(Err(TransportError::Unreachable));
        assert_eq!(
            block_on(client(&fake).watch_url(&ShortId::parse("abc").unwrap(), &request())),
            Err(UpstreamError::Unreachable)
        );
        let fake = FakeTransport::default().then(Err(TransportError::TimedOut));
        assert_eq!(block_on(client(&fake).search("x", 1)), Err(UpstreamError::TimedOut));
        assert_eq!(fake.requests.borrow().len(), 1, "a timed-out search is not retried");
    }

    fn request() -> WatchUrlRequest {
        WatchUrlRequest {
            agent: Agent { id: "a1".into(), name: "Ann".into() },
            branding: Branding::default(),
            permissions: Default::default(),
        }
    }

    const SEARCH_OK: (u16, &str) = (200, r#"{"visitors":[{"short_id":"a1"}]}"#);

    #[test]
    fn a_failed_search_is_retried_once_after_a_jittered_pause() {
        for first in [(502, ""), (503, "busy"), (504, "")] {
            let fake = FakeTransport::answering([first, SEARCH_OK]);
            assert_eq!(block_on(client(&fake).search("x", 1)).unwrap().len(), 1, "{first:?}");
            assert_eq!(fake.calls(), ["GET /v1.3/list?search=x&max_results=1"; 2]);
            assert_eq!(*fake.pauses.borrow(), [RETRY_BASE_MS + RETRY_JITTER_MS / 2]);
        }
        let ok = HttpResponse { status: 200, body: SEARCH_OK.1.into(), retry_after: None };
        let fake = FakeTransport::default().then(Err(TransportError::Unreachable)).then(Ok(ok));
        assert!(block_on(client(&fake).search("x", 1)).is_ok());
        assert_eq!(fake.requests.borrow().len(), 2);
        // Twice unlucky: the second answer decides.
        let fake = FakeTransport::answering([(503, ""), (502, "")]);
        assert_eq!(block_on(client(&fake).search("x", 1)), Err(UpstreamError::Unavailable(502)));
        assert_eq!(fake.requests.borrow().len(), 2);
    }

    #[test]
    fn no_retry_without_time_left_for_429_or_for_posts() {
        let fake = FakeTransport::answering([(503, "")]);
        fake.time_left.set(false);
        assert_eq!(block_on(client(&fake).search("x", 1)), Err(UpstreamError::Unavailable(503)));
        assert_eq!(fake.requests.borrow().len(), 1);

        let fake = FakeTransport::answering([(429, "")]);
        assert!(matches!(block_on(client(&fake).search("x", 1)), Err(UpstreamError::RateLimited { .. })));
        assert_eq!((fake.requests.borrow().len(), fake.pauses.borrow().len()), (1, 0));

        let fake = FakeTransport::answering([(503, "")]);
        assert!(block_on(client(&fake).watch_url(&ShortId::parse("abc").unwrap(), &request())).is_err());
        let req = ProxySessionRequest { initial_url: "https://shop.example/".into(), allowed_domains: vec![] };
        let fake2 = FakeTransport::answering([(502, "")]);
        assert!(block_on(client(&fake2).create_proxy_session(&req)).is_err());
        assert_eq!((fake.requests.borrow().len(), fake2.requests.borrow().len()), (1, 1), "POSTs are never retried");
    }

    #[test]
    fn a_redirect_is_an_error_of_its_own_and_never_retried() {
        for status in [301, 302, 303, 307, 308] {
            let fake = FakeTransport::answering([(status, ""), SEARCH_OK]);
            assert_eq!(block_on(client(&fake).search("x", 1)), Err(UpstreamError::Redirected(status)));
            assert_eq!((fake.requests.borrow().len(), fake.pauses.borrow().len()), (1, 0), "{status}");
        }
        let fake = FakeTransport::answering([(307, "")]);
        let req = ProxySessionRequest { initial_url: "https://shop.example/".into(), allowed_domains: vec![] };
        assert_eq!(block_on(client(&fake).create_proxy_session(&req)), Err(UpstreamError::Redirected(307)));
    }

    #[test]
    fn a_retry_after_is_passed_on_without_the_whitespace_around_it() {
        for (sent, kept) in [("12", "12"), ("12 \t", "12"), (" 30", "30"), ("", "")] {
            let limited = HttpResponse { status: 429, body: String::new(), retry_after: Some(sent.into()) };
            let fake = FakeTransport::default().then(Ok(limited));
            let err = block_on(client(&fake).search("x", 1)).unwrap_err();
            assert_eq!(err, UpstreamError::RateLimited { retry_after: Some(kept.into()) }, "{sent:?}");
        }
    }

    #[test]
    fn requests_name_their_endpoint_for_the_log() {
        let fake = FakeTransport::answering([SEARCH_OK]);
        block_on(client(&fake).search("x", 1)).unwrap();
        assert_eq!(fake.requests.borrow()[0].endpoint, "search");
    }
}
