//! Who may frame the pages the gateway renders itself (error pages, and the
//! agent console), as a `Content-Security-Policy`. Redirects leave the
//! gateway at once; the policy matters for what a browser actually shows.

/// The `frame-ancestors` sources allowed for one route; empty means `'none'`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameAncestors(Vec<String>);

impl FrameAncestors {
    pub const NONE: Self = Self(Vec::new());

    /// Reads a list of origins (`https://shop.example.com`, `https://*.example.com`,
    /// `http://localhost:3000`) or `'self'`. Anything with a path, query or
    /// another scheme is refused, naming the entry.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let mut origins = Vec::new();
        for entry in entries {
            let entry = entry.as_ref();
            let origin = entry.strip_suffix('/').unwrap_or(entry);
            if origin == "'self'" || is_origin(origin) {
                origins.push(origin.to_ascii_lowercase());
            } else {
                return Err(format!("'{entry}' is not an origin like https://shop.example.com"));
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
    fn refuses_what_is_not_an_origin() {
        for bad in [
            "shop.example.com",
            "https://shop.example.com/help",
            "https://shop.example.com?x",
            "ftp://shop.example.com",
            "https://",
            "https://a..b",
            "https://a.example:port",
            "*",
            "https://a.example; script-src *",
            "'none'",
        ] {
            let err = FrameAncestors::parse(&[bad]).unwrap_err();
            assert!(err.contains(bad), "{bad}: {err}");
        }
    }
}
