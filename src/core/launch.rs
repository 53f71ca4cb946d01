//! Whether a request may start a session by itself, judged by where it came
//! from: Fetch Metadata (`Sec-Fetch-Site`, `-Mode`, `-Dest`, set by the
//! browser and beyond a page's reach), the `Referer`'s origin, for a POST
//! `Origin`, and the launch token the gateway's own pages carry.
//!
//! Behind Cloudflare Access the agent's sign-in rides along on every request
//! their browser makes, so any site could send it to `/agent?visitorid=X`
//! and start a session on a visitor of its choosing, audited as the
//! agent's. So only a *navigation* (a followed link, top-level or framed)
//! may start one by itself: an image, script or fetch is refused
//! (`Launch::Refuse`). A navigation from another site gets a confirmation
//! page (`Launch::Confirm`) unless it comes from an origin the operator lists
//! (their helpdesk). And `same-origin` is not proof that the gateway made the
//! request: Cloudflare serves its own pages (a challenge, say) on the
//! gateway's origin, which navigate to the link again once passed. So a
//! same-origin request proceeds only with the launch token that the
//! gateway's console, chooser and confirmation put in their links, which is
//! bound to the agent's Access session and which no other page can read.

use super::canonical::constant_time_eq;
use super::framing::is_origin;
use super::redact;

/// The query parameter that carries the launch token.
pub const LAUNCH_PARAM: &str = "launch";

/// Where a request says it came from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Provenance<'a> {
    /// `Sec-Fetch-Site`: `same-origin`, `same-site`, `cross-site` or `none`.
    pub fetch_site: Option<&'a str>,
    /// `Sec-Fetch-Mode`: `navigate` for a followed link or a submitted form.
    pub fetch_mode: Option<&'a str>,
    /// `Sec-Fetch-Dest`: `document` top-level, `iframe`/`frame` framed.
    pub fetch_dest: Option<&'a str>,
    /// `Sec-Purpose` (or the older `Purpose`): `prefetch`, or
    /// `prefetch;prerender`, when the browser loads a page ahead of a click.
    pub purpose: Option<&'a str>,
    pub referer: Option<&'a str>,
    pub origin: Option<&'a str>,
    /// Whether the request carries this agent's launch token.
    pub launch_token: bool,
}

impl Provenance<'_> {
    /// A followed link or a submitted form, top-level or in a frame. A
    /// browser that sends no mode or destination (older ones) is not held
    /// to it; `<object>` and `<embed>` navigate too, but are no link an
    /// agent follows. Nor is a prefetch or prerender: the browser guessing
    /// a click (speculation rules, or the address bar completing a URL
    /// from history) that may never come.
    pub fn is_navigation(&self) -> bool {
        self.fetch_mode.is_none_or(|mode| mode == "navigate")
            && self.fetch_dest.is_none_or(|dest| matches!(dest, "document" | "iframe" | "frame"))
            && !self.is_speculative()
    }

    /// A prefetch or prerender (`Sec-Purpose: prefetch[;prerender]`).
    pub fn is_speculative(&self) -> bool {
        self.purpose.is_some_and(|p| p.split(';').any(|token| token.trim().eq_ignore_ascii_case("prefetch")))
    }
}

/// Whether `given` (the link's `launch` parameter) is `token`, this
/// sign-in's launch token; compared in constant time.
pub fn carries_launch_token(given: Option<&str>, token: &str) -> bool {
    given.is_some_and(|given| constant_time_eq(given.as_bytes(), token.as_bytes()))
}

/// What a request that would start a session does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    Proceed,
    /// Ask the agent first: the gateway's own pages did not send it.
    Confirm,
    /// Not a navigation from the gateway's own page: 403, nothing started.
    Refuse,
}

/// Origins whose links start sessions without the confirmation click:
/// exact origins only, since a wildcard over a helpdesk vendor's domain
/// would trust every one of its customers' helpdesks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchOrigins(Vec<String>);

impl LaunchOrigins {
    /// Reads `https://acme.zendesk.com`-style origins; anything else is
    /// refused with a reason naming the entry by position and by what of it
    /// cannot hold a credential (`redact::entry`): a pasted helpdesk URL may
    /// carry a password or a token, and the reason reaches `/readyz`.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let mut origins = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let entry = entry.as_ref();
            let trimmed = entry.strip_suffix('/').unwrap_or(entry);
            let named = || redact::entry(i + 1, entry);
            if trimmed.contains('*') {
                return Err(format!(
                    "{} has a wildcard; list each helpdesk origin exactly (a wildcard over a vendor's domain trusts all its customers)",
                    named()
                ));
            }
            match origin_of(trimmed) {
                Some(origin) if is_origin(trimmed) => origins.push(origin),
                _ => return Err(format!("{} is not an origin like https://acme.zendesk.com", named())),
            }
        }
        Ok(Self(origins))
    }

    fn contains(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o == origin)
    }
}

/// A GET naming a visitor. Browsers that send no Fetch Metadata proceed
/// as they always have. Anything but a navigation is refused. A typed or
/// bookmarked address (`none`) proceeds, as does a same-origin navigation
/// with the launch token (the gateway's own console and chooser). Any other
/// navigation is asked to confirm, unless it comes from another site whose
/// `Referer` is a listed origin (`same-site` counts as another site: a
/// sibling subdomain may host anyone's content).
pub fn launch_by_get(from: &Provenance<'_>, trusted: &LaunchOrigins) -> Launch {
    let Some(site) = from.fetch_site else { return Launch::Proceed };
    if !from.is_navigation() {
        return Launch::Refuse;
    }
    let listed = || from.referer.and_then(origin_of).is_some_and(|o| trusted.contains(&o));
    match site {
        "none" => Launch::Proceed,
        "same-origin" if from.launch_token => Launch::Proceed,
        "cross-site" | "same-site" if listed() => Launch::Proceed,
        _ => Launch::Confirm,
    }
}

/// A POST (the confirmation's button) is accepted only from the gateway's
/// own pages: `Sec-Fetch-Site: same-origin`, or, from a browser without
/// Fetch Metadata, an `Origin` equal to the gateway's.
pub fn confirmed_by_post(from: &Provenance<'_>, own_origin: &str) -> bool {
    match from.fetch_site {
        Some(site) => site == "same-origin",
        None => from.origin.and_then(origin_of).is_some_and(|o| Some(o) == origin_of(own_origin)),
    }
}

/// A POST that `confirmed_by_post` let through: it starts the session only
/// with the launch token, which the confirmation's form carries. Without it
/// the POST came from another page on the gateway's origin (a challenge
/// replaying a POST another site sent): the agent is asked.
pub fn launch_by_post(from: &Provenance<'_>) -> Launch {
    // Without `Sec-Fetch-Site` the browser sends no Fetch Metadata at all.
    let navigation = from.fetch_site.is_none() || from.is_navigation();
    match (navigation, from.launch_token) {
        (false, _) => Launch::Refuse,
        (true, true) => Launch::Proceed,
        (true, false) => Launch::Confirm,
    }
}

/// The origin (`scheme://host[:port]`, lowercased, default port dropped) of
/// an absolute http(s) URL; `None` for anything else, userinfo included.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from<'a>(site: Option<&'a str>, referer: Option<&'a str>, origin: Option<&'a str>) -> Provenance<'a> {
        Provenance { fetch_site: site, referer, origin, ..Provenance::default() }
    }

    fn navigating<'a>(site: &'a str, dest: &'a str, referer: Option<&'a str>, token: bool) -> Provenance<'a> {
        Provenance {
            fetch_site: Some(site),
            fetch_mode: Some("navigate"),
            fetch_dest: Some(dest),
            referer,
            launch_token: token,
            ..Provenance::default()
        }
    }

    #[test]
    fn origins_are_compared_as_origins() {
        assert_eq!(origin_of("https://Help.Example.com:443/a?b#c").as_deref(), Some("https://help.example.com"));
        assert_eq!(origin_of("http://localhost:8787/agent").as_deref(), Some("http://localhost:8787"));
        assert_eq!(origin_of("http://x.example:80").as_deref(), Some("http://x.example"));
        for bad in ["javascript:alert(1)", "https://", "https://user@help.example.com/", "ftp://x.example/", "/agent"] {
            assert_eq!(origin_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn launch_origins_are_exact_origins() {
        let trusted = LaunchOrigins::parse(&["https://Acme.Zendesk.com/", "http://localhost:3000"]).unwrap();
        assert_eq!(trusted.0, ["https://acme.zendesk.com", "http://localhost:3000"]);
        for (bad, named) in [
            ("https://*.zendesk.com", "entry 1 (https://*.zendesk.com/)"),
            ("acme.zendesk.com", "entry 1 (acme.zendesk.com)"),
            ("https://acme.zendesk.com/agent", "entry 1 (https://acme.zendesk.com/agent)"),
            ("'self'", "entry 1 ('self')"),
            ("*", "entry 1 has"),
        ] {
            let err = LaunchOrigins::parse(&[bad]).unwrap_err();
            assert!(err.starts_with(named), "{bad}: {err}");
        }
        assert!(LaunchOrigins::parse(&["https://*.zendesk.com"]).unwrap_err().contains("wildcard"));
        // A pasted URL's password or query is never repeated: the reason reaches /readyz.
        for leaky in [
            "https://desk:hunter2@acme.zendesk.com",
            "https://acme.zendesk.com/?token=s3cret",
            "https://*.z.com/?token=s3cret",
        ] {
            let err = LaunchOrigins::parse(&["https://ok.example", leaky]).unwrap_err();
            assert!(err.starts_with("entry 2") && !err.contains("hunter2") && !err.contains("s3cret"), "{err}");
        }
    }

    #[test]
    fn only_typed_links_and_the_gateways_own_pages_proceed_without_asking() {
        let none = LaunchOrigins::default();
        assert_eq!(launch_by_get(&from(None, Some("https://evil.example/"), None), &none), Launch::Proceed);
        assert_eq!(launch_by_get(&from(Some("none"), None, None), &none), Launch::Proceed);
        assert_eq!(launch_by_get(&navigating("none", "document", None, false), &none), Launch::Proceed);
        assert_eq!(launch_by_get(&navigating("same-origin", "document", None, true), &none), Launch::Proceed);
        // Same-origin without the token: a page Cloudflare serves on the gateway's origin.
        let challenge = navigating("same-origin", "document", Some("https://gw.example/agent?visitorid=x"), false);
        assert_eq!(launch_by_get(&challenge, &none), Launch::Confirm);
        for site in ["cross-site", "same-site", "something-new"] {
            assert_eq!(launch_by_get(&from(Some(site), None, None), &none), Launch::Confirm, "{site}");
            assert_eq!(launch_by_get(&navigating(site, "iframe", None, true), &none), Launch::Confirm, "{site}");
        }
    }

    #[test]
    fn what_is_not_a_navigation_is_refused_from_anywhere() {
        let trusted = LaunchOrigins::parse(&["https://acme.zendesk.com"]).unwrap();
        let helpdesk = Some("https://acme.zendesk.com/agent/tickets/7");
        for site in ["cross-site", "same-site", "same-origin", "none"] {
            for (mode, dest) in [("no-cors", "image"), ("no-cors", "script"), ("cors", "empty"), ("navigate", "object")]
            {
                let sub = Provenance {
                    fetch_site: Some(site),
                    fetch_mode: Some(mode),
                    fetch_dest: Some(dest),
                    referer: helpdesk,
                    launch_token: true,
                    ..Provenance::default()
                };
                assert_eq!(launch_by_get(&sub, &trusted), Launch::Refuse, "{site} {mode} {dest}");
                assert_eq!(launch_by_post(&sub), Launch::Refuse, "{site} {mode} {dest}");
            }
        }
    }

    #[test]
    fn a_post_starts_a_session_only_with_the_launch_token() {
        assert_eq!(launch_by_post(&navigating("same-origin", "document", None, true)), Launch::Proceed);
        assert_eq!(launch_by_post(&navigating("same-origin", "document", None, false)), Launch::Confirm);
        assert_eq!(launch_by_post(&from(None, None, Some("https://gw.example"))), Launch::Confirm);
    }

    #[test]
    fn a_listed_helpdesk_goes_straight_through_by_its_referer() {
        let trusted = LaunchOrigins::parse(&["https://acme.zendesk.com"]).unwrap();
        let via = |referer| launch_by_get(&from(Some("cross-site"), referer, None), &trusted);
        assert_eq!(via(Some("https://acme.zendesk.com/agent/tickets/7")), Launch::Proceed);
        for dest in ["document", "iframe", "frame"] {
            let framed = navigating("cross-site", dest, Some("https://acme.zendesk.com/t/7"), false);
            assert_eq!(launch_by_get(&framed, &trusted), Launch::Proceed, "{dest}");
        }
        assert_eq!(via(Some("https://ACME.zendesk.com")), Launch::Proceed);
        for other in [
            Some("https://acme.zendesk.com.evil.example/"),
            Some("http://acme.zendesk.com/"),
            Some("https://evil.zendesk.com/"),
            Some("https://user@acme.zendesk.com/"),
            None,
        ] {
            assert_eq!(via(other), Launch::Confirm, "{other:?}");
        }
    }

    #[test]
    fn a_confirmation_is_accepted_from_the_gateways_own_page_only() {
        let own = "https://gw.example.com";
        assert!(confirmed_by_post(&from(Some("same-origin"), None, Some(own)), own));
        assert!(confirmed_by_post(&from(None, None, Some("https://GW.example.com:443")), own));
        for (site, origin) in [
            (Some("cross-site"), Some(own)),
            (Some("same-site"), Some("https://a.example.com")),
            (Some("none"), None),
            (None, Some("https://evil.example")),
            (None, Some("null")),
            (None, None),
        ] {
            assert!(!confirmed_by_post(&from(site, None, origin), own), "{site:?} {origin:?}");
        }
    }
}
