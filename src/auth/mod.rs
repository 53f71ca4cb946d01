//! Who is asking: the one seam every `/agent` request passes through, and
//! the check on signed `/visitor` links. The mode comes from `AGENT_AUTH`
//! (see `settings`); there is no mode that trusts a stranger by default.
//!
//! `crypto` abstracts WebCrypto (`edge::webcrypto` is the Workers shell);
//! `signed_link`, `jwt` and `access` are tested natively with fakes.

pub mod access;
pub mod crypto;
pub mod jwt;
pub mod signed_link;

use access::{AccessVerifier, KeyCache};
use crypto::Crypto;
use signed_link::verify_signed_link;

use crate::core::canonical::SIGNATURE_PARAM;
use crate::core::ids::{in_namespace, VIEWER_AGENT_PREFIX};
use crate::core::query::{Params, VISITOR_PARAMS};
use crate::core::service_tokens::SERVICE_AGENT_PREFIX;
use crate::error::{Credential, GatewayError, Refusal};
use crate::outbound::Transport;
use crate::settings::{AgentAuth, LinkKey};
use crate::upscope::models::Agent;

/// Bounds on an agent's id and name, from a link or from a token.
const MAX_ID_CHARS: usize = crate::core::ids::MAX_AGENT_ID_CHARS;
const MAX_NAME_CHARS: usize = 100;
/// Tolerated difference between the clock that issued a link or token
/// (your backend, Cloudflare Access) and the edge's.
const CLOCK_SKEW_SECONDS: u64 = 30;

/// What an `/agent` request presents.
pub struct Credentials<'a> {
    pub params: &'a Params,
    /// The `Cf-Access-Jwt-Assertion` header, if any.
    pub access_token: Option<&'a str>,
}

/// The effects verification may need: cryptography, a way to fetch keys,
/// the cache they are kept in, and the time.
pub struct Verifier<'a, C, T> {
    pub crypto: &'a C,
    pub transport: &'a T,
    pub access_keys: &'a KeyCache,
    pub now_ms: f64,
}

impl<C: Crypto, T: Transport> Verifier<'_, C, T> {
    fn now_seconds(&self) -> u64 {
        (self.now_ms / 1000.0) as u64
    }

    /// The agent's verified identity, or a refusal before anything else happens.
    /// An id that reads as one the gateway makes itself
    /// (`RESERVED_AGENT_PREFIXES`) is refused: in every mode a `/view`
    /// viewer's, since Upscope would take the agent for that viewer, and a
    /// service token's unless Access named it so.
    pub async fn identify_agent(&self, auth: &AgentAuth, credentials: &Credentials<'_>) -> Result<Agent, GatewayError> {
        let agent = match auth {
            AgentAuth::Access(settings) => {
                let verifier = AccessVerifier {
                    settings,
                    crypto: self.crypto,
                    transport: self.transport,
                    keys: self.access_keys,
                    now_ms: self.now_ms,
                };
                verifier.verify(credentials.access_token).await?
            }
            AgentAuth::SignedLink(key) => {
                let params = credentials.params;
                let now = self.now_seconds();
                match verify_signed_link(params, key, Credential::AgentLink, now, self.crypto).await {
                    Ok(()) => {}
                    // A console link is signed without a visitor: the agent
                    // picks one in the console's form, which adds it.
                    Err(GatewayError::Refused { refusal: Refusal::Invalid, .. }) if names_a_visitor(params) => {
                        let console_link = params.without(&VISITOR_PARAMS);
                        verify_signed_link(&console_link, key, Credential::AgentLink, now, self.crypto).await?
                    }
                    Err(refused) => return Err(refused),
                }
                agent_from_params(params)?
            }
            AgentAuth::Unauthenticated => agent_from_params(credentials.params)?,
        };
        let Some(&(prefix, whose)) = RESERVED_AGENT_PREFIXES.iter().find(|(prefix, _)| in_namespace(&agent.id, prefix))
        else {
            return Ok(agent);
        };
        match auth {
            // A listed service token is named there by the gateway itself
            // (`auth::jwt`, which refuses a person's id in that namespace).
            AgentAuth::Access(_) if prefix == SERVICE_AGENT_PREFIX => Ok(agent),
            // The id comes from the sign-in: there is no link to fix.
            AgentAuth::Access(_) => Err(GatewayError::AgentIdReserved),
            _ => Err(GatewayError::bad_request(
                "invalid_parameter",
                format!("agent_id may not start with '{prefix}' (in any case or spelling): {whose}"),
            )),
        }
    }

    /// What a follow-up form or link must carry for this agent to be
    /// recognised again: nothing in `access` mode (the token comes along),
    /// `agent_id`/`agent_name` in `none` mode, and in `signed-link` mode the
    /// console link's own signed parameters (`visitor` is `None`) or, for a
    /// chosen visitor, a fresh signature expiring with the agent's link.
    /// A `permissions` narrowing always comes along, so a follow-up can
    /// never widen what the first link allowed.
    pub async fn carry_identity(
        &self,
        auth: &AgentAuth,
        params: &Params,
        visitor: Option<(&str, &str)>,
    ) -> Result<Vec<(String, String)>, GatewayError> {
        let copy = |names: &[&str]| -> Vec<(String, String)> {
            names.iter().map(|&name| (name.to_owned(), params.get(name).unwrap_or_default().to_owned())).collect()
        };
        let mut carry: Vec<(String, String)> = visitor.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        let narrowing = || copy_present(params, &[PERMISSIONS_PARAM]);
        match auth {
            AgentAuth::Access(_) => carry.extend(narrowing()),
            AgentAuth::Unauthenticated => {
                carry.extend(copy(&["agent_id", "agent_name"]));
                carry.extend(narrowing());
            }
            AgentAuth::SignedLink(_) if visitor.is_none() => {
                carry.extend(params.without(&VISITOR_PARAMS).iter().map(|(n, v)| (n.to_owned(), v.to_owned())));
            }
            AgentAuth::SignedLink(key) => {
                carry.extend(copy(&["agent_id", "agent_name", signed_link::EXPIRY_PARAM]));
                carry.extend(narrowing());
                self.sign(&mut carry, key).await?;
            }
        }
        Ok(carry)
    }

    /// The viewer a `/view` link names, if the link is signed with `key`
    /// (`VIEWER_LINK_SECRET`) and fresh.
    pub async fn identify_viewer(&self, key: &LinkKey, params: &Params) -> Result<Agent, GatewayError> {
        verify_signed_link(params, key, Credential::ViewerLink, self.now_seconds(), self.crypto).await?;
        Ok(Agent { id: field(params, "viewer_id", MAX_ID_CHARS)?, name: field(params, "viewer_name", MAX_NAME_CHARS)? })
    }

    /// How the audit log names a viewer: the first 8 bytes, in hex, of
    /// HMAC-SHA256(`AUDIT_ID_SECRET`, "audit:" + viewer id). Stable, also
    /// across rotations of the link secret, so one viewer's sessions can be
    /// found (`scripts/audit-id.mjs` computes it for a known id), but not
    /// the customer's ID in clear.
    pub async fn viewer_pseudonym(&self, audit_key: &str, viewer_id: &str) -> Result<String, GatewayError> {
        let mac = self
            .crypto
            .hmac_sha256(audit_key.as_bytes(), format!("{AUDIT_PREFIX}{viewer_id}").as_bytes())
            .await
            .map_err(|_| GatewayError::Internal("a viewer's audit pseudonym could not be computed"))?;
        Ok(mac.iter().take(8).map(|b| format!("{b:02x}")).collect())
    }

    /// The launch token of an Access session (`core::launch`): unpadded
    /// base64url of HMAC-SHA256 keyed by the agent's Access token. The
    /// gateway's own pages put it in their links so that their same-origin
    /// requests can be told from those of other pages on the gateway's
    /// origin; no other page can read it, and it names one sign-in only.
    pub async fn launch_token(&self, access_token: &str) -> Result<String, GatewayError> {
        let mac = self
            .crypto
            .hmac_sha256(access_token.as_bytes(), LAUNCH_TOKEN_MESSAGE)
            .await
            .map_err(|_| GatewayError::Internal("a launch token could not be computed"))?;
        Ok(crate::core::base64url::encode(&mac))
    }

    /// A `/view` link to the chosen device for the same viewer: the viewer,
    /// the link's expiry and narrowing, freshly signed with `key`.
    pub async fn carry_viewer(
        &self,
        key: &LinkKey,
        params: &Params,
        visitor: (&str, &str),
    ) -> Result<Vec<(String, String)>, GatewayError> {
        let mut carry = vec![(visitor.0.to_owned(), visitor.1.to_owned())];
        carry.extend(copy_present(params, &["viewer_id", "viewer_name", signed_link::EXPIRY_PARAM, PERMISSIONS_PARAM]));
        self.sign(&mut carry, key).await?;
        Ok(carry)
    }

    async fn sign(&self, carry: &mut Vec<(String, String)>, key: &LinkKey) -> Result<(), GatewayError> {
        let sig = signed_link::signature(carry.iter().map(|(n, v)| (n.as_str(), v.as_str())), key, self.crypto).await?;
        carry.push((SIGNATURE_PARAM.to_owned(), sig));
        Ok(())
    }

    /// With `VISITOR_LINK_SECRET` set, a link that names the visitor
    /// (`uniqueid`) or carries a signature must be signed and fresh.
    pub async fn check_visitor_link(&self, key: Option<&LinkKey>, params: &Params) -> Result<(), GatewayError> {
        match key {
            Some(key) if params.get("uniqueid").is_some() || params.get(SIGNATURE_PARAM).is_some() => {
                verify_signed_link(params, key, Credential::VisitorLink, self.now_seconds(), self.crypto).await
            }
            _ => Ok(()),
        }
    }
}

/// What a launch token is the MAC of (keyed by the Access token).
const LAUNCH_TOKEN_MESSAGE: &[u8] = b"upscope-gateway launch token v1";

/// What a viewer's audit pseudonym is keyed on, besides their id.
const AUDIT_PREFIX: &str = "audit:";

/// Prefixes of the agent ids the gateway makes itself, and who wears them:
/// no staff agent may be sent to Upscope as one of them.
const RESERVED_AGENT_PREFIXES: [(&str, &str); 2] = [
    (
        VIEWER_AGENT_PREFIX,
        "/view sends its viewers to Upscope under that prefix, so a staff agent must never be sent as one.",
    ),
    (
        SERVICE_AGENT_PREFIX,
        "the gateway names Cloudflare Access service tokens that way, so a linked agent must never be sent as one.",
    ),
];

/// The parameter that narrows a link's permissions (`core::permissions`).
pub const PERMISSIONS_PARAM: &str = "permissions";

/// The named parameters the link has, as they are.
fn copy_present(params: &Params, names: &[&str]) -> Vec<(String, String)> {
    names.iter().filter_map(|&name| Some((name.to_owned(), params.get(name)?.to_owned()))).collect()
}

fn names_a_visitor(params: &Params) -> bool {
    VISITOR_PARAMS.iter().any(|name| params.get(name).is_some())
}

/// `agent_id` and `agent_name` from the link (signed, or trusted in `none` mode).
fn agent_from_params(params: &Params) -> Result<Agent, GatewayError> {
    let id = field(params, "agent_id", MAX_ID_CHARS)?;
    let name = field(params, "agent_name", MAX_NAME_CHARS)?;
    Ok(Agent { id, name })
}

fn field(params: &Params, name: &str, max_chars: usize) -> Result<String, GatewayError> {
    let value = fit_to_name_an_agent(params.require(name)?).filter(|v| v.chars().count() <= max_chars);
    value.map(str::to_owned).ok_or_else(|| {
        GatewayError::bad_request(
            "invalid_parameter",
            format!("{name} must be 1 to {max_chars} characters, without control characters."),
        )
    })
}

/// Text fit to name an agent, from a link or a token: trimmed, not blank,
/// no control characters.
pub(crate) fn fit_to_name_an_agent(value: &str) -> Option<&str> {
    Some(value.trim()).filter(|v| !v.is_empty() && !v.chars().any(char::is_control))
}

#[cfg(test)]
mod tests {
    use super::crypto::testing::FakeCrypto;
    use super::signed_link::testing::{signed, SECRET};
    use super::*;
    use crate::core::base64url;
    use crate::error::Refusal;
    use crate::outbound::testing::{block_on, FakeTransport};

    const NOW_MS: f64 = 1_800_000_000_000.0;

    fn identify(auth: &AgentAuth, query: &str, token: Option<&str>) -> Result<Agent, GatewayError> {
        let params = Params::parse(Some(query)).unwrap();
        let fake = FakeTransport::default();
        let keys = KeyCache::default();
        let verifier = Verifier { crypto: &FakeCrypto, transport: &&fake, access_keys: &keys, now_ms: NOW_MS };
        let result = block_on(verifier.identify_agent(auth, &Credentials { params: &params, access_token: token }));
        assert!(fake.requests.borrow().is_empty());
        result
    }

    fn link_key() -> LinkKey {
        LinkKey { secret: SECRET.into(), previous: None, max_ttl_seconds: 300 }
    }

    #[test]
    fn unauthenticated_mode_reads_the_link() {
        let agent = identify(&AgentAuth::Unauthenticated, "agent_id=a-7&agent_name=Ann%20Lee", None).unwrap();
        assert_eq!(agent, Agent { id: "a-7".into(), name: "Ann Lee".into() });
        assert_eq!(
            identify(&AgentAuth::Unauthenticated, "agent_id=%E7%8E%8B&agent_name=%E7%8E%8B%E8%8A%B3", None)
                .unwrap()
                .name,
            "王芳"
        );
    }

    #[test]
    fn missing_or_bad_fields_are_refused() {
        let auth = AgentAuth::Unauthenticated;
        assert_eq!(identify(&auth, "agent_name=Ann", None).unwrap_err().code(), "missing_parameter");
        assert!(identify(&auth, "agent_id=a", None).unwrap_err().message().contains("agent_name"));
        for q in ["agent_id=&agent_name=Ann", "agent_id=a&agent_name=%20%20", "agent_id=a&agent_name=A%0D%0ALocation:x"]
        {
            assert_eq!(identify(&auth, q, None).unwrap_err().code(), "invalid_parameter", "{q}");
        }
        let long = format!("agent_id=a&agent_name={}", "n".repeat(101));
        assert_eq!(identify(&auth, &long, None).unwrap_err().code(), "invalid_parameter");
    }

    #[test]
    fn signed_link_mode_needs_the_signature() {
        let auth = AgentAuth::SignedLink(link_key());
        let query = format!("lookup=4821&agent_id=a-7&agent_name=Ann&exp={}", NOW_MS as u64 / 1000 + 60);
        assert_eq!(identify(&auth, &signed(&query), None).unwrap(), Agent { id: "a-7".into(), name: "Ann".into() });
        assert_eq!(identify(&auth, &query, None).unwrap_err().code(), "link_invalid");
    }

    #[test]
    fn a_console_link_lets_its_agent_pick_the_visitor_but_a_visitor_link_does_not() {
        let auth = AgentAuth::SignedLink(link_key());
        let exp = NOW_MS as u64 / 1000 + 60;
        let console = signed(&format!("agent_id=a-7&agent_name=Ann&exp={exp}"));
        assert_eq!(identify(&auth, &console, None).unwrap().id, "a-7");
        assert_eq!(identify(&auth, &format!("{console}&lookup=4821"), None).unwrap().id, "a-7");
        assert_eq!(identify(&auth, &format!("uniqueid=bob&{console}"), None).unwrap().id, "a-7");
        // The identity itself is still covered.
        let forged = format!("{}&lookup=4821", console.replace("agent_id=a-7", "agent_id=boss"));
        assert_eq!(identify(&auth, &forged, None).unwrap_err().code(), "link_invalid");
        // A link signed for one visitor cannot be turned to another.
        let for_alice = signed(&format!("uniqueid=alice&agent_id=a-7&agent_name=Ann&exp={exp}"));
        assert_eq!(
            identify(&auth, &for_alice.replace("uniqueid=alice", "uniqueid=bob"), None).unwrap_err().code(),
            "link_invalid"
        );
        assert_eq!(identify(&auth, &format!("{for_alice}&lookup=4821"), None).unwrap_err().code(), "link_invalid");
    }

    #[test]
    fn carried_identity_is_accepted_back() {
        let auth = AgentAuth::SignedLink(link_key());
        let exp = NOW_MS as u64 / 1000 + 60;
        let incoming =
            Params::parse(Some(&signed(&format!("uniqueid=carol&agent_id=a-7&agent_name=Ann&exp={exp}")))).unwrap();
        let fake = FakeTransport::default();
        let keys = KeyCache::default();
        let verifier = Verifier { crypto: &FakeCrypto, transport: &&fake, access_keys: &keys, now_ms: NOW_MS };
        let carry = block_on(verifier.carry_identity(&auth, &incoming, Some(("shortid", "sCarolDesk")))).unwrap();
        let link = crate::core::query::encode(&carry);
        assert!(link.starts_with("shortid=sCarolDesk&agent_id=a-7&agent_name=Ann&exp="));
        assert_eq!(identify(&auth, &link, None).unwrap().id, "a-7");
        let console = Params::parse(Some(&signed(&format!("agent_id=a-7&agent_name=Ann&exp={exp}")))).unwrap();
        let carry = block_on(verifier.carry_identity(&auth, &console, None)).unwrap();
        let submitted = format!("lookup=4821&{}", crate::core::query::encode(&carry));
        assert_eq!(identify(&auth, &submitted, None).unwrap().id, "a-7");
        let none = block_on(verifier.carry_identity(&AgentAuth::Unauthenticated, &incoming, None)).unwrap();
        assert_eq!(crate::core::query::encode(&none), "agent_id=a-7&agent_name=Ann");
    }

    #[test]
    fn an_agent_id_in_the_viewers_namespace_is_refused_in_every_mode() {
        let exp = NOW_MS as u64 / 1000 + 60;
        for id in ["viewer:cust-9", "VIEWER%3Acust-9", "%20Viewer:x", "%EF%BD%96iewer:x", "v%C4%B1ewer:x"] {
            let query = format!("lookup=4821&agent_id={id}&agent_name=Mallory");
            let none = identify(&AgentAuth::Unauthenticated, &query, None).unwrap_err();
            assert_eq!(none.code(), "invalid_parameter", "{id}");
            assert!(none.message().starts_with("agent_id may not start with 'viewer:'"), "{}", none.message());
            let link = AgentAuth::SignedLink(link_key());
            let signed_query = signed(&format!("{query}&exp={exp}"));
            assert_eq!(identify(&link, &signed_query, None).unwrap_err().code(), "invalid_parameter", "{id}");
            // Unsigned, it is refused as unsigned: the signature is checked first.
            assert_eq!(identify(&link, &format!("{query}&exp={exp}"), None).unwrap_err().code(), "link_invalid");
        }
        let near = identify(&AgentAuth::Unauthenticated, "lookup=4821&agent_id=reviewer:7&agent_name=R", None);
        assert_eq!(near.unwrap().id, "reviewer:7");
    }

    #[test]
    fn an_access_identity_in_the_viewers_namespace_is_a_403_before_any_upstream_call() {
        use super::crypto::RsaPublicKey;
        use serde_json::json;
        let settings = crate::settings::AccessSettings {
            team_domain: "team.example".into(),
            audience: "aud".into(),
            launch_origins: Default::default(),
            service_tokens: Default::default(),
        };
        let auth = AgentAuth::Access(settings);
        let key = RsaPublicKey { n: "modulus-one".into(), e: "AQAB".into() };
        let jwks = r#"{"keys":[{"kid":"k1","kty":"RSA","e":"AQAB","n":"modulus-one"}]}"#;
        let params = Params::parse(Some("lookup=4821")).unwrap();
        for (sub, email) in [(Some(" Viewer:cust-9"), "pat@example.com"), (None, "VIEWER:cust-9@example.com")] {
            let claims = json!({"aud": "aud", "iss": "https://team.example", "exp": NOW_MS / 1000.0 + 600.0,
                                "sub": sub, "email": email});
            let unsigned = jwt::testing::token(json!({"alg": "RS256", "kid": "k1"}), claims, b"");
            let input = unsigned.rsplit_once('.').unwrap().0;
            let token = format!("{input}.{}", base64url::encode(&FakeCrypto::signature(&key, input.as_bytes())));
            let fake = FakeTransport::answering([(200, jwks)]);
            let keys = KeyCache::default();
            let verifier = Verifier { crypto: &FakeCrypto, transport: &&fake, access_keys: &keys, now_ms: NOW_MS };
            let credentials = Credentials { params: &params, access_token: Some(&token) };
            let err = block_on(verifier.identify_agent(&auth, &credentials)).unwrap_err();
            assert_eq!((err.status(), err.code()), (403, "agent_id_reserved"), "{sub:?} {email}");
            assert_eq!(fake.calls(), ["GET /cdn-cgi/access/certs"], "only Access's keys were fetched");
        }
    }

    /// Issue 28 (a surviving mutant): a listed Access service token is the
    /// one identity allowed in the `service:` namespace; the same id from a
    /// link is refused in the other modes.
    #[test]
    fn a_listed_service_token_is_let_through_in_access_mode_only() {
        use super::crypto::RsaPublicKey;
        use crate::core::service_tokens::ServiceTokens;
        use serde_json::json;
        const CLIENT_ID: &str = "e367826f93b8d71185e03fe518aff3b4.access";
        let auth = AgentAuth::Access(crate::settings::AccessSettings {
            team_domain: "team.example".into(),
            audience: "aud".into(),
            launch_origins: Default::default(),
            service_tokens: ServiceTokens::parse(&format!("{CLIENT_ID}=Smoke test")).unwrap(),
        });
        let key = RsaPublicKey { n: "modulus-one".into(), e: "AQAB".into() };
        let claims = json!({"type": "app", "aud": ["aud"], "iss": "https://team.example",
                            "exp": NOW_MS / 1000.0 + 600.0, "common_name": CLIENT_ID, "sub": ""});
        let unsigned = jwt::testing::token(json!({"alg": "RS256", "kid": "k1"}), claims, b"");
        let input = unsigned.rsplit_once('.').unwrap().0;
        let token = format!("{input}.{}", base64url::encode(&FakeCrypto::signature(&key, input.as_bytes())));
        let fake =
            FakeTransport::answering([(200, r#"{"keys":[{"kid":"k1","kty":"RSA","e":"AQAB","n":"modulus-one"}]}"#)]);
        let keys = KeyCache::default();
        let verifier = Verifier { crypto: &FakeCrypto, transport: &&fake, access_keys: &keys, now_ms: NOW_MS };
        let params = Params::parse(Some("lookup=4821")).unwrap();
        let agent =
            block_on(verifier.identify_agent(&auth, &Credentials { params: &params, access_token: Some(&token) }));
        assert_eq!(agent, Ok(Agent { id: format!("service:{CLIENT_ID}"), name: "Smoke test".into() }));
        let query = format!("lookup=4821&agent_id=service:{CLIENT_ID}&agent_name=Smoke");
        let err = identify(&AgentAuth::Unauthenticated, &query, None).unwrap_err();
        assert_eq!(err.code(), "invalid_parameter");
        assert!(err.message().starts_with("agent_id may not start with 'service:'"), "{}", err.message());
    }

    /// Issue 28 (surviving mutants): a console link's follow-up carries the
    /// link's own signed parameters as the backend signed them (its `sig`
    /// too), not a signature the gateway makes; a chosen visitor's carries a
    /// fresh one.
    #[test]
    fn a_console_links_follow_up_carries_its_own_signed_parameters_verbatim() {
        let auth = AgentAuth::SignedLink(link_key());
        let exp = NOW_MS as u64 / 1000 + 60;
        let console = signed(&format!("agent_id=a-7&agent_name=Ann&team=north&exp={exp}"));
        let params = Params::parse(Some(&format!("lookup=4821&{console}"))).unwrap();
        let fake = FakeTransport::default();
        let keys = KeyCache::default();
        let verifier = Verifier { crypto: &FakeCrypto, transport: &&fake, access_keys: &keys, now_ms: NOW_MS };
        let mut carry = block_on(verifier.carry_identity(&auth, &params, None)).unwrap();
        carry.sort();
        let mut want: Vec<(String, String)> =
            Params::parse(Some(&console)).unwrap().iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
        want.sort();
        assert_eq!(carry, want, "the console link as signed (team and sig too), without the visitor");
        let chosen = block_on(verifier.carry_identity(&auth, &params, Some(("shortid", "sX")))).unwrap();
        let chosen = crate::core::query::encode(&chosen);
        assert!(chosen.starts_with(&format!("shortid=sX&agent_id=a-7&agent_name=Ann&exp={exp}&sig=")), "{chosen}");
        assert_ne!(chosen.rsplit_once("sig=").unwrap().1, console.rsplit_once("sig=").unwrap().1);
    }

    /// Issue 28 (a surviving mutant): a `permissions` narrowing comes along
    /// in every mode's follow-up, so choosing a device never widens what
    /// the first link allowed.
    #[test]
    fn a_permissions_narrowing_is_carried_in_every_mode() {
        let exp = NOW_MS as u64 / 1000 + 60;
        let params = Params::parse(Some(&signed(&format!(
            "uniqueid=carol&agent_id=a-7&agent_name=Ann&permissions=view&exp={exp}"
        ))))
        .unwrap();
        let fake = FakeTransport::default();
        let keys = KeyCache::default();
        let verifier = Verifier { crypto: &FakeCrypto, transport: &&fake, access_keys: &keys, now_ms: NOW_MS };
        let access = AgentAuth::Access(crate::settings::AccessSettings {
            team_domain: "team.example".into(),
            audience: "aud".into(),
            launch_origins: Default::default(),
            service_tokens: Default::default(),
        });
        for (mode, auth) in
            [("access", access), ("none", AgentAuth::Unauthenticated), ("link", AgentAuth::SignedLink(link_key()))]
        {
            let carry = block_on(verifier.carry_identity(&auth, &params, Some(("shortid", "sX")))).unwrap();
            assert!(carry.contains(&("permissions".into(), "view".into())), "{mode}: {carry:?}");
        }
    }

    /// An HMAC that records its key and message and answers 0xf1..=0xff
    /// then 0..17 (32 bytes), so a test sees exactly what was signed.
    struct Recording(std::cell::RefCell<Vec<(Vec<u8>, Vec<u8>)>>);
    impl Crypto for Recording {
        async fn hmac_sha256(&self, key: &[u8], message: &[u8]) -> Result<Vec<u8>, crypto::CryptoError> {
            self.0.borrow_mut().push((key.to_vec(), message.to_vec()));
            Ok((0xf1..=0xff).chain(0..17).collect())
        }
        async fn verify_rs256(
            &self,
            _: &crypto::RsaPublicKey,
            _: &[u8],
            _: &[u8],
        ) -> Result<bool, crypto::CryptoError> {
            unreachable!()
        }
    }

    /// Issue 28 (cargo-mutants): a sign-in's launch token is the unpadded
    /// base64url of HMAC-SHA256 keyed by its Access token, over a fixed
    /// message: never empty, never the same for another sign-in.
    #[test]
    fn a_launch_token_is_the_base64url_of_an_hmac_keyed_by_the_access_token() {
        let crypto = Recording(Default::default());
        let fake = FakeTransport::default();
        let keys = KeyCache::default();
        let verifier = Verifier { crypto: &crypto, transport: &&fake, access_keys: &keys, now_ms: NOW_MS };
        let token = block_on(verifier.launch_token("access.jwt.of-ann")).unwrap();
        let mac: Vec<u8> = (0xf1..=0xff).chain(0..17).collect();
        assert_eq!(token, crate::core::base64url::encode(&mac));
        assert_eq!(token.len(), 43, "32 bytes, unpadded");
        assert_eq!(*crypto.0.borrow(), [(b"access.jwt.of-ann".to_vec(), LAUNCH_TOKEN_MESSAGE.to_vec())]);
    }

    /// Issue 28 (surviving mutants): the audit log's name for a viewer is
    /// the first 8 bytes, in hex, of HMAC-SHA256(AUDIT_ID_SECRET, "audit:" +
    /// id), as scripts/audit-id.mjs computes it.
    #[test]
    fn a_viewers_pseudonym_is_the_hex_of_the_first_8_bytes_of_its_audit_mac() {
        let crypto = Recording(Default::default());
        let fake = FakeTransport::default();
        let keys = KeyCache::default();
        let verifier = Verifier { crypto: &crypto, transport: &&fake, access_keys: &keys, now_ms: NOW_MS };
        let pseudonym = block_on(verifier.viewer_pseudonym("audit-key-0123", "cust-9")).unwrap();
        assert_eq!(pseudonym, "f1f2f3f4f5f6f7f8");
        assert_eq!(*crypto.0.borrow(), [(b"audit-key-0123".to_vec(), b"audit:cust-9".to_vec())]);
    }

    /// Issue 28 (surviving mutants): `/view`'s link to a chosen device names
    /// the viewer, the expiry and the narrowing, signed afresh, and verifies
    /// as that viewer; it cannot be turned to another device.
    #[test]
    fn a_viewers_link_to_a_chosen_device_verifies_as_the_same_viewer() {
        let key = link_key();
        let exp = NOW_MS as u64 / 1000 + 60;
        let incoming = Params::parse(Some(&signed(&format!(
            "uniqueid=cust-9&viewer_id=v-1&viewer_name=Pat&permissions=view&exp={exp}"
        ))))
        .unwrap();
        let fake = FakeTransport::default();
        let keys = KeyCache::default();
        let verifier = Verifier { crypto: &FakeCrypto, transport: &&fake, access_keys: &keys, now_ms: NOW_MS };
        let carry = block_on(verifier.carry_viewer(&key, &incoming, ("shortid", "sDesk1"))).unwrap();
        let link = crate::core::query::encode(&carry);
        assert!(
            link.starts_with(&format!("shortid=sDesk1&viewer_id=v-1&viewer_name=Pat&exp={exp}&permissions=view&sig=")),
            "{link}"
        );
        let viewer = block_on(verifier.identify_viewer(&key, &Params::parse(Some(&link)).unwrap())).unwrap();
        assert_eq!(viewer, Agent { id: "v-1".into(), name: "Pat".into() });
        let turned = Params::parse(Some(&link.replace("sDesk1", "sOther"))).unwrap();
        assert_eq!(block_on(verifier.identify_viewer(&key, &turned)).unwrap_err().code(), "link_invalid");
    }

    #[test]
    fn access_mode_ignores_link_parameters() {
        let auth = AgentAuth::Access(crate::settings::AccessSettings {
            team_domain: "team.cloudflareaccess.com".into(),
            audience: "aud".into(),
            launch_origins: Default::default(),
            service_tokens: Default::default(),
        });
        let err = identify(&auth, "lookup=4821&agent_id=a-7&agent_name=Ann", None).unwrap_err();
        assert_eq!(err, GatewayError::Refused { credential: Credential::AccessToken, refusal: Refusal::Missing });
    }

    #[test]
    fn visitor_links_are_checked_only_when_a_secret_is_set() {
        let fake = FakeTransport::default();
        let keys = KeyCache::default();
        let verifier = Verifier { crypto: &FakeCrypto, transport: &&fake, access_keys: &keys, now_ms: NOW_MS };
        let check = |key: Option<&LinkKey>, q: &str| {
            block_on(verifier.check_visitor_link(key, &Params::parse(Some(q)).unwrap()))
        };
        let key = link_key();
        assert!(check(None, "uniqueid=alice").is_ok());
        assert!(check(Some(&key), "").is_ok(), "an anonymous visitor needs no signature");
        assert!(check(Some(&key), "url=https%3A%2F%2Fshop.example.com%2Fhelp").is_ok());
        assert_eq!(check(Some(&key), "uniqueid=alice").unwrap_err().code(), "link_invalid");
        assert_eq!(check(Some(&key), "sig=abc").unwrap_err().code(), "link_invalid");
        let fresh = signed(&format!("uniqueid=alice&exp={}", NOW_MS as u64 / 1000 + 60));
        assert!(check(Some(&key), &fresh).is_ok());
        let old = signed(&format!("uniqueid=alice&exp={}", NOW_MS as u64 / 1000 - 600));
        assert_eq!(check(Some(&key), &old).unwrap_err().code(), "link_expired");
    }
}
