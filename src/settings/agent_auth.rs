//! How `/agent` learns who the agent is (`AGENT_AUTH`), and for Cloudflare
//! Access: the team domain, the audience, the service tokens that act as
//! agents, and the helpdesk origins whose links need no confirmation.

use super::links::{link_key, LinkKey};
use super::names::{
    ACCESS_AUD, ACCESS_SERVICE_TOKENS, ACCESS_TEAM_DOMAIN, AGENT_AUTH, AGENT_LAUNCH_ORIGINS, AGENT_LINK_MAX_TTL,
    AGENT_LINK_SECRET, ALLOW_UNAUTHENTICATED_AGENTS,
};
use super::source::{list, misconfigured, one_of, true_or_false, Source};
use crate::core::launch::LaunchOrigins;
use crate::core::service_tokens::ServiceTokens;
use crate::error::GatewayError;

/// How `/agent` learns who the agent is (setting `AGENT_AUTH`, required).
pub enum AgentAuth {
    /// Behind Cloudflare Access: the `Cf-Access-Jwt-Assertion` token names the agent.
    Access(AccessSettings),
    /// Links minted and signed by the company's helpdesk or CRM backend.
    SignedLink(LinkKey),
    /// `agent_id`/`agent_name` taken on trust; only with `ALLOW_UNAUTHENTICATED_AGENTS=true`.
    Unauthenticated,
}

impl AgentAuth {
    pub fn load(src: &impl Source) -> Result<Self, GatewayError> {
        let modes = [("access", Mode::Access), ("signed-link", Mode::SignedLink), ("none", Mode::Unauthenticated)];
        let Some(mode) = one_of(src, AGENT_AUTH, &modes)? else {
            return Err(misconfigured("AGENT_AUTH is not set (access, signed-link, or none for local testing)"));
        };
        // Strict, and in every mode: `True` or `yes` is named at once rather
        // than read as "off" in silence, like every other true/false setting.
        let unauthenticated_allowed = true_or_false(src, ALLOW_UNAUTHENTICATED_AGENTS)? == Some(true);
        match mode {
            Mode::Access => Ok(Self::Access(AccessSettings::load(src)?)),
            Mode::SignedLink => Ok(Self::SignedLink(
                link_key(src, AGENT_LINK_SECRET, AGENT_LINK_MAX_TTL)?
                    .ok_or_else(|| misconfigured("AGENT_AUTH=signed-link needs the secret AGENT_LINK_SECRET"))?,
            )),
            Mode::Unauthenticated if unauthenticated_allowed => Ok(Self::Unauthenticated),
            Mode::Unauthenticated => Err(misconfigured(
                "AGENT_AUTH=none lets anyone watch any visitor; it also needs ALLOW_UNAUTHENTICATED_AGENTS=true \
(local testing only)",
            )),
        }
    }
}

/// The word `AGENT_AUTH` holds, before the settings each mode needs are read.
#[derive(Clone, Copy)]
enum Mode {
    Access,
    SignedLink,
    Unauthenticated,
}

/// `AGENT_AUTH=access`: whose tokens are accepted, and what else acts as an agent.
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

/// `your-team.cloudflareaccess.com`, also accepted as `https://…/`.
fn team_domain_host(value: &str) -> Option<String> {
    let host = value.trim();
    let host = host.strip_prefix("https://").unwrap_or(host);
    let host = host.strip_suffix('/').unwrap_or(host).to_ascii_lowercase();
    let ok = host.contains('.')
        && host.split('.').all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    ok.then_some(host)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::settings::source::tests::vars;

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

    /// Issue 28 (cargo-mutants): a host name of dot-separated labels of
    /// letters, digits and hyphens, nothing else.
    #[test]
    fn the_team_domain_is_a_host_name() {
        assert_eq!(team_domain_host("my-team.cloudflareaccess.com").as_deref(), Some("my-team.cloudflareaccess.com"));
        assert_eq!(team_domain_host(" https://T1.Example/ ").as_deref(), Some("t1.example"));
        for bad in
            ["cloudflareaccess", "a..example", ".example", "a.example.", "a_b.example", "a b.example", "a.ex/ample"]
        {
            assert_eq!(team_domain_host(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn agent_auth_modes() {
        let secret = "0123456789abcdef0123456789abcdef";
        match AgentAuth::load(&vars(&[
            ("AGENT_AUTH", "access"),
            ("ACCESS_TEAM_DOMAIN", "https://Team.cloudflareaccess.com/"),
            ("ACCESS_AUD", "aud-tag"),
        ])) {
            Ok(AgentAuth::Access(a)) => {
                assert_eq!((a.team_domain.as_str(), a.audience.as_str()), ("team.cloudflareaccess.com", "aud-tag"))
            }
            _ => panic!("expected access"),
        }
        match AgentAuth::load(&vars(&[("AGENT_AUTH", "signed-link"), ("AGENT_LINK_SECRET", secret)])) {
            Ok(AgentAuth::SignedLink(key)) => {
                assert_eq!((key.secret.as_str(), key.previous.as_deref(), key.max_ttl_seconds), (secret, None, 300))
            }
            _ => panic!("expected signed-link"),
        }
        let none = AgentAuth::load(&vars(&[("AGENT_AUTH", "none"), ("ALLOW_UNAUTHENTICATED_AGENTS", "true")]));
        assert!(matches!(none, Ok(AgentAuth::Unauthenticated)));
    }

    #[test]
    fn allow_unauthenticated_agents_is_true_or_false_in_every_mode() {
        let secret = "0123456789abcdef0123456789abcdef";
        let load = |mode: &'static str, flag: &'static str| {
            AgentAuth::load(&vars(&[
                ("AGENT_AUTH", mode),
                ("AGENT_LINK_SECRET", secret),
                ("ALLOW_UNAUTHENTICATED_AGENTS", flag),
            ]))
        };
        assert!(matches!(load("none", " true\n"), Ok(AgentAuth::Unauthenticated)));
        // `false` (or unset) is off: AGENT_AUTH=none still needs exactly `true`.
        for off in ["false", ""] {
            let message = load("none", off).err().unwrap().message();
            assert!(message.contains("it also needs ALLOW_UNAUTHENTICATED_AGENTS=true"), "{off:?}: {message}");
        }
        assert!(matches!(load("signed-link", "false"), Ok(AgentAuth::SignedLink(_))));
        // A typo is a 500 naming the setting and what it takes, in any mode, never quoting the value.
        for mode in ["none", "signed-link"] {
            for typo in ["True", "yes", "1", "on"] {
                let err = load(mode, typo).err().unwrap();
                assert_eq!(err.status(), 500);
                assert_eq!(err.message(), "gateway misconfigured: ALLOW_UNAUTHENTICATED_AGENTS must be true or false");
            }
        }
        // AGENT_AUTH is read first: its own gap is the one reported.
        let unset = AgentAuth::load(&vars(&[("ALLOW_UNAUTHENTICATED_AGENTS", "yes")])).err().unwrap();
        assert!(unset.message().contains("AGENT_AUTH is not set"), "{}", unset.message());
    }
}
