//! Cloudflare Access service tokens that may act as agents
//! (`ACCESS_SERVICE_TOKENS`). A machine that passed Access with a service
//! token (a smoke run, a helpdesk backend) carries no person's identity:
//! Access names it only by the token's Client ID, so the operator names the
//! agent it stands for.

/// Agent ids of service tokens start with this; a person's never does (see
/// `auth::jwt` and `ids::in_namespace`), so no one can sign in as a listed service or collide with it.
pub const SERVICE_AGENT_PREFIX: &str = "service:";
/// Cloudflare's Client IDs (`CF-Access-Client-Id`) end so. Requiring it
/// catches a Client Secret or token name pasted in the ID's place.
const CLIENT_ID_SUFFIX: &str = ".access";
/// Room for the prefix within an agent id's characters.
const MAX_CLIENT_ID_CHARS: usize = super::ids::MAX_AGENT_ID_CHARS - SERVICE_AGENT_PREFIX.len();
/// As for any agent's name, from a link or a token.
const MAX_NAME_CHARS: usize = 100;

/// Client ID → agent name, in the order listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceTokens(Vec<(String, String)>);

impl ServiceTokens {
    /// Reads `<client id>=<agent name>` entries separated by commas or line
    /// breaks (names may hold spaces, so spaces do not separate). A reason
    /// names an entry by its position, or by its client id once that is
    /// known to be one: never anything else, which could be a pasted secret.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut tokens: Vec<(String, String)> = Vec::new();
        let entries = text.split([',', '\n']).map(str::trim).filter(|entry| !entry.is_empty());
        for (n, entry) in (1..).zip(entries) {
            let (id, name) =
                entry.split_once('=').ok_or_else(|| format!("entry {n} is not <client id>=<agent name>"))?;
            let (id, name) = (id.trim(), name.trim());
            if !is_client_id(id) {
                return Err(format!(
                    "entry {n}: the client id is not a service token's Client ID (the CF-Access-Client-Id value, \
ending in {CLIENT_ID_SUFFIX})"
                ));
            }
            if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
                return Err(format!(
                    "the agent name for {id} must be 1 to {MAX_NAME_CHARS} characters, without control characters"
                ));
            }
            if tokens.iter().any(|(known, _)| known == id) {
                return Err(format!("{id} is listed twice"));
            }
            tokens.push((id.to_owned(), name.to_owned()));
        }
        Ok(Self(tokens))
    }

    /// The agent name listed for this Client ID, compared exactly.
    pub fn name_of(&self, client_id: &str) -> Option<&str> {
        self.0.iter().find(|(id, _)| id == client_id).map(|(_, name)| name.as_str())
    }
}

/// `<letters, digits, - or _>.access`, short enough to fit an agent id.
fn is_client_id(id: &str) -> bool {
    let stem = id.strip_suffix(CLIENT_ID_SUFFIX).unwrap_or_default();
    !stem.is_empty()
        && id.len() <= MAX_CLIENT_ID_CHARS
        && stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ids::in_namespace;

    const ID: &str = "e367826f93b8d71185e03fe518aff3b4.access";

    #[test]
    fn reads_entries_separated_by_commas_or_lines() {
        let tokens =
            ServiceTokens::parse(&format!(" {ID} = Smoke test ,\r\n\nhelp-desk_1.access=Helpdesk = backend,")).unwrap();
        assert_eq!(tokens.name_of(ID), Some("Smoke test"));
        assert_eq!(tokens.name_of("help-desk_1.access"), Some("Helpdesk = backend"));
        assert_eq!(tokens.name_of("E367826F93B8D71185E03FE518AFF3B4.access"), None, "compared exactly");
        assert_eq!(tokens.name_of("other.access"), None);
        assert_eq!(ServiceTokens::parse(" , \n").unwrap(), ServiceTokens::default());
    }

    /// Issue 28 (cargo-mutants): a name of exactly 100 characters is taken
    /// (counted in characters, not bytes); 101 is refused, by the client id.
    #[test]
    fn an_agent_name_is_one_to_a_hundred_characters() {
        let longest = "é".repeat(MAX_NAME_CHARS);
        assert_eq!(ServiceTokens::parse(&format!("{ID}={longest}")).unwrap().name_of(ID), Some(longest.as_str()));
        let err = ServiceTokens::parse(&format!("{ID}={longest}é")).unwrap_err();
        assert_eq!(err, format!("the agent name for {ID} must be 1 to 100 characters, without control characters"));
        assert!(ServiceTokens::parse(&format!("{ID}=")).is_err());
        assert!(ServiceTokens::parse(&format!("{ID}=a\u{7}b")).is_err());
    }

    #[test]
    fn client_ids_look_like_cloudflares() {
        for good in [ID, "a.access", &format!("{}.access", "a".repeat(113))] {
            assert!(is_client_id(good), "{good}");
        }
        for bad in ["", ".access", "abc", "abc.Access", "a.b.access", "a b.access", "a%2e.access", "ab.access\u{0}"] {
            assert!(!is_client_id(bad), "{bad:?}");
        }
        assert!(!is_client_id(&format!("{}.access", "a".repeat(114))), "service: + id fits 128 characters");
    }

    #[test]
    fn the_service_namespace_is_matched_in_any_case() {
        for id in [
            "service:x",
            "SERVICE:x",
            "Service:",
            "\u{17F}ervice:x",
            "\u{FF53}ervice:x",
            "SERV\u{130}CE:x",
            " service:x",
        ] {
            assert!(in_namespace(id, SERVICE_AGENT_PREFIX), "{id}");
        }
        for id in ["services:x", "service", "7335d417-61da-459d-899c-0a01c76a2f94", "ann@example.com", "é"] {
            assert!(!in_namespace(id, SERVICE_AGENT_PREFIX), "{id}");
        }
    }
}
