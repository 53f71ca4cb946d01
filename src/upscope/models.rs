//! Serde types for the documented parts of Upscope's REST API. Unknown
//! fields are ignored and every field may be null or missing.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::UpstreamError;
use crate::core::page_url::parse_secure_url;
use crate::core::permissions::Grant;
/// The search hit the core reasons about lives in `core`, with its tolerant reading.
pub use crate::core::visitor::Visitor;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agent {
    pub id: String,
    pub name: String,
}

/// `branding` of a watch_url request; only what is set is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Branding {
    /// `true` hides Upscope's logo. Never `"page_only"`, which Upscope also
    /// documents: that shows the agent no controls at all, for a link framed
    /// in a page of your own, and the gateway opens the link top-level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub naked: Option<bool>,
    /// `true` hides the bar of connection information at the bottom.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_bottom_bar: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_end_url: Option<String>,
}

impl Branding {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WatchUrlRequest {
    pub agent: Agent,
    #[serde(skip_serializing_if = "Branding::is_empty")]
    pub branding: Branding,
    /// `allow_*` flags; empty means Upscope's defaults.
    #[serde(skip_serializing_if = "Grant::is_empty")]
    pub permissions: Grant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxySessionRequest {
    pub initial_url: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_domains: Vec<String>,
}

/// A URL that opens a session without further login (`watch_url`, proxy
/// URL). Its `Debug` is redacted so it cannot slip into a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionUrl(String);

impl SessionUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionUrl(<redacted>)")
    }
}

/// Kept in the parser's serialisation, not Upscope's raw text: the parser
/// drops tabs and newlines, so the value is always safe in a `Location` header.
/// https only (loopback excepted): the URL opens a session without further login.
fn session_url(value: Option<&Value>) -> Option<SessionUrl> {
    parse_secure_url(value?.as_str()?).map(|url| SessionUrl(url.into()))
}

fn parse_json(body: &str) -> Result<Value, UpstreamError> {
    serde_json::from_str(body).map_err(|_| UpstreamError::Expected("a JSON body"))
}

/// `{"visitors": [...]}`; visitors that cannot be read are skipped, since
/// every result is checked against the request anyway.
pub fn read_search(body: &str) -> Result<Vec<Visitor>, UpstreamError> {
    let json = parse_json(body)?;
    match json.get("visitors") {
        Some(Value::Array(items)) => Ok(items.iter().filter_map(Visitor::from_json).collect()),
        Some(Value::Null) => Ok(Vec::new()),
        _ => Err(UpstreamError::Expected("a visitors list")),
    }
}

/// `{"watch_url": "https://..."}`: no such text member is an answer of
/// another shape; one that is no https URL is refused.
pub fn read_watch_url(body: &str) -> Result<SessionUrl, UpstreamError> {
    let json = parse_json(body)?;
    let Some(value) = json.get("watch_url").filter(|v| v.is_string()) else {
        return Err(UpstreamError::Expected("a watch_url member"));
    };
    session_url(Some(value)).ok_or(UpstreamError::BadResponse("a watch_url answer without an https watch_url"))
}

/// The proxy session's response fields are not documented: take the first
/// https URL (loopback excepted) under one of the likely names, at the top level
/// first, then inside a `proxy_session` object.
pub fn read_proxy_url(body: &str) -> Result<SessionUrl, UpstreamError> {
    const NAMES: [&str; 4] = ["url", "proxy_url", "redirect_url", "session_url"];
    let json = parse_json(body)?;
    let scopes = [Some(&json), json.get("proxy_session")];
    let candidates: Vec<&Value> = scopes
        .into_iter()
        .flatten()
        .flat_map(|scope| NAMES.iter().filter_map(move |name| scope.get(name)))
        .filter(|value| value.is_string())
        .collect();
    if candidates.is_empty() {
        return Err(UpstreamError::Expected(
            "a session URL under url, proxy_url, redirect_url or session_url (at the top level or in proxy_session)",
        ));
    }
    candidates
        .into_iter()
        .find_map(|value| session_url(Some(value)))
        .ok_or(UpstreamError::BadResponse("a proxy session answer without an https session URL"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn search_ignores_unknown_fields_and_tolerates_nulls() {
        let body = json!({
            "status": "ok",
            "visitors": [
                {"short_id": "a1", "unique_id": null, "lookup_code": "1234", "is_online": null,
                 "tags": ["#VIP"], "sessions": [], "brand_new_field": {"x": 1}, "_type": "visitor"},
                {"short_id": "b2", "is_online": "not-a-bool"},
                {"short_id": "c3", "unique_id": "carol", "is_online": true, "last_seen_at": "2026-11-24T10:00:00Z"}
            ]
        })
        .to_string();
        let visitors = read_search(&body).unwrap();
        assert_eq!(visitors.len(), 2, "the unreadable visitor is skipped");
        assert_eq!(visitors[0].short_id.as_deref(), Some("a1"));
        assert_eq!(visitors[0].unique_id, None);
        assert_eq!(visitors[1].is_online, Some(true));
    }

    #[test]
    fn numeric_identifiers_and_times_are_read_as_text() {
        let body = json!({"visitors": [
            {"short_id": 60006, "unique_id": 5005, "lookup_code": 421, "is_online": true, "last_seen_at": 1795515330},
            {"short_id": "s2", "unique_id": 12.0, "lookup_code": "0421", "last_seen_at": 1795515330500u64},
            {"short_id": "s4", "unique_id": 12.5, "last_seen_at": 1795515330.25},
            {"short_id": "s3", "unique_id": ["not", "an", "id"]}
        ]})
        .to_string();
        let visitors = read_search(&body).unwrap();
        assert_eq!(visitors.len(), 2, "a list or a fraction for an ID makes the visitor unreadable");
        let v = &visitors[0];
        assert_eq!(
            (v.short_id.as_deref(), v.unique_id.as_deref(), v.lookup_code.as_deref(), v.last_seen_ms),
            (Some("60006"), Some("5005"), Some("0421"), Some(1_795_515_330_000))
        );
        assert_eq!(visitors[1].unique_id.as_deref(), Some("12"));
        assert_eq!(visitors[1].last_seen_ms, Some(1_795_515_330_500));
        let times = read_search(
            r#"{"visitors":[{"short_id":"a","last_seen_at":1795515330.25},{"short_id":"b","last_seen_at":"2026-11-24T10:15:30Z"},
            {"short_id":"c","last_seen_at":"1795515330"},{"short_id":"d","last_seen_at":"soon"},{"short_id":"e","last_seen_at":-5},
            {"short_id":"f","last_seen_at":true},{"short_id":"g","last_seen_at":99999}]}"#,
        )
        .unwrap();
        let ms: Vec<_> = times.iter().map(|v| v.last_seen_ms).collect();
        assert_eq!(
            ms,
            [
                Some(1_795_515_330_250),
                Some(1_795_515_330_000),
                Some(1_795_515_330_000),
                None,
                None,
                None,
                Some(99_999_000)
            ],
            "every form reads to milliseconds once; what is no time reads as unknown, keeping the visitor"
        );
    }

    #[test]
    fn search_without_list_is_an_upstream_error() {
        assert_eq!(read_search(r#"{"visitors":null}"#).unwrap(), vec![]);
        assert_eq!(read_search(r#"{"status":"ok"}"#), Err(UpstreamError::Expected("a visitors list")));
        assert_eq!(read_search("<html>"), Err(UpstreamError::Expected("a JSON body")));
    }

    #[test]
    fn watch_url_must_be_https_or_loopback() {
        let ok = read_watch_url(r#"{"watch_url":"https://watch.upscope.io/w/abc","extra":1}"#).unwrap();
        assert_eq!(ok.expose(), "https://watch.upscope.io/w/abc");
        let local = read_watch_url(r#"{"watch_url":"http://127.0.0.1:8788/sim/watch/abc"}"#).unwrap();
        assert_eq!(local.expose(), "http://127.0.0.1:8788/sim/watch/abc");
        for bad in [
            r#"{"watch_url":"javascript:alert(1)"}"#,
            r#"{"watch_url":"http://watch.upscope.io/w/secret-token"}"#,
            r#"{"watch_url":"data:text/html,secret-token"}"#,
        ] {
            let err = read_watch_url(bad).unwrap_err();
            assert_eq!(err, UpstreamError::BadResponse("a watch_url answer without an https watch_url"), "{bad}");
            assert!(!err.message().contains("secret-token"));
        }
        // No watch_url text at all is an answer of another shape.
        for other in [r#"{"watch_url":null}"#, r#"{}"#, r#"{"url":"https://w.example/x"}"#, "nope"] {
            assert!(matches!(read_watch_url(other), Err(UpstreamError::Expected(_))), "{other}");
        }
    }

    #[test]
    fn proxy_url_is_read_tolerantly() {
        let cases = [
            (json!({"url": "https://p.example/1"}), "https://p.example/1"),
            (json!({"proxy_url": "https://p.example/2"}), "https://p.example/2"),
            (json!({"redirect_url": "https://p.example/3"}), "https://p.example/3"),
            (json!({"session_url": "https://p.example/4"}), "https://p.example/4"),
            (json!({"proxy_session": {"id": "x", "url": "https://p.example/5"}}), "https://p.example/5"),
            (json!({"url": "/relative", "proxy_url": "https://p.example/6"}), "https://p.example/6"),
            (json!({"url": 7, "proxy_session": {"session_url": "http://127.0.0.1:8788/7"}}), "http://127.0.0.1:8788/7"),
            (json!({"url": "http://p.example/8", "proxy_url": "https://p.example/8"}), "https://p.example/8"),
            (json!({"proxy_session": {"url": "https://nested"}, "redirect_url": "https://top"}), "https://top/"),
        ];
        for (body, want) in cases {
            let got = read_proxy_url(&body.to_string()).unwrap();
            assert_eq!(url::Url::parse(got.expose()).unwrap().as_str(), url::Url::parse(want).unwrap().as_str());
        }
        for other_shape in
            [json!({}), json!({"proxy_session": "https://x"}), json!({"link": "https://x"}), json!({"url": 7})]
        {
            assert!(
                matches!(read_proxy_url(&other_shape.to_string()), Err(UpstreamError::Expected(_))),
                "{other_shape}"
            );
        }
        for refused in [
            json!({"url": "ftp://x"}),
            json!({"url": "http://p.example/s/1"}),
            json!({"proxy_session": {"url": "javascript:alert(1)"}}),
        ] {
            assert!(matches!(read_proxy_url(&refused.to_string()), Err(UpstreamError::BadResponse(_))), "{refused}");
        }
    }

    #[test]
    fn session_url_is_normalised_for_headers() {
        let url = read_watch_url(r#"{"watch_url":"https://w.example/a\nSet-Cookie: x=1"}"#).unwrap();
        assert!(!url.expose().contains('\n'));
        assert_eq!(url.expose(), "https://w.example/aSet-Cookie:%20x=1");
    }

    #[test]
    fn session_url_debug_is_redacted() {
        let url = read_watch_url(r#"{"watch_url":"https://watch.example/secret-token"}"#).unwrap();
        assert_eq!(format!("{url:?}"), "SessionUrl(<redacted>)");
    }

    #[test]
    fn watch_request_sends_only_what_is_set() {
        let mut req = WatchUrlRequest {
            agent: Agent { id: "a1".into(), name: "Ann".into() },
            branding: Branding::default(),
            permissions: Grant::new(),
        };
        assert_eq!(serde_json::to_value(&req).unwrap(), json!({"agent": {"id": "a1", "name": "Ann"}}));
        req.branding.naked = Some(true);
        req.branding.no_bottom_bar = Some(false);
        req.permissions = crate::core::permissions::exactly(&["click"]);
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({"agent": {"id": "a1", "name": "Ann"}, "branding": {"naked": true, "no_bottom_bar": false}, "permissions": {
                "allow_agent_redirect": false, "allow_audio": false, "allow_click": true, "allow_console": false,
                "allow_draw": false, "allow_scroll": false, "allow_type": false
            }})
        );
    }
}
