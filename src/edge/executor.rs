//! Drives each request's future: polled once at once, then again whenever
//! one of its promises settles, from inside that promise's own reaction.
//!
//! `future_to_promise` (js-sys) hops through `queueMicrotask` on every wake
//! and builds a `Promise` with closures per request; under load in workerd
//! the hop alone cost more than a whole 404 (profiled: ~38 µs of a
//! Short ID request's ~360). Here a wake polls the task there and then, so a
//! settled `fetch` continues the request in the same microtask, and an
//! answer that needs no upstream call never becomes a `Promise` at all.
//!
//! Single-threaded (wasm): a wake that arrives while any task is being
//! polled (a future waking itself) is queued and run as soon as that poll
//! returns, so no task is ever polled inside another poll. A future must
//! not wake itself in a loop to wait for JS ("yield until"): its task is
//! polled again before JS runs. None of the gateway's futures do; they wait
//! on promises.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, RawWaker, RawWakerVTable, Waker};

/// Hands a finished future's output on (to the `Promise` the runtime awaits).
pub type Deliver<T> = Box<dyn FnOnce(T)>;

/// How `run` ended: the future's output, or the handle `pending` made for
/// the output still to come.
pub enum Run<T, P> {
    Done(T),
    Pending(P),
}

/// Polls `future` once. If it is not done, `pending` makes a handle (the
/// `Promise` handed to the runtime) and the function that will deliver the
/// output to it; the future is then driven by its own wakers.
pub fn run<T: 'static, P>(
    future: impl Future<Output = T> + 'static,
    pending: impl FnOnce() -> (P, Deliver<T>),
) -> Run<T, P> {
    let outcome = Rc::new(RefCell::new(Outcome::Waiting));
    let slot = Rc::clone(&outcome);
    let task = Rc::new(Task {
        future: RefCell::new(Some(Box::pin(async move {
            let output = future.await;
            let previous = mem::replace(&mut *slot.borrow_mut(), Outcome::Delivered);
            match previous {
                Outcome::Deliver(deliver) => deliver(output),
                _ => *slot.borrow_mut() = Outcome::Ready(output),
            }
        }))),
        queued: Cell::new(false),
        #[cfg(not(target_arch = "wasm32"))]
        owner: std::thread::current().id(),
    });
    let outermost = !RUNNING.replace(true);
    task.poll();
    let first = mem::replace(&mut *outcome.borrow_mut(), Outcome::Delivered);
    let ran = match first {
        Outcome::Ready(output) => Run::Done(output),
        _ => {
            let (handle, deliver) = pending();
            *outcome.borrow_mut() = Outcome::Deliver(deliver);
            Run::Pending(handle)
        }
    };
    if outermost {
        // Anything woken during the first poll runs now that it can be delivered.
        drain();
    }
    ran
}

enum Outcome<T> {
    /// Not done, nowhere to deliver yet (the first poll is under way).
    Waiting,
    /// Done during the first poll: `run` returns it.
    Ready(T),
    /// Not done after the first poll: delivered here when it is.
    Deliver(Deliver<T>),
    Delivered,
}

struct Task {
    /// The thread that runs this task (native test builds have several).
    #[cfg(not(target_arch = "wasm32"))]
    owner: std::thread::ThreadId,
    /// `None` while being polled, and once done.
    future: RefCell<Option<Pin<Box<dyn Future<Output = ()>>>>>,
    /// Already in `READY`: a second wake before its poll adds nothing.
    queued: Cell<bool>,
}

thread_local! {
    /// A task is being polled: wakes queue instead of polling.
    static RUNNING: Cell<bool> = const { Cell::new(false) };
    static READY: RefCell<VecDeque<Rc<Task>>> = const { RefCell::new(VecDeque::new()) };
}

impl Task {
    fn poll(self: &Rc<Self>) {
        let Some(mut future) = self.future.borrow_mut().take() else { return };
        let waker = waker(Rc::clone(self));
        if future.as_mut().poll(&mut Context::from_waker(&waker)).is_pending() {
            *self.future.borrow_mut() = Some(future);
        }
    }
}

fn schedule(task: Rc<Task>) {
    if task.queued.replace(true) {
        return;
    }
    READY.with(|ready| ready.borrow_mut().push_back(task));
    if !RUNNING.replace(true) {
        drain();
    }
}

/// Polls queued tasks until none is left; `RUNNING` must be set.
fn drain() {
    while let Some(task) = READY.with(|ready| ready.borrow_mut().pop_front()) {
        task.queued.set(false);
        task.poll();
    }
    RUNNING.set(false);
}

// The wasm build has one thread by construction; with wasm threads the
// `Rc` below would need to become an `Arc` and the queue shared.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
compile_error!("edge::executor assumes single-threaded wasm");

// A `Waker` over `Rc<Task>`: `std::task::Wake` needs `Arc` and `Send`, which
// a single-threaded wasm task is not. Each waker owns one strong count.
fn waker(task: Rc<Task>) -> Waker {
    // SAFETY: the data pointer comes from `Rc::into_raw` and every vtable
    // function below treats it as one owned (or, for `wake_by_ref`, borrowed)
    // strong count of that `Rc`, and touches it only on the task's own
    // thread (`on_owner_thread`).
    unsafe { Waker::from_raw(RawWaker::new(Rc::into_raw(task).cast(), &VTABLE)) }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_waker, wake, wake_by_ref, drop_waker);

/// A `Waker` must be `Send`, so safe code can move one to another thread,
/// where using the `Rc` would race. Wasm has no other thread; a native
/// (test) build panics there instead, before touching the `Rc` (reading
/// only the task's immutable `owner`), and the task's count leaks.
#[cfg_attr(target_arch = "wasm32", allow(unused_variables))]
unsafe fn on_owner_thread(data: *const ()) {
    #[cfg(not(target_arch = "wasm32"))]
    if (*data.cast::<Task>()).owner != std::thread::current().id() {
        panic!("edge::executor: a waker was used on another thread than its task's");
    }
}

unsafe fn clone_waker(data: *const ()) -> RawWaker {
    on_owner_thread(data);
    Rc::increment_strong_count(data.cast::<Task>());
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    on_owner_thread(data);
    schedule(Rc::from_raw(data.cast::<Task>()));
}

unsafe fn wake_by_ref(data: *const ()) {
    on_owner_thread(data);
    Rc::increment_strong_count(data.cast::<Task>());
    schedule(Rc::from_raw(data.cast::<Task>()));
}

unsafe fn drop_waker(data: *const ()) {
    on_owner_thread(data);
    drop(Rc::from_raw(data.cast::<Task>()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Poll;

    /// A one-shot channel: the future's half waits for `send`.
    #[derive(Default)]
    struct Slot {
        value: Cell<Option<u32>>,
        waker: RefCell<Option<Waker>>,
        polls: Cell<u32>,
    }

    impl Slot {
        fn recv(self: &Rc<Self>) -> impl Future<Output = u32> + 'static {
            let slot = Rc::clone(self);
            std::future::poll_fn(move |cx| {
                slot.polls.set(slot.polls.get() + 1);
                match slot.value.take() {
                    Some(v) => Poll::Ready(v),
                    None => {
                        *slot.waker.borrow_mut() = Some(cx.waker().clone());
                        Poll::Pending
                    }
                }
            })
        }
        /// As a settled promise's reaction would: store, then wake.
        fn send(&self, v: u32) {
            self.value.set(Some(v));
            if let Some(w) = self.waker.borrow_mut().take() {
                w.wake();
            }
        }
    }

    type Got = Rc<Cell<Option<u32>>>;

    fn delivered() -> (Got, impl FnOnce() -> ((), Deliver<u32>)) {
        let got = Rc::new(Cell::new(None));
        let sink = Rc::clone(&got);
        (got, move || ((), Box::new(move |v| sink.set(Some(v))) as Deliver<u32>))
    }

    #[test]
    fn a_future_done_at_once_is_returned_without_a_pending_handle() {
        let made = Rc::new(Cell::new(false));
        let m = Rc::clone(&made);
        let ran = run(async { 7 }, move || {
            m.set(true);
            ((), Box::new(|_| {}) as Deliver<u32>)
        });
        assert!(matches!(ran, Run::Done(7)));
        assert!(!made.get(), "no Promise is made for an answer ready at once");
    }

    #[test]
    fn a_wake_polls_the_task_there_and_then_and_delivers_its_output() {
        let slot = Rc::new(Slot::default());
        let (got, pending) = delivered();
        let rx = slot.recv();
        let ran = run(async move { rx.await + 1 }, pending);
        assert!(matches!(ran, Run::Pending(())));
        assert_eq!(got.get(), None);
        slot.send(41);
        assert_eq!(got.get(), Some(42), "delivered within the wake, with no hop");
        assert_eq!(slot.polls.get(), 2);
    }

    #[test]
    fn a_task_waking_itself_is_polled_again_after_its_poll_not_inside_it() {
        let depth = Rc::new(Cell::new(0u32));
        let max_depth = Rc::new(Cell::new(0u32));
        let (d, m) = (Rc::clone(&depth), Rc::clone(&max_depth));
        let mut polls = 0;
        let future = std::future::poll_fn(move |cx| {
            d.set(d.get() + 1);
            m.set(m.get().max(d.get()));
            polls += 1;
            let out = if polls < 3 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(polls)
            };
            d.set(d.get() - 1);
            out
        });
        let (got, pending) = delivered();
        assert!(matches!(run(future, pending), Run::Pending(())));
        assert_eq!(got.get(), Some(3), "woken during its first poll, run to the end before `run` returns");
        assert_eq!(max_depth.get(), 1, "never polled inside its own poll");
    }

    #[test]
    fn wakes_after_the_end_and_duplicate_wakes_do_nothing() {
        let slot = Rc::new(Slot::default());
        let (got, pending) = delivered();
        let rx = slot.recv();
        run(rx, pending);
        let waker = slot.waker.borrow().clone().unwrap();
        slot.send(5);
        assert_eq!(got.get(), Some(5));
        waker.wake_by_ref();
        waker.wake();
        assert_eq!(slot.polls.get(), 2, "a finished task is not polled again");
    }

    #[test]
    fn a_waker_sent_to_another_thread_never_polls_the_task_there() {
        let slot = Rc::new(Slot::default());
        let (got, pending) = delivered();
        run(slot.recv(), pending);
        let waker = slot.waker.borrow().clone().unwrap();
        let elsewhere = std::thread::spawn(move || waker.wake()).join();
        assert!(elsewhere.is_err(), "refused on the other thread");
        assert_eq!(slot.polls.get(), 1, "not polled by the foreign wake");
        slot.send(9);
        assert_eq!(got.get(), Some(9), "its own thread still drives it");
    }

    #[test]
    fn a_finished_task_releases_its_future_and_wakers() {
        let slot = Rc::new(Slot::default());
        let (_got, pending) = delivered();
        let rx = slot.recv();
        run(rx, pending);
        slot.send(1);
        assert_eq!(Rc::strong_count(&slot), 1, "the future (and its clone of the slot) is dropped");
    }
}
