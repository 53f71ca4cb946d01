//! Workers KV behind `ShortIdCache`: every operation's outcome goes to the
//! request's log line, and writes are bounded so a slow namespace never
//! holds a request up.
//!
//! The namespace is bound directly (`get`, `put`, `delete` on the binding
//! object) rather than through `worker::kv`, whose option builders pull
//! serde_wasm_bindgen, `serde_json::Value` and float formatting into the
//! bundle for the three calls made here.

use wasm_bindgen::prelude::*;
use worker::js_sys::{Object, Promise};
use worker::Env;

use super::env::binding;
use super::js::{object, settled};
use super::timer::within;
use crate::core::ids::{ShortId, UniqueId};
use crate::observe::{CacheEvent, RequestLog};
use crate::short_id_cache::{cache_key, ShortIdCache};

#[wasm_bindgen]
extern "C" {
    /// A Workers KV namespace binding.
    pub type KvNamespace;

    #[wasm_bindgen(method, catch)]
    fn get(this: &KvNamespace, key: &str, options: &Object) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn put(this: &KvNamespace, key: &str, value: &str, options: &Object) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn delete(this: &KvNamespace, key: &str) -> Result<Promise, JsValue>;
}

/// The KV namespace bound as `binding`, if any.
pub fn kv_namespace(env: &Env, name: &str) -> Option<KvNamespace> {
    binding(env, name).map(JsCast::unchecked_into)
}

/// How long a KV operation may take before the request stops waiting for
/// it. Reads race the search and writes overlap the session call, so this
/// only bounds the rare slow namespace.
pub const KV_TIMEOUT_MS: u64 = 500;

/// Workers KV; every operation's outcome goes to the request's log line.
pub struct KvShortIdCache<'a> {
    pub store: &'a KvNamespace,
    pub ttl_seconds: u64,
    pub log: &'a RequestLog,
}

impl ShortIdCache for KvShortIdCache<'_> {
    async fn get(&self, id: &UniqueId) -> Option<ShortId> {
        let read = settled(self.store.get(&cache_key(id), &object(&[("type", "text".into())])));
        match within(KV_TIMEOUT_MS, read).await {
            Some(Ok(value)) => {
                // A value that is not a valid Short ID is treated as a miss.
                let hit = value.as_string().and_then(|v| ShortId::parse(&v).ok());
                self.log.cache(if hit.is_some() { CacheEvent::Hit } else { CacheEvent::Miss });
                hit
            }
            Some(Err(_)) => {
                self.log.cache(CacheEvent::Failed("kv_get_failed"));
                None
            }
            None => {
                self.log.cache(CacheEvent::Failed("kv_get_timeout"));
                None
            }
        }
    }

    async fn put(&self, id: &UniqueId, short_id: &ShortId) {
        let ttl = object(&[("expirationTtl", JsValue::from_f64(self.ttl_seconds as f64))]);
        let write = settled(self.store.put(&cache_key(id), short_id.as_str(), &ttl));
        match within(KV_TIMEOUT_MS, write).await {
            Some(Ok(_)) => {}
            Some(Err(_)) => self.log.cache(CacheEvent::Failed("kv_put_failed")),
            None => self.log.cache(CacheEvent::Failed("kv_put_timeout")),
        }
    }

    async fn forget(&self, id: &UniqueId) {
        self.log.cache(CacheEvent::Stale);
        match within(KV_TIMEOUT_MS, settled(self.store.delete(&cache_key(id)))).await {
            Some(Ok(_)) => {}
            Some(Err(_)) => self.log.cache(CacheEvent::Failed("kv_delete_failed")),
            None => self.log.cache(CacheEvent::Failed("kv_delete_timeout")),
        }
    }
}
