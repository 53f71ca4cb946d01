//! The functional core: parsing, validation and decisions. Nothing here
//! touches the network, KV or the `worker` crate, so all of it is tested
//! natively with `cargo test`.

pub mod base64url;
pub mod canonical;
pub mod choose;
pub mod client_ip;
pub mod framing;
pub mod ids;
pub mod negotiate;
pub mod page_url;
pub mod permissions;
pub mod query;
pub mod time;
