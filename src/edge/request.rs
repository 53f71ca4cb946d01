//! What the gateway reads of a request (method, URL and eleven headers), read
//! in one crossing: one call into JS (`requestHead` in `glue.js`) and one string back, rather than a
//! crossing and a decoded string per part (profiled: ~8 µs a request).

use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::web_sys;

use super::js::optional_line;

#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, module = "glue")]
extern "C" {
    #[wasm_bindgen(js_name = requestHead)]
    fn request_head(request: &web_sys::Request) -> String;
}

/// The headers the gateway reads.
#[derive(Debug, Clone, Copy)]
pub enum Header {
    /// Cloudflare's ray ID: the request ID in logs and `X-Request-Id`.
    CfRay,
    Accept,
    /// `Cf-Access-Jwt-Assertion`: the identity Cloudflare Access signs and adds in front of the gateway.
    AccessJwt,
    /// The client's address, for the `/visitor` rate limit.
    ConnectingIp,
    /// Fetch Metadata, `Referer` and `Origin`: where an `/agent` request came
    /// from (`core::launch`).
    FetchSite,
    Referer,
    Origin,
    /// Fetch Metadata: whether the request is a navigation (`navigate`) and
    /// into what (`document`, `iframe`, `image`...), so that only a followed
    /// link may start a session (`core::launch`).
    FetchMode,
    FetchDest,
    /// `Sec-Purpose`: `prefetch` when the browser loads ahead of a click
    /// that may not come; such a request starts nothing.
    Purpose,
    /// `Purpose`: the same, as older browsers (and Chrome, besides
    /// `Sec-Purpose`) say it.
    LegacyPurpose,
}

const HEADERS: usize = 11;

/// The request as the gateway reads it.
#[derive(Debug)]
pub struct RequestHead {
    pub method: String,
    /// As the runtime serialises it (WHATWG URL: already parsed and normalised).
    pub url: String,
    headers: [Option<String>; HEADERS],
}

impl RequestHead {
    pub fn read(request: &web_sys::Request) -> Self {
        parse(&request_head(request))
    }

    pub fn header(&self, header: Header) -> Option<&str> {
        self.headers[header as usize].as_deref()
    }
}

fn parse(head: &str) -> RequestHead {
    let mut lines = head.split('\n');
    let method = lines.next().unwrap_or_default().to_owned();
    let url = lines.next().unwrap_or_default().to_owned();
    let headers = std::array::from_fn(|_| lines.next().and_then(optional_line).flatten().map(str::to_owned));
    RequestHead { method, url, headers }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_method_url_and_headers_present_absent_or_empty() {
        let head =
            parse("GET\nhttps://gw.example/agent?x=1\n+8a1b-LHR\n-\n+\n+2001:db8::1\n+cross-site\n-\n-\n+navigate\n-\n+prefetch\n-");
        assert_eq!(head.method, "GET");
        assert_eq!(head.url, "https://gw.example/agent?x=1");
        assert_eq!(head.header(Header::CfRay), Some("8a1b-LHR"));
        assert_eq!(head.header(Header::Accept), None);
        assert_eq!(head.header(Header::AccessJwt), Some(""), "present but empty is not absent");
        assert_eq!(head.header(Header::ConnectingIp), Some("2001:db8::1"));
        assert_eq!(head.header(Header::FetchSite), Some("cross-site"));
        assert_eq!(head.header(Header::Origin), None);
        assert_eq!(head.header(Header::FetchMode), Some("navigate"));
        assert_eq!(head.header(Header::FetchDest), None);
        assert_eq!(head.header(Header::Purpose), Some("prefetch"));
        assert_eq!(head.header(Header::LegacyPurpose), None);
    }

    #[test]
    fn the_js_reads_the_headers_in_the_order_of_the_enum() {
        let source = include_str!("glue.js");
        let names = source.split("const NAMES = [").nth(1).and_then(|rest| rest.split(']').next()).unwrap();
        let expected = [
            (Header::CfRay, "cf-ray"),
            (Header::Accept, "accept"),
            (Header::AccessJwt, "Cf-Access-Jwt-Assertion"),
            (Header::ConnectingIp, "cf-connecting-ip"),
            (Header::FetchSite, "sec-fetch-site"),
            (Header::Referer, "referer"),
            (Header::Origin, "origin"),
            (Header::FetchMode, "sec-fetch-mode"),
            (Header::FetchDest, "sec-fetch-dest"),
            (Header::Purpose, "sec-purpose"),
            (Header::LegacyPurpose, "purpose"),
        ];
        let listed: Vec<&str> = names.split(',').map(|n| n.trim().trim_matches('"')).collect();
        assert_eq!(listed.len(), HEADERS);
        for (header, name) in expected {
            assert!(listed[header as usize].eq_ignore_ascii_case(name), "{header:?} is {name}");
        }
    }
}
