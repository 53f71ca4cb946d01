//! Who may frame the pages the gateway renders itself (error pages, and the
//! agent console), as a `Content-Security-Policy`. Redirects leave the
//! gateway at once; the policy matters for what a browser actually shows.

use super::redact;

/// The `frame-ancestors` sources allowed for one route; empty means `'none'`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameAncestors(Vec<String>);

impl FrameAncestors {
    pub const NONE: Self = Self(Vec::new());

    /// Reads a list of origins (`https://shop.example.com`, `https://*.example.com`,
    /// `http://localhost:3000`) or `'self'`. Anything with a path, query or
    /// another scheme is refused, naming the entry by position and by what of
    /// it cannot hold a credential (`redact::entry`).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let mut origins = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let entry = entry.as_ref();
            let origin = entry.strip_suffix('/').unwrap_or(entry);
            if origin == "'self'" || is_origin(origin) {
                origins.push(origin.to_ascii_lowercase());
            } else {
                return Err(format!(
                    "{} is not an origin (scheme://host[:port], nothing more) like https://shop.example.com",
                    redact::entry(i + 1, entry)
                ));
            }
        }
        Ok(Self(origins))
    }

    /// The whole policy for a gateway page: nothing loads but inline styles,
    /// and only these origins may frame it. No `form-action`: browsers apply
    /// it to redirects too, and the console's form ends at Upscope's
    /// `watch_url`, whose host the gateway cannot know in advance.
    pub fn content_security_policy(&self) -> String {
        let ancestors = if self.0.is_empty() { "'none'".to_owned() } else { self.0.join(" ") };
        format!("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; frame-ancestors {ancestors}")
    }
}

/// `http(s)://host[:port]`, with an optional leading `*.` label; no path.
pub fn is_origin(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://")) else {
        return false;
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let host = host.strip_prefix("*.").unwrap_or(host);
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_none() {
        assert!(FrameAncestors::NONE.content_security_policy().ends_with("frame-ancestors 'none'"));
        let parsed = FrameAncestors::parse::<&str>(&[]).unwrap();
        assert_eq!(parsed, FrameAncestors::NONE);
    }

    #[test]
    fn lists_origins() {
        let f = FrameAncestors::parse(&[
            "https://Shop.Example.com/",
            "https://*.example.com",
            "http://localhost:3000",
            "'self'",
        ])
        .unwrap();
        assert!(f
            .content_security_policy()
            .ends_with("frame-ancestors https://shop.example.com https://*.example.com http://localhost:3000 'self'"));
        assert!(f.content_security_policy().starts_with("default-src 'none'; "));
    }

    #[test]
    fn refuses_what_is_not_an_origin_naming_the_entry_as_far_as_it_is_safe() {
        for (bad, named) in [
            ("shop.example.com", "entry 2 (shop.example.com)"),
            ("https://shop.example.com/help", "entry 2 (https://shop.example.com/help)"),
            ("https://shop.example.com?x", "entry 2 (https://shop.example.com/)"),
            ("ftp://shop.example.com", "entry 2 (ftp://shop.example.com/)"),
            ("https://", "entry 2 is"),
            ("https://a..b", "entry 2 (https://a..b/)"),
            ("https://a.example:port", "entry 2 is"),
            ("*", "entry 2 is"),
            ("https://a.example; script-src *", "entry 2 is"),
            ("'none'", "entry 2 ('none')"),
            ("https://user:hunter2@shop.example.com/?token=s3cret", "entry 2 (https://shop.example.com/)"),
        ] {
            let err = FrameAncestors::parse(&["'self'", bad]).unwrap_err();
            assert!(err.starts_with(named) && err.contains("is not an origin"), "{bad}: {err}");
            assert!(!err.contains("hunter2") && !err.contains("s3cret") && !err.contains("script-src"), "{err}");
        }
    }
}
