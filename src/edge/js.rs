//! Small pieces of JS every adapter here needs: plain option objects and
//! the settled value of a promise a binding returned.

use worker::js_sys::{Object, Promise, Reflect};
use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::JsFuture;

/// A plain JS object of these fields, built directly (no JSON text, no
/// `serde_json::Value` in the bundle).
pub fn object(fields: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (name, value) in fields {
        let _ = Reflect::set(&object, &JsValue::from_str(name), value);
    }
    object
}

/// The settled value of the promise a call returned; a call that threw, or
/// a promise that rejected, is `Err`.
pub async fn settled(call: Result<Promise, JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(call?).await
}
