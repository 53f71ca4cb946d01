//! What a watcher's session is asked with: the settings `/agent` and `/view`
//! share (how `visitorid=` reads, Upscope's branding, the cache's lifetime),
//! the staff's permissions, and what `/view` grants people outside the
//! company.

use super::links::{link_key, visitor_link_key, LinkKey, MIN_LINK_SECRET_CHARS};
use super::names::{
    AUDIT_ID_SECRET, SHORT_ID_CACHE_TTL, VIEWER_LINK_MAX_TTL, VIEWER_LINK_SECRET, VIEWER_PERMISSIONS, VISITOR_ID_KIND,
    WATCH_BRANDING_NAKED, WATCH_BRANDING_NO_BOTTOM_BAR, WATCH_ON_END_URL, WATCH_PERMISSIONS, WATCH_RETRY_URL,
};
use super::source::{misconfigured, one_of, secret, true_or_false, web_url, whole_number, Source};
use crate::core::permissions::{self, Grant};
use crate::core::query::VisitorIdKind;
use crate::error::GatewayError;
use crate::upscope::models::Branding;

pub const DEFAULT_CACHE_TTL_SECONDS: u64 = 3600;
/// Workers KV refuses shorter `expirationTtl`s.
pub const MIN_CACHE_TTL_SECONDS: u64 = 60;
/// A day: entries are only a head start (the search always decides), so a
/// longer life would buy nothing but stale keys.
pub const MAX_CACHE_TTL_SECONDS: u64 = 86_400;

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
        let visitor_id_kind =
            one_of(src, VISITOR_ID_KIND, &[("short", VisitorIdKind::Short), ("unique", VisitorIdKind::Unique)])?
                .unwrap_or(VisitorIdKind::Short);
        // Upscope's page_only shows the agent no controls and expects its link
        // framed in a page that drives the session; the gateway redirects to
        // the link top-level, so the agent could never end the session. Refused
        // here, with that reason, rather than by the reader's "true or false".
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::source::tests::vars;

    #[test]
    fn agent_settings_defaults() {
        let s = AgentSettings::load(&vars(&[])).unwrap();
        assert_eq!(s.watch.visitor_id_kind, VisitorIdKind::Short);
        assert!(s.watch.branding.is_empty());
        assert!(s.permissions.is_empty());
        assert_eq!(s.watch.cache_ttl_seconds, 3600);
    }

    #[test]
    fn agent_settings_full() {
        let s = AgentSettings::load(&vars(&[
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
        let none = AgentSettings::load(&vars(&[("WATCH_PERMISSIONS", "none")])).unwrap();
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
            let err = AgentSettings::load(&vars(&[(name, value)])).unwrap_err();
            assert_eq!(err.status(), 500);
            assert!(err.message().contains(name), "{name}={value}: {err:?}");
        }
    }

    #[test]
    fn page_only_is_refused_saying_why() {
        let err = AgentSettings::load(&vars(&[("WATCH_BRANDING_NAKED", "page_only")])).unwrap_err();
        let message = err.message();
        assert!(message.contains("WATCH_BRANDING_NAKED=page_only"), "{message}");
        assert!(message.contains("no way to end the session") && message.contains("'true'"), "{message}");
    }

    #[test]
    fn view_needs_its_own_audit_key_which_survives_link_rotation() {
        let viewer = "viewer-link-secret-0123456789abcdef";
        let visitor = "visitor-link-secret-0123456789abcdef";
        let base = [("VIEWER_LINK_SECRET", viewer), ("VISITOR_LINK_SECRET", visitor)];
        let err = ViewerSettings::load(&vars(&base)).err().unwrap();
        assert!(err.message().contains("/view needs the secret AUDIT_ID_SECRET"), "{}", err.message());
        let short =
            ViewerSettings::load(&vars(&[base[0], base[1], ("AUDIT_ID_SECRET", "short-audit-key")])).err().unwrap();
        assert!(short.message().contains("AUDIT_ID_SECRET is shorter than 32"));
        assert!(!short.message().contains("short-audit-key"), "never the value");
        // Issue 28 (cargo-mutants): 32 characters are enough, 31 are not.
        let [enough, too_short] = ["a".repeat(32).leak(), "a".repeat(31).leak()];
        assert!(ViewerSettings::load(&vars(&[base[0], base[1], ("AUDIT_ID_SECRET", enough)])).is_ok());
        assert!(ViewerSettings::load(&vars(&[base[0], base[1], ("AUDIT_ID_SECRET", too_short)])).is_err());
        // Trimmed like every secret; equal to the link secret is allowed (the migration path).
        for key in [" audit-id-secret-0123456789abcdefghij\n", viewer] {
            let loaded = ViewerSettings::load(&vars(&[base[0], base[1], ("AUDIT_ID_SECRET", key)])).ok().unwrap();
            assert_eq!(loaded.audit_key, key.trim());
        }
    }
}
