//! The Workers Analytics Engine dataset bound as `METRICS`: one data point
//! per request, laid out by `observe::data_point`. Bound directly (one call
//! into `glue.js`); `writeDataPoint` is synchronous and never waits on the
//! network, so no `waitUntil` is needed. Unbound, nothing is written.

use wasm_bindgen::prelude::*;
use worker::Env;

use super::env::{binding, deployed_version_id};
use crate::observe::{data_point, RequestLog, Summary};
use crate::settings::METRICS_BINDING;

#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, module = "glue")]
extern "C" {
    #[wasm_bindgen(catch, js_name = writeDataPoint)]
    fn write_in_js(dataset: &JsValue, index: &str, blobs: &str, doubles: &[f64]) -> Result<(), JsValue>;
}

/// Writes the request's data point when a dataset is bound; a dataset that
/// throws costs the point and adds a warning to the log line, nothing more.
pub fn write_data_point(env: &Env, summary: &Summary, log: &RequestLog) {
    let Some(dataset) = binding(env, METRICS_BINDING) else { return };
    let point = data_point(summary, log, deployed_version_id(env).as_deref().unwrap_or_default());
    if write_in_js(&dataset, point.index, &point.blobs, &point.doubles).is_err() {
        log.warn("metrics_write_failed");
    }
}
