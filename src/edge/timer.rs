//! A timer as a promise: `setTimeout` settles it and the request awaits it
//! as a `JsFuture`, the one way the gateway waits on the runtime.
//!
//! `worker::Delay` keeps the waker of its first poll only; that once left a
//! request waiting forever when its first poll had a no-op waker. Every poll
//! of a task on `edge::executor` carries the same waker, but a `JsFuture`
//! does not depend on that.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use worker::js_sys::futures::JsFuture;
use worker::js_sys::{Function, Promise, Reflect};
use worker::wasm_bindgen::{JsCast, JsValue};

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: u64) {
    let promise = Promise::new(&mut |resolve: Function, _reject: Function| {
        let global = worker::js_sys::global();
        let set_timeout =
            Reflect::get(&global, &JsValue::from_str("setTimeout")).ok().and_then(|f| f.dyn_into::<Function>().ok());
        if let Some(set_timeout) = set_timeout {
            // A timer that cannot be set resolves at once: the bound ends early rather than never.
            if set_timeout.call2(&global, &resolve, &JsValue::from_f64(ms as f64)).is_ok() {
                return;
            }
        }
        let _ = resolve.call0(&JsValue::UNDEFINED);
    });
    let _ = JsFuture::from(promise).await;
}

/// `future`'s output, or `None` once `ms` have passed: how the gateway
/// bounds a binding (KV, a rate limiter) that may be slow to answer.
pub async fn within<F: Future>(ms: u64, future: F) -> Option<F::Output> {
    let (mut future, mut timer) = (pin!(future), pin!(sleep(ms)));
    poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(out) => Poll::Ready(Some(out)),
        Poll::Pending => timer.as_mut().poll(cx).map(|()| None),
    })
    .await
}
