//! Everything that knows Upscope's URLs, headers and JSON shapes.
//!
//! `Client` holds the protocol logic and talks HTTP through the small
//! `Transport` trait; `fetch::FetchTransport` is the Workers implementation,
//! and tests use an in-memory one.

pub mod client;
pub mod error;
pub mod fetch;
pub mod models;

pub use client::{Client, Transport};
pub use error::UpstreamError;
