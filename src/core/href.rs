//! The path and query of a request URL as the runtime serialises it.
//!
//! The runtime hands over `request.url` already parsed and normalised (a
//! WHATWG URL serialisation), so splitting the text gives exactly what a
//! second parse would, without one per request.

/// `(path, query)` of an absolute `scheme://authority/path?query` URL;
/// `None` for anything else. A fragment, never sent by clients, is dropped.
pub fn path_and_query(href: &str) -> Option<(&str, Option<&str>)> {
    let after_scheme = &href[href.find("://")? + 3..];
    let rest = &after_scheme[after_scheme.find('/')?..];
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    Some(match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    })
}

#[cfg(test)]
mod tests {
    use super::path_and_query;

    #[test]
    fn splits_what_the_url_crate_would_parse() {
        for href in [
            "https://gw.example/agent?visitorid=s1&agent_id=a",
            "http://127.0.0.1:8787/visitor",
            "https://gw.example/",
            "https://gw.example/view?",
            "https://user:pw@gw.example:8443/a/b%20c?x=%2F&y=?z",
            "https://gw.example/p?q#frag",
            "https://[2001:db8::1]:8787/agent?lookup=4821",
            // Issue 28 (a surviving mutant): short host names, where an
            // offset counted wrongly lands past the authority.
            "https://x.io/agent/a?lookup=4821",
            "http://h/v/w",
        ] {
            let parsed = url::Url::parse(href).unwrap();
            assert_eq!(path_and_query(href), Some((parsed.path(), parsed.query())), "{href}");
        }
    }

    #[test]
    fn anything_but_an_absolute_url_with_a_path_is_none() {
        for href in ["", "/agent", "gw.example/agent", "https://gw.example"] {
            assert_eq!(path_and_query(href), None, "{href}");
        }
    }
}
