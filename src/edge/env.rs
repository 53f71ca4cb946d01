//! Worker vars and secrets as a settings `Source`, and the bindings read
//! from the env. (What a request needs is assembled from it once per
//! isolate: `routes::runtime`.)

use std::cell::RefCell;

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

/// Vars and secrets cannot change under a running isolate's `env`, so each
/// name is read from it once (a JS↔wasm crossing or two, and for an unset
/// name a failing look-up) and remembered for as long as the same `env`
/// object comes back; another `env` object starts afresh.
impl Source for worker::Env {
    fn get(&self, name: &str) -> Option<String> {
        /// The env object last seen, and each name read from it with its value.
        type Remembered = (Option<JsValue>, Vec<(String, Option<String>)>);
        thread_local! {
            static READ: RefCell<Remembered> = const { RefCell::new((None, Vec::new())) };
        }
        let env: &JsValue = self.as_ref();
        let remembered = READ.with_borrow_mut(|(seen, values)| {
            if seen.as_ref() != Some(env) {
                *seen = Some(env.clone());
                values.clear();
                return None;
            }
            values.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
        });
        if let Some(value) = remembered {
            return value;
        }
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
        let value = text.filter(|t| !t.trim().is_empty());
        READ.with_borrow_mut(|(_, values)| values.push((name.to_owned(), value.clone())));
        value
    }
}
