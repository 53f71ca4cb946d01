//! Content negotiation for error bodies: JSON only when the client prefers it.

use super::text::thousandths;

/// Quality the `Accept` header gives `media` ("type/subtype"), using the most
/// specific matching range, as RFC 9110 §12.5.1 says; in thousandths (1000 = q=1).
fn quality(accept: &str, media: &str) -> u16 {
    let (kind, _) = media.split_once('/').unwrap_or((media, ""));
    let mut best: Option<(u8, u16)> = None; // (specificity, q)
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts.filter_map(|p| p.trim().strip_prefix("q=")).find_map(|v| qvalue(v.trim())).unwrap_or(1000);
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
    best.map_or(0, |(_, q)| q)
}

/// An RFC 9110 qvalue (`0`, `0.5`, `1.000`: at most three decimals) in
/// thousandths; read by hand, since a float parser costs the wasm kilobytes.
fn qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !matches!(whole, "0" | "1") || fraction.len() > 3 || !digits(fraction) {
        return None;
    }
    let thousandths = thousandths(fraction);
    let q = if whole == "1" { 1000 + thousandths } else { thousandths };
    (q <= 1000).then_some(q)
}

/// True when `Accept` ranks `application/json` above `text/html`.
/// Ties (including `*/*` and no header) go to HTML: browsers are the main audience.
pub fn prefers_json(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return false };
    quality(accept, "application/json") > quality(accept, "text/html")
}

#[cfg(test)]
mod tests {
    use super::{prefers_json, qvalue};

    #[test]
    fn qvalues_are_read_in_thousandths() {
        assert_eq!(
            [qvalue("1"), qvalue("0"), qvalue("0.5"), qvalue("0.125"), qvalue("1.000")],
            [Some(1000), Some(0), Some(500), Some(125), Some(1000)]
        );
        for bad in ["", "1.5", "2", "0.1234", "-0.5", "0.x", ".5", "1e0"] {
            assert_eq!(qvalue(bad), None, "{bad:?}");
        }
    }

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

    /// Issue 28 (cargo-mutants): the most specific range wins wherever it is
    /// in the list; of two equally specific ones, the first.
    #[test]
    fn the_most_specific_range_wins_in_any_order() {
        assert!(prefers_json(Some("*/*;q=0.1, application/json")));
        assert!(prefers_json(Some("application/*;q=0.1, text/html;q=0.5, application/json")));
        assert!(!prefers_json(Some("application/json;q=0.1, application/json, text/html;q=0.5")));
    }
}
