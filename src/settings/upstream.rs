//! How to reach Upscope: the API base and key, and how long one request's
//! upstream work may take.

use std::ops::RangeInclusive;

use url::Url;

use super::names::{UPSCOPE_API_BASE, UPSCOPE_API_KEY, UPSTREAM_TIMEOUT_MS};
use super::source::{misconfigured, secret, web_url, whole_number, Source};
use crate::core::page_url::is_loopback;
use crate::error::GatewayError;

pub const DEFAULT_API_BASE: &str = "https://api.upscope.io/v1.3";
pub const DEFAULT_UPSTREAM_TIMEOUT_MS: u64 = 5000;
const UPSTREAM_TIMEOUT_RANGE_MS: RangeInclusive<u64> = 100..=60_000;

/// How to reach Upscope, and (`timeout_ms`) how long one request's upstream
/// work may take.
pub struct UpstreamSettings {
    pub base: Url,
    pub api_key: String,
}

impl UpstreamSettings {
    pub fn load(src: &impl Source) -> Result<Self, GatewayError> {
        // Not `expect`: that would link ParseError's Debug for a constant that parses.
        let default = || match Url::parse(DEFAULT_API_BASE) {
            Ok(url) => url,
            Err(_) => unreachable!("the default API base is a valid URL"),
        };
        let base = web_url(src, UPSCOPE_API_BASE)?.unwrap_or_else(default);
        if base.scheme() != "https" && !is_loopback(&base) {
            return Err(misconfigured(
                "UPSCOPE_API_BASE must start with https:// (over http:// the API key would travel in clear text); \
only loopback hosts (127.0.0.1, ::1, localhost) may use http://, for local work",
            ));
        }
        let api_key = secret(src, UPSCOPE_API_KEY).ok_or_else(|| {
            misconfigured("the secret UPSCOPE_API_KEY is not set (wrangler secret put UPSCOPE_API_KEY)")
        })?;
        Ok(Self { base, api_key })
    }

    /// `UPSTREAM_TIMEOUT_MS` alone, for the request's deadline, which starts
    /// before the rest of the settings are needed.
    pub fn timeout_ms(src: &impl Source) -> Result<u64, GatewayError> {
        whole_number(
            src,
            UPSTREAM_TIMEOUT_MS,
            DEFAULT_UPSTREAM_TIMEOUT_MS,
            UPSTREAM_TIMEOUT_RANGE_MS,
            "a whole number of milliseconds, 100 to 60000",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::source::tests::vars;

    #[test]
    fn upstream_defaults_and_missing_key() {
        let s = UpstreamSettings::load(&vars(&[("UPSCOPE_API_KEY", "k")])).unwrap();
        assert_eq!(s.base.as_str(), "https://api.upscope.io/v1.3");
        let err = UpstreamSettings::load(&vars(&[("UPSCOPE_API_KEY", "  ")])).err().unwrap();
        assert_eq!(err.status(), 500);
        assert!(err.message().contains("UPSCOPE_API_KEY"));
        let err = UpstreamSettings::load(&vars(&[("UPSCOPE_API_KEY", "k"), ("UPSCOPE_API_BASE", "api.upscope.io")]))
            .err()
            .unwrap();
        assert!(err.message().contains("UPSCOPE_API_BASE"));
    }

    #[test]
    fn upstream_base_must_be_https_except_on_loopback() {
        for base in ["http://api.upscope.io/v1.3", "http://127.0.0.1.nip.io/v1.3", "http://10.0.0.1/v1.3"] {
            let err =
                UpstreamSettings::load(&vars(&[("UPSCOPE_API_KEY", "k"), ("UPSCOPE_API_BASE", base)])).err().unwrap();
            assert!(err.message().contains("UPSCOPE_API_BASE must start with https://"), "{base}");
        }
        for base in [
            "https://api.upscope.io/v1.3",
            "http://127.0.0.1:8788/v1.3",
            "http://127.9.9.9/",
            "http://[::1]:1/",
            "http://LOCALHOST:8788/v1.3",
        ] {
            assert!(
                UpstreamSettings::load(&vars(&[("UPSCOPE_API_KEY", "k"), ("UPSCOPE_API_BASE", base)])).is_ok(),
                "{base}"
            );
        }
    }

    #[test]
    fn upstream_timeout() {
        assert_eq!(UpstreamSettings::timeout_ms(&vars(&[])).unwrap(), 5000);
        assert_eq!(UpstreamSettings::timeout_ms(&vars(&[("UPSTREAM_TIMEOUT_MS", " 250 ")])).unwrap(), 250);
        for bad in ["99", "60001", "5s", "-1"] {
            let err = UpstreamSettings::timeout_ms(&vars(&[("UPSTREAM_TIMEOUT_MS", bad)])).unwrap_err();
            assert!(err.message().contains("UPSTREAM_TIMEOUT_MS"), "{bad}");
        }
    }
}
