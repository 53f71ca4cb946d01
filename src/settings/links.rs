//! The secrets that sign links, one per route: each with the secret it
//! replaces during a rotation, a minimum length, how far ahead a link's
//! `exp` may lie, and no two routes sharing one.

use super::names::{
    AGENT_LINK_SECRET, AGENT_LINK_SECRET_PREVIOUS, VIEWER_LINK_SECRET, VIEWER_LINK_SECRET_PREVIOUS,
    VISITOR_LINK_MAX_TTL, VISITOR_LINK_SECRET, VISITOR_LINK_SECRET_PREVIOUS,
};
use super::source::{misconfigured, secret, whole_number, Source};
use crate::error::GatewayError;

pub const DEFAULT_LINK_MAX_TTL_SECONDS: u64 = 300;
const MAX_LINK_MAX_TTL_SECONDS: u64 = 7 * 24 * 3600;
/// HMAC keys shorter than this are too easy to guess offline from one link.
pub const MIN_LINK_SECRET_CHARS: usize = 32;
/// Every secret that signs or verifies links, with the route it serves. A
/// secret of one route equal to one of another's would let a link minted for
/// one open the other (an agent link as a signed visitor ID).
const LINK_SECRETS: [(&str, &str); 6] = [
    (AGENT_LINK_SECRET, "/agent"),
    (AGENT_LINK_SECRET_PREVIOUS, "/agent"),
    (VISITOR_LINK_SECRET, "/visitor"),
    (VISITOR_LINK_SECRET_PREVIOUS, "/visitor"),
    (VIEWER_LINK_SECRET, "/view"),
    (VIEWER_LINK_SECRET_PREVIOUS, "/view"),
];
/// The partner of a link secret that still verifies during a rotation.
const PREVIOUS_SUFFIX: &str = "_PREVIOUS";

/// A secret that signs links, the one it replaces (still accepted during a
/// rotation), and how far ahead a link's `exp` may lie.
/// Deliberately not `Debug`: it holds the secrets.
pub struct LinkKey {
    pub secret: String,
    pub previous: Option<String>,
    pub max_ttl_seconds: u64,
}

/// `VISITOR_LINK_SECRET`: when set, `/visitor?uniqueid=` links must be signed.
pub(super) fn visitor_link_key(src: &impl Source) -> Result<Option<LinkKey>, GatewayError> {
    link_key(src, VISITOR_LINK_SECRET, VISITOR_LINK_MAX_TTL)
}

/// The secret `secret_name` and its `_PREVIOUS` partner, checked: long
/// enough, and unlike every secret of another route.
pub(super) fn link_key(src: &impl Source, secret_name: &str, ttl_name: &str) -> Result<Option<LinkKey>, GatewayError> {
    let previous_name = format!("{secret_name}{PREVIOUS_SUFFIX}");
    let (current, previous) = (secret(src, secret_name), secret(src, &previous_name));
    let Some(current) = current else {
        return match previous {
            // Without the current secret, signing would silently be off.
            Some(_) => Err(misconfigured(format!(
                "{previous_name} is set but {secret_name} is not: put the new secret in {secret_name}, or delete {previous_name}"
            ))),
            None => Ok(None),
        };
    };
    for (name, value) in [(secret_name, Some(&current)), (previous_name.as_str(), previous.as_ref())] {
        if value.is_some_and(|v| v.chars().count() < MIN_LINK_SECRET_CHARS) {
            return Err(misconfigured(format!(
                "{name} is shorter than {MIN_LINK_SECRET_CHARS} characters (generate one with: openssl rand -base64 32)"
            )));
        }
    }
    link_secrets_are_distinct(src)?;
    let max_ttl_seconds = whole_number(
        src,
        ttl_name,
        DEFAULT_LINK_MAX_TTL_SECONDS,
        1..=MAX_LINK_MAX_TTL_SECONDS,
        "a whole number of seconds, 1 to 604800",
    )?;
    Ok(Some(LinkKey { secret: current, previous, max_ttl_seconds }))
}

/// No secret of one route equals a secret of another; the error names both.
fn link_secrets_are_distinct(src: &impl Source) -> Result<(), GatewayError> {
    let set: Vec<(&str, &str, String)> =
        LINK_SECRETS.iter().filter_map(|&(name, route)| Some((name, route, secret(src, name)?))).collect();
    for (i, (first, first_route, value)) in set.iter().enumerate() {
        if let Some((second, ..)) = set[i + 1..].iter().find(|(_, route, other)| route != first_route && other == value)
        {
            return Err(misconfigured(format!(
                "{first} and {second} are the same secret; give each its own (openssl rand -base64 32), \
or a link signed for one route opens the other"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::settings::source::tests::vars;
    use crate::settings::AgentAuth;

    #[test]
    fn equal_link_secrets_are_refused_naming_both() {
        let secret = "0123456789abcdef0123456789abcdef";
        let both =
            vars(&[("AGENT_AUTH", "signed-link"), ("AGENT_LINK_SECRET", secret), ("VISITOR_LINK_SECRET", secret)]);
        let from_agent = AgentAuth::load(&both).err().unwrap();
        let from_visitor = visitor_link_key(&both).err().unwrap();
        for err in [from_agent, from_visitor] {
            assert_eq!(err.status(), 500);
            assert!(
                err.message().contains("AGENT_LINK_SECRET and VISITOR_LINK_SECRET are the same secret"),
                "{}",
                err.message()
            );
            assert!(!err.message().contains(secret), "never echo a secret");
        }
        // Equal once trimmed is equal.
        let padded = format!("{secret}\n");
        let trimmed_twins = HashMap::from([("VISITOR_LINK_SECRET", padded.as_str()), ("AGENT_LINK_SECRET", secret)]);
        assert!(visitor_link_key(&trimmed_twins).is_err());
        let distinct =
            vars(&[("AGENT_LINK_SECRET", secret), ("VISITOR_LINK_SECRET", "fedcba9876543210fedcba9876543210")]);
        assert!(visitor_link_key(&distinct).unwrap().is_some());
    }

    #[test]
    fn previous_secrets_verify_during_a_rotation_and_are_checked_alike() {
        let (new, old) = ("new-secret-0123456789abcdef01234567", "old-secret-0123456789abcdef01234567");
        let key = visitor_link_key(&vars(&[("VISITOR_LINK_SECRET", new), ("VISITOR_LINK_SECRET_PREVIOUS", old)]))
            .unwrap()
            .unwrap();
        assert_eq!((key.secret.as_str(), key.previous.as_deref()), (new, Some(old)));
        let cases: [(&[(&str, &str)], &str); 4] = [
            (
                &[("VISITOR_LINK_SECRET_PREVIOUS", old)],
                "VISITOR_LINK_SECRET_PREVIOUS is set but VISITOR_LINK_SECRET is not",
            ),
            (
                &[("VISITOR_LINK_SECRET", new), ("VISITOR_LINK_SECRET_PREVIOUS", "short")],
                "VISITOR_LINK_SECRET_PREVIOUS is shorter",
            ),
            (
                &[("VISITOR_LINK_SECRET", new), ("AGENT_LINK_SECRET_PREVIOUS", new), ("AGENT_LINK_SECRET", old)],
                "AGENT_LINK_SECRET_PREVIOUS and VISITOR_LINK_SECRET are the same secret",
            ),
            (
                &[("VISITOR_LINK_SECRET", new), ("VISITOR_LINK_SECRET_PREVIOUS", old), ("AGENT_LINK_SECRET", old)],
                "AGENT_LINK_SECRET and VISITOR_LINK_SECRET_PREVIOUS are the same secret",
            ),
        ];
        for (pairs, expected) in cases {
            let err = visitor_link_key(&pairs.iter().copied().collect::<HashMap<_, _>>()).err().unwrap();
            assert!(err.message().contains(expected), "{pairs:?}: {}", err.message());
        }
        // Within one route, the previous secret may equal the current one (a no-op rotation).
        assert!(visitor_link_key(&vars(&[("VISITOR_LINK_SECRET", new), ("VISITOR_LINK_SECRET_PREVIOUS", new)])).is_ok());
    }

    #[test]
    fn visitor_link_key_is_optional_but_checked() {
        assert!(visitor_link_key(&vars(&[])).unwrap().is_none());
        let key = visitor_link_key(&vars(&[
            ("VISITOR_LINK_SECRET", "0123456789abcdef0123456789abcdef"),
            ("VISITOR_LINK_MAX_TTL", "3600"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(key.max_ttl_seconds, 3600);
        // Issue 28 (cargo-mutants): a week, to the second, is the longest.
        let week = visitor_link_key(&vars(&[
            ("VISITOR_LINK_SECRET", "0123456789abcdef0123456789abcdef"),
            ("VISITOR_LINK_MAX_TTL", "604800"),
        ]));
        assert_eq!(week.unwrap().unwrap().max_ttl_seconds, 604_800);
        for ttl in ["0", "-1", "604801", "soon"] {
            let err = visitor_link_key(&vars(&[
                ("VISITOR_LINK_SECRET", "0123456789abcdef0123456789abcdef"),
                ("VISITOR_LINK_MAX_TTL", ttl),
            ]))
            .err()
            .unwrap();
            assert!(err.message().contains("VISITOR_LINK_MAX_TTL"), "{ttl}");
        }
        let err = visitor_link_key(&vars(&[("VISITOR_LINK_SECRET", "too-short-secret")])).err().unwrap();
        assert!(!err.message().contains("too-short-secret"), "never echo a secret");
    }
}
