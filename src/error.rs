//! The one error type of the gateway, and the one place it becomes a status,
//! a code and a message. Rendering to HTML or JSON is pure, so every mapping
//! is unit-tested; `http.rs` only wraps the result in a `worker::Response`.

use crate::upscope::UpstreamError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayError {
    /// The request itself is wrong; `code` is stable, `message` says how to fix it.
    BadRequest {
        code: &'static str,
        message: String,
    },
    /// Upscope has no such visitor (or none matched exactly).
    VisitorNotFound(String),
    RouteNotFound,
    MethodNotAllowed {
        allow: &'static str,
    },
    /// A setting, secret or binding is missing or wrong; names it, never its value.
    Misconfigured(String),
    Upstream(UpstreamError),
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
            Self::Misconfigured(_) => 500,
            Self::Upstream(e) => e.gateway_status(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } => code,
            Self::VisitorNotFound(_) => "visitor_not_found",
            Self::RouteNotFound => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Misconfigured(_) => "gateway_misconfigured",
            Self::Upstream(e) => e.code(),
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::BadRequest { message, .. } | Self::VisitorNotFound(message) => message.clone(),
            Self::RouteNotFound => "There is nothing here. The gateway serves /visitor, /agent and /healthz.".into(),
            Self::MethodNotAllowed { allow } => format!("Use {allow} for this address."),
            Self::Misconfigured(what) => format!("gateway misconfigured: {what}"),
            Self::Upstream(e) => e.message(),
        }
    }

    /// A short human title for the HTML page.
    fn title(&self) -> &'static str {
        match self.status() {
            400 => "Check the link",
            404 => "Not found",
            405 => "Method not allowed",
            500 => "Gateway misconfigured",
            503 => "Co-browsing is busy",
            504 => "Co-browsing timed out",
            _ => "Co-browsing is unavailable",
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::json!({ "error": { "code": self.code(), "message": self.message() } }).to_string()
    }

    pub fn to_html(&self) -> String {
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title>\
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1f2933}}\
code{{background:#eef2f7;padding:0 .25rem;border-radius:3px}}</style></head>\
<body><main><h1>{title}</h1><p>{message}</p><p><small>Error <code>{code}</code> (HTTP {status})</small></p></main></body></html>\n",
            title = self.title(),
            message = escape_html(&self.message()),
            code = self.code(),
            status = self.status(),
        )
    }
}

impl From<UpstreamError> for GatewayError {
    fn from(e: UpstreamError) -> Self {
        Self::Upstream(e)
    }
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes() {
        let cases = [
            (GatewayError::bad_request("missing_parameter", "x"), 400, "missing_parameter"),
            (GatewayError::VisitorNotFound("x".into()), 404, "visitor_not_found"),
            (GatewayError::RouteNotFound, 404, "not_found"),
            (GatewayError::MethodNotAllowed { allow: "GET" }, 405, "method_not_allowed"),
            (GatewayError::Misconfigured("x".into()), 500, "gateway_misconfigured"),
        ];
        for (err, status, code) in cases {
            assert_eq!((err.status(), err.code()), (status, code), "{err:?}");
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
    fn html_escapes_the_message() {
        let err = GatewayError::bad_request("invalid_parameter", "<script>alert(1)</script>");
        let html = err.to_html();
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("HTTP 400"));
    }
}
