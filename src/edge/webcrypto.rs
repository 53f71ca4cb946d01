//! The Workers implementation of `Crypto`: the runtime's own WebCrypto
//! (`crypto.subtle`), bound directly, so HMAC and RSA cost the wasm nothing.

use wasm_bindgen::prelude::*;
use worker::js_sys::{ArrayBuffer, Promise, Uint8Array, JSON};
use worker::wasm_bindgen_futures::JsFuture;

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

/// A JS value from JSON text we built ourselves.
fn js(json: &serde_json::Value) -> Result<JsValue, CryptoError> {
    JSON::parse(&json.to_string()).map_err(|_| CryptoError)
}

async fn settle(promise: Result<Promise, JsValue>) -> Result<JsValue, CryptoError> {
    JsFuture::from(promise.map_err(|_| CryptoError)?).await.map_err(|_| CryptoError)
}

impl Crypto for WebCrypto {
    async fn hmac_sha256(&self, key: &[u8], message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let algorithm = js(&serde_json::json!({ "name": "HMAC", "hash": "SHA-256" }))?;
        let usages = js(&serde_json::json!(["sign"]))?;
        let key = settle(import_key("raw", &Uint8Array::from(key).into(), &algorithm, false, &usages)).await?;
        let mac = settle(sign("HMAC", &key, &Uint8Array::from(message))).await?;
        let mac: ArrayBuffer = mac.dyn_into().map_err(|_| CryptoError)?;
        Ok(Uint8Array::new(&mac).to_vec())
    }

    async fn verify_rs256(&self, key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> Result<bool, CryptoError> {
        let jwk = js(&serde_json::json!({ "kty": "RSA", "n": key.n, "e": key.e, "alg": "RS256", "ext": true }))?;
        let algorithm = js(&serde_json::json!({ "name": "RSASSA-PKCS1-v1_5", "hash": "SHA-256" }))?;
        let usages = js(&serde_json::json!(["verify"]))?;
        let key = settle(import_key("jwk", &jwk, &algorithm, false, &usages)).await?;
        let valid =
            settle(verify("RSASSA-PKCS1-v1_5", &key, &Uint8Array::from(signature), &Uint8Array::from(message))).await?;
        Ok(valid.as_bool() == Some(true))
    }
}
