//! What a request needs, assembled in one place. The `Runtime` is made once
//! per isolate from the Worker's env: every setting (loaded once, group by
//! group, `settings::Settings`) and the bindings the flows use. Each request
//! then gets a `RequestContext` built from it: the request, its parameters,
//! Fetch under its upstream deadline, and its log line. Handlers take
//! everything from the context, the same way for every setting.

use std::cell::RefCell;
use std::rc::Rc;

use worker::js_sys::Date;
use worker::wasm_bindgen::JsValue;
use worker::Env;

use super::Outcome;
use crate::auth::access::{KeyCache, KeyState};
use crate::auth::Verifier;
use crate::core::query::{Params, VisitorRef};
use crate::edge::fetch::FetchTransport;
use crate::edge::kv::{kv_namespace, KvNamespace, KvShortIdCache};
use crate::edge::rate_limit::{within_rate_limit, WhenUnavailable};
use crate::edge::request::RequestHead;
use crate::edge::webcrypto::WebCrypto;
use crate::error::GatewayError;
use crate::observe::RequestLog;
use crate::pages;
use crate::services::watch::Watched;
use crate::settings::{Settings, SHORT_ID_CACHE_BINDING};
use crate::upscope::Client;

/// One isolate's settings and bindings: vars, secrets and bindings cannot
/// change under a running isolate's `env`, so they are read from it once.
pub struct Runtime {
    env: Env,
    pub settings: Settings<Env>,
    /// The optional KV namespace of the Short ID cache.
    short_id_store: Option<KvNamespace>,
}

impl Runtime {
    /// This isolate's runtime: made for the first `env` object seen, and
    /// kept for as long as the same object comes back (another one starts afresh).
    pub fn of(env: &Env) -> Rc<Runtime> {
        thread_local! {
            static CURRENT: RefCell<Option<Rc<Runtime>>> = const { RefCell::new(None) };
        }
        CURRENT.with_borrow_mut(|current| match current {
            Some(runtime) if same_object(&runtime.env, env) => Rc::clone(runtime),
            _ => {
                let runtime = Rc::new(Runtime {
                    env: env.clone(),
                    settings: Settings::new(env.clone()),
                    short_id_store: kv_namespace(env, SHORT_ID_CACHE_BINDING),
                });
                *current = Some(Rc::clone(&runtime));
                runtime
            }
        })
    }

    /// The env itself, for bindings read where they are used (rate limiters,
    /// the metrics dataset, version metadata) and for `/readyz`'s full check.
    pub fn env(&self) -> &Env {
        &self.env
    }
}

fn same_object(a: &Env, b: &Env) -> bool {
    AsRef::<JsValue>::as_ref(a) == AsRef::<JsValue>::as_ref(b)
}

/// Where Access signing keys stay between requests in this isolate.
static ACCESS_KEYS: KeyCache = KeyCache::new(KeyState::EMPTY);

/// What every handler works with for one request.
pub struct RequestContext<'a> {
    pub runtime: &'a Runtime,
    pub req: &'a RequestHead,
    pub params: Params,
    /// Outbound HTTP, bounded by this request's upstream deadline.
    pub transport: FetchTransport<'a>,
    /// What this request did, for its log line.
    pub log: &'a RequestLog,
}

impl<'a> RequestContext<'a> {
    /// The context for one request; its upstream deadline starts now.
    pub fn new(
        runtime: &'a Runtime,
        req: &'a RequestHead,
        params: Params,
        log: &'a RequestLog,
    ) -> Result<Self, GatewayError> {
        let transport = FetchTransport::new(runtime.settings.upstream_timeout_ms()?, log);
        Ok(Self { runtime, req, params, transport, log })
    }

    /// This isolate's settings.
    pub fn settings(&self) -> &'a Settings<Env> {
        &self.runtime.settings
    }

    /// The Upscope client; fails with a clear 500 when the upstream settings are wrong.
    pub fn upscope(&self) -> Result<Client<'a, &FetchTransport<'a>>, GatewayError> {
        Ok(Client::new(&self.transport, self.settings().upstream()?))
    }

    /// The real effects behind verification: WebCrypto, Fetch, this isolate's key cache, the clock.
    pub fn verifier(&self) -> Verifier<'_, WebCrypto, FetchTransport<'a>> {
        Verifier { crypto: &WebCrypto, transport: &self.transport, access_keys: &ACCESS_KEYS, now_ms: Date::now() }
    }

    /// The Short ID cache for `visitor`: only own IDs are cached, so other
    /// requests never touch the binding.
    pub fn short_id_cache(&self, visitor: &VisitorRef, ttl_seconds: u64) -> Option<KvShortIdCache<'a>> {
        let store = self.runtime.short_id_store.as_ref().filter(|_| matches!(visitor, VisitorRef::Unique(_)))?;
        Some(KvShortIdCache { store, ttl_seconds, log: self.log })
    }

    /// Applies the optional rate-limiting binding `binding` to `key`; a
    /// limiter that cannot say is `when_unavailable`'s call. The limiter is
    /// the gateway's own check, bounded on its own: its time is not charged
    /// to the upstream deadline.
    pub async fn within_rate_limit(
        &self,
        binding: &str,
        key: String,
        when_unavailable: WhenUnavailable,
    ) -> Result<(), GatewayError> {
        self.transport
            .with_deadline_paused(within_rate_limit(&self.runtime.env, binding, key, when_unavailable, self.log))
            .await
    }

    /// A watcher's answer, on `/agent` and `/view` alike (`route` is where
    /// the chooser's links go): the session, audited; or the chooser.
    pub fn watched(&self, watched: Watched, route: &str) -> Outcome {
        match watched {
            Watched::Session(url, audit) => {
                self.log.audit(audit);
                Outcome::Redirect(url)
            }
            Watched::Choose(links) => Outcome::Page(pages::chooser(route, &links, Date::now())),
        }
    }
}
