//! The flows, written against the `Transport` and `ShortIdCache` traits so
//! they run natively in tests with in-memory fakes: `agent` (find the visitor
//! an agent names, start a session), `watch` (what `/agent` and `/view`
//! share: narrowed permissions, the session or the chooser), `launch`
//! (whether an `/agent` request may start a session by itself), `visitor`
//! (which proxy session `/visitor` asks for); and the two small future
//! combinators they overlap upstream and cache work with. Routes call them;
//! no route imports another.

pub mod agent;
pub mod launch;
pub mod visitor;
pub mod watch;

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::Poll;

/// Runs two futures at once and waits for both (a two-way join, so that
/// independent work overlaps instead of queueing).
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
        if out_a.is_some() && out_b.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (out_a.expect("ready"), out_b.expect("ready"))
}

/// What `search_with_head_start` came back with: the search's result, the
/// cache hit if the look-up answered before the search ended (else the
/// look-up itself, still under way, for the caller to finish or drop), and
/// the head start's result if it was wanted.
pub struct Raced<S, K, H, L> {
    pub found: S,
    pub hit: Option<K>,
    pub late_lookup: Option<Pin<Box<L>>>,
    pub head_start: Option<H>,
}

/// Runs `search` and a cache `lookup` at once. A hit that comes back while
/// the search still runs starts `start(hit)` alongside it. Once the search
/// ends, the look-up is no longer waited for (it is handed back, unfinished),
/// and the head start only when `keep(&found, &hit)`; otherwise it is
/// dropped unfinished. So neither a slow cache nor a stale entry ever holds
/// the search's answer up.
pub async fn search_with_head_start<S, L, K, F, H>(
    search: S,
    lookup: L,
    start: F,
    keep: impl Fn(&S::Output, &K) -> bool,
) -> Raced<S::Output, K, H::Output, L>
where
    S: Future,
    L: Future<Output = Option<K>>,
    K: Clone,
    F: FnOnce(K) -> H,
    H: Future,
{
    let (mut search, mut lookup) = (pin!(search), Box::pin(lookup));
    let mut start = Some(start);
    let (mut found, mut hit, mut looked_up) = (None, None, false);
    let (mut head, mut head_out): (Option<Pin<Box<H>>>, Option<H::Output>) = (None, None);
    poll_fn(|cx| {
        // The look-up first: with a hit, the head start goes out right after the search.
        if !looked_up && found.is_none() {
            if let Poll::Ready(value) = lookup.as_mut().poll(cx) {
                looked_up = true;
                if let (Some(key), Some(start)) = (value, start.take()) {
                    head = Some(Box::pin(start(key.clone())));
                    hit = Some(key);
                }
            }
        }
        if found.is_none() {
            if let Poll::Ready(value) = search.as_mut().poll(cx) {
                found = Some(value);
            }
        }
        if let (None, Some(pending)) = (&head_out, head.as_mut()) {
            if let Poll::Ready(value) = pending.as_mut().poll(cx) {
                head_out = Some(value);
            }
        }
        match (&found, &hit) {
            (None, _) => Poll::Pending,
            (Some(result), Some(key)) if keep(result, key) && head_out.is_none() => Poll::Pending,
            (Some(_), _) => Poll::Ready(()),
        }
    })
    .await;
    let found = found.expect("ready only once the search has ended");
    let wanted = hit.as_ref().is_some_and(|key| keep(&found, key));
    Raced { head_start: head_out.filter(|_| wanted), hit, late_lookup: (!looked_up).then_some(lookup), found }
}

#[cfg(test)]
mod tests {
    use std::future::{pending, ready};

    use super::*;
    use crate::outbound::testing::block_on;

    #[test]
    fn a_head_start_the_search_does_not_want_is_not_waited_for() {
        let raced =
            block_on(search_with_head_start(ready("other"), ready(Some("cached")), |_| pending::<u8>(), |f, k| f == k));
        assert_eq!((raced.found, raced.hit, raced.head_start), ("other", Some("cached"), None));
    }

    #[test]
    fn a_wanted_head_start_is_used() {
        let raced = block_on(search_with_head_start(ready("same"), ready(Some("same")), |_| ready(7), |f, k| f == k));
        assert_eq!((raced.found, raced.hit, raced.head_start), ("same", Some("same"), Some(7)));
    }

    #[test]
    fn a_cache_that_has_not_answered_when_the_search_ends_is_not_waited_for() {
        let raced =
            block_on(search_with_head_start(ready("found"), pending::<Option<&str>>(), |_| ready(7), |_, _| true));
        assert_eq!(
            (raced.found, raced.late_lookup.is_some(), raced.hit, raced.head_start),
            ("found", true, None, None)
        );
        let miss = block_on(search_with_head_start(ready("found"), ready(None::<&str>), |_| ready(7), |_, _| true));
        assert_eq!((miss.late_lookup.is_some(), miss.hit, miss.head_start), (false, None, None));
    }

    /// A future that is pending `polls` times before it yields `value`, and
    /// panics if polled again after that, as a finished future may.
    struct After<T> {
        polls: usize,
        value: Option<T>,
    }

    impl<T: Unpin> Future for After<T> {
        type Output = T;
        fn poll(mut self: Pin<&mut Self>, _: &mut std::task::Context<'_>) -> Poll<T> {
            if self.polls == 0 {
                return Poll::Ready(self.value.take().expect("polled after it finished"));
            }
            self.polls -= 1;
            Poll::Pending
        }
    }

    fn after<T>(polls: usize, value: T) -> After<T> {
        After { polls, value: Some(value) }
    }

    /// Polls `future` until it is ready, at most 100 times (what a runtime
    /// does when each pending future has woken it).
    fn run<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        for _ in 0..100 {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
        }
        panic!("not ready after 100 polls");
    }

    /// Issue 28 (a surviving mutant): `both` waits for the slower of the two.
    #[test]
    fn both_waits_for_both_whichever_is_slower() {
        assert_eq!(run(both(after(0, 1), after(3, 2))), (1, 2));
        assert_eq!(run(both(after(3, 1), after(0, 2))), (1, 2));
        assert_eq!(run(both(after(2, 1), after(2, 2))), (1, 2));
    }

    /// Issue 28 (surviving mutants): a wanted head start still running when
    /// the search ends is waited for, and a look-up that has answered is
    /// never asked again while the search runs on.
    #[test]
    fn a_wanted_head_start_still_running_is_waited_for_and_the_lookup_is_asked_once() {
        let raced =
            run(search_with_head_start(after(0, "same"), after(0, Some("same")), |_| after(3, 7), |f, k| f == k));
        assert_eq!((raced.found, raced.hit, raced.head_start), ("same", Some("same"), Some(7)));
        let raced =
            run(search_with_head_start(after(3, "same"), after(0, Some("same")), |_| after(0, 7), |f, k| f == k));
        assert_eq!((raced.found, raced.hit, raced.head_start), ("same", Some("same"), Some(7)));
        // Not wanted: not waited for, however long it would take.
        let raced =
            run(search_with_head_start(after(0, "other"), after(0, Some("same")), |_| after(1000, 7), |f, k| f == k));
        assert_eq!((raced.found, raced.head_start), ("other", None));
    }
}
