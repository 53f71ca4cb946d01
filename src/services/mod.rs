//! The two flows, written against the `Transport` and `ShortIdCache` traits
//! so they run natively in tests with in-memory fakes.

pub mod agent;
pub mod visitor;

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

/// Runs two futures at once and waits for both (a two-way join, so that
/// independent upstream calls overlap instead of queueing).
pub async fn both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut out_a, mut out_b) = (None, None);
    poll_fn(|cx| {
        if out_a.is_none() {
            if let Poll::Ready(value) = a.as_mut().poll(cx) {
                out_a = Some(value);
            }
        }
        if out_b.is_none() {
            if let Poll::Ready(value) = b.as_mut().poll(cx) {
                out_b = Some(value);
            }
        }
        match (out_a.take(), out_b.take()) {
            (Some(a), Some(b)) => Poll::Ready((a, b)),
            (a, b) => {
                (out_a, out_b) = (a, b);
                Poll::Pending
            }
        }
    })
    .await
}
