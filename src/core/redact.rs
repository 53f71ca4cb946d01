//! What of a setting's value a message may show. Settings errors reach the
//! public `/readyz` and every page of a misconfigured route, so a value is
//! shown only by the parts that cannot carry a credential.

use url::Url;

/// `text` as a message may show it: a URL as `scheme://host[:port]/path`,
/// never its user name, password, query or fragment; other text only when
/// it is a host name (`shop.example.com`, `*.example.com`) or a quoted
/// keyword (`'self'`), which cannot hide a credential the way `user:pw@`
/// or `?token=` can. `None` when nothing of it is safe to show.
pub fn shown(text: &str) -> Option<String> {
    if let Some(url) = Url::parse(text).ok().filter(|url| url.has_host()) {
        let port = url.port().map(|port| format!(":{port}")).unwrap_or_default();
        return Some(format!("{}://{}{port}{}", url.scheme(), url.host_str()?, url.path()));
    }
    let host = text.strip_prefix("*.").unwrap_or(text);
    let host_name = host.contains('.')
        && host
            .split('.')
            .all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let keyword = text.len() > 2
        && text.starts_with('\'')
        && text.ends_with('\'')
        && text[1..text.len() - 1].bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
    ((host_name || keyword) && text.len() <= 100).then(|| text.to_owned())
}

/// Entry `position` (from 1) of a list setting, for a message: `entry 2
/// (https://shop.example.com/help)`, or `entry 2` when nothing of it is safe
/// to show.
pub fn entry(position: usize, text: &str) -> String {
    match shown(text) {
        Some(shown) => format!("entry {position} ({shown})"),
        None => format!("entry {position}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_credentials_query_or_fragment() {
        for (text, want) in [
            ("https://user:hunter2@shop.example.com/a?token=s3cret#frag", "https://shop.example.com/a"),
            ("https://:hunter2@shop.example.com:8443/a/b", "https://shop.example.com:8443/a/b"),
            ("HTTPS://Shop.Example.com:443", "https://shop.example.com/"),
            ("http://127.0.0.1:8788/v1.3?key=s3cret", "http://127.0.0.1:8788/v1.3"),
            ("ftp://user:hunter2@files.example.com/x", "ftp://files.example.com/x"),
        ] {
            assert_eq!(shown(text).as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn plain_host_names_and_keywords_are_shown_as_they_are() {
        for text in ["shop.example.com", "*.example.com", "xn--mller-kva.example", "'self'", "'none'"] {
            assert_eq!(shown(text).as_deref(), Some(text));
        }
    }

    #[test]
    fn anything_that_could_hide_a_credential_is_not_shown() {
        for text in [
            "user:hunter2@shop.example.com",
            "hunter2",
            "shop.example.com?token=s3cret",
            "javascript:fetch('//x/?token=s3cret')",
            "data:text/plain,s3cret",
            "https://shop.example.com:port/?token=s3cret",
            "https://a.example; script-src *",
            "'s3cret key'",
            "''",
            &format!("{}.example.com", "a".repeat(100)),
        ] {
            assert_eq!(shown(text), None, "{text}");
        }
    }

    /// Issue 28: a quoted entry is shown only when it is a keyword of lower
    /// case letters and dashes (`'self'`): a quoted secret (`'s3cret'`), a
    /// CSP nonce or hash (digits, capitals, `+/=`) never reaches a message,
    /// even without a space in it.
    #[test]
    fn a_quoted_entry_other_than_a_plain_keyword_is_never_echoed() {
        for text in [
            "'s3cret'",
            "'hunter2'",
            "'Secret'",
            "'nonce-2726c7f26c'",
            "'nonce-R2Vh+c2V/cmV0='",
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
            "'a_b'",
            "'a.b'",
            "'self",
            "self'",
            "'",
        ] {
            assert_eq!(shown(text), None, "{text}");
            assert_eq!(entry(3, text), "entry 3", "{text}");
        }
        assert_eq!(shown("'unsafe-inline'").as_deref(), Some("'unsafe-inline'"));
        assert_eq!(shown("'a'").as_deref(), Some("'a'"), "the shortest keyword");
        let long = format!("'{}'", "a".repeat(98));
        assert_eq!(shown(&long).as_deref(), Some(long.as_str()), "100 characters are shown");
        assert_eq!(shown(&format!("'{}'", "a".repeat(99))), None, "101 are not");
    }

    #[test]
    fn entries_are_named_by_position() {
        assert_eq!(entry(2, "https://user:pw@shop.example.com/help?t=1"), "entry 2 (https://shop.example.com/help)");
        assert_eq!(entry(1, "user:pw@shop"), "entry 1");
    }
}
