//! `/visitor`: which Universal-proxy session to ask for (the request itself
//! is one client call, made by the route).

use crate::core::ids::UniqueId;
use crate::core::page_url::{choose_page, with_unique_id};
use crate::core::query::Params;
use crate::error::GatewayError;
use crate::settings::VisitorSettings;
use crate::upscope::models::ProxySessionRequest;

/// The proxy session to ask for, from the visitor's link; pure, so every
/// refusal happens before any upstream call.
pub fn plan_proxy_session(settings: &VisitorSettings, params: &Params) -> Result<ProxySessionRequest, GatewayError> {
    let unique_id = params
        .get("uniqueid")
        .map(|v| {
            UniqueId::parse(v).map_err(|e| GatewayError::bad_request("invalid_parameter", format!("uniqueid: {e}")))
        })
        .transpose()?;
    let page = choose_page(&settings.initial_url, params.get("url"), &settings.allowed_urls)?;
    Ok(ProxySessionRequest {
        initial_url: with_unique_id(&page, unique_id.as_ref()).into(),
        allowed_domains: settings.allowed_domains.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::page_url::UrlPrefix;
    use crate::upscope::client::testing::{block_on, client, FakeTransport};

    fn settings() -> VisitorSettings {
        VisitorSettings {
            initial_url: url::Url::parse("https://shop.example.com/account?tab=1#top").unwrap(),
            allowed_urls: vec![UrlPrefix::parse("https://shop.example.com/help").unwrap()],
            allowed_domains: vec!["shop.example.com".into()],
            link_key: None,
        }
    }

    fn plan(q: &str) -> Result<ProxySessionRequest, GatewayError> {
        plan_proxy_session(&settings(), &Params::parse(Some(q)).unwrap())
    }

    #[test]
    fn default_page_with_unique_id() {
        let req = plan("uniqueid=alice-1001").unwrap();
        assert_eq!(req.initial_url, "https://shop.example.com/account?tab=1&___upscope_unique_id=alice-1001#top");
        assert_eq!(req.allowed_domains, ["shop.example.com"]);
        assert_eq!(plan("").unwrap().initial_url, "https://shop.example.com/account?tab=1#top");
    }

    #[test]
    fn allowed_page_is_used_and_others_refused() {
        let req = plan("url=https%3A%2F%2Fshop.example.com%2Fhelp%2Ffaq&uniqueid=bob").unwrap();
        assert_eq!(req.initial_url, "https://shop.example.com/help/faq?___upscope_unique_id=bob");
        assert_eq!(plan("url=https%3A%2F%2Fevil.example%2Fhelp").unwrap_err().code(), "url_not_allowed");
        assert_eq!(plan("uniqueid=a%20online").unwrap_err().code(), "invalid_parameter");
    }

    #[test]
    fn posts_the_plan_and_returns_the_session_url() {
        let fake =
            FakeTransport::answering([(200, r#"{"status":"ok","proxy_session":{"url":"https://proxy.example/s/1"}}"#)]);
        let req = plan("uniqueid=alice").unwrap();
        let url = block_on(client(&fake).create_proxy_session(&req)).unwrap();
        assert_eq!(url.expose(), "https://proxy.example/s/1");
        assert_eq!(fake.calls(), ["POST /v1.3/proxy_sessions"]);
        let body: serde_json::Value = serde_json::from_str(fake.requests.borrow()[0].body.as_deref().unwrap()).unwrap();
        assert_eq!(body["initial_url"], "https://shop.example.com/account?tab=1&___upscope_unique_id=alice#top");
        assert_eq!(body["allowed_domains"], serde_json::json!(["shop.example.com"]));
    }
}
