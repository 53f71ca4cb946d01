//! One structured JSON log line per request: what was asked (route only),
//! what came of it, each upstream call's endpoint name, status and time,
//! and the cache. Built from names and numbers only, so an API key, a
//! `watch_url`, a proxy URL, a signature, a token or a secret cannot reach
//! it: none of them is ever handed to this module.

use std::cell::RefCell;

use crate::outbound::Endpoint;

/// How one outbound call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallResult {
    Status(u16),
    Unreachable,
    TimedOut,
}

impl CallResult {
    /// How a call that got no HTTP answer ended, as the log line and the
    /// metrics both name it.
    fn error(self) -> Option<&'static str> {
        match self {
            Self::Status(_) => None,
            Self::Unreachable => Some("unreachable"),
            Self::TimedOut => Some("timeout"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallRecord {
    pub endpoint: Endpoint,
    pub result: CallResult,
    pub ms: u64,
}

/// The short-id cache's part in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheEvent {
    Hit,
    Miss,
    /// An entry that no longer matched what the search found; replaced or deleted.
    Stale,
    /// KV failed; the request went on uncached.
    Failed(&'static str),
}

/// Who was given a `watch_url` for whom: "who watched which customer, when"
/// answered from the logs. The customer's own ID is never part of it (it can
/// be an e-mail address); the Short ID is Upscope's, and the URL itself, a
/// bearer credential, is never handed to this module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    pub watcher: Watcher,
    pub short_id: String,
    /// `short`, `unique`, `lookup` or `chooser`.
    pub named_by: &'static str,
}

/// Who was handed the `watch_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watcher {
    /// A member of staff on `/agent`, by their id.
    Agent(String),
    /// Someone outside the company on `/view`. Their id is the company's ID
    /// for a customer, so it is logged only as a keyed pseudonym.
    Viewer { pseudonym: String },
}

/// How a request's line should be filed: `error` for 5xx, `warn` for 4xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn of(status: u16) -> Self {
        match status {
            500.. => Self::Error,
            400..=499 => Self::Warn,
            _ => Self::Info,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// What one request did, filled in as it goes.
#[derive(Debug, Default)]
pub struct RequestLog {
    calls: RefCell<Vec<CallRecord>>,
    cache: RefCell<Vec<CacheEvent>>,
    warnings: RefCell<Vec<&'static str>>,
    audit: RefCell<Option<Audit>>,
    unreadable: RefCell<Option<UnreadableAnswer>>,
    /// Where the panic that cost this request happened (`panic_site`).
    panic: RefCell<Option<String>>,
}

/// An upstream answer of a shape the gateway does not know: which endpoint,
/// its status, and its shape in member names (`core::shape`), never values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableAnswer {
    pub endpoint: Endpoint,
    pub status: u16,
    pub got: String,
}

impl RequestLog {
    pub fn call(&self, record: CallRecord) {
        self.calls.borrow_mut().push(record);
    }

    pub fn cache(&self, event: CacheEvent) {
        self.cache.borrow_mut().push(event);
    }

    /// Something went wrong that did not fail the request (a fixed label).
    pub fn warn(&self, label: &'static str) {
        self.warnings.borrow_mut().push(label);
    }

    /// The wasm instance serving this request panicked (or trapped) at `site`.
    pub fn panicked(&self, site: String) {
        *self.panic.borrow_mut() = Some(site);
    }

    pub fn has_panicked(&self) -> bool {
        self.panic.borrow().is_some()
    }

    /// A `watch_url` was handed out.
    pub fn audit(&self, audit: Audit) {
        *self.audit.borrow_mut() = Some(audit);
    }

    /// The cache's part in one word: its first event, or `none`.
    fn cache_name(&self) -> &'static str {
        match self.cache.borrow().first() {
            None => "none",
            Some(CacheEvent::Hit) => "hit",
            Some(CacheEvent::Miss) => "miss",
            Some(CacheEvent::Stale) => "stale",
            Some(CacheEvent::Failed(_)) => "error",
        }
    }

    /// Upscope answered in a shape the gateway could not read.
    pub fn unreadable(&self, answer: UnreadableAnswer) {
        *self.unreadable.borrow_mut() = Some(answer);
    }
}

/// The finished request, as one line of JSON.
pub struct Summary<'a> {
    pub request_id: &'a str,
    pub method: &'a str,
    pub route: &'static str,
    pub status: u16,
    /// `redirect`, `ok`, or the error code.
    pub outcome: &'static str,
    pub total_ms: u64,
}

pub fn log_line(summary: &Summary, log: &RequestLog) -> String {
    // Written by hand rather than through a `serde_json::Value` tree: every
    // piece is a number, a fixed name or a checked id, and this runs on
    // every request.
    use std::fmt::Write as _;
    let mut line = String::with_capacity(256);
    line.push_str("{\"level\":");
    push_json_str(&mut line, Level::of(summary.status).as_str());
    line.push_str(",\"request_id\":");
    push_json_str(&mut line, summary.request_id);
    line.push_str(",\"method\":");
    push_json_str(&mut line, printable_method(summary.method));
    line.push_str(",\"route\":");
    push_json_str(&mut line, summary.route);
    let _ = write!(line, ",\"status\":{},\"outcome\":", summary.status);
    push_json_str(&mut line, summary.outcome);
    line.push_str(",\"upstream\":[");
    for (i, call) in log.calls.borrow().iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push_str("{\"endpoint\":");
        push_json_str(&mut line, call.endpoint);
        if let CallResult::Status(status) = call.result {
            let _ = write!(line, ",\"status\":{status}");
        }
        if let Some(error) = call.result.error() {
            line.push_str(",\"error\":");
            push_json_str(&mut line, error);
        }
        let _ = write!(line, ",\"ms\":{}}}", call.ms);
    }
    line.push_str("],\"cache\":");
    push_json_str(&mut line, log.cache_name());
    let _ = write!(line, ",\"total_ms\":{}", summary.total_ms);
    let events = log.cache.borrow();
    let other_warnings = log.warnings.borrow();
    let warnings = events
        .iter()
        .filter_map(|e| match e {
            CacheEvent::Failed(what) => Some(*what),
            CacheEvent::Stale => Some("cache_entry_stale"),
            _ => None,
        })
        .chain(other_warnings.iter().copied());
    let mut any = false;
    for warning in warnings {
        line.push_str(if any { "," } else { ",\"warnings\":[" });
        push_json_str(&mut line, warning);
        any = true;
    }
    line.push_str(if any { "]" } else { "" });
    if let Some(audit) = log.audit.borrow().as_ref() {
        match &audit.watcher {
            Watcher::Agent(id) => {
                line.push_str(",\"audit\":{\"role\":\"agent\",\"agent_id\":");
                push_json_str(&mut line, id);
            }
            Watcher::Viewer { pseudonym } => {
                line.push_str(",\"audit\":{\"role\":\"viewer\",\"viewer\":");
                push_json_str(&mut line, pseudonym);
            }
        }
        line.push_str(",\"short_id\":");
        push_json_str(&mut line, &audit.short_id);
        line.push_str(",\"named_by\":");
        push_json_str(&mut line, audit.named_by);
        line.push('}');
    }
    if let Some(site) = log.panic.borrow().as_ref() {
        line.push_str(",\"panic\":");
        push_json_str(&mut line, site);
    }
    if let Some(answer) = log.unreadable.borrow().as_ref() {
        line.push_str(",\"unreadable\":{\"endpoint\":");
        push_json_str(&mut line, answer.endpoint);
        let _ = write!(line, ",\"status\":{},\"got\":", answer.status);
        push_json_str(&mut line, &answer.got);
        line.push('}');
    }
    line.push('}');
    line
}

/// Upstream calls a metrics data point itemises; later ones are only counted.
pub const POINT_CALLS: usize = 8;

/// One Workers Analytics Engine data point per request, in a fixed layout
/// (docs/operations.md, "Metrics"; `docs/metrics.sql` queries it). Like the log line it
/// is built from names and numbers only; unlike it, never the audit record:
/// no agent, viewer or visitor is named in a metric.
///
/// - `index1`: the route (`/visitor`, `/agent`, `/view`, `/healthz`, `/readyz`, `other`)
/// - `blob1` outcome (`redirect`, `ok`, `page`, or the error code), `blob2`
///   cache (`none`, `hit`, `miss`, `stale`, `error`), `blob3` the deployed
///   version id (empty when unbound), `blob4` the crate version;
///   `blob5`..`blob12` call *n*'s endpoint, `blob13`..`blob20` call *n*'s
///   error (`timeout`, `unreachable`; empty when it had an HTTP answer)
/// - `double1` HTTP status, `double2` total ms, `double3` upstream calls made
///   (all of them); `double4`..`double11` call *n*'s HTTP status (0 for
///   none), `double12`..`double19` call *n*'s ms
///
/// Unused call slots are empty strings and zeros.
#[derive(Debug, PartialEq)]
pub struct DataPoint {
    pub index: &'static str,
    /// `blob1`..`blob20`, one a line: no piece can hold a line break.
    pub blobs: String,
    pub doubles: [f64; 3 + 2 * POINT_CALLS],
}

/// The request's data point; `version_id` is the deployed version's id.
pub fn data_point(summary: &Summary, log: &RequestLog, version_id: &str) -> DataPoint {
    let calls = log.calls.borrow();
    let mut doubles = [0.0; 3 + 2 * POINT_CALLS];
    doubles[0] = f64::from(summary.status);
    doubles[1] = summary.total_ms as f64;
    doubles[2] = calls.len() as f64;
    let version_id = if version_id.contains('\n') { "" } else { version_id };
    let mut blobs = [summary.outcome, log.cache_name(), version_id, env!("CARGO_PKG_VERSION")].join("\n");
    let mut errors = String::new();
    for n in 0..POINT_CALLS {
        blobs.push('\n');
        errors.push('\n');
        let Some(call) = calls.get(n) else { continue };
        blobs.push_str(call.endpoint);
        doubles[3 + POINT_CALLS + n] = call.ms as f64;
        if let CallResult::Status(status) = call.result {
            doubles[3 + n] = f64::from(status);
        }
        errors.push_str(call.result.error().unwrap_or_default());
    }
    blobs.push_str(&errors);
    DataPoint { index: summary.route, blobs, doubles }
}

/// `text` as a JSON string literal (quotes, backslashes and control
/// characters escaped), appended to `out`.
fn push_json_str(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Methods are echoed only when they are one of the usual tokens.
fn printable_method(method: &str) -> &str {
    match method {
        "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
        _ => "OTHER",
    }
}

/// `cf-ray` when it looks like one, so the line can be matched with
/// Cloudflare's own logs; otherwise the caller generates an id.
pub fn request_id_from_ray(ray: Option<&str>) -> Option<String> {
    let ray = ray?.trim();
    let plausible = !ray.is_empty() && ray.len() <= 64 && ray.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    plausible.then(|| ray.to_owned())
}

/// 16 hex digits from two random numbers in `[0, 1)`, 32 bits from each
/// (one `f64` carries fewer than 64 random bits).
/// Where a panic happened, as the panic log names it: `file:line` of the
/// gateway's own source (`src/...`), or of a dependency as
/// `<crate>-<version>/src/...` without the builder's home folder; `unknown`
/// when the panic carries no location. Never the panic's message, which
/// may hold data.
pub fn panic_site(location: Option<(&str, u32)>) -> String {
    let Some((file, line)) = location else { return "unknown".to_owned() };
    // A dependency's path is absolute: <home>/.cargo/registry/src/<index>/<crate>-<version>/src/...
    let file = match file.split_once("/registry/src/") {
        Some((_, in_index)) => in_index.split_once('/').map_or(in_index, |(_, in_crate)| in_crate),
        None => file,
    };
    let file: String = file.chars().filter(|c| !c.is_control()).take(160).collect();
    format!("{file}:{line}")
}

pub fn generated_request_id(high: f64, low: f64) -> String {
    let bits = |fraction: f64| (fraction * 4_294_967_296.0) as u32;
    format!("{:08x}{:08x}", bits(high), bits(low))
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    #[test]
    fn a_panic_is_named_by_its_site_never_by_a_home_folder() {
        assert_eq!(panic_site(Some(("src/routes/mod.rs", 42))), "src/routes/mod.rs:42");
        assert_eq!(
            panic_site(Some((
                "/home/ci/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/serde_json-1.0.145/src/de.rs",
                7
            ))),
            "serde_json-1.0.145/src/de.rs:7"
        );
        assert_eq!(panic_site(None), "unknown");
        assert_eq!(panic_site(Some(("src/a\nb.rs", 1))), "src/ab.rs:1");
    }

    #[test]
    fn a_request_a_panic_cost_says_where_in_its_line() {
        let log = RequestLog::default();
        log.panicked("src/routes/mod.rs:42".to_owned());
        let line = log_line(&Summary { status: 500, outcome: "panic", ..summary() }, &log);
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["panic"], "src/routes/mod.rs:42");
        assert_eq!(v["level"], "error");
        assert_eq!(v["outcome"], "panic");
    }

    fn summary() -> Summary<'static> {
        Summary {
            request_id: "8a1b2c3d4e5f6a7b-LHR",
            method: "GET",
            route: "/agent",
            status: 302,
            outcome: "redirect",
            total_ms: 41,
        }
    }

    #[test]
    fn one_line_with_calls_and_cache() {
        let log = RequestLog::default();
        log.cache(CacheEvent::Miss);
        log.call(CallRecord { endpoint: "search", result: CallResult::Status(503), ms: 12 });
        log.call(CallRecord { endpoint: "search", result: CallResult::Status(200), ms: 9 });
        log.call(CallRecord { endpoint: "watch_url", result: CallResult::TimedOut, ms: 5000 });
        let line = log_line(&summary(), &log);
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["request_id"], "8a1b2c3d4e5f6a7b-LHR");
        assert_eq!(v["route"], "/agent");
        assert_eq!(v["status"], 302);
        assert_eq!(v["cache"], "miss");
        assert_eq!(v["total_ms"], 41);
        assert_eq!(
            v["upstream"],
            json!([
                {"endpoint":"search","status":503,"ms":12},
                {"endpoint":"search","status":200,"ms":9},
                {"endpoint":"watch_url","error":"timeout","ms":5000}
            ])
        );
        assert!(v.get("warnings").is_none());
    }

    #[test]
    fn an_unreadable_answer_is_logged_by_endpoint_status_and_member_names() {
        let log = RequestLog::default();
        let got = "the members session, session.id, status".to_owned();
        log.unreadable(UnreadableAnswer { endpoint: "proxy_sessions", status: 200, got });
        let v: Value = serde_json::from_str(&log_line(&summary(), &log)).unwrap();
        assert_eq!(
            v["unreadable"],
            json!({"endpoint": "proxy_sessions", "status": 200, "got": "the members session, session.id, status"})
        );
        let quiet: Value = serde_json::from_str(&log_line(&summary(), &RequestLog::default())).unwrap();
        assert!(quiet.get("unreadable").is_none());
    }

    #[test]
    fn level_follows_the_status() {
        let level = |status| {
            let line = log_line(&Summary { status, ..summary() }, &RequestLog::default());
            serde_json::from_str::<Value>(&line).unwrap()["level"].clone()
        };
        assert_eq!(
            [level(302), level(200), level(404), level(429), level(500), level(504)],
            ["info", "info", "warn", "warn", "error", "error"]
        );
    }

    #[test]
    fn a_handed_out_session_is_audited_by_names_only() {
        let log = RequestLog::default();
        log.audit(Audit { watcher: Watcher::Agent("agent-7".into()), short_id: "sAlice01".into(), named_by: "unique" });
        let v: Value = serde_json::from_str(&log_line(&summary(), &log)).unwrap();
        assert_eq!(
            v["audit"],
            json!({"role": "agent", "agent_id": "agent-7", "short_id": "sAlice01", "named_by": "unique"})
        );
        let viewer = RequestLog::default();
        let pseudonym = "3fa2b1c0d9e8f7a6".to_owned();
        viewer.audit(Audit { watcher: Watcher::Viewer { pseudonym }, short_id: "sEmp42".into(), named_by: "unique" });
        let v: Value = serde_json::from_str(&log_line(&summary(), &viewer)).unwrap();
        assert_eq!(
            v["audit"],
            json!({"role": "viewer", "viewer": "3fa2b1c0d9e8f7a6", "short_id": "sEmp42", "named_by": "unique"})
        );
        assert_eq!(v["request_id"], "8a1b2c3d4e5f6a7b-LHR");
        let quiet: Value = serde_json::from_str(&log_line(&summary(), &RequestLog::default())).unwrap();
        assert!(quiet.get("audit").is_none());
    }

    #[test]
    fn cache_trouble_is_a_warning() {
        let log = RequestLog::default();
        log.cache(CacheEvent::Failed("kv_get_failed"));
        log.cache(CacheEvent::Failed("kv_put_failed"));
        log.warn("rate_limiter_failed");
        let v: Value = serde_json::from_str(&log_line(&summary(), &log)).unwrap();
        assert_eq!(v["cache"], "error");
        assert_eq!(v["warnings"], json!(["kv_get_failed", "kv_put_failed", "rate_limiter_failed"]));
        let none: Value = serde_json::from_str(&log_line(&summary(), &RequestLog::default())).unwrap();
        assert_eq!(none["cache"], "none");
        assert_eq!(none["upstream"], json!([]));
    }

    #[test]
    fn the_line_is_exact_json_in_a_fixed_order() {
        let log = RequestLog::default();
        log.call(CallRecord { endpoint: "watch_url", result: CallResult::Status(200), ms: 3 });
        log.call(CallRecord { endpoint: "search", result: CallResult::Unreachable, ms: 1 });
        assert_eq!(
            log_line(&summary(), &log),
            r#"{"level":"info","request_id":"8a1b2c3d4e5f6a7b-LHR","method":"GET","route":"/agent","status":302,"outcome":"redirect","upstream":[{"endpoint":"watch_url","status":200,"ms":3},{"endpoint":"search","error":"unreachable","ms":1}],"cache":"none","total_ms":41}"#
        );
        let mut odd = String::new();
        push_json_str(&mut odd, "a\"b\\c\nd\u{1}é");
        assert_eq!(odd, r#""a\"b\\c\nd\u0001é""#.replace("\\n", "\\u000a"));
        assert_eq!(serde_json::from_str::<String>(&odd).unwrap(), "a\"b\\c\nd\u{1}é");
    }

    /// A point's blobs, split as the edge splits them.
    fn blobs(point: &DataPoint) -> Vec<&str> {
        point.blobs.split('\n').collect()
    }

    #[test]
    fn a_data_point_has_a_fixed_layout_of_names_and_numbers() {
        let log = RequestLog::default();
        log.cache(CacheEvent::Hit);
        log.call(CallRecord { endpoint: "search", result: CallResult::Status(503), ms: 12 });
        log.call(CallRecord { endpoint: "search", result: CallResult::Unreachable, ms: 3 });
        log.call(CallRecord { endpoint: "watch_url", result: CallResult::TimedOut, ms: 5000 });
        log.audit(Audit { watcher: Watcher::Agent("agent-7".into()), short_id: "sAlice01".into(), named_by: "unique" });
        let point = data_point(&summary(), &log, "4f1c0b2a-9d8e-4c7b-a6f5-0e1d2c3b4a59");
        assert_eq!(point.index, "/agent");
        let version = env!("CARGO_PKG_VERSION");
        assert_eq!(
            blobs(&point),
            [
                "redirect",
                "hit",
                "4f1c0b2a-9d8e-4c7b-a6f5-0e1d2c3b4a59",
                version,
                "search",
                "search",
                "watch_url",
                "",
                "",
                "",
                "",
                "",
                "",
                "unreachable",
                "timeout",
                "",
                "",
                "",
                "",
                "",
            ]
        );
        assert_eq!(
            point.doubles,
            [302.0, 41.0, 3.0, 503.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 12.0, 3.0, 5000.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        );
        for forbidden in ["agent-7", "sAlice01"] {
            assert!(!point.blobs.contains(forbidden), "the audit record is no metric");
        }
    }

    #[test]
    fn a_data_point_without_calls_and_one_with_more_than_it_itemises() {
        let quiet = data_point(
            &Summary { route: "other", status: 404, outcome: "not_found", ..summary() },
            &RequestLog::default(),
            "",
        );
        assert_eq!(quiet.index, "other");
        let version = env!("CARGO_PKG_VERSION");
        let mut expected = vec!["not_found", "none", "", version];
        expected.extend([""; 2 * POINT_CALLS]);
        assert_eq!(blobs(&quiet), expected);
        let mut doubles = [0.0; 19];
        doubles[..2].copy_from_slice(&[404.0, 41.0]);
        assert_eq!(quiet.doubles, doubles);

        let busy = RequestLog::default();
        for ms in 1..=10 {
            busy.call(CallRecord { endpoint: "search", result: CallResult::Status(200), ms });
        }
        let point = data_point(&summary(), &busy, "a\nb");
        assert_eq!(blobs(&point).len(), 20);
        assert_eq!(blobs(&point)[2], "", "a version id that would break the layout is left out");
        assert_eq!(blobs(&point)[4..12], ["search"; 8]);
        assert_eq!(point.doubles[2], 10.0, "every call is counted");
        assert_eq!(point.doubles[3..11], [200.0; 8]);
        assert_eq!(point.doubles[11..19], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], "the first eight are itemised");
    }

    #[test]
    fn request_ids() {
        assert_eq!(request_id_from_ray(Some("8a1b2c3d4e5f6a7b-LHR")).as_deref(), Some("8a1b2c3d4e5f6a7b-LHR"));
        for bad in [None, Some(""), Some("x\ny"), Some("a b"), Some(&"r".repeat(65) as &str)] {
            assert_eq!(request_id_from_ray(bad), None, "{bad:?}");
        }
        assert_eq!(generated_request_id(0.0, 0.0), "0000000000000000");
        assert_eq!(generated_request_id(0.5, 0.999_999_999_9), "80000000ffffffff");
        assert_ne!(generated_request_id(0.25, 0.5), generated_request_id(0.5, 0.25));
        assert_eq!(printable_method("BREW"), "OTHER");
    }
}
