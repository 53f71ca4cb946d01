//! What a panic (or any trap) tells the entry (`src/edge/entry.js`), which
//! answers the requests it cost and starts a fresh wasm instance.
//!
//! With `panic = "abort"` a panic traps: the instance is dead, and no Rust
//! code can answer anything. So the panic hook only notes where it happened
//! (file and line: never the message, which may hold data), and the abort
//! hook (wasm-bindgen's `--force-enable-abort-handler`, run on every trap)
//! tells the entry that this instance is gone. The worker crate's own hooks,
//! which log the panic's message, are replaced on the first request.

use std::cell::Cell;
use std::panic::PanicHookInfo;

use worker::wasm_bindgen::prelude::wasm_bindgen;

use crate::observe::panic_site;

#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, module = "glue")]
extern "C" {
    #[wasm_bindgen(js_name = notePanic)]
    fn note_panic(at: &str);
    #[wasm_bindgen(js_name = instanceDied)]
    fn instance_died();
}

/// Installs the hooks, once per instance.
pub fn watch() {
    thread_local! {
        static WATCHING: Cell<bool> = const { Cell::new(false) };
    }
    if !WATCHING.replace(true) {
        std::panic::set_hook(Box::new(|info| note_panic(&panic_site(location(info)))));
        worker::wasm_bindgen::handler::set_on_abort(instance_died);
    }
}

/// Where the panic happened, as `(file, line)`.
fn location<'a>(info: &'a PanicHookInfo<'_>) -> Option<(&'a str, u32)> {
    info.location().map(|at| (at.file(), at.line()))
}
