//! Whether a request may start a session by itself, judged by where it came
//! from: Fetch Metadata (`Sec-Fetch-Site`, set by the browser and beyond a
//! page's reach), the `Referer`'s origin and, for a POST, `Origin`.
//!
//! Behind Cloudflare Access the agent's sign-in rides along on every request
//! their browser makes, so any site could send it to `/agent?visitorid=X`
//! and start a session on a visitor of its choosing, audited as the
//! agent's. A link from another site therefore gets a confirmation page
//! (`Launch::Confirm`), whose button is a same-origin POST; only origins the
//! operator lists (their helpdesk) go straight through.

use super::framing::is_origin;
use super::redact;

/// Where a request says it came from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Provenance<'a> {
    /// `Sec-Fetch-Site`: `same-origin`, `same-site`, `cross-site` or `none`.
    pub fetch_site: Option<&'a str>,
    pub referer: Option<&'a str>,
    pub origin: Option<&'a str>,
}

/// What a GET that would start a session does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    Proceed,
    /// Ask the agent first: the request came from another site.
    Confirm,
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

/// A GET naming a visitor: same-origin, typed or bookmarked (`none`), and
/// browsers that send no Fetch Metadata proceed as they always have; any
/// other site (`same-site` too: a sibling subdomain may host anyone's
/// content) is asked, unless its `Referer` is a listed origin.
pub fn launch_by_get(from: &Provenance<'_>, trusted: &LaunchOrigins) -> Launch {
    match from.fetch_site {
        None | Some("same-origin" | "none") => Launch::Proceed,
        Some(_) if from.referer.and_then(origin_of).is_some_and(|o| trusted.contains(&o)) => Launch::Proceed,
        Some(_) => Launch::Confirm,
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
        Provenance { fetch_site: site, referer, origin }
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
    fn only_another_sites_request_is_asked_to_confirm() {
        let none = LaunchOrigins::default();
        for site in [None, Some("same-origin"), Some("none")] {
            assert_eq!(launch_by_get(&from(site, Some("https://evil.example/"), None), &none), Launch::Proceed);
        }
        for site in ["cross-site", "same-site", "something-new"] {
            assert_eq!(launch_by_get(&from(Some(site), None, None), &none), Launch::Confirm, "{site}");
        }
    }

    #[test]
    fn a_listed_helpdesk_goes_straight_through_by_its_referer() {
        let trusted = LaunchOrigins::parse(&["https://acme.zendesk.com"]).unwrap();
        let via = |referer| launch_by_get(&from(Some("cross-site"), referer, None), &trusted);
        assert_eq!(via(Some("https://acme.zendesk.com/agent/tickets/7")), Launch::Proceed);
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
