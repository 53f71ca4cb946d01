//! A timer that wakes whichever task polled it last.
//!
//! `worker::Delay` keeps the waker of its first poll only. The fetch export
//! polls each request once with a no-op waker before handing it to the
//! executor (`lib.rs`), so a `Delay` first polled then would never wake the
//! request. A promise settled by `setTimeout` and awaited as a `JsFuture`
//! takes the latest waker on every poll.

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
