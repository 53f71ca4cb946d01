//! What `/visitor` may open: the proxy session's first page, the pages
//! `?url=` may choose among, where the proxied visitor may navigate, and the
//! key its links are signed with.

use url::Url;

use super::links::{visitor_link_key, LinkKey};
use super::names::{PROXY_ALLOWED_DOMAINS, PROXY_ALLOWED_URLS, PROXY_INITIAL_URL};
use super::source::{list, misconfigured, web_url, Source};
use crate::core::page_url::UrlPrefix;
use crate::core::redact;
use crate::error::GatewayError;

/// What `/visitor` may open, and the key its links are signed with, if any.
pub struct VisitorSettings {
    pub initial_url: Url,
    pub allowed_urls: Vec<UrlPrefix>,
    pub allowed_domains: Vec<String>,
    /// `VISITOR_LINK_SECRET`: when set, `/visitor?uniqueid=` links must be signed.
    pub link_key: Option<LinkKey>,
}

impl VisitorSettings {
    pub fn load(src: &impl Source) -> Result<Self, GatewayError> {
        let initial_url = web_url(src, PROXY_INITIAL_URL)?
            .ok_or_else(|| misconfigured("PROXY_INITIAL_URL is not set (the page /visitor opens)"))?;
        let allowed_urls = list(src, PROXY_ALLOWED_URLS)
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                UrlPrefix::parse(entry)
                    .map_err(|why| misconfigured(format!("PROXY_ALLOWED_URLS: {} {why}", redact::entry(i + 1, entry))))
            })
            .collect::<Result<_, _>>()?;
        let allowed_domains = list(src, PROXY_ALLOWED_DOMAINS);
        if let Some((i, bad)) = allowed_domains.iter().enumerate().find(|(_, d)| d.contains('/')) {
            return Err(misconfigured(format!(
                "PROXY_ALLOWED_DOMAINS lists domains (shop.example.com), not URLs: {} is one",
                redact::entry(i + 1, bad)
            )));
        }
        Ok(Self { initial_url, allowed_urls, allowed_domains, link_key: Self::link_key(src)? })
    }

    /// `VISITOR_LINK_SECRET` alone (and its partners), for checks that report
    /// it apart from the pages.
    pub fn link_key(src: &impl Source) -> Result<Option<LinkKey>, GatewayError> {
        visitor_link_key(src)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::settings::source::tests::vars;

    #[test]
    fn proxy_settings_parse_lists() {
        let s = VisitorSettings::load(&vars(&[
            ("PROXY_INITIAL_URL", "https://shop.example.com/account"),
            (
                "PROXY_ALLOWED_URLS",
                "https://shop.example.com/help, https://shop.example.com/orders/\nhttps://docs.example.com",
            ),
            ("PROXY_ALLOWED_DOMAINS", "shop.example.com,cdn.example.com"),
        ]))
        .unwrap();
        assert_eq!(s.allowed_urls.len(), 3);
        assert_eq!(s.allowed_domains, ["shop.example.com", "cdn.example.com"]);
    }

    #[test]
    fn proxy_settings_refuse_gaps_and_mistakes() {
        let cases: [&[(&str, &str)]; 4] = [
            &[],
            &[("PROXY_INITIAL_URL", "shop.example.com")],
            &[("PROXY_INITIAL_URL", "https://a.example/"), ("PROXY_ALLOWED_URLS", "https://a.example/x?y=1")],
            &[("PROXY_INITIAL_URL", "https://a.example/"), ("PROXY_ALLOWED_DOMAINS", "https://a.example/")],
        ];
        let names = ["PROXY_INITIAL_URL", "PROXY_INITIAL_URL", "PROXY_ALLOWED_URLS", "PROXY_ALLOWED_DOMAINS"];
        for (pairs, name) in cases.into_iter().zip(names) {
            let err = VisitorSettings::load(&pairs.iter().copied().collect::<HashMap<_, _>>()).err().unwrap();
            assert!(err.message().contains(name), "{err:?}");
        }
    }
}
