//! Cloudflare Access: the agent signed in at Access, which forwards a
//! signed token in `Cf-Access-Jwt-Assertion`. The token is checked against
//! the team's published keys (JWKS), kept in isolate memory for an hour and
//! fetched again once when a token names a key id not yet seen. Fetches,
//! failed ones included, are at least `REFETCH_COOLDOWN_MS` apart.

use std::sync::Mutex;

use serde_json::Value;

use super::crypto::{Crypto, RsaPublicKey};
use super::jwt::{self, Expected, TokenProblem};
use crate::core::json::text;
use crate::error::{Credential, GatewayError, Refusal};
use crate::outbound::{HttpRequest, Method, Transport};
use crate::settings::AccessSettings;
use crate::upscope::models::Agent;

/// How long fetched keys are trusted without asking again.
pub const KEYS_MAX_AGE_MS: f64 = 3_600_000.0;
/// Keys are fetched at most this often, so neither random key ids nor a
/// failing endpoint can turn every request into a call to Cloudflare.
pub const REFETCH_COOLDOWN_MS: f64 = 2_000.0;

/// The team's signing keys as last fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct KeySet {
    keys: Vec<(String, RsaPublicKey)>,
    fetched_at_ms: f64,
}

impl KeySet {
    fn find(&self, kid: &str) -> Option<&RsaPublicKey> {
        self.keys.iter().find(|(id, _)| id == kid).map(|(_, key)| key)
    }
}

/// The keys last fetched, and when the last fetch was tried and how it went.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyState {
    keys: Option<KeySet>,
    last_attempt: Option<Attempt>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Attempt {
    at_ms: f64,
    failed: bool,
}

impl KeyState {
    pub const EMPTY: Self = Self { keys: None, last_attempt: None };
}

/// Where the keys live between requests: a static in the Worker, a local in tests.
pub type KeyCache = Mutex<KeyState>;

/// One key of a JWKS: its string members (each may be null or missing).
struct Jwk {
    kty: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

impl Jwk {
    /// `None` when the key is no object or one of its members is neither a
    /// string nor null: the whole set is then unreadable.
    fn from_json(key: &Value) -> Option<Jwk> {
        let key = key.as_object()?;
        Some(Jwk {
            kty: text(key, "kty")?,
            kid: text(key, "kid")?,
            alg: text(key, "alg")?,
            n: text(key, "n")?,
            e: text(key, "e")?,
        })
    }
}

/// RSA signing keys with an id; anything else in the set is skipped. Read
/// from the `Value` tree (as Upscope's answers are) rather than through a
/// derived `Deserialize`, which would compile a reader of its own.
fn read_jwks(body: &str, fetched_at_ms: f64) -> Option<KeySet> {
    let jwks: Value = serde_json::from_str(body).ok()?;
    let listed = match jwks.as_object()?.get("keys") {
        None => Vec::new(),
        Some(Value::Array(keys)) => keys.iter().map(Jwk::from_json).collect::<Option<Vec<_>>>()?,
        Some(_) => return None,
    };
    let keys = listed
        .into_iter()
        .filter(|k| k.kty.as_deref() == Some("RSA") && k.alg.as_deref().is_none_or(|alg| alg == "RS256"))
        .filter_map(|k| Some((k.kid?, RsaPublicKey { n: k.n?, e: k.e? })))
        .collect();
    Some(KeySet { keys, fetched_at_ms })
}

/// What to do for a token's `kid` given what is known of the keys.
#[derive(Debug, PartialEq)]
enum Plan {
    Use(RsaPublicKey),
    Fetch,
    /// Keys are known and this `kid` is not among them.
    Refuse,
    /// The last fetch failed moments ago and no known key fits.
    Unavailable,
}

fn plan(state: &KeyState, kid: &str, now_ms: f64) -> Plan {
    let known = state.keys.as_ref().and_then(|set| Some((set.find(kid)?, set.fetched_at_ms)));
    if let Some((key, fetched_at_ms)) = known {
        if now_ms - fetched_at_ms < KEYS_MAX_AGE_MS {
            return Plan::Use(key.clone());
        }
    }
    match state.last_attempt {
        Some(last) if now_ms - last.at_ms < REFETCH_COOLDOWN_MS => match known {
            // Cloudflare failing: a key already known still verifies, however old.
            Some((key, _)) => Plan::Use(key.clone()),
            None if last.failed => Plan::Unavailable,
            None => Plan::Refuse,
        },
        _ => Plan::Fetch,
    }
}

pub struct AccessVerifier<'a, C, T> {
    pub settings: &'a AccessSettings,
    pub crypto: &'a C,
    pub transport: &'a T,
    pub keys: &'a KeyCache,
    pub now_ms: f64,
}

impl<C: Crypto, T: Transport> AccessVerifier<'_, C, T> {
    /// The agent the token names, or a refusal; `agent_id`/`agent_name`
    /// query parameters play no part in this mode.
    pub async fn verify(&self, token: Option<&str>) -> Result<Agent, GatewayError> {
        let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or(refused(Refusal::Missing))?;
        let token = jwt::parse(token).map_err(problem)?;
        let key = self.key_for(&token.kid).await?;
        let valid = self
            .crypto
            .verify_rs256(&key, token.signing_input.as_bytes(), &token.signature)
            .await
            .map_err(|_| refused(Refusal::Invalid))?;
        if !valid {
            return Err(refused(Refusal::Invalid));
        }
        let issuer = format!("https://{}", self.settings.team_domain);
        let expected = Expected {
            audience: &self.settings.audience,
            issuer: &issuer,
            now_seconds: self.now_ms / 1000.0,
            service_tokens: &self.settings.service_tokens,
        };
        jwt::agent_from_claims(&token.claims, &expected).map_err(problem)
    }

    async fn key_for(&self, kid: &str) -> Result<RsaPublicKey, GatewayError> {
        let state = self.state().clone();
        match plan(&state, kid, self.now_ms) {
            Plan::Use(key) => return Ok(key),
            Plan::Refuse => return Err(refused(Refusal::Invalid)),
            Plan::Unavailable => return Err(GatewayError::AccessKeysUnavailable),
            Plan::Fetch => {}
        }
        // Claim the fetch before awaiting it, as if it had failed: requests
        // arriving meanwhile see a recent attempt and fetch nothing themselves
        // (a known key still verifies; otherwise they get a 502).
        self.state().last_attempt = Some(Attempt { at_ms: self.now_ms, failed: true });
        let fresh = self.fetch().await;
        let mut current = self.state();
        match fresh {
            Some(fresh) => {
                current.last_attempt = Some(Attempt { at_ms: self.now_ms, failed: false });
                let key = fresh.find(kid).cloned();
                current.keys = Some(fresh);
                key.ok_or(refused(Refusal::Invalid))
            }
            // Cloudflare unreachable: a key already known still verifies.
            None => {
                current.keys.as_ref().and_then(|set| set.find(kid)).cloned().ok_or(GatewayError::AccessKeysUnavailable)
            }
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, KeyState> {
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn fetch(&self) -> Option<KeySet> {
        let url = format!("https://{}/cdn-cgi/access/certs", self.settings.team_domain);
        let request = HttpRequest {
            endpoint: "access_keys",
            method: Method::Get,
            url,
            headers: vec![("Accept", "application/json".into())],
            body: None,
        };
        let response = self.transport.send(request).await.ok()?;
        if response.status != 200 {
            return None;
        }
        read_jwks(&response.body, self.now_ms)
    }
}

fn refused(refusal: Refusal) -> GatewayError {
    GatewayError::Refused { credential: Credential::AccessToken, refusal }
}

fn problem(p: TokenProblem) -> GatewayError {
    match p {
        TokenProblem::Invalid => refused(Refusal::Invalid),
        TokenProblem::Expired => refused(Refusal::Expired),
        TokenProblem::UnlistedService => GatewayError::ServiceTokenNotListed,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::auth::crypto::testing::FakeCrypto;
    use crate::auth::jwt::testing::token;
    use crate::core::service_tokens::ServiceTokens;
    use crate::outbound::testing::{block_on, FakeTransport};

    const NOW_MS: f64 = 1_800_000_000_000.0;
    const TEAM: &str = "team.cloudflareaccess.com";
    const JWKS: &str = r#"{"keys":[
        {"kid":"k1","kty":"RSA","alg":"RS256","use":"sig","e":"AQAB","n":"modulus-one"},
        {"kid":"k-ec","kty":"EC","crv":"P-256","x":"x","y":"y"},
        {"kid":"k2","kty":"RSA","e":"AQAB","n":"modulus-two"}],
        "public_cert":{"kid":"k1","cert":"-----BEGIN CERTIFICATE-----"}}"#;

    fn settings() -> AccessSettings {
        AccessSettings {
            team_domain: TEAM.into(),
            audience: "aud-tag".into(),
            launch_origins: Default::default(),
            service_tokens: ServiceTokens::parse("e367826f93b8d71185e03fe518aff3b4.access=Smoke test").unwrap(),
        }
    }

    fn claims() -> Value {
        json!({"aud":["aud-tag"],"iss":format!("https://{TEAM}"),"exp":NOW_MS / 1000.0 + 600.0,
               "sub":"user-1","email":"ann@example.com","name":"Ann Lee"})
    }

    /// A token the fake crypto accepts for the key with modulus `n`.
    fn signed_token(kid: &str, n: &str, claims: Value) -> String {
        let unsigned = token(json!({"alg":"RS256","kid":kid}), claims, b"x");
        let input = unsigned.rsplit_once('.').unwrap().0;
        let sig = FakeCrypto::signature(&RsaPublicKey { n: n.into(), e: "AQAB".into() }, input.as_bytes());
        format!("{input}.{}", crate::core::base64url::encode(&sig))
    }

    fn verify(fake: &FakeTransport, keys: &KeyCache, now_ms: f64, token: Option<&str>) -> Result<Agent, GatewayError> {
        let settings = settings();
        let verifier = AccessVerifier { settings: &settings, crypto: &FakeCrypto, transport: &fake, keys, now_ms };
        block_on(verifier.verify(token))
    }

    fn code(result: Result<Agent, GatewayError>) -> &'static str {
        result.unwrap_err().code()
    }

    #[test]
    fn reads_only_rsa_signing_keys() {
        let set = read_jwks(JWKS, 5.0).unwrap();
        assert_eq!(set.keys.iter().map(|(kid, _)| kid.as_str()).collect::<Vec<_>>(), ["k1", "k2"]);
        assert_eq!(read_jwks("not json", 5.0), None);
        assert_eq!(read_jwks("{}", 5.0).unwrap().keys, []);
        let unreadable = [
            r#"{"keys": null}"#,
            r#"{"keys": {}}"#,
            r#"{"keys": [1]}"#,
            r#"{"keys": [{"kty": "RSA", "kid": 7, "n": "n", "e": "AQAB"}]}"#,
            r#"[{"keys": []}]"#,
            r#""keys""#,
        ];
        for body in unreadable {
            assert_eq!(read_jwks(body, 5.0), None, "{body}");
        }
        let odd = read_jwks(
            r#"{"keys": [{"kty": "EC", "kid": "k", "x": 1}, {"kty": "RSA", "kid": "r", "n": "n", "e": "e", "alg": null}]}"#,
            5.0,
        );
        assert_eq!(odd.unwrap().keys, [("r".to_owned(), RsaPublicKey { n: "n".into(), e: "e".into() })]);
    }

    /// Issue 28 (a surviving mutant): a key is used only when it is RSA *and*
    /// for RS256 (or says no algorithm): an RSA key published for another
    /// algorithm, or a key of another type that happens to carry `n` and
    /// `e`, never verifies a token.
    #[test]
    fn a_key_for_another_algorithm_or_of_another_type_is_skipped() {
        let set = read_jwks(
            r#"{"keys": [
                {"kty": "RSA", "kid": "rs512", "alg": "RS512", "n": "n", "e": "AQAB"},
                {"kty": "RSA", "kid": "ps256", "alg": "PS256", "n": "n", "e": "AQAB"},
                {"kty": "oct", "kid": "oct", "n": "n", "e": "AQAB"},
                {"kty": "EC", "kid": "ec", "alg": "RS256", "n": "n", "e": "AQAB"},
                {"kty": "RSA", "kid": "ok", "alg": "RS256", "n": "n", "e": "AQAB"}]}"#,
            5.0,
        );
        assert_eq!(set.unwrap().keys, [("ok".to_owned(), RsaPublicKey { n: "n".into(), e: "AQAB".into() })]);
    }

    #[test]
    fn plans_fetches_from_age_and_kid() {
        let fetched =
            KeyState { keys: read_jwks(JWKS, NOW_MS), last_attempt: Some(Attempt { at_ms: NOW_MS, failed: false }) };
        assert_eq!(plan(&KeyState::EMPTY, "k1", NOW_MS), Plan::Fetch);
        assert!(matches!(plan(&fetched, "k1", NOW_MS + 1.0), Plan::Use(_)));
        assert_eq!(plan(&fetched, "k9", NOW_MS + 1.0), Plan::Refuse);
        assert_eq!(plan(&fetched, "k9", NOW_MS + REFETCH_COOLDOWN_MS), Plan::Fetch);
        assert_eq!(plan(&fetched, "k1", NOW_MS + KEYS_MAX_AGE_MS), Plan::Fetch);
        // Issue 28 (surviving mutants): past the cooldown but within the hour,
        // a known key is used as it is, without asking Cloudflare again.
        for later in [REFETCH_COOLDOWN_MS, 600_000.0, KEYS_MAX_AGE_MS - 1.0] {
            assert!(matches!(plan(&fetched, "k1", NOW_MS + later), Plan::Use(_)), "{later} ms after the fetch");
        }
        // A failed fetch counts for the cooldown too.
        let failed = KeyState { keys: None, last_attempt: Some(Attempt { at_ms: NOW_MS, failed: true }) };
        assert_eq!(plan(&failed, "k1", NOW_MS + 1.0), Plan::Unavailable);
        assert_eq!(plan(&failed, "k1", NOW_MS + REFETCH_COOLDOWN_MS), Plan::Fetch);
        let stale_then_failed = KeyState {
            keys: read_jwks(JWKS, NOW_MS),
            last_attempt: Some(Attempt { at_ms: NOW_MS + KEYS_MAX_AGE_MS, failed: true }),
        };
        assert!(matches!(plan(&stale_then_failed, "k1", NOW_MS + KEYS_MAX_AGE_MS + 1.0), Plan::Use(_)));
        assert_eq!(plan(&stale_then_failed, "k9", NOW_MS + KEYS_MAX_AGE_MS + 1.0), Plan::Unavailable);
    }

    #[test]
    fn a_fetch_in_flight_is_claimed_so_requests_meanwhile_fetch_nothing() {
        /// A transport whose answer never comes, to look at the state mid-fetch.
        #[derive(Default)]
        struct Hanging(std::cell::Cell<usize>);
        impl Transport for Hanging {
            async fn send(
                &self,
                _: HttpRequest,
            ) -> Result<crate::outbound::HttpResponse, crate::outbound::TransportError> {
                self.0.set(self.0.get() + 1);
                std::future::pending().await
            }
            async fn pause_before_retry(&self, _: u64) -> bool {
                false
            }
            fn random_fraction(&self) -> f64 {
                0.0
            }
        }
        let keys = KeyCache::default();
        let hanging = Hanging::default();
        let settings = settings();
        let verifier = AccessVerifier {
            settings: &settings,
            crypto: &FakeCrypto,
            transport: &hanging,
            keys: &keys,
            now_ms: NOW_MS,
        };
        let t = signed_token("k1", "modulus-one", claims());
        let mut first = std::pin::pin!(verifier.verify(Some(&t)));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(std::future::Future::poll(first.as_mut(), &mut cx).is_pending(), "the first request is fetching");
        assert_eq!(hanging.0.get(), 1);
        // Another request meanwhile, even with an unknown kid: no second fetch.
        let other = signed_token("k-unknown", "modulus-x", claims());
        let fake = FakeTransport::default();
        assert_eq!(code(verify(&fake, &keys, NOW_MS + 10.0, Some(&other))), "access_keys_unavailable");
        assert!(fake.requests.borrow().is_empty());
    }

    #[test]
    fn a_failing_key_endpoint_is_asked_at_most_once_per_cooldown() {
        let fake = FakeTransport::answering([(503, "down"), (500, ""), (200, JWKS)]);
        let keys = KeyCache::default();
        let t = signed_token("k1", "modulus-one", claims());
        assert_eq!(code(verify(&fake, &keys, NOW_MS, Some(&t))), "access_keys_unavailable");
        assert_eq!(code(verify(&fake, &keys, NOW_MS + 1.0, Some(&t))), "access_keys_unavailable");
        assert_eq!(code(verify(&fake, &keys, NOW_MS + REFETCH_COOLDOWN_MS - 1.0, Some(&t))), "access_keys_unavailable");
        assert_eq!(fake.requests.borrow().len(), 1, "no fetch within the cooldown after a failure");
        assert_eq!(code(verify(&fake, &keys, NOW_MS + REFETCH_COOLDOWN_MS, Some(&t))), "access_keys_unavailable");
        assert_eq!(fake.requests.borrow().len(), 2);
        assert!(
            verify(&fake, &keys, NOW_MS + 2.0 * REFETCH_COOLDOWN_MS, Some(&t)).is_ok(),
            "recovers after the cooldown"
        );
        assert_eq!(fake.requests.borrow().len(), 3);
    }

    #[test]
    fn valid_token_names_the_agent_and_keys_are_cached() {
        let fake = FakeTransport::answering([(200, JWKS)]);
        let keys = KeyCache::default();
        let t = signed_token("k1", "modulus-one", claims());
        let agent = verify(&fake, &keys, NOW_MS, Some(&t)).unwrap();
        assert_eq!(agent, Agent { id: "user-1".into(), name: "Ann Lee".into() });
        assert_eq!(fake.calls(), ["GET /cdn-cgi/access/certs"]);
        assert!(fake.requests.borrow()[0].url.starts_with("https://team.cloudflareaccess.com/"));
        // Second request: no fetch.
        let t2 = signed_token("k2", "modulus-two", claims());
        assert_eq!(verify(&fake, &keys, NOW_MS + 5.0, Some(&t2)).unwrap().id, "user-1");
        assert_eq!(fake.requests.borrow().len(), 1);
    }

    #[test]
    fn a_service_token_is_its_listed_agent_or_refused_as_unlisted() {
        let fake = FakeTransport::answering([(200, JWKS)]);
        let keys = KeyCache::default();
        let service = |client_id: &str| {
            json!({"type":"app","aud":["aud-tag"],"iss":format!("https://{TEAM}"),"exp":NOW_MS / 1000.0 + 600.0,
                   "common_name":client_id,"sub":""})
        };
        let t = signed_token("k1", "modulus-one", service("e367826f93b8d71185e03fe518aff3b4.access"));
        let agent = verify(&fake, &keys, NOW_MS, Some(&t)).unwrap();
        assert_eq!(
            agent,
            Agent { id: "service:e367826f93b8d71185e03fe518aff3b4.access".into(), name: "Smoke test".into() }
        );
        let t = signed_token("k1", "modulus-one", service("0a0b0c0d0e0f00112233445566778899.access"));
        assert_eq!(code(verify(&fake, &keys, NOW_MS, Some(&t))), "access_service_token_unlisted");
        assert_eq!(fake.requests.borrow().len(), 1, "one key fetch, nothing else");
    }

    #[test]
    fn unknown_kid_refetches_once_then_refuses() {
        let fake = FakeTransport::answering([(200, JWKS), (200, JWKS)]);
        let keys = KeyCache::default();
        verify(&fake, &keys, NOW_MS, Some(&signed_token("k1", "modulus-one", claims()))).unwrap();
        let unknown = signed_token("k9", "modulus-nine", claims());
        let later = NOW_MS + REFETCH_COOLDOWN_MS;
        assert_eq!(code(verify(&fake, &keys, later, Some(&unknown))), "access_token_invalid");
        assert_eq!(fake.requests.borrow().len(), 2);
        // Within the cooldown, another unknown kid costs no fetch.
        assert_eq!(code(verify(&fake, &keys, later + 1.0, Some(&unknown))), "access_token_invalid");
        assert_eq!(fake.requests.borrow().len(), 2);
    }

    #[test]
    fn rotated_key_is_found_by_refetching() {
        let rotated = r#"{"keys":[{"kid":"k3","kty":"RSA","e":"AQAB","n":"modulus-three"}]}"#;
        let fake = FakeTransport::answering([(200, JWKS), (200, rotated)]);
        let keys = KeyCache::default();
        verify(&fake, &keys, NOW_MS, Some(&signed_token("k1", "modulus-one", claims()))).unwrap();
        let t = signed_token("k3", "modulus-three", claims());
        assert!(verify(&fake, &keys, NOW_MS + REFETCH_COOLDOWN_MS, Some(&t)).is_ok());
    }

    #[test]
    fn refusals() {
        let keys = KeyCache::default();
        let fake = FakeTransport::answering([(200, JWKS)]);
        assert_eq!(code(verify(&fake, &keys, NOW_MS, None)), "access_token_missing");
        assert_eq!(code(verify(&fake, &keys, NOW_MS, Some("  "))), "access_token_missing");
        assert_eq!(code(verify(&fake, &keys, NOW_MS, Some("garbage"))), "access_token_invalid");
        assert!(fake.requests.borrow().is_empty(), "unparseable tokens cost no fetch");
        // Signed by the wrong key.
        let forged = signed_token("k1", "modulus-two", claims());
        assert_eq!(code(verify(&fake, &keys, NOW_MS, Some(&forged))), "access_token_invalid");
        let mut wrong_aud = claims();
        wrong_aud["aud"] = json!(["other"]);
        let t = signed_token("k1", "modulus-one", wrong_aud);
        assert_eq!(code(verify(&fake, &keys, NOW_MS, Some(&t))), "access_token_invalid");
        let mut expired = claims();
        expired["exp"] = json!(NOW_MS / 1000.0 - 3600.0);
        let t = signed_token("k1", "modulus-one", expired);
        assert_eq!(code(verify(&fake, &keys, NOW_MS, Some(&t))), "access_token_expired");
        // An unusable key (WebCrypto refuses to import it) is a refusal, not a crash.
        let odd = r#"{"keys":[{"kid":"k1","kty":"RSA","e":"AAAA","n":"modulus-one"}]}"#;
        let fake = FakeTransport::answering([(200, odd)]);
        let t = signed_token("k1", "modulus-one", claims());
        assert_eq!(code(verify(&fake, &KeyCache::default(), NOW_MS, Some(&t))), "access_token_invalid");
    }

    #[test]
    fn unreachable_keys_are_a_502_unless_already_known() {
        let mut long_lived = claims();
        long_lived["exp"] = json!((NOW_MS + 2.0 * KEYS_MAX_AGE_MS) / 1000.0);
        let t = signed_token("k1", "modulus-one", long_lived);
        let fake = FakeTransport::answering([(503, "down")]);
        assert_eq!(code(verify(&fake, &KeyCache::default(), NOW_MS, Some(&t))), "access_keys_unavailable");
        let fake = FakeTransport::answering([(200, JWKS), (500, "")]);
        let keys = KeyCache::default();
        verify(&fake, &keys, NOW_MS, Some(&t)).unwrap();
        assert!(verify(&fake, &keys, NOW_MS + KEYS_MAX_AGE_MS, Some(&t)).is_ok(), "stale key still verifies");
    }
}
