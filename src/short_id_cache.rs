//! The Short ID cache (`ShortIdCache`): a visitor's own ID → Upscope Short
//! ID, in the optional KV namespace `SHORT_ID_CACHE` (`edge::kv` is the
//! Workers KV side); the only thing the gateway keeps in KV. (Access's
//! signing keys are held in memory by `auth::access::KeyCache`.) A cache
//! failure never fails a request; it only costs a head start, and shows in
//! the log line.

use crate::core::ids::{ShortId, UniqueId};

#[allow(async_fn_in_trait)]
pub trait ShortIdCache {
    async fn get(&self, id: &UniqueId) -> Option<ShortId>;
    async fn put(&self, id: &UniqueId, short_id: &ShortId);
    async fn forget(&self, id: &UniqueId);
}

/// No binding: every look-up is a miss.
impl<C: ShortIdCache> ShortIdCache for Option<C> {
    async fn get(&self, id: &UniqueId) -> Option<ShortId> {
        match self {
            Some(cache) => cache.get(id).await,
            None => None,
        }
    }
    async fn put(&self, id: &UniqueId, short_id: &ShortId) {
        if let Some(cache) = self {
            cache.put(id, short_id).await;
        }
    }
    async fn forget(&self, id: &UniqueId) {
        if let Some(cache) = self {
            cache.forget(id).await;
        }
    }
}

/// The KV key for a visitor's own ID; versioned so the format can change.
pub fn cache_key(id: &UniqueId) -> String {
    format!("short-id:v1:{}", id.as_str())
}

#[cfg(test)]
pub(crate) mod testing {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::*;

    /// An in-memory cache that records every operation.
    #[derive(Default)]
    pub struct MemoryCache {
        pub entries: RefCell<HashMap<String, String>>,
        pub log: RefCell<Vec<String>>,
    }

    impl ShortIdCache for &MemoryCache {
        async fn get(&self, id: &UniqueId) -> Option<ShortId> {
            self.log.borrow_mut().push(format!("get {}", id.as_str()));
            self.entries.borrow().get(&cache_key(id)).and_then(|v| ShortId::parse(v).ok())
        }
        async fn put(&self, id: &UniqueId, short_id: &ShortId) {
            self.log.borrow_mut().push(format!("put {} {}", id.as_str(), short_id.as_str()));
            self.entries.borrow_mut().insert(cache_key(id), short_id.as_str().to_owned());
        }
        async fn forget(&self, id: &UniqueId) {
            self.log.borrow_mut().push(format!("forget {}", id.as_str()));
            self.entries.borrow_mut().remove(&cache_key(id));
        }
    }
}
