//! Everything that knows Upscope's URLs, headers and JSON shapes.
//!
//! `Client` holds the protocol logic and talks HTTP through the small
//! `outbound::Transport` trait.

pub mod client;
pub mod error;
pub mod models;

pub use client::Client;
pub use error::UpstreamError;
