//! Identifiers that reach Upscope, as types that cannot hold a bad value.
//!
//! Each one is validated once, when built from untrusted input, against a
//! character set that cannot widen a search (no whitespace, no quotes, no `*`)
//! or add a path segment (no `/`, `?`, `#`, `%`). Values arrive here already
//! percent-decoded once, so `%2F` tricks show up as `%` and are refused.

use std::fmt;

use super::fold::fold;

/// Why an identifier was refused, phrased for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidId {
    pub what: &'static str,
    pub rule: &'static str,
}

impl fmt::Display for InvalidId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not valid: {}", self.what, self.rule)
    }
}

fn check(
    value: &str,
    max_len: usize,
    allowed: fn(char) -> bool,
    what: &'static str,
    rule: &'static str,
) -> Result<String, InvalidId> {
    let ok = !value.is_empty() && value.len() <= max_len && value.chars().all(allowed);
    if ok {
        Ok(value.to_owned())
    } else {
        Err(InvalidId { what, rule })
    }
}

/// Upscope's Short ID of a visitor (as given by `Upscope('getShortId')`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortId(String);

impl ShortId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(value: &str) -> Result<Self, InvalidId> {
        check(
            value,
            Self::MAX_LEN,
            |c| c.is_ascii_alphanumeric() || c == '-' || c == '_',
            "visitor Short ID",
            "use 1 to 64 characters from A-Z, a-z, 0-9, '-' and '_'",
        )
        .map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The company's own ID for a visitor (Upscope's `uniqueId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueId(String);

impl UniqueId {
    pub const MAX_LEN: usize = 128;
    /// Characters allowed besides ASCII letters and digits: enough for
    /// e-mail addresses, UUIDs, `crm:123` and base64url, nothing that
    /// Upscope's search syntax or a URL path treats specially.
    pub const EXTRA_CHARS: &'static str = "-_.@+:=~";

    pub fn parse(value: &str) -> Result<Self, InvalidId> {
        check(
            value,
            Self::MAX_LEN,
            |c| c.is_ascii_alphanumeric() || Self::EXTRA_CHARS.contains(c),
            "visitor ID",
            "use 1 to 128 characters from A-Z, a-z, 0-9 and - _ . @ + : = ~",
        )
        .map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The four-digit code a visitor reads out to an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupCode(String);

impl LookupCode {
    pub fn parse(value: &str) -> Result<Self, InvalidId> {
        // ASCII digits only: full-width or other Unicode digits are refused.
        let ok = value.len() == 4 && value.bytes().all(|b| b.is_ascii_digit());
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidId { what: "lookup code", rule: "enter the four digits (0-9) the visitor reads out" })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest agent or viewer id the gateway accepts, from a link or a
/// token, in characters (Unicode scalar values, so an astral character
/// counts one). The audit trail keeps every id up to it: `audit/limits.mjs`
/// (`MAX_ID_CHARS`, used by `audit/worker.mjs` and `scripts/audit-id.mjs`)
/// holds the same bound, and a test reads this line to keep them equal.
pub const MAX_AGENT_ID_CHARS: usize = 128;

/// What `/view` puts before a viewer's id in what Upscope is sent as the
/// agent, so that a viewer and a staff agent never share an id there.
pub const VIEWER_AGENT_PREFIX: &str = "viewer:";

/// Whether an agent id would read to Upscope as one the gateway makes
/// under `prefix` (`VIEWER_AGENT_PREFIX`, `service_tokens::SERVICE_AGENT_PREFIX`):
/// it starts with it once folded (any case, full-width or look-alike
/// letters, after whitespace or invisible characters), as Upscope may
/// compare ids less strictly than byte for byte. Such ids are refused,
/// never sent.
pub fn in_namespace(agent_id: &str, prefix: &str) -> bool {
    fold(agent_id).trim_start().starts_with(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_id_accepts_upscope_style_ids() {
        assert_eq!(ShortId::parse("aB3_x-9").unwrap().as_str(), "aB3_x-9");
        assert!(ShortId::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn short_id_refuses_path_tricks_and_bounds() {
        for bad in ["", "../x", "a/b", "a%2Fb", "a?b", "a#b", "a b", "a.b", "é"] {
            assert!(ShortId::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(ShortId::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn unique_id_accepts_common_company_ids() {
        for good in ["alice-1001", "alice+x@example.com", "crm:42", "3f2c_9A=", "a~b.c"] {
            assert_eq!(UniqueId::parse(good).unwrap().as_str(), good);
        }
        assert!(UniqueId::parse(&"x".repeat(128)).is_ok());
    }

    #[test]
    fn unique_id_refuses_search_widening_and_control_characters() {
        for bad in [
            "",
            "alice online",
            "a id:b",
            "*",
            "a\tb",
            "a\r\nb",
            "a\0b",
            "a/b",
            "a?b",
            "a#b",
            "a%41",
            "\"a\"",
            "#TAG",
            "a,b",
            "ａｌｉｃｅ",
            "a\u{200b}b",
        ] {
            assert!(UniqueId::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(UniqueId::parse(&"x".repeat(129)).is_err());
    }

    #[test]
    fn lookup_code_is_exactly_four_ascii_digits() {
        assert_eq!(LookupCode::parse("0421").unwrap().as_str(), "0421");
        for bad in ["", "123", "12345", "12a4", "１２３４", "12 4", " 1234", "-123"] {
            assert!(LookupCode::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn the_viewer_namespace_is_recognised_in_any_spelling() {
        for taken in [
            "viewer:cust-9",
            "VIEWER:cust-9",
            "Viewer:",
            " \t viewer:x",
            "\u{3000}viewer:x",
            "\u{200B}viewer:x",
            "\u{FEFF}Viewer:x",
            "\u{FF56}\u{FF49}\u{FF45}\u{FF57}\u{FF45}\u{FF52}\u{FF1A}x",
            "v\u{131}ewer:x",
            "V\u{130}EWER:x",
            "vi\u{AD}ewer:x",
            // Colons and numerals whose compatibility form spells the prefix (issue 25, item 2).
            "viewer\u{FE55}cust-9",
            "viewer\u{FE13}cust-9",
            "\u{2175}ewer:x",
            "V\u{2160}EWER\u{FF1A}x",
        ] {
            assert!(in_namespace(taken, VIEWER_AGENT_PREFIX), "{taken:?}");
        }
        for staff in ["agent-7", "reviewer:7", "viewers", "viewer", "view:er", "viewer-7:x", "a viewer:x", ""] {
            assert!(!in_namespace(staff, VIEWER_AGENT_PREFIX), "{staff:?}");
        }
        for service in ["service\u{FE55}x", "service\u{FE13}x", "ser\u{2165}ce:x", "\u{17F}ervice\u{FE55}x"] {
            assert!(in_namespace(service, crate::core::service_tokens::SERVICE_AGENT_PREFIX), "{service:?}");
        }
    }

    #[test]
    fn refusal_names_the_rule() {
        let err = UniqueId::parse("a b").unwrap_err();
        assert_eq!(
            err.to_string(),
            "visitor ID is not valid: use 1 to 128 characters from A-Z, a-z, 0-9 and - _ . @ + : = ~"
        );
    }
}
