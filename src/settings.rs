//! Every variable, secret and binding name the gateway reads, parsed and
//! validated in one place. Each route loads only what it needs, so a gap in
//! `/visitor`'s settings never breaks `/agent`. Errors name the setting and
//! never echo a secret's value, nor a URL's user name, password or query
//! (`core::redact`): they reach the public `/readyz` and error pages.

use std::ops::RangeInclusive;

use url::Url;

use crate::core::framing::FrameAncestors;
use crate::core::launch::LaunchOrigins;
use crate::core::page_url::{check_web_url, is_loopback, UrlPrefix};
use crate::core::permissions::{self, Grant};
use crate::core::query::VisitorIdKind;
use crate::core::redact;
use crate::core::service_tokens::ServiceTokens;
use crate::core::text::list_items;
use crate::error::GatewayError;
use crate::upscope::models::Branding;

/// The name of every variable and secret the gateway reads, written once.
pub mod names {
    pub const UPSCOPE_API_KEY: &str = "UPSCOPE_API_KEY";
    pub const UPSCOPE_API_BASE: &str = "UPSCOPE_API_BASE";
    pub const UPSTREAM_TIMEOUT_MS: &str = "UPSTREAM_TIMEOUT_MS";
    pub const PROXY_INITIAL_URL: &str = "PROXY_INITIAL_URL";
    pub const PROXY_ALLOWED_URLS: &str = "PROXY_ALLOWED_URLS";
    pub const PROXY_ALLOWED_DOMAINS: &str = "PROXY_ALLOWED_DOMAINS";
    pub const VISITOR_ID_KIND: &str = "VISITOR_ID_KIND";
    pub const WATCH_BRANDING_NAKED: &str = "WATCH_BRANDING_NAKED";
    pub const WATCH_BRANDING_NO_BOTTOM_BAR: &str = "WATCH_BRANDING_NO_BOTTOM_BAR";
    pub const WATCH_RETRY_URL: &str = "WATCH_RETRY_URL";
    pub const WATCH_ON_END_URL: &str = "WATCH_ON_END_URL";
    pub const WATCH_PERMISSIONS: &str = "WATCH_PERMISSIONS";
    pub const SHORT_ID_CACHE_TTL: &str = "SHORT_ID_CACHE_TTL";
    pub const AGENT_AUTH: &str = "AGENT_AUTH";
    pub const ACCESS_TEAM_DOMAIN: &str = "ACCESS_TEAM_DOMAIN";
    pub const ACCESS_AUD: &str = "ACCESS_AUD";
    pub const AGENT_LAUNCH_ORIGINS: &str = "AGENT_LAUNCH_ORIGINS";
    pub const ACCESS_SERVICE_TOKENS: &str = "ACCESS_SERVICE_TOKENS";
    pub const ALLOW_UNAUTHENTICATED_AGENTS: &str = "ALLOW_UNAUTHENTICATED_AGENTS";
    pub const AGENT_LINK_SECRET: &str = "AGENT_LINK_SECRET";
    pub const AGENT_LINK_SECRET_PREVIOUS: &str = "AGENT_LINK_SECRET_PREVIOUS";
    pub const AGENT_LINK_MAX_TTL: &str = "AGENT_LINK_MAX_TTL";
    pub const VISITOR_LINK_SECRET: &str = "VISITOR_LINK_SECRET";
    pub const VISITOR_LINK_SECRET_PREVIOUS: &str = "VISITOR_LINK_SECRET_PREVIOUS";
    pub const VISITOR_LINK_MAX_TTL: &str = "VISITOR_LINK_MAX_TTL";
    pub const VIEWER_LINK_SECRET: &str = "VIEWER_LINK_SECRET";
    pub const VIEWER_LINK_SECRET_PREVIOUS: &str = "VIEWER_LINK_SECRET_PREVIOUS";
    pub const VIEWER_LINK_MAX_TTL: &str = "VIEWER_LINK_MAX_TTL";
    pub const VIEWER_PERMISSIONS: &str = "VIEWER_PERMISSIONS";
    pub const AUDIT_ID_SECRET: &str = "AUDIT_ID_SECRET";
    pub const EMBED_ORIGINS: &str = "EMBED_ORIGINS";
    pub const AGENT_EMBED_ORIGINS: &str = "AGENT_EMBED_ORIGINS";
    pub const VIEWER_EMBED_ORIGINS: &str = "VIEWER_EMBED_ORIGINS";
}

use names::*;

pub const DEFAULT_API_BASE: &str = "https://api.upscope.io/v1.3";
pub const DEFAULT_CACHE_TTL_SECONDS: u64 = 3600;
/// Workers KV refuses shorter `expirationTtl`s.
pub const MIN_CACHE_TTL_SECONDS: u64 = 60;
/// A day: entries are only a head start (the search always decides), so a
/// longer life would buy nothing but stale keys.
pub const MAX_CACHE_TTL_SECONDS: u64 = 86_400;
/// The KV namespace binding for uniqueId→shortId; optional.
pub const SHORT_ID_CACHE_BINDING: &str = "SHORT_ID_CACHE";
pub const DEFAULT_UPSTREAM_TIMEOUT_MS: u64 = 5000;
const UPSTREAM_TIMEOUT_RANGE_MS: RangeInclusive<u64> = 100..=60_000;
/// Optional Workers rate-limiting bindings.
pub const VISITOR_RATE_LIMITER_BINDING: &str = "VISITOR_RATE_LIMITER";
pub const AGENT_RATE_LIMITER_BINDING: &str = "AGENT_RATE_LIMITER";
/// The Workers Analytics Engine dataset each request writes one data point
/// to (`observe::data_point`); unbound, no metrics.
pub const METRICS_BINDING: &str = "METRICS";
pub const DEFAULT_LINK_MAX_TTL_SECONDS: u64 = 300;
const MAX_LINK_MAX_TTL_SECONDS: u64 = 7 * 24 * 3600;
/// HMAC keys shorter than this are too easy to guess offline from one link.
pub const MIN_LINK_SECRET_CHARS: usize = 32;
/// Every secret that signs or verifies links, with the route it serves. A
/// secret of one route equal to one of another's would let a link minted for
/// one open the other (an agent link as a signed visitor ID).
const LINK_SECRETS: [(&str, &str); 6] = [
    (AGENT_LINK_SECRET, "/agent"),
    (AGENT_LINK_SECRET_PREVIOUS, "/agent"),
    (VISITOR_LINK_SECRET, "/visitor"),
    (VISITOR_LINK_SECRET_PREVIOUS, "/visitor"),
    (VIEWER_LINK_SECRET, "/view"),
    (VIEWER_LINK_SECRET_PREVIOUS, "/view"),
];
/// The partner of a link secret that still verifies during a rotation.
const PREVIOUS_SUFFIX: &str = "_PREVIOUS";

/// Where settings come from: Worker vars and secrets in production
/// (`edge::env`), a map in tests, a JSON object in the pre-deploy check.
pub trait Source {
    /// The value, or `None` when unset or blank.
    fn get(&self, name: &str) -> Option<String>;
}

/// A secret as stored, without the whitespace around it: `echo … | wrangler
/// secret put` stores a trailing newline that would otherwise silently
/// become part of the key.
fn secret(src: &impl Source, name: &str) -> Option<String> {
    src.get(name).map(|value| value.trim().to_owned())
}

fn misconfigured(message: impl Into<String>) -> GatewayError {
    GatewayError::Misconfigured(message.into())
}

/// A list setting: entries separated by commas and/or whitespace.
fn list(src: &impl Source, name: &str) -> Vec<String> {
    src.get(name).map(|v| list_items(&v).map(str::to_owned).collect()).unwrap_or_default()
}

/// A URL setting; an error says what is wrong and never quotes the value.
fn web_url(src: &impl Source, name: &str) -> Result<Option<Url>, GatewayError> {
    src.get(name).map(|v| check_web_url(v.trim()).map_err(|why| misconfigured(format!("{name} {why}")))).transpose()
}

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

/// A whole-number setting: `default` when unset, otherwise a number within
/// `range`; anything else is refused with "`name` must be `expected`".
fn whole_number(
    src: &impl Source,
    name: &str,
    default: u64,
    range: RangeInclusive<u64>,
    expected: &str,
) -> Result<u64, GatewayError> {
    match src.get(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| misconfigured(format!("{name} must be {expected}"))),
    }
}

/// A `true`/`false` setting, or `None` when unset; anything else is refused.
fn true_or_false(src: &impl Source, name: &str) -> Result<Option<bool>, GatewayError> {
    match src.get(name).as_deref().map(str::trim) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(misconfigured(format!("{name} must be 'true' or 'false'"))),
    }
}

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

/// What every watcher's session is asked with, on `/agent` and `/view`:
/// how `visitorid=` reads, Upscope's branding, and the cache's lifetime.
#[derive(Debug)]
pub struct WatchSettings {
    pub visitor_id_kind: VisitorIdKind,
    pub branding: Branding,
    pub cache_ttl_seconds: u64,
}

impl WatchSettings {
    pub fn load(src: &impl Source) -> Result<Self, GatewayError> {
        let visitor_id_kind = match src.get(VISITOR_ID_KIND).as_deref().map(str::trim) {
            None | Some("short") => VisitorIdKind::Short,
            Some("unique") => VisitorIdKind::Unique,
            Some(_) => return Err(misconfigured("VISITOR_ID_KIND must be 'short' or 'unique'")),
        };
        // Upscope's page_only shows the agent no controls and expects its link
        // framed in a page that drives the session; the gateway redirects to
        // the link top-level, so the agent could never end the session.
        if src.get(WATCH_BRANDING_NAKED).is_some_and(|v| v.trim() == "page_only") {
            return Err(misconfigured(
                "WATCH_BRANDING_NAKED=page_only is not supported: Upscope then shows the agent no controls and \
expects the session framed in a page of yours, but the gateway sends the agent to it directly, leaving them no way to \
end the session. Use 'true' to hide Upscope's logo and keep the agent's controls",
            ));
        }
        let branding = Branding {
            naked: true_or_false(src, WATCH_BRANDING_NAKED)?,
            no_bottom_bar: true_or_false(src, WATCH_BRANDING_NO_BOTTOM_BAR)?,
            retry_url: web_url(src, WATCH_RETRY_URL)?.map(String::from),
            on_end_url: web_url(src, WATCH_ON_END_URL)?.map(String::from),
        };
        let cache_ttl_seconds = whole_number(
            src,
            SHORT_ID_CACHE_TTL,
            DEFAULT_CACHE_TTL_SECONDS,
            MIN_CACHE_TTL_SECONDS..=MAX_CACHE_TTL_SECONDS,
            "a whole number of seconds, 60 to 86400",
        )?;
        Ok(Self { visitor_id_kind, branding, cache_ttl_seconds })
    }
}

/// What `/agent` asks Upscope for: the shared watch settings and the staff's
/// permissions (`WATCH_PERMISSIONS`).
#[derive(Debug)]
pub struct AgentSettings {
    pub watch: WatchSettings,
    pub permissions: Grant,
}

impl AgentSettings {
    pub fn load(src: &impl Source) -> Result<Self, GatewayError> {
        Ok(Self { watch: WatchSettings::load(src)?, permissions: permissions(src)? })
    }
}

/// `WATCH_PERMISSIONS`: when set, exactly the listed `allow_*` permissions are
/// granted and every other one is denied ("none" denies all); unset leaves
/// Upscope's defaults.
fn permissions(src: &impl Source) -> Result<Grant, GatewayError> {
    permission_setting(src, WATCH_PERMISSIONS)
        .map(|granted| granted.map(|g| permissions::exactly(&g)).unwrap_or_default())
}

/// A permission list setting, or `None` when unset.
fn permission_setting(src: &impl Source, name: &str) -> Result<Option<Vec<&'static str>>, GatewayError> {
    src.get(name)
        .map(|text| permissions::parse_list(&text).map_err(|why| misconfigured(format!("{name}: {why}"))))
        .transpose()
}

/// What `/view` grants people outside the company: `VIEWER_PERMISSIONS`,
/// default `none` (view only), the secret its links are signed with, and
/// the one its audit records name viewers with.
pub struct ViewerSettings {
    pub watch: WatchSettings,
    pub permissions: Grant,
    pub link_key: LinkKey,
    /// `AUDIT_ID_SECRET`: keys viewers' audit pseudonyms. It signs nothing,
    /// so it is never rotated, and a viewer keeps one pseudonym for good
    /// while `VIEWER_LINK_SECRET` rotates.
    pub audit_key: String,
}

impl ViewerSettings {
    pub fn load(src: &impl Source) -> Result<Self, GatewayError> {
        let granted = permission_setting(src, VIEWER_PERMISSIONS)?.unwrap_or_default();
        let link_key = link_key(src, VIEWER_LINK_SECRET, VIEWER_LINK_MAX_TTL)?.ok_or_else(|| {
            misconfigured("/view needs the secret VIEWER_LINK_SECRET (openssl rand -base64 32; wrangler secret put VIEWER_LINK_SECRET)")
        })?;
        // Viewers are sent to watch a person named by their own ID: unsigned
        // visitor IDs would let anyone open /visitor as that person.
        if visitor_link_key(src)?.is_none() {
            return Err(misconfigured(
                "/view needs VISITOR_LINK_SECRET as well: without signed visitor IDs anyone could open /visitor \
as the person viewers are sent to watch",
            ));
        }
        let audit_key = secret(src, AUDIT_ID_SECRET).ok_or_else(|| {
            misconfigured(
                "/view needs the secret AUDIT_ID_SECRET, which names viewers in the audit log and is never rotated \
(openssl rand -base64 32; to keep the pseudonyms already logged, give it VIEWER_LINK_SECRET's current value)",
            )
        })?;
        if audit_key.chars().count() < MIN_LINK_SECRET_CHARS {
            return Err(misconfigured(format!(
                "AUDIT_ID_SECRET is shorter than {MIN_LINK_SECRET_CHARS} characters (generate one with: openssl rand -base64 32)"
            )));
        }
        Ok(Self { watch: WatchSettings::load(src)?, permissions: permissions::exactly(&granted), link_key, audit_key })
    }
}

/// How `/agent` learns who the agent is (setting `AGENT_AUTH`, required).
pub enum AgentAuth {
    /// Behind Cloudflare Access: the `Cf-Access-Jwt-Assertion` token names the agent.
    Access(AccessSettings),
    /// Links minted and signed by the company's helpdesk or CRM backend.
    SignedLink(LinkKey),
    /// `agent_id`/`agent_name` taken on trust; only with `ALLOW_UNAUTHENTICATED_AGENTS=true`.
    Unauthenticated,
}

pub struct AccessSettings {
    /// e.g. `example.cloudflareaccess.com`; keys and `iss` derive from it.
    pub team_domain: String,
    /// The Access application's audience tag.
    pub audience: String,
    /// Helpdesk origins whose links start a session without a confirmation click.
    pub launch_origins: LaunchOrigins,
    /// Service tokens (by Client ID) that may act as agents, and the names
    /// they act under; none unless listed.
    pub service_tokens: ServiceTokens,
}

impl AccessSettings {
    pub fn load(src: &impl Source) -> Result<Self, GatewayError> {
        let team_domain = src.get(ACCESS_TEAM_DOMAIN).ok_or_else(|| {
            misconfigured("AGENT_AUTH=access needs ACCESS_TEAM_DOMAIN (your-team.cloudflareaccess.com)")
        })?;
        let team_domain = team_domain_host(&team_domain).ok_or_else(|| {
            misconfigured("ACCESS_TEAM_DOMAIN must be a host name like your-team.cloudflareaccess.com")
        })?;
        let audience = src.get(ACCESS_AUD).ok_or_else(|| {
            misconfigured("AGENT_AUTH=access needs ACCESS_AUD (the Access application's audience tag)")
        })?;
        let launch_origins = LaunchOrigins::parse(&list(src, AGENT_LAUNCH_ORIGINS))
            .map_err(|why| misconfigured(format!("{AGENT_LAUNCH_ORIGINS}: {why}")))?;
        let service_tokens = src
            .get(ACCESS_SERVICE_TOKENS)
            .map(|text| {
                ServiceTokens::parse(&text).map_err(|why| misconfigured(format!("{ACCESS_SERVICE_TOKENS}: {why}")))
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Self { team_domain, audience: audience.trim().to_owned(), launch_origins, service_tokens })
    }
}

/// A secret that signs links, the one it replaces (still accepted during a
/// rotation), and how far ahead a link's `exp` may lie.
/// Deliberately not `Debug`: it holds the secrets.
pub struct LinkKey {
    pub secret: String,
    pub previous: Option<String>,
    pub max_ttl_seconds: u64,
}

impl AgentAuth {
    pub fn load(src: &impl Source) -> Result<Self, GatewayError> {
        match src.get(AGENT_AUTH).as_deref().map(str::trim) {
            None => Err(misconfigured("AGENT_AUTH is not set (access, signed-link, or none for local testing)")),
            Some("access") => Ok(Self::Access(AccessSettings::load(src)?)),
            Some("signed-link") => Ok(Self::SignedLink(
                link_key(src, AGENT_LINK_SECRET, AGENT_LINK_MAX_TTL)?
                    .ok_or_else(|| misconfigured("AGENT_AUTH=signed-link needs the secret AGENT_LINK_SECRET"))?,
            )),
            Some("none") => match src.get(ALLOW_UNAUTHENTICATED_AGENTS).as_deref().map(str::trim) {
                Some("true") => Ok(Self::Unauthenticated),
                _ => Err(misconfigured(
                    "AGENT_AUTH=none lets anyone watch any visitor; it also needs ALLOW_UNAUTHENTICATED_AGENTS=true \
(local testing only)",
                )),
            },
            Some(_) => Err(misconfigured("AGENT_AUTH must be access, signed-link or none")),
        }
    }
}

/// `VISITOR_LINK_SECRET`: when set, `/visitor?uniqueid=` links must be signed.
fn visitor_link_key(src: &impl Source) -> Result<Option<LinkKey>, GatewayError> {
    link_key(src, VISITOR_LINK_SECRET, VISITOR_LINK_MAX_TTL)
}

/// The secret `secret_name` and its `_PREVIOUS` partner, checked: long
/// enough, and unlike every secret of another route.
fn link_key(src: &impl Source, secret_name: &str, ttl_name: &str) -> Result<Option<LinkKey>, GatewayError> {
    let previous_name = format!("{secret_name}{PREVIOUS_SUFFIX}");
    let (current, previous) = (secret(src, secret_name), secret(src, &previous_name));
    let Some(current) = current else {
        return match previous {
            // Without the current secret, signing would silently be off.
            Some(_) => Err(misconfigured(format!(
                "{previous_name} is set but {secret_name} is not: put the new secret in {secret_name}, or delete {previous_name}"
            ))),
            None => Ok(None),
        };
    };
    for (name, value) in [(secret_name, Some(&current)), (previous_name.as_str(), previous.as_ref())] {
        if value.is_some_and(|v| v.chars().count() < MIN_LINK_SECRET_CHARS) {
            return Err(misconfigured(format!(
                "{name} is shorter than {MIN_LINK_SECRET_CHARS} characters (generate one with: openssl rand -base64 32)"
            )));
        }
    }
    link_secrets_are_distinct(src)?;
    let max_ttl_seconds = whole_number(
        src,
        ttl_name,
        DEFAULT_LINK_MAX_TTL_SECONDS,
        1..=MAX_LINK_MAX_TTL_SECONDS,
        "a whole number of seconds, 1 to 604800",
    )?;
    Ok(Some(LinkKey { secret: current, previous, max_ttl_seconds }))
}

/// No secret of one route equals a secret of another; the error names both.
fn link_secrets_are_distinct(src: &impl Source) -> Result<(), GatewayError> {
    let set: Vec<(&str, &str, String)> =
        LINK_SECRETS.iter().filter_map(|&(name, route)| Some((name, route, secret(src, name)?))).collect();
    for (i, (first, first_route, value)) in set.iter().enumerate() {
        if let Some((second, ..)) = set[i + 1..].iter().find(|(_, route, other)| route != first_route && other == value)
        {
            return Err(misconfigured(format!(
                "{first} and {second} are the same secret; give each its own (openssl rand -base64 32), \
or a link signed for one route opens the other"
            )));
        }
    }
    Ok(())
}

/// `your-team.cloudflareaccess.com`, also accepted as `https://…/`.
fn team_domain_host(value: &str) -> Option<String> {
    let host = value.trim();
    let host = host.strip_prefix("https://").unwrap_or(host);
    let host = host.strip_suffix('/').unwrap_or(host).to_ascii_lowercase();
    let ok = host.contains('.')
        && host.split('.').all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    ok.then_some(host)
}

/// Who may frame the gateway's own pages for a route: `EMBED_ORIGINS` for
/// `/visitor`, `AGENT_EMBED_ORIGINS` for `/agent`; unset means nobody.
pub fn frame_ancestors(src: &impl Source, pages: FramedPages) -> Result<FrameAncestors, GatewayError> {
    let name = pages.setting();
    FrameAncestors::parse(&list(src, name)).map_err(|why| misconfigured(format!("{name}: {why}")))
}

/// Whose pages a framing rule is for: each route that renders pages has its
/// own setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FramedPages {
    Visitor,
    Agent,
    View,
}

impl FramedPages {
    pub fn setting(self) -> &'static str {
        match self {
            Self::Visitor => EMBED_ORIGINS,
            Self::Agent => AGENT_EMBED_ORIGINS,
            Self::View => VIEWER_EMBED_ORIGINS,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;

    use super::*;

    impl Source for HashMap<&str, &str> {
        fn get(&self, name: &str) -> Option<String> {
            self.get(name).map(|v| v.to_string()).filter(|t| !t.trim().is_empty())
        }
    }

    fn src(pairs: &[(&'static str, &'static str)]) -> HashMap<&'static str, &'static str> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn upstream_defaults_and_missing_key() {
        let s = UpstreamSettings::load(&src(&[("UPSCOPE_API_KEY", "k")])).unwrap();
        assert_eq!(s.base.as_str(), "https://api.upscope.io/v1.3");
        let err = UpstreamSettings::load(&src(&[("UPSCOPE_API_KEY", "  ")])).err().unwrap();
        assert_eq!(err.status(), 500);
        assert!(err.message().contains("UPSCOPE_API_KEY"));
        let err = UpstreamSettings::load(&src(&[("UPSCOPE_API_KEY", "k"), ("UPSCOPE_API_BASE", "api.upscope.io")]))
            .err()
            .unwrap();
        assert!(err.message().contains("UPSCOPE_API_BASE"));
    }

    #[test]
    fn upstream_base_must_be_https_except_on_loopback() {
        for base in ["http://api.upscope.io/v1.3", "http://127.0.0.1.nip.io/v1.3", "http://10.0.0.1/v1.3"] {
            let err =
                UpstreamSettings::load(&src(&[("UPSCOPE_API_KEY", "k"), ("UPSCOPE_API_BASE", base)])).err().unwrap();
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
                UpstreamSettings::load(&src(&[("UPSCOPE_API_KEY", "k"), ("UPSCOPE_API_BASE", base)])).is_ok(),
                "{base}"
            );
        }
    }

    #[test]
    fn secrets_are_trimmed_alike() {
        let s = UpstreamSettings::load(&src(&[("UPSCOPE_API_KEY", " key\n")])).unwrap();
        assert_eq!(s.api_key, "key");
        let secret = "0123456789abcdef0123456789abcdef";
        let key =
            visitor_link_key(&src(&[("VISITOR_LINK_SECRET", "0123456789abcdef0123456789abcdef\n")])).unwrap().unwrap();
        assert_eq!(key.secret, secret);
        let Ok(AgentAuth::SignedLink(key)) = AgentAuth::load(&src(&[
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
    fn equal_link_secrets_are_refused_naming_both() {
        let secret = "0123456789abcdef0123456789abcdef";
        let both =
            src(&[("AGENT_AUTH", "signed-link"), ("AGENT_LINK_SECRET", secret), ("VISITOR_LINK_SECRET", secret)]);
        let from_agent = AgentAuth::load(&both).err().unwrap();
        let from_visitor = visitor_link_key(&both).err().unwrap();
        for err in [from_agent, from_visitor] {
            assert_eq!(err.status(), 500);
            assert!(
                err.message().contains("AGENT_LINK_SECRET and VISITOR_LINK_SECRET are the same secret"),
                "{}",
                err.message()
            );
            assert!(!err.message().contains(secret), "never echo a secret");
        }
        // Equal once trimmed is equal.
        let padded = format!("{secret}\n");
        let trimmed_twins = HashMap::from([("VISITOR_LINK_SECRET", padded.as_str()), ("AGENT_LINK_SECRET", secret)]);
        assert!(visitor_link_key(&trimmed_twins).is_err());
        let distinct =
            src(&[("AGENT_LINK_SECRET", secret), ("VISITOR_LINK_SECRET", "fedcba9876543210fedcba9876543210")]);
        assert!(visitor_link_key(&distinct).unwrap().is_some());
    }

    #[test]
    fn previous_secrets_verify_during_a_rotation_and_are_checked_alike() {
        let (new, old) = ("new-secret-0123456789abcdef01234567", "old-secret-0123456789abcdef01234567");
        let key = visitor_link_key(&src(&[("VISITOR_LINK_SECRET", new), ("VISITOR_LINK_SECRET_PREVIOUS", old)]))
            .unwrap()
            .unwrap();
        assert_eq!((key.secret.as_str(), key.previous.as_deref()), (new, Some(old)));
        let cases: [(&[(&str, &str)], &str); 4] = [
            (
                &[("VISITOR_LINK_SECRET_PREVIOUS", old)],
                "VISITOR_LINK_SECRET_PREVIOUS is set but VISITOR_LINK_SECRET is not",
            ),
            (
                &[("VISITOR_LINK_SECRET", new), ("VISITOR_LINK_SECRET_PREVIOUS", "short")],
                "VISITOR_LINK_SECRET_PREVIOUS is shorter",
            ),
            (
                &[("VISITOR_LINK_SECRET", new), ("AGENT_LINK_SECRET_PREVIOUS", new), ("AGENT_LINK_SECRET", old)],
                "AGENT_LINK_SECRET_PREVIOUS and VISITOR_LINK_SECRET are the same secret",
            ),
            (
                &[("VISITOR_LINK_SECRET", new), ("VISITOR_LINK_SECRET_PREVIOUS", old), ("AGENT_LINK_SECRET", old)],
                "AGENT_LINK_SECRET and VISITOR_LINK_SECRET_PREVIOUS are the same secret",
            ),
        ];
        for (pairs, expected) in cases {
            let err = visitor_link_key(&pairs.iter().copied().collect::<HashMap<_, _>>()).err().unwrap();
            assert!(err.message().contains(expected), "{pairs:?}: {}", err.message());
        }
        // Within one route, the previous secret may equal the current one (a no-op rotation).
        assert!(visitor_link_key(&src(&[("VISITOR_LINK_SECRET", new), ("VISITOR_LINK_SECRET_PREVIOUS", new)])).is_ok());
    }

    #[test]
    fn proxy_settings_parse_lists() {
        let s = VisitorSettings::load(&src(&[
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

    #[test]
    fn url_settings_say_what_is_wrong_without_quoting_credentials_or_query() {
        const LEAKY: &str = "https://user:hunter2@shop.example.com/a?token=s3cret";
        let initial = ("PROXY_INITIAL_URL", "https://shop.example.com/");
        let cases: [(Result<(), GatewayError>, &str); 7] = [
            (
                UpstreamSettings::load(&src(&[("UPSCOPE_API_KEY", "k"), ("UPSCOPE_API_BASE", LEAKY)])).map(drop),
                "UPSCOPE_API_BASE must not carry a user name or password",
            ),
            (
                VisitorSettings::load(&src(&[("PROXY_INITIAL_URL", LEAKY)])).map(drop),
                "PROXY_INITIAL_URL must not carry a user name or password",
            ),
            (
                VisitorSettings::load(&src(&[initial, ("PROXY_ALLOWED_URLS", LEAKY)])).map(drop),
                "PROXY_ALLOWED_URLS: entry 1 (https://shop.example.com/a) must not carry a user name or password",
            ),
            (
                VisitorSettings::load(&src(&[
                    initial,
                    ("PROXY_ALLOWED_URLS", "https://shop.example.com/help https://shop.example.com/a?token=s3cret#x"),
                ]))
                .map(drop),
                "PROXY_ALLOWED_URLS: entry 2 (https://shop.example.com/a) must not have a query or fragment",
            ),
            (
                VisitorSettings::load(&src(&[initial, ("PROXY_ALLOWED_DOMAINS", LEAKY)])).map(drop),
                "PROXY_ALLOWED_DOMAINS lists domains (shop.example.com), not URLs: entry 1 (https://shop.example.com/a) is one",
            ),
            (
                AgentSettings::load(&src(&[("WATCH_RETRY_URL", LEAKY)])).map(drop),
                "WATCH_RETRY_URL must not carry a user name or password",
            ),
            (
                frame_ancestors(&src(&[("EMBED_ORIGINS", LEAKY)]), FramedPages::Visitor).map(drop),
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
        let odd = VisitorSettings::load(&src(&[initial, ("PROXY_ALLOWED_URLS", "user:hunter2@shop.example.com/a")]));
        let message = odd.err().unwrap().message();
        assert!(message.contains("PROXY_ALLOWED_URLS: entry 1 is not an absolute http(s) URL"), "{message}");
        assert!(!message.contains("hunter2"));
    }

    #[test]
    fn agent_settings_defaults() {
        let s = AgentSettings::load(&src(&[])).unwrap();
        assert_eq!(s.watch.visitor_id_kind, VisitorIdKind::Short);
        assert!(s.watch.branding.is_empty());
        assert!(s.permissions.is_empty());
        assert_eq!(s.watch.cache_ttl_seconds, 3600);
    }

    #[test]
    fn agent_settings_full() {
        let s = AgentSettings::load(&src(&[
            ("VISITOR_ID_KIND", "unique"),
            ("WATCH_BRANDING_NAKED", "false"),
            ("WATCH_BRANDING_NO_BOTTOM_BAR", " true "),
            ("WATCH_ON_END_URL", "https://help.example.com/done"),
            ("WATCH_PERMISSIONS", "click, allow_scroll draw"),
            ("SHORT_ID_CACHE_TTL", "60"),
        ]))
        .unwrap();
        assert_eq!(s.watch.visitor_id_kind, VisitorIdKind::Unique);
        assert_eq!((s.watch.branding.naked, s.watch.branding.no_bottom_bar), (Some(false), Some(true)));
        assert_eq!(s.watch.branding.on_end_url.as_deref(), Some("https://help.example.com/done"));
        assert_eq!(s.permissions.len(), 7);
        let flag = |name: &str| s.permissions.get(name).unwrap();
        assert!(flag("allow_click") && flag("allow_scroll") && flag("allow_draw"));
        assert!(!flag("allow_console") && !flag("allow_type"));
        assert_eq!(s.watch.cache_ttl_seconds, 60);
        let none = AgentSettings::load(&src(&[("WATCH_PERMISSIONS", "none")])).unwrap();
        assert!(none.permissions.iter().all(|(_, granted)| !granted));
    }

    #[test]
    fn agent_settings_refuse_bad_values() {
        for (name, value) in [
            ("VISITOR_ID_KIND", "email"),
            ("WATCH_BRANDING_NAKED", "yes"),
            ("WATCH_BRANDING_NAKED", "page_only"),
            ("WATCH_BRANDING_NO_BOTTOM_BAR", "yes"),
            ("WATCH_BRANDING_NO_BOTTOM_BAR", "1"),
            ("WATCH_RETRY_URL", "not a url"),
            ("WATCH_PERMISSIONS", "click,teleport"),
            ("SHORT_ID_CACHE_TTL", "59"),
            ("SHORT_ID_CACHE_TTL", "86401"),
            ("SHORT_ID_CACHE_TTL", "an hour"),
        ] {
            let err = AgentSettings::load(&src(&[(name, value)])).unwrap_err();
            assert_eq!(err.status(), 500);
            assert!(err.message().contains(name), "{name}={value}: {err:?}");
        }
    }

    #[test]
    fn agent_auth_is_required_and_complete() {
        let cases: [(&[(&str, &str)], &str); 9] = [
            (&[], "AGENT_AUTH is not set"),
            (&[("AGENT_AUTH", "jwt")], "AGENT_AUTH must be"),
            (&[("AGENT_AUTH", "access"), ("ACCESS_AUD", "aud")], "ACCESS_TEAM_DOMAIN"),
            (&[("AGENT_AUTH", "access"), ("ACCESS_TEAM_DOMAIN", "t.cloudflareaccess.com")], "ACCESS_AUD"),
            (&[("AGENT_AUTH", "access"), ("ACCESS_TEAM_DOMAIN", "t/x"), ("ACCESS_AUD", "a")], "ACCESS_TEAM_DOMAIN"),
            (&[("AGENT_AUTH", "signed-link")], "AGENT_LINK_SECRET"),
            (&[("AGENT_AUTH", "signed-link"), ("AGENT_LINK_SECRET", "short")], "AGENT_LINK_SECRET is shorter"),
            (&[("AGENT_AUTH", "none")], "ALLOW_UNAUTHENTICATED_AGENTS"),
            (&[("AGENT_AUTH", "none"), ("ALLOW_UNAUTHENTICATED_AGENTS", "yes")], "ALLOW_UNAUTHENTICATED_AGENTS"),
        ];
        for (pairs, expected) in cases {
            let err = AgentAuth::load(&pairs.iter().copied().collect::<HashMap<_, _>>()).err().unwrap();
            assert_eq!(err.status(), 500);
            assert!(err.message().contains(expected), "{pairs:?}: {}", err.message());
        }
    }

    #[test]
    fn page_only_is_refused_saying_why() {
        let err = AgentSettings::load(&src(&[("WATCH_BRANDING_NAKED", "page_only")])).unwrap_err();
        let message = err.message();
        assert!(message.contains("WATCH_BRANDING_NAKED=page_only"), "{message}");
        assert!(message.contains("no way to end the session") && message.contains("'true'"), "{message}");
    }

    #[test]
    fn service_tokens_are_checked_with_access_and_never_echo_more_than_a_client_id() {
        let access =
            [("AGENT_AUTH", "access"), ("ACCESS_TEAM_DOMAIN", "team.cloudflareaccess.com"), ("ACCESS_AUD", "aud-tag")];
        let load = |value: &str| {
            let mut pairs: HashMap<&str, &str> = access.iter().copied().collect();
            pairs.insert("ACCESS_SERVICE_TOKENS", value);
            AgentAuth::load(&pairs)
        };
        let secret = "3f1c9e0d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e";
        let id = "e367826f93b8d71185e03fe518aff3b4.access";
        let cases: [(String, String); 12] = [
            (id.to_owned(), "entry 1 is not".to_owned()),
            (format!("{secret}=Smoke test"), "entry 1: the client id".to_owned()),
            (format!("{secret}.access"), "entry 1 is not".to_owned()),
            ("=Smoke test".to_owned(), "entry 1: the client id".to_owned()),
            (".access=Smoke test".to_owned(), "entry 1: the client id".to_owned()),
            ("a b.access=Smoke test".to_owned(), "entry 1: the client id".to_owned()),
            (format!("{id}=Smoke test, x.access"), "entry 2 is not".to_owned()),
            (format!("{id}="), format!("the agent name for {id}")),
            (format!("{id}=Smoke\u{7}test"), "the agent name for".to_owned()),
            (format!("{id}={}", "n".repeat(101)), "1 to 100 characters".to_owned()),
            (format!("{id}=Smoke test,{id}=Again"), format!("{id} is listed twice")),
            (format!("{}.access=Long", "a".repeat(114)), "entry 1: the client id".to_owned()),
        ];
        for (value, expected) in &cases {
            let err = load(value).err().unwrap_or_else(|| panic!("{value:.60} was accepted"));
            assert_eq!(err.status(), 500);
            let message = err.message();
            assert!(message.contains("ACCESS_SERVICE_TOKENS") && message.contains(expected), "{value:.60}: {message}");
            for never in [secret, "Smoke", "Again", "Long"] {
                assert!(!message.contains(never), "{value:.60}: echoed {never}: {message}");
            }
        }
    }

    #[test]
    fn agent_auth_modes() {
        let secret = "0123456789abcdef0123456789abcdef";
        match AgentAuth::load(&src(&[
            ("AGENT_AUTH", "access"),
            ("ACCESS_TEAM_DOMAIN", "https://Team.cloudflareaccess.com/"),
            ("ACCESS_AUD", "aud-tag"),
        ])) {
            Ok(AgentAuth::Access(a)) => {
                assert_eq!((a.team_domain.as_str(), a.audience.as_str()), ("team.cloudflareaccess.com", "aud-tag"))
            }
            _ => panic!("expected access"),
        }
        match AgentAuth::load(&src(&[("AGENT_AUTH", "signed-link"), ("AGENT_LINK_SECRET", secret)])) {
            Ok(AgentAuth::SignedLink(key)) => {
                assert_eq!((key.secret.as_str(), key.previous.as_deref(), key.max_ttl_seconds), (secret, None, 300))
            }
            _ => panic!("expected signed-link"),
        }
        let none = AgentAuth::load(&src(&[("AGENT_AUTH", "none"), ("ALLOW_UNAUTHENTICATED_AGENTS", "true")]));
        assert!(matches!(none, Ok(AgentAuth::Unauthenticated)));
    }

    #[test]
    fn visitor_link_key_is_optional_but_checked() {
        assert!(visitor_link_key(&src(&[])).unwrap().is_none());
        let key = visitor_link_key(&src(&[
            ("VISITOR_LINK_SECRET", "0123456789abcdef0123456789abcdef"),
            ("VISITOR_LINK_MAX_TTL", "3600"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(key.max_ttl_seconds, 3600);
        for ttl in ["0", "-1", "604801", "soon"] {
            let err = visitor_link_key(&src(&[
                ("VISITOR_LINK_SECRET", "0123456789abcdef0123456789abcdef"),
                ("VISITOR_LINK_MAX_TTL", ttl),
            ]))
            .err()
            .unwrap();
            assert!(err.message().contains("VISITOR_LINK_MAX_TTL"), "{ttl}");
        }
        let err = visitor_link_key(&src(&[("VISITOR_LINK_SECRET", "too-short-secret")])).err().unwrap();
        assert!(!err.message().contains("too-short-secret"), "never echo a secret");
    }

    #[test]
    fn view_needs_its_own_audit_key_which_survives_link_rotation() {
        let viewer = "viewer-link-secret-0123456789abcdef";
        let visitor = "visitor-link-secret-0123456789abcdef";
        let base = [("VIEWER_LINK_SECRET", viewer), ("VISITOR_LINK_SECRET", visitor)];
        let err = ViewerSettings::load(&src(&base)).err().unwrap();
        assert!(err.message().contains("/view needs the secret AUDIT_ID_SECRET"), "{}", err.message());
        let short =
            ViewerSettings::load(&src(&[base[0], base[1], ("AUDIT_ID_SECRET", "short-audit-key")])).err().unwrap();
        assert!(short.message().contains("AUDIT_ID_SECRET is shorter than 32"));
        assert!(!short.message().contains("short-audit-key"), "never the value");
        // Trimmed like every secret; equal to the link secret is allowed (the migration path).
        for key in [" audit-id-secret-0123456789abcdefghij\n", viewer] {
            let loaded = ViewerSettings::load(&src(&[base[0], base[1], ("AUDIT_ID_SECRET", key)])).ok().unwrap();
            assert_eq!(loaded.audit_key, key.trim());
        }
    }

    #[test]
    fn frame_ancestors_name_the_setting() {
        let f = frame_ancestors(
            &src(&[("EMBED_ORIGINS", "https://shop.example.com, https://www.example.com")]),
            FramedPages::Visitor,
        )
        .unwrap();
        assert!(f
            .content_security_policy()
            .ends_with("frame-ancestors https://shop.example.com https://www.example.com"));
        assert_eq!(frame_ancestors(&src(&[]), FramedPages::Agent).unwrap(), FrameAncestors::NONE);
        let err =
            frame_ancestors(&src(&[("AGENT_EMBED_ORIGINS", "help.example.com")]), FramedPages::Agent).unwrap_err();
        assert!(err.message().contains("AGENT_EMBED_ORIGINS"));
    }

    #[test]
    fn upstream_timeout() {
        assert_eq!(UpstreamSettings::timeout_ms(&src(&[])).unwrap(), 5000);
        assert_eq!(UpstreamSettings::timeout_ms(&src(&[("UPSTREAM_TIMEOUT_MS", " 250 ")])).unwrap(), 250);
        for bad in ["99", "60001", "5s", "-1"] {
            let err = UpstreamSettings::timeout_ms(&src(&[("UPSTREAM_TIMEOUT_MS", bad)])).unwrap_err();
            assert!(err.message().contains("UPSTREAM_TIMEOUT_MS"), "{bad}");
        }
    }
}
