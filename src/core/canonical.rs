//! The canonical string a signed link's `sig` covers, and the constant-time
//! comparison used to check it. The scheme is documented in docs/routes.md
//! ("Signed links") with a test vector that the suite checks.

use std::fmt::Write;

use super::sort::stable_sort_by;

/// The parameter that carries the signature and is left out of the canonical string.
pub const SIGNATURE_PARAM: &str = "sig";

/// RFC 3986 percent-encoding: unreserved characters (`A-Z a-z 0-9 - . _ ~`)
/// as they are, every other UTF-8 byte as uppercase `%XX`.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// Every parameter but `sig`, name and value percent-encoded, sorted by the
/// encoded name (byte order), joined as `name=value` with `&`. Names are
/// unique: the query parser refuses repeats before this runs.
pub fn canonical_string<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(String, String)> = params
        .into_iter()
        .filter(|(name, _)| *name != SIGNATURE_PARAM)
        .map(|(name, value)| (percent_encode(name), percent_encode(value)))
        .collect();
    stable_sort_by(&mut pairs, |a, b| a.cmp(b));
    pairs.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("&")
}

/// Equality whose running time depends only on the lengths, not on where
/// the inputs first differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_all_but_unreserved() {
        assert_eq!(percent_encode("AZaz09-._~"), "AZaz09-._~");
        assert_eq!(percent_encode("Ann Lee+x/y?z=1&w#é"), "Ann%20Lee%2Bx%2Fy%3Fz%3D1%26w%23%C3%A9");
        assert_eq!(percent_encode("a@b:c*'()!"), "a%40b%3Ac%2A%27%28%29%21");
        assert_eq!(percent_encode("%2F"), "%252F");
        assert_eq!(percent_encode("王"), "%E7%8E%8B");
    }

    #[test]
    fn canonical_string_sorts_by_encoded_name_and_drops_sig() {
        let got = canonical_string([
            ("visitorid", "sAlice01"),
            ("sig", "ignored"),
            ("agent_name", "Ann Lee"),
            ("exp", "1700000000"),
            ("agent_id", "agent-7"),
        ]);
        assert_eq!(got, "agent_id=agent-7&agent_name=Ann%20Lee&exp=1700000000&visitorid=sAlice01");
        // Sorting is on the encoded form: "%C3%A9" sorts before "~".
        assert_eq!(canonical_string([("~", "1"), ("é", "2")]), "%C3%A9=2&~=1");
        assert_eq!(canonical_string([("flag", "")]), "flag=");
        assert_eq!(canonical_string([("sig", "x")]), "");
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        // Issue 28 (a surviving mutant): differences never cancel out. "ab"
        // and "ba" differ by the same bits in both places.
        assert!(!constant_time_eq(b"ab", b"ba"));
        assert!(!constant_time_eq(b"sig-AB", b"sig-BA"));
    }
}
