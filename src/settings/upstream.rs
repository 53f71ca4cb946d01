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
/// work may take. The Upscope client reads it whole (`upscope::Client::new`),
/// so a setting that changes what Upscope is asked is added here and read
/// there, and nothing in between changes.
pub struct UpstreamSettings {
    pub base: Url,
    pub api_key: ApiKey,
}

/// The REST API key. Neither `Debug` nor `Display` (and so not in
/// `UpstreamSettings`' either): it cannot be formatted into a log line, an
/// error page or a panic message by accident. The Upscope client reads it
/// (`expose`) for the one header that carries it.
pub struct ApiKey(String);

impl ApiKey {
    pub fn expose(&self) -> &str {
        &self.0
    }
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
        Ok(Self { base, api_key: ApiKey(api_key) })
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

    /// Whether `T` can be formatted: the inherent constants apply when the
    /// bound holds, the trait's `false` otherwise (the `impls` crate's trick).
    struct Probe<T>(std::marker::PhantomData<T>);
    trait Unformattable {
        const DEBUG: bool = false;
        const DISPLAY: bool = false;
    }
    impl<T> Unformattable for Probe<T> {}
    #[allow(dead_code)]
    impl<T: std::fmt::Debug> Probe<T> {
        const DEBUG: bool = true;
    }
    #[allow(dead_code)]
    impl<T: std::fmt::Display> Probe<T> {
        const DISPLAY: bool = true;
    }

    #[test]
    fn the_key_cannot_be_printed() {
        // Checked as the tests compile: deriving Debug on either fails the build.
        const { assert!(!Probe::<ApiKey>::DEBUG && !Probe::<ApiKey>::DISPLAY, "ApiKey must not be formattable") };
        const { assert!(!Probe::<UpstreamSettings>::DEBUG, "UpstreamSettings holds the key: no Debug") };
        // The probe sees what it looks for.
        const { assert!(Probe::<url::Url>::DEBUG && Probe::<url::Url>::DISPLAY) };
        let loaded = UpstreamSettings::load(&vars(&[("UPSCOPE_API_KEY", "k-123")])).unwrap();
        assert_eq!(loaded.api_key.expose(), "k-123");
    }

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
