//! An `Answer` (`crate::http`) made the runtime's `Response`: its headers
//! travel as one string and the `Response` is built in JS (`respond` in
//! `glue.js`), one crossing in all (a crossing and two decoded strings per
//! header cost ~8 µs a request, profiled).

use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::JsValue;
use worker::web_sys;

use crate::core::framing::FrameAncestors;
use crate::http::Answer;

#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, module = "glue")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn respond(status: u16, body: Option<String>, head: &str) -> Result<web_sys::Response, JsValue>;
}

/// The runtime's `Response`, with the headers on every response the
/// gateway sends: pages may hold signed links and redirects lead to
/// session URLs, so nothing is cached, and no URL of ours is ever sent
/// on as a referrer. `framing` is the route's framing policy.
pub fn into_response(answer: Answer, framing: &FrameAncestors, request_id: &str) -> Result<web_sys::Response, JsValue> {
    let csp = framing.content_security_policy();
    let every: [(&str, &str); 5] = [
        ("X-Content-Type-Options", "nosniff"),
        ("Cache-Control", "no-store"),
        ("Referrer-Policy", "no-referrer"),
        ("Content-Security-Policy", &csp),
        ("X-Request-Id", request_id),
    ];
    let particular = answer.headers.iter().map(|(name, value)| (*name, value.as_str()));
    let head =
        header_lines(particular.chain(every)).ok_or_else(|| JsValue::from_str("a header value holds a line break"))?;
    respond(answer.status, answer.body, &head)
}

/// "Name:value" lines; `None` if a value holds a line break, which would
/// otherwise start a header of its own (the runtime refuses such values too).
pub fn header_lines<'a>(headers: impl Iterator<Item = (&'a str, &'a str)>) -> Option<String> {
    let mut head = String::with_capacity(512);
    for (name, value) in headers {
        if value.contains(['\n', '\r']) {
            return None;
        }
        if !head.is_empty() {
            head.push('\n');
        }
        head.push_str(name);
        head.push(':');
        head.push_str(value);
    }
    Some(head)
}

#[cfg(test)]
mod tests {
    use super::header_lines;

    #[test]
    fn headers_become_lines_and_a_line_break_in_a_value_is_refused() {
        let lines =
            header_lines([("Location", "https://w.example/s?a=b:c"), ("Cache-Control", "no-store")].into_iter());
        assert_eq!(lines.as_deref(), Some("Location:https://w.example/s?a=b:c\nCache-Control:no-store"));
        for smuggled in ["https://w.example/\nSet-Cookie: a=b", "x\r\nSet-Cookie: a=b", "x\r"] {
            assert_eq!(header_lines([("Location", smuggled)].into_iter()), None, "{smuggled:?}");
        }
    }
}
