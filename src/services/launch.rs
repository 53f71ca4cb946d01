//! Whether an `/agent` request may start a session by itself: `core::launch`'s
//! rules on where a request came from, applied to its method and the agent
//! sign-in mode. Where it came from is read once per request (`Arrival`),
//! and decided on in two steps: a POST before anything else, a GET or an
//! admitted POST once the agent is verified and the visitor named.
//!
//! In Access mode the second step also weighs the launch token
//! (`core::launch`): the gateway's console, chooser and confirmation put
//! this sign-in's in their links and forms, so that a same-origin request
//! they did not make (a Cloudflare challenge page's follow-up) is asked to
//! confirm rather than trusted.

use crate::core::launch::{
    carries_launch_token, confirmed_by_post, launch_by_get, launch_by_post, Launch, Provenance, LAUNCH_PARAM,
};
use crate::core::query::{encode, Params};
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

    /// The second step, for a request that names a visitor. A prefetch or
    /// prerender never starts a session, in any mode: the browser only
    /// guesses a click. In Access mode, where the sign-in rides along on
    /// any site's request, `launch_token` is this sign-in's token
    /// (`auth::Verifier::launch_token`) and the link's `launch` parameter
    /// is checked against it: only a navigation may start a session; from
    /// the gateway's own origin it needs the token (a GET and the
    /// confirmation's POST alike), from another site a listed origin.
    /// Signed links are minted per agent, and `none` is for local testing:
    /// there any other request proceeds.
    pub fn launch(&self, auth: &AgentAuth, params: &Params, launch_token: Option<&str>) -> Launch {
        if self.from.is_speculative() {
            return Launch::Refuse;
        }
        let (access, token) = match (auth, launch_token) {
            (AgentAuth::Access(access), Some(token)) => (access, token),
            // Not expected (Access mode has verified the token the launch
            // token is made from), so closed: without it nothing is proven.
            (AgentAuth::Access(_), None) => return Launch::Refuse,
            _ => return Launch::Proceed,
        };
        let from = Provenance { launch_token: carries_launch_token(params.get(LAUNCH_PARAM), token), ..self.from };
        if self.method == "POST" {
            launch_by_post(&from)
        } else {
            launch_by_get(&from, &access.launch_origins)
        }
    }
}

/// The query of the confirmation's form: the link as it came, its own
/// `launch` (stale, forged or none) replaced by this sign-in's token, so
/// that pressing the button starts the session (`Arrival::launch`).
pub fn confirmation_query(params: &Params, launch_token: &str) -> String {
    let mut query: Vec<(String, String)> =
        params.without(&[LAUNCH_PARAM]).iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
    query.push((LAUNCH_PARAM.to_owned(), launch_token.to_owned()));
    encode(&query)
}

/// What the gateway's own links and forms carry besides the identity: in
/// Access mode, this sign-in's launch token.
pub fn with_launch_token(mut carry: Vec<(String, String)>, launch_token: Option<&str>) -> Vec<(String, String)> {
    carry.extend(launch_token.map(|token| (LAUNCH_PARAM.to_owned(), token.to_owned())));
    carry
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

    /// This sign-in's launch token, and the token of the one before it.
    const TOKEN: &str = "k7Qx0PqLr2bT9mVw4sZ1aYc8nE5dHf3gJ6uK0oXiRl0";
    const STALE: &str = "a1Bz0PqLr2bT9mVw4sZ1aYc8nE5dHf3gJ6uK0oXiRl0";

    fn params(query: &str) -> Params {
        Params::parse(Some(query)).unwrap()
    }

    /// `mode`'s decision, with this sign-in's token in Access mode.
    fn decide(arrival: &Arrival<'_>, mode: &AgentAuth, query: &str) -> Launch {
        let token = matches!(mode, AgentAuth::Access(_)).then_some(TOKEN);
        arrival.launch(mode, &params(query), token)
    }

    fn navigating<'a>(site: &'a str, dest: &'a str, referer: Option<&'a str>) -> Provenance<'a> {
        Provenance {
            fetch_site: Some(site),
            fetch_mode: Some("navigate"),
            fetch_dest: Some(dest),
            referer,
            ..Provenance::default()
        }
    }

    #[test]
    fn a_post_from_the_gateways_own_page_with_the_token_starts_the_session_in_every_mode() {
        let with_token = format!("visitorid=s1&launch={TOKEN}");
        for (site, origin) in [(Some("same-origin"), None), (None, Some("https://GW.example.com:443"))] {
            let arrival = Arrival::admit("POST", from(site, origin), OWN).unwrap();
            for mode in every_mode() {
                assert_eq!(decide(&arrival, &mode, &with_token), Launch::Proceed, "{site:?} {origin:?}");
            }
        }
    }

    #[test]
    fn in_access_mode_a_same_origin_request_without_the_token_is_asked_to_confirm() {
        // A challenge page on the gateway's origin re-sends another site's GET or POST once passed.
        let [access, signed, none] = every_mode();
        let get = Arrival::admit("GET", navigating("same-origin", "document", Some(OWN)), OWN).unwrap();
        let post = Arrival::admit("POST", navigating("same-origin", "document", None), OWN).unwrap();
        for arrival in [get, post] {
            for query in ["visitorid=s1", "visitorid=s1&launch=", "visitorid=s1&launch=x"] {
                assert_eq!(decide(&arrival, &access, query), Launch::Confirm, "{query}");
                assert_eq!(
                    (decide(&arrival, &signed, query), decide(&arrival, &none, query)),
                    (Launch::Proceed, Launch::Proceed)
                );
            }
            // A token of an earlier sign-in (the Access token was renewed meanwhile): asked, never refused.
            assert_eq!(decide(&arrival, &access, &format!("visitorid=s1&launch={STALE}")), Launch::Confirm);
            assert_eq!(decide(&arrival, &access, &format!("visitorid=s1&launch={TOKEN}")), Launch::Proceed);
        }
    }

    #[test]
    fn in_access_mode_only_a_navigation_may_start_a_session_even_from_a_listed_helpdesk() {
        let helpdesk = auth(&[
            ("AGENT_AUTH", "access"),
            ("ACCESS_TEAM_DOMAIN", "team.cloudflareaccess.com"),
            ("ACCESS_AUD", "aud-tag"),
            ("AGENT_LAUNCH_ORIGINS", "https://acme.zendesk.com"),
        ]);
        let ticket = Some("https://acme.zendesk.com/agent/tickets/42");
        let with_token = format!("visitorid=s1&launch={TOKEN}");
        for (mode, dest) in [("no-cors", "image"), ("no-cors", "script"), ("cors", "empty"), ("navigate", "object")] {
            let sub =
                Provenance { fetch_mode: Some(mode), fetch_dest: Some(dest), ..navigating("cross-site", "", ticket) };
            let arrival = Arrival::admit("GET", sub, OWN).unwrap();
            assert_eq!(decide(&arrival, &helpdesk, &with_token), Launch::Refuse, "{mode} {dest}");
        }
        for dest in ["document", "iframe"] {
            let arrival = Arrival::admit("GET", navigating("cross-site", dest, ticket), OWN).unwrap();
            assert_eq!(decide(&arrival, &helpdesk, "visitorid=s1"), Launch::Proceed, "{dest}");
        }
    }

    #[test]
    fn a_prefetch_or_prerender_never_starts_a_session_in_any_mode() {
        for purpose in ["prefetch", "prefetch;prerender", "Prefetch"] {
            let guess = Provenance { purpose: Some(purpose), ..navigating("none", "document", None) };
            let arrival = Arrival::admit("GET", guess, OWN).unwrap();
            for mode in every_mode() {
                assert_eq!(
                    decide(&arrival, &mode, &format!("visitorid=s1&launch={TOKEN}")),
                    Launch::Refuse,
                    "{purpose}"
                );
            }
        }
    }

    #[test]
    fn the_confirmation_carries_this_sign_ins_token_in_place_of_the_links_own() {
        assert_eq!(
            confirmation_query(&params("visitorid=s1&launch=forged&permissions=scroll"), TOKEN),
            format!("permissions=scroll&visitorid=s1&launch={TOKEN}")
        );
        let carried = with_launch_token(vec![("agent_id".into(), "a".into())], Some(TOKEN));
        assert_eq!(carried.last(), Some(&("launch".to_owned(), TOKEN.to_owned())));
        assert_eq!(with_launch_token(Vec::new(), None), Vec::new());
    }

    #[test]
    fn in_access_mode_a_request_without_a_launch_token_to_check_against_is_refused() {
        let typed = Arrival::admit("GET", navigating("none", "document", None), OWN).unwrap();
        assert_eq!(typed.launch(&access(), &params(&format!("visitorid=s1&launch={TOKEN}")), None), Launch::Refuse);
        assert_eq!(typed.launch(&access(), &params("visitorid=s1"), Some(TOKEN)), Launch::Proceed);
    }

    #[test]
    fn a_get_is_admitted_from_anywhere_and_asked_to_confirm_only_in_access_mode() {
        let cross_site = Arrival::admit("GET", from(Some("cross-site"), Some("https://evil.example")), OWN).unwrap();
        let [access, signed, none] = every_mode();
        assert_eq!(decide(&cross_site, &access, "visitorid=s1"), Launch::Confirm);
        let others = (decide(&cross_site, &signed, "visitorid=s1"), decide(&cross_site, &none, "visitorid=s1"));
        assert_eq!(others, (Launch::Proceed, Launch::Proceed));
        let typed = Arrival::admit("GET", from(Some("none"), None), OWN).unwrap();
        assert_eq!(decide(&typed, &access, "visitorid=s1"), Launch::Proceed);
    }
}
