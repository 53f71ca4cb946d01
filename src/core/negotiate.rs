//! Content negotiation for error bodies: JSON only when the client prefers it.

/// Quality the `Accept` header gives `media` ("type/subtype"), using the most
/// specific matching range, as RFC 9110 §12.5.1 says.
fn quality(accept: &str, media: &str) -> f32 {
    let (kind, _) = media.split_once('/').unwrap_or((media, ""));
    let mut best: Option<(u8, f32)> = None; // (specificity, q)
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q =
            parts.filter_map(|p| p.trim().strip_prefix("q=")).find_map(|v| v.trim().parse::<f32>().ok()).unwrap_or(1.0);
        let specificity = if name == media {
            3
        } else if name.strip_suffix("/*") == Some(kind) {
            2
        } else if name == "*/*" {
            1
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

/// True when `Accept` ranks `application/json` above `text/html`.
/// Ties (including `*/*` and no header) go to HTML: browsers are the main audience.
pub fn prefers_json(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return false };
    quality(accept, "application/json") > quality(accept, "text/html")
}

#[cfg(test)]
mod tests {
    use super::prefers_json;

    #[test]
    fn json_only_when_preferred() {
        assert!(prefers_json(Some("application/json")));
        assert!(prefers_json(Some("application/json, text/html;q=0.5")));
        assert!(prefers_json(Some("text/html;q=0.1, application/*")));
        assert!(!prefers_json(None));
        assert!(!prefers_json(Some("*/*")));
        assert!(!prefers_json(Some("text/html,application/xhtml+xml,*/*;q=0.8")));
        assert!(!prefers_json(Some("application/json;q=0.5, text/html")));
        assert!(!prefers_json(Some("application/json;q=0")));
    }
}
