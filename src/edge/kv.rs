//! Workers KV behind `ShortIdCache`: every operation's outcome goes to the
//! request's log line, and writes are bounded so a slow namespace never
//! holds a request up.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use worker::kv::KvStore;

use super::timer::sleep;
use crate::cache::{cache_key, ShortIdCache};
use crate::core::ids::{ShortId, UniqueId};
use crate::observe::{CacheEvent, RequestLog};

/// How long a KV operation may take before the request stops waiting for
/// it. Reads race the search and writes overlap the session call, so this
/// only bounds the rare slow namespace.
pub const KV_TIMEOUT_MS: u64 = 500;

/// `future`'s output, or `None` once `ms` have passed.
async fn within<F: Future>(ms: u64, future: F) -> Option<F::Output> {
    let (mut future, mut timer) = (pin!(future), pin!(sleep(ms)));
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
        match within(KV_TIMEOUT_MS, self.store.get(&cache_key(id)).text()).await {
            Some(Ok(value)) => {
                // A value that is not a valid Short ID is treated as a miss.
                let hit = value.and_then(|v| ShortId::parse(&v).ok());
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
        let write = async {
            match self.store.put(&cache_key(id), short_id.as_str()) {
                Ok(put) => put.expiration_ttl(self.ttl_seconds).execute().await,
                Err(e) => Err(e),
            }
        };
        match within(KV_TIMEOUT_MS, write).await {
            Some(Ok(())) => {}
            Some(Err(_)) => self.log.cache(CacheEvent::Failed("kv_put_failed")),
            None => self.log.cache(CacheEvent::Failed("kv_put_timeout")),
        }
    }

    async fn forget(&self, id: &UniqueId) {
        self.log.cache(CacheEvent::Stale);
        match within(KV_TIMEOUT_MS, self.store.delete(&cache_key(id))).await {
            Some(Ok(())) => {}
            Some(Err(_)) => self.log.cache(CacheEvent::Failed("kv_delete_failed")),
            None => self.log.cache(CacheEvent::Failed("kv_delete_timeout")),
        }
    }
}
