//! The two cryptographic operations agent and visitor verification need,
//! behind a trait: the Workers shell answers them with the runtime's
//! WebCrypto (`edge/webcrypto.rs`), so no HMAC or RSA code is compiled into the
//! wasm, and native tests use a transparent fake.

/// An RSA public key as a JWKS publishes it: base64url modulus and exponent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    pub n: String,
    pub e: String,
}

/// The runtime could not perform the operation (not a wrong signature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoError;

#[allow(async_fn_in_trait)] // single-threaded Workers runtime: no Send bound wanted
pub trait Crypto {
    async fn hmac_sha256(&self, key: &[u8], message: &[u8]) -> Result<Vec<u8>, CryptoError>;

    /// RSASSA-PKCS1-v1_5 with SHA-256: `Ok(false)` for a signature that does
    /// not match, `Err` when the key itself cannot be used.
    async fn verify_rs256(&self, key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> Result<bool, CryptoError>;
}

#[cfg(test)]
pub(crate) mod testing {
    //! A fake whose "MAC" and "signatures" are plain, inspectable strings:
    //! tests check the decisions around the cryptography, and the
    //! integration suite checks the real WebCrypto in workerd.

    use super::*;

    pub struct FakeCrypto;

    impl FakeCrypto {
        pub fn mac(key: &[u8], message: &[u8]) -> Vec<u8> {
            [b"mac(".as_slice(), key, b"|", message, b")"].concat()
        }

        pub fn signature(key: &RsaPublicKey, message: &[u8]) -> Vec<u8> {
            [format!("sig({}|", key.n).as_bytes(), message, b")"].concat()
        }
    }

    impl Crypto for FakeCrypto {
        async fn hmac_sha256(&self, key: &[u8], message: &[u8]) -> Result<Vec<u8>, CryptoError> {
            Ok(Self::mac(key, message))
        }

        async fn verify_rs256(
            &self,
            key: &RsaPublicKey,
            message: &[u8],
            signature: &[u8],
        ) -> Result<bool, CryptoError> {
            if key.e != "AQAB" {
                return Err(CryptoError);
            }
            Ok(signature == Self::signature(key, message))
        }
    }
}
