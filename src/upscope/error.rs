//! What can go wrong on the way to Upscope, and how each is told to a person.

use serde_json::Value;

use crate::core::shape::describe;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    /// 401, with Upscope's error code when it gave one.
    Unauthorized(Option<String>),
    /// 402: over the plan's limits.
    OverPlanLimits,
    /// 404 from Upscope.
    NotFound,
    /// 429, with Upscope's `Retry-After` if any.
    RateLimited { retry_after: Option<String> },
    /// 5xx.
    Unavailable(u16),
    /// 3xx: never followed, since the API key would go along.
    Redirected(u16),
    /// Any other non-success status.
    Refused(u16),
    /// The answer was read but refused; says what was wrong with it.
    BadResponse(&'static str),
    /// The answer's shape is not the one the gateway knows: which endpoint,
    /// what it needed, and what came back (member names only).
    Unreadable(Box<Unreadable>),
    /// What a reader needed and did not find; the client adds the rest
    /// (`at`), making it `Unreadable`.
    Expected(&'static str),
    /// No answer at all (network error).
    Unreachable,
    /// No answer within the request's deadline (`UPSTREAM_TIMEOUT_MS`).
    TimedOut,
}

/// An answer the gateway could not read, told without its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub endpoint: &'static str,
    pub status: u16,
    /// What the gateway looks for, e.g. `a watch_url member`.
    pub expected: &'static str,
    /// What came back: member names, or what kind of body (`core::shape`).
    pub got: String,
}

impl UpstreamError {
    /// A reader's `Expected` told in full: the endpoint, the status and the
    /// shape of `body`. Other errors pass unchanged.
    pub fn at(self, endpoint: &'static str, status: u16, body: &str) -> Self {
        match self {
            Self::Expected(expected) => {
                Self::Unreadable(Box::new(Unreadable { endpoint, status, expected, got: describe(body) }))
            }
            other => other,
        }
    }

    /// Maps a non-2xx answer; `body` may carry `{"status":"error","error":"<code>"}`.
    pub fn from_status(status: u16, body: &str, retry_after: Option<String>) -> Self {
        match status {
            401 => Self::Unauthorized(error_code(body)),
            402 => Self::OverPlanLimits,
            404 => Self::NotFound,
            429 => Self::RateLimited { retry_after },
            300..=399 => Self::Redirected(status),
            500..=599 => Self::Unavailable(status),
            _ => Self::Refused(status),
        }
    }

    /// A short word for `/readyz?upstream=1`: Upscope's own code when it
    /// gave one (`invalid_api_key`, `no_subscription`, …), else what happened.
    pub fn reason(&self) -> String {
        match self {
            Self::Unauthorized(Some(code)) => code.clone(),
            Self::Unauthorized(None) => "unauthorized".into(),
            Self::OverPlanLimits => "over_limits".into(),
            Self::RateLimited { .. } => "rate_limited".into(),
            Self::Unreachable => "unreachable".into(),
            Self::TimedOut => "timeout".into(),
            Self::NotFound => "status_404".into(),
            Self::Unavailable(status) | Self::Refused(status) => format!("status_{status}"),
            Self::BadResponse(_) => "bad_response".into(),
            Self::Unreadable(_) | Self::Expected(_) => "unreadable".into(),
            Self::Redirected(status) => format!("redirected_{status}"),
        }
    }

    pub fn gateway_status(&self) -> u16 {
        match self {
            Self::RateLimited { .. } | Self::Unavailable(_) => 503,
            Self::TimedOut => 504,
            _ => 502,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) => "upstream_unauthorized",
            Self::OverPlanLimits => "upstream_over_limits",
            Self::NotFound => "upstream_not_found",
            Self::RateLimited { .. } => "upstream_rate_limited",
            Self::Unavailable(_) => "upstream_unavailable",
            Self::Redirected(_) => "upstream_redirected",
            Self::Refused(_) => "upstream_refused",
            Self::BadResponse(_) => "upstream_bad_response",
            Self::Unreadable(_) | Self::Expected(_) => "upstream_unreadable",
            Self::Unreachable => "upstream_unreachable",
            Self::TimedOut => "upstream_timeout",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::Unauthorized(code) => match code.as_deref() {
                Some("no_subscription" | "subscription_expired") => {
                    "Upscope says this account has no active subscription.".into()
                }
                Some("api_not_enabled") => "Upscope says the REST API is not enabled for this account.".into(),
                Some("please_contact_team") => {
                    "Upscope refused the request and asks the account owner to contact Upscope.".into()
                }
                _ => "Upscope rejected the API key (check the UPSCOPE_API_KEY secret).".into(),
            },
            Self::OverPlanLimits => "Upscope refused: the account is over its plan's limits.".into(),
            Self::NotFound => "Upscope answered 'not found' where it should not (check UPSCOPE_API_BASE).".into(),
            Self::RateLimited { .. } => "Upscope is limiting requests right now; try again in a moment.".into(),
            Self::Unavailable(status) => format!("Upscope is having trouble (HTTP {status}); try again in a moment."),
            Self::Refused(status) => format!("Upscope refused the request (HTTP {status})."),
            // Where it pointed is not said: the Location is Upscope's answer, not ours to show.
            Self::Redirected(status) => format!(
                "Upscope answered with a redirect (HTTP {status}), which the gateway never follows, so that the API key \
stays with the API host (check UPSCOPE_API_BASE)."
            ),
            Self::BadResponse(what) => format!("Upscope sent {what}."),
            Self::Unreadable(u) => format!(
                "Upscope's answer to {} (HTTP {}) could not be read: the gateway needs {}, and it had {}. \
Upscope may have changed this answer; report it with these names (they hold no values).",
                u.endpoint, u.status, u.expected, u.got
            ),
            Self::Expected(what) => format!("Upscope's answer could not be read: the gateway needs {what}."),
            Self::Unreachable => "Upscope could not be reached.".into(),
            Self::TimedOut => "Upscope did not answer in time; try again in a moment.".into(),
        }
    }
}

/// Upscope's error code, if the body is its documented error shape. Only
/// plain lowercase codes are kept, so nothing odd is ever echoed.
fn error_code(body: &str) -> Option<String> {
    let json: Value = serde_json::from_str(body).ok()?;
    let code = json.get("error")?.as_str()?;
    let plain = !code.is_empty() && code.len() <= 64 && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    plain.then(|| code.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str) -> String {
        format!(r#"{{"status":"error","error":"{code}"}}"#)
    }

    #[test]
    fn statuses_map_to_gateway_answers() {
        let cases = [
            (401, 502, "upstream_unauthorized"),
            (402, 502, "upstream_over_limits"),
            (404, 502, "upstream_not_found"),
            (429, 503, "upstream_rate_limited"),
            (500, 503, "upstream_unavailable"),
            (503, 503, "upstream_unavailable"),
            (400, 502, "upstream_refused"),
            (301, 502, "upstream_redirected"),
            (307, 502, "upstream_redirected"),
            (308, 502, "upstream_redirected"),
        ];
        for (upstream, gateway, code) in cases {
            let e = UpstreamError::from_status(upstream, "", None);
            assert_eq!((e.gateway_status(), e.code()), (gateway, code), "{upstream}");
        }
    }

    #[test]
    fn each_documented_401_code_has_its_own_words() {
        let m = |code: &str| UpstreamError::from_status(401, &err(code), None).message();
        assert_eq!(m("invalid_api_key"), "Upscope rejected the API key (check the UPSCOPE_API_KEY secret).");
        assert!(m("no_subscription").contains("no active subscription"));
        assert!(m("subscription_expired").contains("no active subscription"));
        assert!(m("api_not_enabled").contains("REST API is not enabled"));
        assert!(m("please_contact_team").contains("contact Upscope"));
        assert_eq!(UpstreamError::from_status(401, "garbage", None), UpstreamError::Unauthorized(None));
    }

    #[test]
    fn odd_error_codes_are_not_kept() {
        let e = UpstreamError::from_status(401, &err("<script>"), None);
        assert_eq!(e, UpstreamError::Unauthorized(None));
    }

    #[test]
    fn readiness_reasons_are_upscopes_code_or_what_happened() {
        let reason = |status, body: &str| UpstreamError::from_status(status, body, None).reason();
        assert_eq!(reason(401, &err("invalid_api_key")), "invalid_api_key");
        assert_eq!(reason(401, &err("no_subscription")), "no_subscription");
        assert_eq!(reason(401, &err("api_not_enabled")), "api_not_enabled");
        assert_eq!(reason(401, "<html>"), "unauthorized");
        assert_eq!(reason(503, ""), "status_503");
        assert_eq!(UpstreamError::Unreachable.reason(), "unreachable");
        assert_eq!(UpstreamError::TimedOut.reason(), "timeout");
    }

    #[test]
    fn an_unreadable_answer_names_endpoint_status_and_members_never_values() {
        let body = r#"{"status":"ok","session":{"id":"x1","link":"https://elsewhere.example/s/secret-token"}}"#;
        let e = UpstreamError::Expected("a session URL").at("proxy_sessions", 200, body);
        assert_eq!((e.gateway_status(), e.code(), e.reason().as_str()), (502, "upstream_unreadable", "unreadable"));
        let message = e.message();
        assert!(
            message.starts_with(
                "Upscope's answer to proxy_sessions (HTTP 200) could not be read: the gateway needs a session URL, \
and it had the members session, session.id, session.link, status."
            ),
            "{message}"
        );
        assert!(!message.contains("secret-token") && !message.contains("elsewhere"));
        // Anything else passes through `at` unchanged.
        assert_eq!(UpstreamError::TimedOut.at("search", 200, "{}"), UpstreamError::TimedOut);
    }

    #[test]
    fn rate_limit_keeps_retry_after() {
        let e = UpstreamError::from_status(429, "", Some("7".into()));
        assert_eq!(e, UpstreamError::RateLimited { retry_after: Some("7".into()) });
    }

    #[test]
    fn a_redirect_names_its_status_and_never_where_it_points() {
        let e = UpstreamError::from_status(307, "<a href=\"https://elsewhere.example/x\">moved</a>", None);
        assert_eq!(e, UpstreamError::Redirected(307));
        assert!(e.message().contains("HTTP 307") && e.message().contains("never follows"), "{}", e.message());
        assert!(!e.message().contains("elsewhere"));
    }
}
