//! Whether an `/agent` request may start a session by itself: `core::launch`'s
//! rules on where a request came from, applied to its method and the agent
//! sign-in mode. Where it came from is read once per request (`Arrival`),
//! and decided on in two steps: a POST before anything else, a GET once the
//! agent is verified and the visitor named.

use crate::core::launch::{confirmed_by_post, launch_by_get, Launch, Provenance};
use crate::error::GatewayError;
use crate::settings::AgentAuth;

/// An `/agent` request that passed the first step. Only `admit` makes one,
/// so no request reaches the second step without the first.
#[derive(Debug, Clone, Copy)]
pub struct Arrival<'a> {
    method: &'a str,
    from: Provenance<'a>,
}

impl<'a> Arrival<'a> {
    /// The first step, before any setting is read or any agent verified: a
    /// POST is the launch confirmation's button, so it is taken only from
    /// the gateway's own page (`own_url` is the request's own URL); from
    /// anywhere else it is a cross-site request, refused.
    pub fn admit(method: &'a str, from: Provenance<'a>, own_url: &str) -> Result<Self, GatewayError> {
        if method == "POST" && !confirmed_by_post(&from, own_url) {
            return Err(GatewayError::CrossSiteRequest);
        }
        Ok(Self { method, from })
    }

    /// The second step. An admitted POST has proven it came from the
    /// confirmation page. A GET is asked to confirm only in Access mode,
    /// where the sign-in rides along on any site's link; signed links are
    /// minted per agent, and `none` is for local testing.
    pub fn launch(&self, auth: &AgentAuth) -> Launch {
        match auth {
            AgentAuth::Access(access) if self.method == "GET" => launch_by_get(&self.from, &access.launch_origins),
            _ => Launch::Proceed,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const OWN: &str = "https://gw.example.com/agent?visitorid=s1";

    fn from<'a>(fetch_site: Option<&'a str>, origin: Option<&'a str>) -> Provenance<'a> {
        Provenance { fetch_site, origin, ..Provenance::default() }
    }

    fn auth(pairs: &[(&str, &str)]) -> AgentAuth {
        let vars: HashMap<&str, &str> = pairs.iter().copied().collect();
        AgentAuth::load(&vars).unwrap_or_else(|e| panic!("{}", e.message()))
    }

    fn access() -> AgentAuth {
        auth(&[
            ("AGENT_AUTH", "access"),
            ("ACCESS_TEAM_DOMAIN", "team.cloudflareaccess.com"),
            ("ACCESS_AUD", "aud-tag"),
        ])
    }

    fn every_mode() -> [AgentAuth; 3] {
        let signed = auth(&[("AGENT_AUTH", "signed-link"), ("AGENT_LINK_SECRET", "0123456789abcdef0123456789abcdef")]);
        let none = auth(&[("AGENT_AUTH", "none"), ("ALLOW_UNAUTHENTICATED_AGENTS", "true")]);
        [access(), signed, none]
    }

    #[test]
    fn a_post_from_anywhere_but_the_gateways_own_page_is_refused_first() {
        for (site, origin) in [
            (Some("cross-site"), Some("https://evil.example")),
            (Some("same-site"), Some("https://sibling.example.com")),
            (Some("none"), None),
            (Some("cross-site"), Some("https://gw.example.com")),
            (None, Some("https://evil.example")),
            (None, Some("null")),
            (None, None),
        ] {
            let refused = Arrival::admit("POST", from(site, origin), OWN).unwrap_err();
            assert_eq!((refused.status(), refused.code()), (403, "cross_site_request"), "{site:?} {origin:?}");
        }
    }

    #[test]
    fn a_post_from_the_gateways_own_page_starts_the_session_in_every_mode() {
        for (site, origin) in [(Some("same-origin"), None), (None, Some("https://GW.example.com:443"))] {
            let arrival = Arrival::admit("POST", from(site, origin), OWN).unwrap();
            for mode in every_mode() {
                assert_eq!(arrival.launch(&mode), Launch::Proceed, "{site:?} {origin:?}");
            }
        }
    }

    #[test]
    fn a_get_is_admitted_from_anywhere_and_asked_to_confirm_only_in_access_mode() {
        let cross_site = Arrival::admit("GET", from(Some("cross-site"), Some("https://evil.example")), OWN).unwrap();
        let [access, signed, none] = every_mode();
        assert_eq!(cross_site.launch(&access), Launch::Confirm);
        assert_eq!((cross_site.launch(&signed), cross_site.launch(&none)), (Launch::Proceed, Launch::Proceed));
        let typed = Arrival::admit("GET", from(Some("none"), None), OWN).unwrap();
        assert_eq!(typed.launch(&access), Launch::Proceed);
    }
}
