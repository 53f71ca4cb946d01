//! Reading a Cloudflare Access token (a compact JWS) and checking its
//! claims. Only RS256 is accepted: `alg: none`, HMAC algorithms (the "sign
//! with the public key" trick) and anything else are refused unread.

use serde_json::{Map, Value};

use super::{CLOCK_SKEW_SECONDS, MAX_ID_CHARS, MAX_NAME_CHARS};
use crate::core::base64url;
use crate::core::ids::in_namespace;
use crate::core::json::{member, nullable, text};
use crate::core::service_tokens::{ServiceTokens, SERVICE_AGENT_PREFIX};
use crate::upscope::models::Agent;

/// Tokens longer than this are refused unparsed.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
/// `exp`/`nbf` leeway, in the claims' own unit (seconds, as numbers).
const CLOCK_SKEW: f64 = CLOCK_SKEW_SECONDS as f64;

/// Why a token was refused; `Invalid` says nothing more to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Invalid,
    Expired,
    /// A valid service token whose Client ID is not listed.
    UnlistedService,
}

#[derive(Debug)]
struct Header {
    alg: String,
    kid: Option<String>,
}

impl Header {
    /// `alg` must be a string; `kid` a string or null.
    fn from_json(header: &Map<String, Value>) -> Option<Self> {
        Some(Header { alg: header.get("alg")?.as_str()?.to_owned(), kid: text(header, "kid")? })
    }
}

#[derive(Debug, Default)]
pub struct Claims {
    aud: Value,
    iss: Option<String>,
    exp: Option<f64>,
    nbf: Option<f64>,
    sub: Option<String>,
    email: Option<String>,
    name: Option<String>,
    /// A service token's Client ID.
    common_name: Option<String>,
}

impl Claims {
    /// `aud` may be anything; the times numbers or null, the rest strings or null.
    fn from_json(claims: &Map<String, Value>) -> Option<Self> {
        Some(Claims {
            aud: claims.get("aud").cloned().unwrap_or_default(),
            iss: text(claims, "iss")?,
            exp: nullable(member(claims, "exp"), Value::as_f64)?,
            nbf: nullable(member(claims, "nbf"), Value::as_f64)?,
            sub: text(claims, "sub")?,
            email: text(claims, "email")?,
            name: text(claims, "name")?,
            common_name: text(claims, "common_name")?,
        })
    }
}

/// A token whose header says RS256 with a key id; the signature is not yet checked.
#[derive(Debug)]
pub struct UnverifiedToken<'a> {
    pub kid: String,
    /// `base64url(header).base64url(payload)`: what the signature covers.
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
    pub claims: Claims,
}

pub fn parse(token: &str) -> Result<UnverifiedToken<'_>, TokenProblem> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenProblem::Invalid);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenProblem::Invalid);
    };
    let header = Header::from_json(&decode_json(header)?).ok_or(TokenProblem::Invalid)?;
    let kid = match (header.alg.as_str(), header.kid) {
        ("RS256", Some(kid)) if !kid.is_empty() => kid,
        _ => return Err(TokenProblem::Invalid),
    };
    let claims = Claims::from_json(&decode_json(payload)?).ok_or(TokenProblem::Invalid)?;
    let signature = base64url::decode(signature).filter(|s| !s.is_empty()).ok_or(TokenProblem::Invalid)?;
    let signing_input = &token[..header_and_payload_len(token)];
    Ok(UnverifiedToken { kid, signing_input, signature, claims })
}

fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

/// A part of the token as the JSON object it must be. Read into a `Value`
/// like every other JSON the gateway reads (from text, not bytes): one
/// serde_json reader in the wasm, and no typed one with its error texts.
fn decode_json(part: &str) -> Result<Map<String, Value>, TokenProblem> {
    let bytes = base64url::decode(part).ok_or(TokenProblem::Invalid)?;
    let text = String::from_utf8(bytes).map_err(|_| TokenProblem::Invalid)?;
    match serde_json::from_str(&text) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(TokenProblem::Invalid),
    }
}

/// What the claims must say for this deployment.
pub struct Expected<'a> {
    pub audience: &'a str,
    pub issuer: &'a str,
    pub now_seconds: f64,
    /// The service tokens that may act as agents (`ACCESS_SERVICE_TOKENS`).
    pub service_tokens: &'a ServiceTokens,
}

/// Checks audience, issuer and lifetime (with skew), then names the agent:
/// a person by id = `sub` (or the email), name = `name` (or the email); a
/// listed service token by id = `service:<Client ID>` and its listed name.
pub fn agent_from_claims(claims: &Claims, expected: &Expected) -> Result<Agent, TokenProblem> {
    let audience_ok = match &claims.aud {
        Value::String(aud) => aud == expected.audience,
        Value::Array(auds) => auds.iter().any(|a| a.as_str() == Some(expected.audience)),
        _ => false,
    };
    if !audience_ok || claims.iss.as_deref() != Some(expected.issuer) {
        return Err(TokenProblem::Invalid);
    }
    let exp = claims.exp.ok_or(TokenProblem::Invalid)?;
    if expected.now_seconds > exp + CLOCK_SKEW {
        return Err(TokenProblem::Expired);
    }
    if claims.nbf.is_some_and(|nbf| expected.now_seconds + CLOCK_SKEW < nbf) {
        return Err(TokenProblem::Invalid);
    }
    let email = usable(&claims.email);
    // A service token names no person: Access sends its Client ID in
    // `common_name`, no email and an empty `sub`. Only a listed one acts.
    if let (Some(client_id), None) = (usable(&claims.common_name), email) {
        let name = expected.service_tokens.name_of(client_id).ok_or(TokenProblem::UnlistedService)?;
        return Ok(Agent { id: format!("{SERVICE_AGENT_PREFIX}{client_id}"), name: name.to_owned() });
    }
    // Nor can a person's id enter the services' namespace. Access's `sub` is
    // a UUID and an e-mail address cannot start `service:` (no unquoted
    // colon before the @), but this holds whatever an identity provider sends.
    let id = usable(&claims.sub)
        .or(email)
        .filter(|id| id.chars().count() <= MAX_ID_CHARS && !in_namespace(id, SERVICE_AGENT_PREFIX))
        .ok_or(TokenProblem::Invalid)?;
    let name = usable(&claims.name).or(email).unwrap_or(id);
    Ok(Agent { id: id.to_owned(), name: name.chars().take(MAX_NAME_CHARS).collect() })
}

/// A claim worth using as an id or name: present, and printable as a link's would be.
fn usable(claim: &Option<String>) -> Option<&str> {
    claim.as_deref().and_then(super::fit_to_name_an_agent)
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    pub fn encode_part(value: &Value) -> String {
        base64url::encode(value.to_string().as_bytes())
    }

    /// A token with these parts, as a forger or Access would put them together.
    pub fn token(header: Value, claims: Value, signature: &[u8]) -> String {
        format!("{}.{}.{}", encode_part(&header), encode_part(&claims), base64url::encode(signature))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::testing::*;
    use super::*;

    const NOW: f64 = 1_800_000_000.0;
    const CLIENT_ID: &str = "e367826f93b8d71185e03fe518aff3b4.access";
    static LISTED: std::sync::LazyLock<ServiceTokens> =
        std::sync::LazyLock::new(|| ServiceTokens::parse(&format!("{CLIENT_ID}=Smoke test")).unwrap());

    fn expected() -> Expected<'static> {
        Expected {
            audience: "aud-tag",
            issuer: "https://team.cloudflareaccess.com",
            now_seconds: NOW,
            service_tokens: &LISTED,
        }
    }

    /// A service token's claims as Access documents them: no email, `sub` empty.
    fn service(extra: Value) -> Claims {
        let mut base = json!({
            "type": "app", "aud": ["aud-tag"], "iss": "https://team.cloudflareaccess.com", "exp": NOW + 600.0,
            "iat": NOW, "common_name": CLIENT_ID, "sub": ""
        });
        base.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        Claims::from_json(base.as_object().unwrap()).unwrap()
    }

    fn claims(extra: Value) -> Claims {
        let mut base = json!({
            "aud": ["aud-tag"], "iss": "https://team.cloudflareaccess.com", "exp": NOW + 600.0, "nbf": NOW - 10.0,
            "sub": "7335d417-61da-459d-899c-0a01c76a2f94", "email": "ann@example.com"
        });
        base.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        Claims::from_json(base.as_object().unwrap()).unwrap()
    }

    #[test]
    fn parses_rs256_with_kid() {
        let t = token(json!({"alg":"RS256","kid":"k1","typ":"JWT"}), json!({"sub":"x"}), b"sig");
        let parsed = parse(&t).unwrap();
        assert_eq!(parsed.kid, "k1");
        assert_eq!(parsed.signature, b"sig");
        assert_eq!(parsed.signing_input, &t[..t.rfind('.').unwrap()]);
        assert_eq!(parsed.claims.sub.as_deref(), Some("x"));
    }

    #[test]
    fn refuses_other_algorithms_and_shapes() {
        let claims = json!({"sub":"x"});
        for header in [
            json!({"alg":"none","kid":"k1"}),
            json!({"alg":"HS256","kid":"k1"}),
            json!({"alg":"RS512","kid":"k1"}),
            json!({"alg":"rs256","kid":"k1"}),
            json!({"alg":"RS256"}),
            json!({"alg":"RS256","kid":""}),
            json!({"kid":"k1"}),
            json!({"alg":"RS256","kid":7}),
            json!({"alg":null,"kid":"k1"}),
            json!(["RS256", "k1"]),
            json!("RS256"),
        ] {
            assert_eq!(
                parse(&token(header.clone(), claims.clone(), b"s")).unwrap_err(),
                TokenProblem::Invalid,
                "{header}"
            );
        }
        let good = token(json!({"alg":"RS256","kid":"k1"}), claims, b"s");
        for bad in [
            "".to_owned(),
            "a.b".to_owned(),
            format!("{good}.x"),
            good.rsplit_once('.').unwrap().0.to_owned() + ".",
            good.replacen('.', ".!", 1),
            "x".repeat(MAX_TOKEN_LEN + 1),
        ] {
            assert_eq!(parse(&bad).unwrap_err(), TokenProblem::Invalid, "{bad:.40}");
        }
    }

    /// A well-formed token of exactly `len` characters (claims padded with
    /// a `pad` member, the signature one to three bytes long).
    fn token_of_len(len: usize) -> String {
        // About 3 bytes of claims for every 4 characters; search near there.
        for pad in (len * 3 / 4).saturating_sub(100)..len * 3 / 4 {
            for sig in 1..=3 {
                let t =
                    token(json!({"alg":"RS256","kid":"k1"}), json!({"sub":"x","pad":"p".repeat(pad)}), &vec![7; sig]);
                if t.len() == len {
                    return t;
                }
            }
        }
        unreachable!("no token of {len} characters")
    }

    /// Issue 28 (surviving mutants): a token up to 16 KiB is read (an
    /// identity provider with many groups makes long ones); one character
    /// more is refused unread.
    #[test]
    fn tokens_up_to_16_kib_are_read_and_longer_ones_refused() {
        assert_eq!(MAX_TOKEN_LEN, 16_384);
        for len in [2_000, 8_000, MAX_TOKEN_LEN] {
            let t = token_of_len(len);
            assert_eq!(parse(&t).map(|p| p.claims.sub).unwrap(), Some("x".to_owned()), "{len} characters");
        }
        for len in [MAX_TOKEN_LEN + 1, MAX_TOKEN_LEN + 2, 20_000] {
            assert_eq!(parse(&token_of_len(len)).unwrap_err(), TokenProblem::Invalid, "{len} characters");
        }
    }

    #[test]
    fn claims_of_the_wrong_type_make_the_token_invalid() {
        let header = json!({"alg":"RS256","kid":"k1"});
        for claims in
            [json!({"exp":"1800000600"}), json!({"nbf":true}), json!({"sub":1}), json!({"email":["a"]}), json!([])]
        {
            assert_eq!(
                parse(&token(header.clone(), claims.clone(), b"s")).unwrap_err(),
                TokenProblem::Invalid,
                "{claims}"
            );
        }
        let fine = token(header, json!({"aud":{"any":"thing"},"exp":1800000600,"name":null}), b"s");
        let fine = parse(&fine).unwrap();
        assert_eq!((fine.claims.exp, fine.claims.name), (Some(1_800_000_600.0), None));
    }

    #[test]
    fn names_the_agent_from_sub_name_and_email() {
        let agent = agent_from_claims(&claims(json!({"name":"Ann Lee"})), &expected()).unwrap();
        assert_eq!(agent, Agent { id: "7335d417-61da-459d-899c-0a01c76a2f94".into(), name: "Ann Lee".into() });
        let agent = agent_from_claims(&claims(json!({})), &expected()).unwrap();
        assert_eq!(agent.name, "ann@example.com");
        let agent = agent_from_claims(&claims(json!({"sub":""})), &expected()).unwrap();
        assert_eq!(agent.id, "ann@example.com");
        assert_eq!(agent_from_claims(&claims(json!({"sub":"","email":null})), &expected()), Err(TokenProblem::Invalid));
        let agent = agent_from_claims(&claims(json!({"aud":"aud-tag","name":"N".repeat(300)})), &expected()).unwrap();
        assert_eq!(agent.name.len(), 100);
    }

    #[test]
    fn a_listed_service_token_is_its_listed_agent_and_no_other_is_anyone() {
        let smoke = Agent { id: format!("service:{CLIENT_ID}"), name: "Smoke test".into() };
        assert_eq!(agent_from_claims(&service(json!({})), &expected()), Ok(smoke.clone()));
        assert_eq!(agent_from_claims(&service(json!({"sub": null})), &expected()), Ok(smoke.clone()));
        // A service token is a service whatever else it carries, short of an email.
        assert_eq!(agent_from_claims(&service(json!({"sub": "x", "name": "Boss"})), &expected()), Ok(smoke));
        let unlisted = service(json!({"common_name": "0a0b0c0d0e0f00112233445566778899.access"}));
        assert_eq!(agent_from_claims(&unlisted, &expected()), Err(TokenProblem::UnlistedService));
        let none = Expected { service_tokens: &ServiceTokens::default(), ..expected() };
        assert_eq!(agent_from_claims(&service(json!({})), &none), Err(TokenProblem::UnlistedService));
        // Checked like any token first.
        assert_eq!(agent_from_claims(&service(json!({"exp": NOW - 31.0})), &expected()), Err(TokenProblem::Expired));
        assert_eq!(agent_from_claims(&service(json!({"aud": ["other"]})), &expected()), Err(TokenProblem::Invalid));
        // With an email it is a person, named as one.
        let person = service(json!({"email": "ann@example.com"}));
        assert_eq!(agent_from_claims(&person, &expected()).unwrap().id, "ann@example.com");
        let t = token(json!({"alg":"RS256","kid":"k1"}), json!({"common_name": 7}), b"s");
        assert_eq!(parse(&t).unwrap_err(), TokenProblem::Invalid);
    }

    #[test]
    fn a_person_never_gets_an_id_in_the_service_namespace() {
        for sub in [format!("service:{CLIENT_ID}"), "SERVICE:x".into(), "Service:".into()] {
            let claims = claims(json!({"sub": sub}));
            assert_eq!(agent_from_claims(&claims, &expected()), Err(TokenProblem::Invalid), "{sub}");
        }
        let by_email = claims(json!({"sub": "", "email": "service:x@example.com"}));
        assert_eq!(agent_from_claims(&by_email, &expected()), Err(TokenProblem::Invalid));
        assert!(agent_from_claims(&claims(json!({"sub": "services-team"})), &expected()).is_ok());
    }

    #[test]
    fn checks_audience_issuer_and_lifetime() {
        let cases = [
            (json!({"aud":["other"]}), TokenProblem::Invalid),
            (json!({"aud":"other"}), TokenProblem::Invalid),
            (json!({"aud":null}), TokenProblem::Invalid),
            (json!({"iss":"https://evil.cloudflareaccess.com"}), TokenProblem::Invalid),
            (json!({"iss":null}), TokenProblem::Invalid),
            (json!({"exp":null}), TokenProblem::Invalid),
            (json!({"exp":NOW - 31.0}), TokenProblem::Expired),
            (json!({"nbf":NOW + 31.0}), TokenProblem::Invalid),
        ];
        for (extra, problem) in cases {
            assert_eq!(agent_from_claims(&claims(extra.clone()), &expected()), Err(problem), "{extra}");
        }
        // Within the skew both ways.
        assert!(agent_from_claims(&claims(json!({"exp":NOW - 29.0,"nbf":NOW + 29.0})), &expected()).is_ok());
        // Issue 28 (surviving mutants): the skew's edge itself still counts as within.
        assert!(agent_from_claims(&claims(json!({"exp":NOW - CLOCK_SKEW,"nbf":NOW + CLOCK_SKEW})), &expected()).is_ok());
        assert_eq!(
            agent_from_claims(&claims(json!({"exp":NOW - CLOCK_SKEW - 1.0})), &expected()),
            Err(TokenProblem::Expired)
        );
        assert_eq!(
            agent_from_claims(&claims(json!({"nbf":NOW + CLOCK_SKEW + 1.0})), &expected()),
            Err(TokenProblem::Invalid)
        );
    }

    /// Issue 28: an `iss` that merely starts (or ends) with the team domain
    /// is another issuer; a look-alike host must not pass for the team's.
    #[test]
    fn the_issuer_is_the_team_domain_exactly_not_a_prefix_or_suffix_of_it() {
        for iss in [
            "https://team.cloudflareaccess.com.evil.example",
            "https://team.cloudflareaccess.com/",
            "https://team.cloudflareaccess.comx",
            "https://team.cloudflareaccess.co",
            "http://team.cloudflareaccess.com",
            "https://evil.example/https://team.cloudflareaccess.com",
            "",
        ] {
            assert_eq!(
                agent_from_claims(&claims(json!({ "iss": iss })), &expected()),
                Err(TokenProblem::Invalid),
                "iss {iss:?} must be refused"
            );
        }
        assert!(agent_from_claims(&claims(json!({"iss":"https://team.cloudflareaccess.com"})), &expected()).is_ok());
    }
}
