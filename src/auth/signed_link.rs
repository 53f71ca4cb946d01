//! Signed links: the company's backend signs every query parameter with a
//! shared secret (HMAC-SHA256 over the canonical string of
//! `core::canonical`), plus an `exp` a few minutes ahead. The signature is
//! checked first, so a forger learns nothing about `exp` handling. During a
//! rotation the previous secret still verifies; only the current one signs.

use super::crypto::Crypto;
use super::CLOCK_SKEW_SECONDS;
use crate::core::base64url;
use crate::core::canonical::{canonical_string, constant_time_eq, SIGNATURE_PARAM};
use crate::core::query::Params;
use crate::error::{Credential, GatewayError, Refusal};
use crate::settings::LinkKey;

/// The parameter carrying the link's expiry, in Unix seconds.
pub const EXPIRY_PARAM: &str = "exp";

/// Accepts the link only if `sig` is the HMAC of every other parameter under
/// `key`'s current or previous secret and `exp` lies between now and
/// `key.max_ttl_seconds` ahead.
pub async fn verify_signed_link(
    params: &Params,
    key: &LinkKey,
    credential: Credential,
    now_seconds: u64,
    crypto: &impl Crypto,
) -> Result<(), GatewayError> {
    let refuse = |refusal| GatewayError::Refused { credential, refusal };
    let given = params.get(SIGNATURE_PARAM).ok_or(refuse(Refusal::Missing))?;
    let mut signed_by_a_key = false;
    for secret in std::iter::once(&key.secret).chain(&key.previous) {
        let expected = mac(params.iter(), secret, crypto).await?;
        signed_by_a_key |= constant_time_eq(expected.as_bytes(), given.as_bytes());
    }
    if !signed_by_a_key {
        return Err(refuse(Refusal::Invalid));
    }
    let expiry = params.get(EXPIRY_PARAM).and_then(parse_unix_seconds).ok_or(refuse(Refusal::Invalid))?;
    if expiry.saturating_add(CLOCK_SKEW_SECONDS) < now_seconds {
        return Err(refuse(Refusal::Expired));
    }
    if expiry > now_seconds.saturating_add(key.max_ttl_seconds).saturating_add(CLOCK_SKEW_SECONDS) {
        return Err(refuse(Refusal::TooFar));
    }
    Ok(())
}

/// The `sig` for these parameters under `key`'s current secret.
pub async fn signature<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    key: &LinkKey,
    crypto: &impl Crypto,
) -> Result<String, GatewayError> {
    mac(params, &key.secret, crypto).await
}

/// Unpadded base64url of the HMAC-SHA256 under `secret` of the parameters'
/// canonical string (`sig` itself is left out).
async fn mac<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    secret: &str,
    crypto: &impl Crypto,
) -> Result<String, GatewayError> {
    let canonical = canonical_string(params);
    let mac = crypto
        .hmac_sha256(secret.as_bytes(), canonical.as_bytes())
        .await
        .map_err(|_| GatewayError::Internal("a link signature could not be computed"))?;
    Ok(base64url::encode(&mac))
}

/// Plain decimal digits only: no sign, no fraction, no exponent.
fn parse_unix_seconds(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::auth::crypto::testing::FakeCrypto;

    pub const SECRET: &str = "0123456789abcdef0123456789abcdef";

    /// Signs `query` with `SECRET` the way a backend would, with the fake MAC.
    pub fn signed(query: &str) -> String {
        let params = Params::parse(Some(query)).unwrap();
        let mac = FakeCrypto::mac(SECRET.as_bytes(), canonical_string(params.iter()).as_bytes());
        format!("{query}&sig={}", base64url::encode(&mac))
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::auth::crypto::testing::FakeCrypto;
    use crate::outbound::testing::block_on;

    const NOW: u64 = 1_800_000_000;

    fn key() -> LinkKey {
        LinkKey { secret: SECRET.into(), previous: None, max_ttl_seconds: 300 }
    }

    fn check(query: &str) -> Result<(), GatewayError> {
        let params = Params::parse(Some(query)).unwrap();
        block_on(verify_signed_link(&params, &key(), Credential::AgentLink, NOW, &FakeCrypto))
    }

    fn refusal(query: &str) -> Refusal {
        match check(query) {
            Err(GatewayError::Refused { credential: Credential::AgentLink, refusal }) => refusal,
            other => panic!("{query}: expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn accepts_a_fresh_signed_link() {
        let exp = NOW + 120;
        check(&signed(&format!("visitorid=sAlice01&agent_id=a-7&agent_name=Ann+Lee&exp={exp}"))).unwrap();
        // Up to the maximum lifetime, and within the clock skew either side.
        check(&signed(&format!("lookup=4821&exp={}", NOW + 300 + CLOCK_SKEW_SECONDS))).unwrap();
        check(&signed(&format!("lookup=4821&exp={}", NOW - CLOCK_SKEW_SECONDS))).unwrap();
    }

    #[test]
    fn during_a_rotation_the_previous_secret_verifies_and_only_the_current_one_signs() {
        let link = signed(&format!("lookup=4821&exp={}", NOW + 60));
        let params = Params::parse(Some(&link)).unwrap();
        let rotated = LinkKey {
            secret: "a-brand-new-secret-of-32-characters!".into(),
            previous: Some(SECRET.into()),
            max_ttl_seconds: 300,
        };
        assert!(block_on(verify_signed_link(&params, &rotated, Credential::AgentLink, NOW, &FakeCrypto)).is_ok());
        let done = LinkKey { previous: None, ..rotated };
        assert!(block_on(verify_signed_link(&params, &done, Credential::AgentLink, NOW, &FakeCrypto)).is_err());
        let fresh = block_on(signature(params.without(&["sig"]).iter(), &done, &FakeCrypto)).unwrap();
        let by_old = block_on(signature(params.without(&["sig"]).iter(), &key(), &FakeCrypto)).unwrap();
        assert_ne!(fresh, by_old, "the current secret signs");
    }

    /// Issue 28: while a rotation is under way the backend may sign with
    /// either secret (its deploys roll out gradually), so both verify, in
    /// either order of checking; a third secret does not; and the links the
    /// gateway itself signs (`signature`) use the current secret, so they
    /// still verify once the previous one is removed.
    #[test]
    fn a_rotation_accepts_links_of_either_secret_and_nothing_else() {
        const NEW: &str = "a-brand-new-secret-of-32-characters!";
        let query = format!("lookup=4821&exp={}", NOW + 60);
        let params = Params::parse(Some(&query)).unwrap();
        let signed_by = |secret: &str| {
            let sig =
                base64url::encode(&FakeCrypto::mac(secret.as_bytes(), canonical_string(params.iter()).as_bytes()));
            Params::parse(Some(&format!("{query}&sig={sig}"))).unwrap()
        };
        let verify = |link: &Params, key: &LinkKey| {
            block_on(verify_signed_link(link, key, Credential::AgentLink, NOW, &FakeCrypto))
        };
        let rotating = LinkKey { secret: NEW.into(), previous: Some(SECRET.into()), max_ttl_seconds: 300 };
        verify(&signed_by(NEW), &rotating).expect("a link of the new secret verifies during the rotation");
        verify(&signed_by(SECRET), &rotating).expect("a link of the previous secret verifies during the rotation");
        let other = signed_by("a-third-secret-nobody-configured!!!");
        assert!(
            matches!(verify(&other, &rotating), Err(GatewayError::Refused { refusal: Refusal::Invalid, .. })),
            "a link of any other secret is refused"
        );
        // A no-op rotation (the previous secret equal to the current one) still verifies.
        let same = LinkKey { secret: SECRET.into(), previous: Some(SECRET.into()), max_ttl_seconds: 300 };
        verify(&signed_by(SECRET), &same).expect("a no-op rotation");
        // What the gateway signs during the rotation verifies after it ends.
        let sig = block_on(signature(params.iter(), &rotating, &FakeCrypto)).unwrap();
        let ours = Params::parse(Some(&format!("{query}&sig={sig}"))).unwrap();
        let done = LinkKey { secret: NEW.into(), previous: None, max_ttl_seconds: 300 };
        verify(&ours, &done).expect("the gateway signs with the current secret");
    }

    #[test]
    fn missing_or_wrong_signature_is_invalid() {
        let exp = NOW + 60;
        assert_eq!(refusal(&format!("lookup=4821&exp={exp}")), Refusal::Missing);
        assert_eq!(refusal(&format!("lookup=4821&exp={exp}&sig=")), Refusal::Invalid);
        assert_eq!(refusal(&format!("lookup=4821&exp={exp}&sig=AAAA")), Refusal::Invalid);
        // The right signature in another spelling (padding) is not accepted.
        assert_eq!(refusal(&format!("{}%3D", signed(&format!("lookup=4821&exp={exp}")))), Refusal::Invalid);
    }

    #[test]
    fn any_change_after_signing_is_invalid() {
        let link = signed(&format!("lookup=4821&agent_id=a-7&agent_name=Ann&exp={}", NOW + 60));
        for tampered in [
            link.replace("lookup=4821", "lookup=4822"),
            link.replace("agent_name=Ann", "agent_name=Bob"),
            link.replace(&format!("exp={}", NOW + 60), &format!("exp={}", NOW + 61)),
            format!("{link}&extra=1"),
            link.replace("agent_id=a-7&", ""),
        ] {
            assert_eq!(refusal(&tampered), Refusal::Invalid, "{tampered}");
        }
    }

    #[test]
    fn expiry_is_checked_after_the_signature() {
        assert_eq!(refusal(&signed(&format!("lookup=4821&exp={}", NOW - CLOCK_SKEW_SECONDS - 1))), Refusal::Expired);
        assert_eq!(refusal(&signed(&format!("lookup=4821&exp={}", NOW + 331))), Refusal::TooFar);
        for exp in ["", "+1800000060", "1800000060.5", "1e9", "99999999999999"] {
            assert_eq!(refusal(&signed(&format!("lookup=4821&exp={exp}"))), Refusal::Invalid, "exp={exp}");
        }
        assert_eq!(refusal(&signed("lookup=4821")), Refusal::Invalid);
        // Issue 28 (a surviving mutant): up to 12 digits are read as a time
        // (and are then too far ahead); 13 are refused unread.
        assert_eq!(refusal(&signed("lookup=4821&exp=999999999999")), Refusal::TooFar);
        assert_eq!(refusal(&signed("lookup=4821&exp=1000000000000")), Refusal::Invalid);
        // An expired link with a bad signature reads as invalid, not expired.
        assert_eq!(refusal(&format!("lookup=4821&exp={}&sig=AAAA", NOW - 999)), Refusal::Invalid);
    }
}
