//! The Workers implementation of `Crypto`: the runtime's own WebCrypto
//! (`crypto.subtle`), bound directly, so HMAC and RSA cost the wasm nothing.

use wasm_bindgen::prelude::*;
use worker::js_sys::{Array, ArrayBuffer, Promise, Uint8Array};

use super::js::{object, settled};
use crate::auth::crypto::{Crypto, CryptoError, RsaPublicKey};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = ["crypto", "subtle"], js_name = importKey)]
    fn import_key(
        format: &str,
        key_data: &JsValue,
        algorithm: &JsValue,
        extractable: bool,
        usages: &JsValue,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(catch, js_namespace = ["crypto", "subtle"], js_name = sign)]
    fn sign(algorithm: &str, key: &JsValue, data: &Uint8Array) -> Result<Promise, JsValue>;

    #[wasm_bindgen(catch, js_namespace = ["crypto", "subtle"], js_name = verify)]
    fn verify(algorithm: &str, key: &JsValue, signature: &Uint8Array, data: &Uint8Array) -> Result<Promise, JsValue>;
}

pub struct WebCrypto;

/// `{ name, hash: "SHA-256" }`: a WebCrypto algorithm.
fn algorithm(name: &str) -> JsValue {
    object(&[("name", name.into()), ("hash", "SHA-256".into())]).into()
}

async fn settle(promise: Result<Promise, JsValue>) -> Result<JsValue, CryptoError> {
    settled(promise).await.map_err(|_| CryptoError)
}

impl Crypto for WebCrypto {
    async fn hmac_sha256(&self, key: &[u8], message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let algorithm = algorithm("HMAC");
        let usages = Array::of1(&"sign".into());
        let key = settle(import_key("raw", &Uint8Array::from(key).into(), &algorithm, false, &usages)).await?;
        let mac = settle(sign("HMAC", &key, &Uint8Array::from(message))).await?;
        let mac: ArrayBuffer = mac.dyn_into().map_err(|_| CryptoError)?;
        Ok(Uint8Array::new(&mac).to_vec())
    }

    async fn verify_rs256(&self, key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> Result<bool, CryptoError> {
        let jwk = object(&[
            ("kty", "RSA".into()),
            ("n", key.n.as_str().into()),
            ("e", key.e.as_str().into()),
            ("alg", "RS256".into()),
            ("ext", JsValue::TRUE),
        ]);
        let algorithm = algorithm("RSASSA-PKCS1-v1_5");
        let usages = Array::of1(&"verify".into());
        let key = settle(import_key("jwk", &jwk.into(), &algorithm, false, &usages)).await?;
        let valid =
            settle(verify("RSASSA-PKCS1-v1_5", &key, &Uint8Array::from(signature), &Uint8Array::from(message))).await?;
        Ok(valid.as_bool() == Some(true))
    }
}
