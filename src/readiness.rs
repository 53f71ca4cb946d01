//! Is this deployment ready to serve? Every setting `/visitor` and `/agent`
//! need (and `/view`'s, once any is given), loaded with the very loaders the routes use, without calling
//! Upscope. One answer for two callers: `GET /readyz` in the Worker, and the
//! pre-deploy check (`src/bin/check-config.rs`, `make check ENV=…`), which
//! feeds it an environment's vars and secrets natively.
//!
//! A report holds setting names and messages that name settings; never a
//! value (the loaders never echo one).

use std::collections::BTreeMap;

use crate::core::sort::stable_sort_by;
use crate::error::GatewayError;
/// Every secret the gateway reads, for the pre-deploy check: never a var.
pub use crate::settings::names::SECRETS as SECRET_NAMES;
use crate::settings::names::{
    AUDIT_ID_SECRET, VIEWER_EMBED_ORIGINS, VIEWER_LINK_SECRET, VIEWER_LINK_SECRET_PREVIOUS, VIEWER_PERMISSIONS,
};
use crate::settings::{
    frame_ancestors, AgentAuth, AgentSettings, Edition, FramedPages, Source, UpstreamSettings, ViewerSettings,
    VisitorSettings,
};

/// What a deployment can do, or what stops it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    /// Names of configured features, e.g. `agent_auth:access`; never values.
    pub features: Vec<&'static str>,
    /// One line per setting that is wrong, each naming the setting.
    pub problems: Vec<String>,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.problems.is_empty()
    }

    /// The loaded value, or `None` with its problem noted (once, however
    /// many loaders run into the same setting).
    fn check<T>(&mut self, loaded: Result<T, GatewayError>) -> Option<T> {
        loaded
            .map_err(|err| {
                let problem = match err {
                    GatewayError::Misconfigured(what) => what,
                    other => other.message(),
                };
                if !self.problems.contains(&problem) {
                    self.problems.push(problem);
                }
            })
            .ok()
    }
}

/// Checks every setting both routes need, in the order the routes load them.
/// Each loader reports at most its first problem, so fixing one may reveal
/// another in the same group; separate groups are all reported at once.
pub fn readiness(src: &impl Source) -> Readiness {
    let mut report = Readiness::default();
    report.check(UpstreamSettings::timeout_ms(src));
    if let Some(upstream) = report.check(UpstreamSettings::load(src)) {
        if upstream.edition == Edition::OnPremise {
            report.features.push("upscope:on_premise");
        }
    }
    // /visitor
    report.check(frame_ancestors(src, FramedPages::Visitor));
    report.check(VisitorSettings::load(src));
    if let Some(Some(_)) = report.check(VisitorSettings::link_key(src)) {
        report.features.push("signed_visitor_links");
    }
    // /agent
    report.check(frame_ancestors(src, FramedPages::Agent));
    if let Some(auth) = report.check(AgentAuth::load(src)) {
        report.features.push(match auth {
            AgentAuth::Access(_) => "agent_auth:access",
            AgentAuth::SignedLink(_) => "agent_auth:signed-link",
            AgentAuth::Unauthenticated => "agent_auth:none",
        });
    }
    if let Some(agent) = report.check(AgentSettings::load(src)) {
        if !agent.permissions.is_empty() {
            report.features.push("watch_permissions");
        }
        if !agent.watch.branding.is_empty() {
            report.features.push("watch_branding");
        }
    }
    // /view is optional: checked once any of its settings is given.
    let viewer_settings =
        [VIEWER_LINK_SECRET, VIEWER_LINK_SECRET_PREVIOUS, VIEWER_PERMISSIONS, VIEWER_EMBED_ORIGINS, AUDIT_ID_SECRET];
    if viewer_settings.iter().any(|name| src.get(name).is_some()) {
        report.check(frame_ancestors(src, FramedPages::View));
        if report.check(ViewerSettings::load(src)).is_some() {
            report.features.push("viewer_links");
        }
    }
    stable_sort_by(&mut report.features, |a, b| a.cmp(b));
    report
}

/// How long `/readyz?upstream=1` keeps Upscope's answer, good or bad: the
/// endpoint is public, and must not become a way to spend the account's
/// API calls.
pub const UPSTREAM_CHECK_TTL_MS: f64 = 30_000.0;

/// What Upscope said to the readiness check's one authenticated read, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamCheck {
    pub at_ms: f64,
    /// `Err((reason, message))`: Upscope's code or what happened, and a sentence.
    pub outcome: Result<(), (String, String)>,
}

impl UpstreamCheck {
    /// Still good at `now_ms` (a clock that went backwards asks again).
    pub fn is_fresh(&self, now_ms: f64) -> bool {
        now_ms >= self.at_ms && now_ms - self.at_ms < UPSTREAM_CHECK_TTL_MS
    }
}

/// What `/readyz?upstream=1` knows of Upscope in one isolate: its last
/// answer, and when a check still under way (another request's) began.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpstreamState {
    pub last: Option<UpstreamCheck>,
    pub checking_since_ms: Option<f64>,
}

/// What a request for `/readyz?upstream=1` does about Upscope.
#[derive(Debug, Clone, PartialEq)]
pub enum UpstreamPlan {
    /// A fresh answer is known: use it.
    Use(UpstreamCheck),
    /// Another request is asking right now: wait for its answer rather than
    /// ask again, so a burst of requests costs one call.
    Wait,
    /// Ask Upscope (and claim the check before awaiting it).
    Check,
}

impl UpstreamState {
    pub const EMPTY: Self = Self { last: None, checking_since_ms: None };

    /// The plan at `now_ms`. A check runs within `timeout_ms` (the upstream
    /// deadline), so one older than that was abandoned and is asked again.
    pub fn plan(&self, now_ms: f64, timeout_ms: f64) -> UpstreamPlan {
        if let Some(check) = self.last.as_ref().filter(|check| check.is_fresh(now_ms)) {
            return UpstreamPlan::Use(check.clone());
        }
        match self.checking_since_ms {
            Some(since) if now_ms >= since && now_ms - since < timeout_ms => UpstreamPlan::Wait,
            _ => UpstreamPlan::Check,
        }
    }
}

/// Settings from a JSON object of names to strings (or lists of strings, as
/// a wrangler config may write them): what the pre-deploy check reads.
pub struct JsonVars(BTreeMap<String, String>);

impl JsonVars {
    /// Parses `{"NAME": "value" | ["a", "b"], ...}`; any other shape is an
    /// error naming the entry (never its value).
    pub fn parse(text: &str) -> Result<Self, String> {
        // Where, not serde's words: those may quote a value ("invalid type: string \"…\"").
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
            .map_err(|e| format!("expected a JSON object of settings (line {}, column {})", e.line(), e.column()))?;
        let mut vars = BTreeMap::new();
        for (name, value) in map {
            let text = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| format!("{name} must be a string or a list of strings"))?
                    .join(","),
                _ => return Err(format!("{name} must be a string or a list of strings")),
            };
            vars.insert(name, text);
        }
        Ok(Self(vars))
    }
}

impl Source for JsonVars {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.trim().is_empty()).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_under_way_is_waited_for_until_its_deadline_then_asked_again() {
        let ok = UpstreamCheck { at_ms: 1_000.0, outcome: Ok(()) };
        let idle = UpstreamState::EMPTY;
        assert_eq!(idle.plan(1_000.0, 5_000.0), UpstreamPlan::Check);
        let checking = UpstreamState { last: None, checking_since_ms: Some(1_000.0) };
        assert_eq!(checking.plan(1_000.0, 5_000.0), UpstreamPlan::Wait);
        assert_eq!(checking.plan(5_999.0, 5_000.0), UpstreamPlan::Wait);
        assert_eq!(checking.plan(6_000.0, 5_000.0), UpstreamPlan::Check, "abandoned");
        assert_eq!(checking.plan(999.0, 5_000.0), UpstreamPlan::Check, "a clock that went backwards asks again");
        // A fresh answer wins over a check under way; a stale one does not.
        let both = UpstreamState { last: Some(ok.clone()), checking_since_ms: Some(31_500.0) };
        assert_eq!(both.plan(2_000.0, 5_000.0), UpstreamPlan::Use(ok));
        assert_eq!(both.plan(32_000.0, 5_000.0), UpstreamPlan::Wait);
    }

    #[test]
    fn an_upstream_check_is_kept_thirty_seconds() {
        let check = UpstreamCheck { at_ms: 1_000_000.0, outcome: Ok(()) };
        assert!(check.is_fresh(1_000_000.0) && check.is_fresh(1_029_999.0));
        assert!(!check.is_fresh(1_030_000.0));
        assert!(!check.is_fresh(999_999.0), "a clock that went backwards asks again");
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn vars(pairs: &[(&str, &str)]) -> JsonVars {
        JsonVars(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    fn production() -> Vec<(&'static str, &'static str)> {
        vec![
            ("UPSCOPE_API_KEY", "key"),
            ("PROXY_INITIAL_URL", "https://shop.example.com/account"),
            ("AGENT_AUTH", "access"),
            ("ACCESS_TEAM_DOMAIN", "team.cloudflareaccess.com"),
            ("ACCESS_AUD", "aud-tag"),
        ]
    }

    #[test]
    fn a_complete_configuration_is_ready_and_names_its_features() {
        let report = readiness(&vars(&production()));
        assert_eq!(report.problems, Vec::<String>::new());
        assert!(report.is_ready());
        assert_eq!(report.features, ["agent_auth:access"]);
        let mut more = production();
        more.extend([
            ("VISITOR_LINK_SECRET", SECRET),
            ("WATCH_PERMISSIONS", "click"),
            ("WATCH_BRANDING_NAKED", "true"),
        ]);
        let report = readiness(&vars(&more));
        assert_eq!(
            report.features,
            ["agent_auth:access", "signed_visitor_links", "watch_branding", "watch_permissions"]
        );
    }

    #[test]
    fn an_on_premise_upstream_is_a_feature_and_its_settings_are_checked() {
        let mut on_premise = production();
        on_premise.extend([("UPSCOPE_EDITION", "on_premise"), ("UPSCOPE_API_BASE", "https://support.example.com/cb")]);
        let report = readiness(&vars(&on_premise));
        assert_eq!((report.problems.len(), report.features), (0, vec!["agent_auth:access", "upscope:on_premise"]));
        on_premise.retain(|(name, _)| *name != "UPSCOPE_API_BASE");
        let report = readiness(&vars(&on_premise));
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(report.problems[0].contains("UPSCOPE_EDITION=on_premise needs UPSCOPE_API_BASE"));
        let mut typo = production();
        typo.push(("UPSCOPE_EDITION", "premise"));
        assert_eq!(readiness(&vars(&typo)).problems, ["UPSCOPE_EDITION must be cloud or on_premise"]);
    }

    #[test]
    fn each_wrong_setting_is_named_once_and_every_group_reports() {
        let report = readiness(&vars(&[("AGENT_AUTH", ""), ("UPSTREAM_TIMEOUT_MS", "5s"), ("EMBED_ORIGINS", "x y")]));
        assert!(!report.is_ready());
        for name in ["UPSTREAM_TIMEOUT_MS", "UPSCOPE_API_KEY", "EMBED_ORIGINS", "PROXY_INITIAL_URL", "AGENT_AUTH"] {
            let hits = report.problems.iter().filter(|p| p.contains(name)).count();
            assert!(hits >= 1, "{name} not named in {:?}", report.problems);
        }
        assert_eq!(report.problems.len(), 5, "{:?}", report.problems);
    }

    #[test]
    fn secrets_are_named_never_echoed() {
        let mut pairs = production();
        pairs.retain(|(k, _)| *k != "UPSCOPE_API_KEY");
        pairs.extend([("AGENT_AUTH", "signed-link"), ("AGENT_LINK_SECRET", "short-but-secret-value")]);
        let report = readiness(&vars(&pairs));
        let text = report.problems.join("\n");
        assert!(text.contains("UPSCOPE_API_KEY") && text.contains("AGENT_LINK_SECRET"), "{text}");
        assert!(!text.contains("short-but-secret-value"));
    }

    #[test]
    fn urls_in_settings_are_named_never_echoed_with_their_credentials_or_query() {
        const LEAKY: &str = "https://user:hunter2@shop.example.com/a?token=s3cret#frag";
        for name in [
            "UPSCOPE_API_BASE",
            "PROXY_INITIAL_URL",
            "PROXY_ALLOWED_URLS",
            "PROXY_ALLOWED_DOMAINS",
            "WATCH_RETRY_URL",
            "WATCH_ON_END_URL",
            "EMBED_ORIGINS",
            "AGENT_EMBED_ORIGINS",
            "VIEWER_EMBED_ORIGINS",
            "WATCH_PERMISSIONS",
            "VIEWER_PERMISSIONS",
        ] {
            let mut pairs = production();
            pairs.retain(|(k, _)| *k != name);
            pairs.extend([
                (name, LEAKY),
                ("VIEWER_LINK_SECRET", SECRET),
                ("VISITOR_LINK_SECRET", "fedcba9876543210fedcba9876543210"),
            ]);
            let problems = readiness(&vars(&pairs)).problems.join("\n");
            assert!(problems.contains(name), "{name} not named: {problems}");
            for leak in ["hunter2", "s3cret", "user:", "frag"] {
                assert!(!problems.contains(leak), "{name} leaks {leak}: {problems}");
            }
        }
    }

    #[test]
    fn view_is_checked_once_any_of_its_settings_is_given() {
        let mut pairs = production();
        pairs.push(("VIEWER_PERMISSIONS", "scroll"));
        let report = readiness(&vars(&pairs));
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(report.problems[0].contains("VIEWER_LINK_SECRET"));
        pairs.push(("VIEWER_LINK_SECRET", SECRET));
        let unsigned_visitors = readiness(&vars(&pairs));
        assert!(
            unsigned_visitors.problems[0].contains("/view needs VISITOR_LINK_SECRET as well"),
            "{unsigned_visitors:?}"
        );
        pairs.push(("VISITOR_LINK_SECRET", "fedcba9876543210fedcba9876543210"));
        let no_audit_key = readiness(&vars(&pairs));
        assert!(no_audit_key.problems[0].contains("/view needs the secret AUDIT_ID_SECRET"), "{no_audit_key:?}");
        pairs.push(("AUDIT_ID_SECRET", "0123456789abcdef0123456789abcdef-audit"));
        assert_eq!(readiness(&vars(&pairs)).features, ["agent_auth:access", "signed_visitor_links", "viewer_links"]);
        pairs.push(("VIEWER_LINK_SECRET_PREVIOUS", "fedcba9876543210fedcba9876543210"));
        let shared = readiness(&vars(&pairs));
        assert!(
            shared
                .problems
                .iter()
                .any(|p| p.contains("VISITOR_LINK_SECRET and VIEWER_LINK_SECRET_PREVIOUS are the same")),
            "{shared:?}"
        );
    }

    #[test]
    fn json_vars_take_strings_and_lists_and_refuse_the_rest() {
        let v = JsonVars::parse(r#"{"A":"x","B":["p","q"],"C":"  "}"#).unwrap();
        assert_eq!((v.get("A").as_deref(), v.get("B").as_deref(), v.get("C")), (Some("x"), Some("p,q"), None));
        let err = JsonVars::parse(r#"{"SECRET":123456}"#).err().unwrap();
        assert!(err.contains("SECRET") && !err.contains("123456"), "{err}");
        assert!(JsonVars::parse("[]").is_err());
        for bad in [r#""hunter2""#, r#"["hunter2"]"#, r#"{"A": "hunter2""#] {
            let err = JsonVars::parse(bad).err().unwrap();
            assert!(err.starts_with("expected a JSON object of settings (line 1") && !err.contains("hunter2"), "{err}");
        }
    }
}
