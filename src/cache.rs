//! The only thing the gateway ever caches: a visitor's own ID → Upscope
//! Short ID, in the optional KV namespace `SHORT_ID_CACHE`. A cache failure
//! never fails a request; it only costs a search, and shows in the log line.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use worker::kv::KvStore;
use worker::Delay;

use crate::core::ids::{ShortId, UniqueId};
use crate::observe::{CacheEvent, RequestLog};

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

/// How long a KV write may take before the request stops waiting for it.
/// Writes overlap the session call, so this only bounds the rare slow write;
/// reads need no bound, since they race the search and are dropped when it ends.
pub const KV_WRITE_TIMEOUT_MS: u64 = 500;

/// `future`'s output, or `None` once `ms` have passed.
async fn within<F: Future>(ms: u64, future: F) -> Option<F::Output> {
    let (mut future, mut timer) = (pin!(future), pin!(Delay::from(Duration::from_millis(ms))));
    poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(out) => Poll::Ready(Some(out)),
        Poll::Pending => timer.as_mut().poll(cx).map(|()| None),
    })
    .await
}

/// Workers KV; every operation's outcome goes to the request's log line.
pub struct KvShortIdCache<'a> {
    pub store: KvStore,
    pub ttl_seconds: u64,
    pub log: &'a RequestLog,
}

impl ShortIdCache for KvShortIdCache<'_> {
    async fn get(&self, id: &UniqueId) -> Option<ShortId> {
        // Stays "late" if the search ends first and the read is dropped.
        self.log.cache(CacheEvent::Late);
        match self.store.get(&cache_key(id)).text().await {
            Ok(value) => {
                // A value that is not a valid Short ID is treated as a miss.
                let hit = value.and_then(|v| ShortId::parse(&v).ok());
                self.log.settle_cache(if hit.is_some() { CacheEvent::Hit } else { CacheEvent::Miss });
                hit
            }
            Err(_) => {
                self.log.settle_cache(CacheEvent::Failed("kv_get_failed"));
                None
            }
        }
    }

    async fn put(&self, id: &UniqueId, short_id: &ShortId) {
        let write = async {
            match self.store.put(&cache_key(id), short_id.as_str()) {
                Ok(put) => put.expiration_ttl(self.ttl_seconds).execute().await,
                Err(e) => Err(e),
            }
        };
        match within(KV_WRITE_TIMEOUT_MS, write).await {
            Some(Ok(())) => {}
            Some(Err(_)) => self.log.cache(CacheEvent::Failed("kv_put_failed")),
            None => self.log.cache(CacheEvent::Failed("kv_put_timeout")),
        }
    }

    async fn forget(&self, id: &UniqueId) {
        self.log.cache(CacheEvent::Stale);
        match within(KV_WRITE_TIMEOUT_MS, self.store.delete(&cache_key(id))).await {
            Some(Ok(())) => {}
            Some(Err(_)) => self.log.cache(CacheEvent::Failed("kv_delete_failed")),
            None => self.log.cache(CacheEvent::Failed("kv_delete_timeout")),
        }
    }
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
