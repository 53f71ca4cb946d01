//! The functional core: parsing, validation and decisions. Nothing here
//! touches the network, KV or the `worker` crate, and nothing here imports
//! from the rest of the gateway, so all of it is tested natively with
//! `cargo test`. Refusals are `InvalidInput`, which `error.rs` maps to a 400.

pub mod base64url;
pub mod canonical;
pub mod choose;
pub mod client_ip;
pub mod fold;
pub mod framing;
pub mod href;
pub mod ids;
pub mod json;
pub mod launch;
pub mod negotiate;
pub mod page_url;
pub mod permissions;
pub mod query;
pub mod redact;
pub mod service_tokens;
pub mod shape;
pub mod sort;
pub mod text;
pub mod time;
pub mod visitor;

/// Input the core refuses: a stable `code` and a `message` telling the
/// person who sent it how to fix it. Always a 400 (see `error.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput {
    pub code: &'static str,
    pub message: String,
}

impl InvalidInput {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}
