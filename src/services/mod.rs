//! The two flows, written against the `Transport` and `ShortIdCache` traits
//! so they run natively in tests with in-memory fakes.

pub mod agent;
pub mod visitor;
