//! How to reach Upscope: which edition (Upscope's cloud, or a company's own
//! on-premise server), the API base and key, and how long one request's
//! upstream work may take.

use std::ops::RangeInclusive;

use url::Url;

use super::names::{UPSCOPE_API_BASE, UPSCOPE_API_KEY, UPSCOPE_EDITION, UPSTREAM_TIMEOUT_MS};
use super::source::{misconfigured, one_of, secret, web_url, whole_number, Source};
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
    pub edition: Edition,
    /// The cloud's API root (e.g. `https://api.upscope.io/v1.3`), or an
    /// on-premise server's `BASE_ENDPOINT` (its API is under `<base>/api`).
    pub base: Url,
    pub api_key: ApiKey,
}

/// Which Upscope the gateway speaks to (`UPSCOPE_EDITION`): the two speak
/// the same API in different places and with the key in different headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Edition {
    #[default]
    Cloud,
    OnPremise,
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
        let edition = Self::edition(src)?;
        // Not `expect`: that would link ParseError's Debug for a constant that parses.
        let default = || match Url::parse(DEFAULT_API_BASE) {
            Ok(url) => url,
            Err(_) => unreachable!("the default API base is a valid URL"),
        };
        let base = match (web_url(src, UPSCOPE_API_BASE)?, edition) {
            (Some(base), _) => base,
            (None, Edition::Cloud) => default(),
            // No default: an on-premise key must never be sent to the cloud.
            (None, Edition::OnPremise) => {
                return Err(misconfigured(
                    "UPSCOPE_EDITION=on_premise needs UPSCOPE_API_BASE: your Upscope server's BASE_ENDPOINT \
(e.g. https://support.example.com/cobrowsing; the API is under its /api)",
                ))
            }
        };
        if base.scheme() != "https" && !is_loopback(&base) {
            return Err(misconfigured(
                "UPSCOPE_API_BASE must start with https:// (over http:// the API key would travel in clear text); \
only loopback hosts (127.0.0.1, ::1, localhost) may use http://, for local work",
            ));
        }
        if edition == Edition::OnPremise && is_upscope_cloud(&base) {
            return Err(misconfigured(
                "UPSCOPE_API_BASE is Upscope's cloud (upscope.io) but UPSCOPE_EDITION=on_premise: set it to your \
Upscope server's BASE_ENDPOINT, so that the on-premise key is never sent to the cloud",
            ));
        }
        let api_key = secret(src, UPSCOPE_API_KEY).ok_or_else(|| {
            misconfigured("the secret UPSCOPE_API_KEY is not set (wrangler secret put UPSCOPE_API_KEY)")
        })?;
        Ok(Self { edition, base, api_key: ApiKey(api_key) })
    }

    /// `UPSCOPE_EDITION` alone: `cloud` (the default) or `on_premise`.
    pub fn edition(src: &impl Source) -> Result<Edition, GatewayError> {
        let editions = [("cloud", Edition::Cloud), ("on_premise", Edition::OnPremise)];
        Ok(one_of(src, UPSCOPE_EDITION, &editions)?.unwrap_or_default())
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

/// Upscope's own hosts (`upscope.io` and its subdomains), which no
/// on-premise server lives under.
fn is_upscope_cloud(base: &Url) -> bool {
    base.host_str().is_some_and(|host| {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        host == "upscope.io" || host.ends_with(".upscope.io")
    })
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
    fn the_edition_is_cloud_or_on_premise_and_nothing_else() {
        let load = |pairs: &[(&'static str, &'static str)]| UpstreamSettings::load(&vars(pairs));
        let cloud = load(&[("UPSCOPE_API_KEY", "k")]).unwrap();
        assert_eq!((cloud.edition, cloud.base.as_str()), (Edition::Cloud, "https://api.upscope.io/v1.3"));
        let said = load(&[("UPSCOPE_API_KEY", "k"), ("UPSCOPE_EDITION", " cloud ")]).unwrap();
        assert_eq!(said.edition, Edition::Cloud);
        let on_premise = load(&[
            ("UPSCOPE_API_KEY", "k"),
            ("UPSCOPE_EDITION", "on_premise"),
            ("UPSCOPE_API_BASE", "https://support.acmetech.com/cobrowsing"),
        ])
        .unwrap();
        assert_eq!(on_premise.edition, Edition::OnPremise);
        assert_eq!(on_premise.base.as_str(), "https://support.acmetech.com/cobrowsing");
        for other in ["on-premise", "onpremise", "On_Premise", "self-hosted", "v1.3", "sk_live_pasted_here"] {
            let err = load(&[("UPSCOPE_API_KEY", "k"), ("UPSCOPE_EDITION", other)]).err().unwrap();
            assert_eq!(err.status(), 500, "{other}");
            assert_eq!(err.message(), "gateway misconfigured: UPSCOPE_EDITION must be cloud or on_premise", "{other}");
        }
    }

    #[test]
    fn on_premise_needs_its_own_server_never_the_cloud() {
        let on_premise = |base: Option<&'static str>| {
            let mut pairs = vec![("UPSCOPE_API_KEY", "k"), ("UPSCOPE_EDITION", "on_premise")];
            pairs.extend(base.map(|b| ("UPSCOPE_API_BASE", b)));
            UpstreamSettings::load(&vars(&pairs))
        };
        let missing = on_premise(None).err().unwrap();
        assert_eq!(missing.status(), 500);
        assert!(
            missing.message().contains("UPSCOPE_EDITION=on_premise needs UPSCOPE_API_BASE"),
            "{}",
            missing.message()
        );
        for cloud in [
            "https://api.upscope.io/v1.3",
            "https://API.Upscope.io/",
            "https://upscope.io/api",
            "https://eu.upscope.io.",
        ] {
            let err = on_premise(Some(cloud)).err().unwrap();
            assert!(err.message().contains("is Upscope's cloud (upscope.io)"), "{cloud}: {}", err.message());
        }
        // Everything else holds as for the cloud: https, or http on loopback only.
        let plain = on_premise(Some("http://support.acmetech.com/cobrowsing")).err().unwrap();
        assert!(plain.message().contains("UPSCOPE_API_BASE must start with https://"));
        for fine in ["https://notupscope.io/x", "https://upscope.io.acmetech.com/x", "http://127.0.0.1:8788/cobrowsing"]
        {
            assert!(on_premise(Some(fine)).is_ok(), "{fine}");
        }
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
