//! Every variable, secret and binding the gateway reads, parsed and
//! validated in one place. Each route loads only what it needs, so a gap in
//! `/visitor`'s settings never breaks `/agent`. Errors name the setting and
//! never echo a secret's value, nor a URL's user name, password or query
//! (`core::redact`): they reach the public `/readyz` and error pages.
//!
//! One file per concern: `names` (every name, once), `source` (where values
//! come from, and the readers all loaders share), `upstream`, `visitor`,
//! `watch` (`/agent` and `/view`), `agent_auth` (and Access), `links` (link
//! secrets and their rotation), `framing`; and `loaded`, every group loaded
//! once per source, which is how a request reaches them (`Settings`). The
//! rest of the gateway reaches them through the re-exports below, as
//! `crate::settings::X`.

mod agent_auth;
mod framing;
mod links;
mod loaded;
pub mod names;
mod source;
mod upstream;
mod visitor;
mod watch;

pub use agent_auth::{AccessSettings, AgentAuth};
pub use framing::{frame_ancestors, FramedPages};
pub use links::LinkKey;
pub use loaded::Settings;
pub use names::{AGENT_RATE_LIMITER_BINDING, METRICS_BINDING, SHORT_ID_CACHE_BINDING, VISITOR_RATE_LIMITER_BINDING};
pub use source::Source;
pub use upstream::{Edition, UpstreamSettings};
pub use visitor::VisitorSettings;
pub use watch::{AgentSettings, ViewerSettings};

/// What every loader promises alike: secrets trimmed, URLs never quoted with
/// their credentials or query.
#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::links::visitor_link_key;
    use super::source::tests::vars;
    use super::*;
    use crate::error::GatewayError;

    #[test]
    fn secrets_are_trimmed_alike() {
        let s = UpstreamSettings::load(&vars(&[("UPSCOPE_API_KEY", " key\n")])).unwrap();
        assert_eq!(s.api_key.expose(), "key");
        let secret = "0123456789abcdef0123456789abcdef";
        let key =
            visitor_link_key(&vars(&[("VISITOR_LINK_SECRET", "0123456789abcdef0123456789abcdef\n")])).unwrap().unwrap();
        assert_eq!(key.secret, secret);
        let Ok(AgentAuth::SignedLink(key)) = AgentAuth::load(&vars(&[
            ("AGENT_AUTH", "signed-link"),
            ("AGENT_LINK_SECRET", "\t0123456789abcdef0123456789abcdef \r\n"),
        ])) else {
            panic!("expected signed-link")
        };
        assert_eq!(key.secret, secret);
        // Trimmed first, then measured: padding does not make a short secret long enough.
        let padded = format!("{:<40}", "short-secret");
        assert!(visitor_link_key(&HashMap::from([("VISITOR_LINK_SECRET", padded.as_str())])).is_err());
    }

    #[test]
    fn url_settings_say_what_is_wrong_without_quoting_credentials_or_query() {
        const LEAKY: &str = "https://user:hunter2@shop.example.com/a?token=s3cret";
        let initial = ("PROXY_INITIAL_URL", "https://shop.example.com/");
        let cases: [(Result<(), GatewayError>, &str); 7] = [
            (
                UpstreamSettings::load(&vars(&[("UPSCOPE_API_KEY", "k"), ("UPSCOPE_API_BASE", LEAKY)])).map(drop),
                "UPSCOPE_API_BASE must not carry a user name or password",
            ),
            (
                VisitorSettings::load(&vars(&[("PROXY_INITIAL_URL", LEAKY)])).map(drop),
                "PROXY_INITIAL_URL must not carry a user name or password",
            ),
            (
                VisitorSettings::load(&vars(&[initial, ("PROXY_ALLOWED_URLS", LEAKY)])).map(drop),
                "PROXY_ALLOWED_URLS: entry 1 (https://shop.example.com/a) must not carry a user name or password",
            ),
            (
                VisitorSettings::load(&vars(&[
                    initial,
                    ("PROXY_ALLOWED_URLS", "https://shop.example.com/help https://shop.example.com/a?token=s3cret#x"),
                ]))
                .map(drop),
                "PROXY_ALLOWED_URLS: entry 2 (https://shop.example.com/a) must not have a query or fragment",
            ),
            (
                VisitorSettings::load(&vars(&[initial, ("PROXY_ALLOWED_DOMAINS", LEAKY)])).map(drop),
                "PROXY_ALLOWED_DOMAINS lists domains (shop.example.com), not URLs: entry 1 (https://shop.example.com/a) is one",
            ),
            (
                AgentSettings::load(&vars(&[("WATCH_RETRY_URL", LEAKY)])).map(drop),
                "WATCH_RETRY_URL must not carry a user name or password",
            ),
            (
                frame_ancestors(&vars(&[("EMBED_ORIGINS", LEAKY)]), FramedPages::Visitor).map(drop),
                "EMBED_ORIGINS: entry 1 (https://shop.example.com/a) is not an origin",
            ),
        ];
        for (loaded, expected) in cases {
            let message = loaded.unwrap_err().message();
            assert!(message.contains(expected), "{message}");
            assert!(
                !message.contains("hunter2") && !message.contains("s3cret") && !message.contains("user:"),
                "{message}"
            );
        }
        let odd = VisitorSettings::load(&vars(&[initial, ("PROXY_ALLOWED_URLS", "user:hunter2@shop.example.com/a")]));
        let message = odd.err().unwrap().message();
        assert!(message.contains("PROXY_ALLOWED_URLS: entry 1 is not an absolute http(s) URL"), "{message}");
        assert!(!message.contains("hunter2"));
    }
}
