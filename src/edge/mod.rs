//! The one door to the platform. Everything that names the `worker` crate
//! (Fetch, Workers KV, WebCrypto, `Env`, responses, rate limiters, the
//! metrics dataset) lives here, as small adapters for the traits the rest of
//! the gateway is written against; `routes/` wires them to the flows and `lib.rs` to the runtime.
//! `architecture.rs` checks that no other module names `worker`.

pub mod env;
pub mod executor;
pub mod fetch;
pub mod js;
pub mod kv;
pub mod metrics;
pub mod panic;
pub mod rate_limit;
pub mod request;
pub mod response;
pub mod timer;
pub mod webcrypto;
