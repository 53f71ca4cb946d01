//! Worker vars and secrets as a settings `Source`, and the bindings read
//! from the env. (What a request needs is assembled from it once per
//! isolate: `routes::runtime`.)

use worker::wasm_bindgen::JsValue;
use worker::Env;

use crate::settings::Source;

/// The binding (KV namespace, rate limiter, ...) named `name`, if one is bound.
pub fn binding(env: &Env, name: &str) -> Option<JsValue> {
    worker::js_sys::Reflect::get(env, &name.into()).ok().filter(|value| !value.is_undefined())
}

/// The Workers version-metadata binding (`[version_metadata]` in wrangler.toml); optional.
pub const VERSION_METADATA_BINDING: &str = "CF_VERSION_METADATA";

/// The id of the deployed Worker version, when the metadata binding is bound.
pub fn deployed_version_id(env: &Env) -> Option<String> {
    let metadata = binding(env, VERSION_METADATA_BINDING)?;
    if !metadata.is_object() {
        return None;
    }
    let id = worker::js_sys::Reflect::get(&metadata, &"id".into()).ok()?.as_string()?;
    Some(id).filter(|id| !id.is_empty() && id.len() <= 64)
}

/// Each name is one `Reflect.get` on the env. Nothing is remembered here:
/// the runtime loads each group of settings once per isolate
/// (`routes::runtime`), so only `/readyz`'s full check reads names again.
impl Source for worker::Env {
    fn get(&self, name: &str) -> Option<String> {
        // Read directly (one Reflect.get) rather than through var() and
        // object_var(): those cost several crossings, format an error for
        // every unset name, and pull serde_wasm_bindgen into the bundle.
        let value = binding(self, name).unwrap_or_default();
        let text = match value.as_string() {
            Some(text) => Some(text),
            // wrangler.toml may give a list as a TOML array (of strings only).
            None if worker::js_sys::Array::is_array(&value) => {
                let list = worker::js_sys::Array::from(&value);
                list.iter().all(|item| item.is_string()).then(|| list.join(",").into())
            }
            None => None,
        };
        text.filter(|t| !t.trim().is_empty())
    }
}
