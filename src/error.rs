//! The one error type of the gateway, and the one place it becomes a status,
//! a code and a message (and JSON); `pages::error_page` renders it as HTML.
//! Pure, so every mapping is unit-tested; `http.rs` makes it an answer and
//! `edge::response` hands that to the runtime.

use crate::core::InvalidInput;
use crate::upscope::UpstreamError;
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayError {
    /// The request itself is wrong; `code` is stable, `message` says how to fix it.
    BadRequest {
        code: &'static str,
        message: String,
    },
    /// Upscope has no such visitor (or none matched exactly).
    VisitorNotFound(String),
    /// What the agent gave names several people (a shared lookup code).
    AmbiguousVisitor(String),
    RouteNotFound,
    MethodNotAllowed {
        allow: &'static str,
    },
    /// A setting, secret or binding is missing or wrong; names it, never its value.
    Misconfigured(String),
    /// A credential (signed link or Access token) was missing or not good enough.
    Refused {
        credential: Credential,
        refusal: Refusal,
    },
    /// Over the limit of a configured rate-limiting binding.
    TooManyRequests,
    /// A valid Access token of a service token that `ACCESS_SERVICE_TOKENS`
    /// does not list: signed in, but not as anyone who may watch.
    ServiceTokenNotListed,
    /// A confirmation POST that did not come from the gateway's own page.
    CrossSiteRequest,
    /// A request to start a session that is not a navigation (an image,
    /// script or fetch of some page): only a followed link may start one.
    NotANavigation,
    /// A route that refuses when its rate limiter cannot say (failed, or too slow).
    RateLimiterUnavailable,
    /// Cloudflare Access's signing keys could not be fetched or read.
    AccessKeysUnavailable,
    /// A Cloudflare Access identity that reads as a `/view` viewer's agent id.
    AgentIdReserved,
    /// The runtime failed at something that cannot fail for a good request.
    Internal(&'static str),
    Upstream(UpstreamError),
}

/// What the request presented to prove who sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    AgentLink,
    VisitorLink,
    ViewerLink,
    AccessToken,
}

/// Why a credential was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Invalid,
    Expired,
    /// A link whose `exp` lies further ahead than the deployment allows.
    TooFar,
}

impl GatewayError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest { code, message: message.into() }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest { .. } => 400,
            Self::VisitorNotFound(_) | Self::RouteNotFound => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::AmbiguousVisitor(_) => 409,
            Self::Misconfigured(_) | Self::Internal(_) => 500,
            Self::Refused { refusal: Refusal::Missing | Refusal::Invalid, .. } => 401,
            Self::Refused { refusal: Refusal::Expired | Refusal::TooFar, .. }
            | Self::ServiceTokenNotListed
            | Self::CrossSiteRequest
            | Self::NotANavigation => 403,
            Self::AccessKeysUnavailable => 502,
            Self::AgentIdReserved => 403,
            Self::TooManyRequests => 429,
            Self::RateLimiterUnavailable => 503,
            Self::Upstream(e) => e.gateway_status(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } => code,
            Self::VisitorNotFound(_) => "visitor_not_found",
            Self::AmbiguousVisitor(_) => "lookup_code_ambiguous",
            Self::RouteNotFound => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Misconfigured(_) => "gateway_misconfigured",
            Self::Refused { credential, refusal } => match (credential, refusal) {
                (Credential::AccessToken, Refusal::Missing) => "access_token_missing",
                (Credential::AccessToken, Refusal::Expired) => "access_token_expired",
                (Credential::AccessToken, _) => "access_token_invalid",
                (_, Refusal::Expired) => "link_expired",
                (_, _) => "link_invalid",
            },
            Self::AccessKeysUnavailable => "access_keys_unavailable",
            Self::AgentIdReserved => "agent_id_reserved",
            Self::ServiceTokenNotListed => "access_service_token_unlisted",
            Self::TooManyRequests => "rate_limited",
            Self::CrossSiteRequest | Self::NotANavigation => "cross_site_request",
            Self::RateLimiterUnavailable => "rate_limiter_unavailable",
            Self::Internal(_) => "internal_error",
            Self::Upstream(e) => e.code(),
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::BadRequest { message, .. } | Self::VisitorNotFound(message) | Self::AmbiguousVisitor(message) => {
                message.clone()
            }
            Self::RouteNotFound => "There is nothing here. The gateway serves /visitor, /agent, /view, /healthz and /readyz.".into(),
            Self::MethodNotAllowed { allow } => format!("Use {allow} for this address."),
            Self::Misconfigured(what) => format!("gateway misconfigured: {what}"),
            // Links say "expired" or "invalid" and nothing more: no hint for forgers.
            Self::Refused { credential, refusal } => match (credential, refusal) {
                (Credential::AccessToken, Refusal::Missing) => {
                    "Sign in through Cloudflare Access first: this request carried no Access token.".into()
                }
                (Credential::AccessToken, Refusal::Expired) => {
                    "Your Cloudflare Access sign-in has expired. Reload the page to sign in again.".into()
                }
                (Credential::AccessToken, _) => "Your Cloudflare Access sign-in is invalid.".into(),
                (_, Refusal::Expired) => "This link has expired.".into(),
                (_, _) => "This link is invalid.".into(),
            },
            Self::AccessKeysUnavailable => {
                "Cloudflare Access's signing keys could not be fetched, so the sign-in cannot be checked. Try again shortly."
                    .into()
            }
            Self::AgentIdReserved => {
                "Your Cloudflare Access identity starts with 'viewer:', which this gateway reserves for the people \
                 who watch through /view links, so it cannot watch as an agent. Ask your administrator for another \
                 identity."
                    .into()
            }
            Self::ServiceTokenNotListed => {
                "This Cloudflare Access service token may not open /agent: its Client ID is not listed in ACCESS_SERVICE_TOKENS."
                    .into()
            }
            Self::TooManyRequests => "Too many requests in a short time. Wait a minute, then try again.".into(),
            Self::CrossSiteRequest => {
                "This confirmation can only be sent from the gateway's own page. Open the link again and press the button on the page it shows."
                    .into()
            }
            Self::NotANavigation => {
                "A co-browsing session opens only when you follow a link to it, not from an image, script or \
                 other content of a page. Open the link itself."
                    .into()
            }
            Self::RateLimiterUnavailable => {
                "The gateway cannot check its request limit right now, so it is not starting sessions. Try again in a moment."
                    .into()
            }
            Self::Internal(what) => format!("The gateway failed unexpectedly ({what}). Try again."),
            Self::Upstream(e) => e.message(),
        }
    }

    /// `{"error":{"code":…,"message":…}}`. Built from `Value`s directly:
    /// `json!` converts each interpolated value with `to_value(..).unwrap()`,
    /// which links serde_json's error Debug and messages into the wasm.
    pub fn to_json(&self) -> String {
        let mut error = Map::new();
        error.insert("code".into(), Value::from(self.code()));
        error.insert("message".into(), Value::from(self.message()));
        let mut body = Map::new();
        body.insert("error".into(), Value::Object(error));
        // As http::json writes JSON (see there); a Value always serialises.
        serde_json::to_string(&Value::Object(body)).unwrap_or_default()
    }

    /// Trouble that may pass by itself, so trying again can help. A rejected
    /// key or a redirect (a wrong `UPSCOPE_API_BASE`, most likely) stays until fixed.
    pub fn is_transient(&self) -> bool {
        matches!(self.status(), 429 | 502..=504)
            && !matches!(
                self,
                Self::Upstream(
                    UpstreamError::Unauthorized(_) | UpstreamError::Redirected(_) | UpstreamError::Unreadable(_)
                )
            )
    }
}

/// The functional core's refusals of bad input are 400s with its own words.
impl From<InvalidInput> for GatewayError {
    fn from(e: InvalidInput) -> Self {
        Self::BadRequest { code: e.code, message: e.message }
    }
}

impl From<UpstreamError> for GatewayError {
    fn from(e: UpstreamError) -> Self {
        Self::Upstream(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes() {
        let cases = [
            (GatewayError::bad_request("missing_parameter", "x"), 400, "missing_parameter"),
            (GatewayError::VisitorNotFound("x".into()), 404, "visitor_not_found"),
            (GatewayError::AmbiguousVisitor("x".into()), 409, "lookup_code_ambiguous"),
            (GatewayError::RouteNotFound, 404, "not_found"),
            (GatewayError::MethodNotAllowed { allow: "GET" }, 405, "method_not_allowed"),
            (GatewayError::Misconfigured("x".into()), 500, "gateway_misconfigured"),
            (GatewayError::Internal("x"), 500, "internal_error"),
            (GatewayError::AccessKeysUnavailable, 502, "access_keys_unavailable"),
            (GatewayError::AgentIdReserved, 403, "agent_id_reserved"),
            (GatewayError::TooManyRequests, 429, "rate_limited"),
            (GatewayError::CrossSiteRequest, 403, "cross_site_request"),
            (GatewayError::NotANavigation, 403, "cross_site_request"),
            (GatewayError::RateLimiterUnavailable, 503, "rate_limiter_unavailable"),
            (GatewayError::ServiceTokenNotListed, 403, "access_service_token_unlisted"),
            (refused(Credential::AgentLink, Refusal::Missing), 401, "link_invalid"),
            (refused(Credential::AgentLink, Refusal::Invalid), 401, "link_invalid"),
            (refused(Credential::VisitorLink, Refusal::Expired), 403, "link_expired"),
            (refused(Credential::VisitorLink, Refusal::TooFar), 403, "link_invalid"),
            (refused(Credential::AccessToken, Refusal::Missing), 401, "access_token_missing"),
            (refused(Credential::AccessToken, Refusal::Invalid), 401, "access_token_invalid"),
            (refused(Credential::AccessToken, Refusal::Expired), 403, "access_token_expired"),
        ];
        for (err, status, code) in cases {
            assert_eq!((err.status(), err.code()), (status, code), "{err:?}");
        }
    }

    fn refused(credential: Credential, refusal: Refusal) -> GatewayError {
        GatewayError::Refused { credential, refusal }
    }

    #[test]
    fn link_refusals_say_expired_or_invalid_and_nothing_more() {
        assert_eq!(refused(Credential::AgentLink, Refusal::Expired).message(), "This link has expired.");
        for refusal in [Refusal::Missing, Refusal::Invalid, Refusal::TooFar] {
            assert_eq!(refused(Credential::AgentLink, refusal).message(), "This link is invalid.");
        }
    }

    #[test]
    fn json_has_the_documented_shape() {
        let err = GatewayError::Misconfigured("UPSCOPE_API_KEY is not set".into());
        let v: serde_json::Value = serde_json::from_str(&err.to_json()).unwrap();
        assert_eq!(v["error"]["code"], "gateway_misconfigured");
        assert_eq!(v["error"]["message"], "gateway misconfigured: UPSCOPE_API_KEY is not set");
    }

    #[test]
    fn transient_trouble_is_what_may_pass_by_itself() {
        assert!(GatewayError::Upstream(UpstreamError::TimedOut).is_transient());
        assert!(GatewayError::TooManyRequests.is_transient());
        assert!(GatewayError::RateLimiterUnavailable.is_transient(), "the visitor's page offers Try again");
        assert!(!GatewayError::Upstream(UpstreamError::Unauthorized(None)).is_transient());
        assert!(!GatewayError::Upstream(UpstreamError::Redirected(307)).is_transient());
        assert!(!GatewayError::bad_request("x", "y").is_transient());
        assert!(!GatewayError::Misconfigured("x".into()).is_transient());
    }
}
