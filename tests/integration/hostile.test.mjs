// Hostile input: every case gets a 4xx with a message a person can act on,
// no upstream call, no 5xx and no panic in the worker's output.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gatewaySuite, AGENT_QUERY } from "../support/harness.mjs";

const A = AGENT_QUERY;
const long = (n) => "x".repeat(n);
const enc = encodeURIComponent;

// [name, path, status, code]
const GET_CASES = [
  // Very long query strings and values
  ["query string over 4096 bytes", `/agent?lookup=1234&${A}&pad=${long(5000)}`, 400, "query_too_long"],
  ["own ID of 129 characters", `/agent?uniqueid=${long(129)}&${A}`, 400, "invalid_parameter"],
  ["Short ID of 65 characters", `/agent?visitorid=${long(65)}&${A}`, 400, "invalid_parameter"],
  ["agent name of 101 characters", `/agent?lookup=1234&agent_id=a&agent_name=${long(101)}`, 400, "invalid_parameter"],
  ["visitor's own ID of 129 characters", `/visitor?uniqueid=${long(129)}`, 400, "invalid_parameter"],
  ["long url not allowed", `/visitor?url=https%3A%2F%2Fevil.example%2F${long(3900)}`, 400, "url_not_allowed"],
  // Repeated parameters: never first-wins
  ["lookup twice, same value", `/agent?lookup=1234&lookup=1234&${A}`, 400, "repeated_parameter"],
  ["uniqueid twice", `/agent?uniqueid=a&uniqueid=b&${A}`, 400, "repeated_parameter"],
  ["agent_id twice", `/agent?lookup=1234&${A}&agent_id=b`, 400, "repeated_parameter"],
  ["repeat hidden by encoding the name", `/agent?lookup=1234&looku%70=1234&${A}`, 400, "repeated_parameter"],
  ["visitor uniqueid twice", "/visitor?uniqueid=a&uniqueid=b", 400, "repeated_parameter"],
  ["visitor url twice", "/visitor?url=https%3A%2F%2Fshop.example.com%2Fhelp&url=https%3A%2F%2Fevil.example%2F", 400, "repeated_parameter"],
  // Encoded CR/LF and NUL
  ["CR LF in an own ID", `/agent?uniqueid=a%0D%0Ab&${A}`, 400, "invalid_parameter"],
  ["NUL in an own ID", `/agent?uniqueid=a%00&${A}`, 400, "invalid_parameter"],
  ["header injection in agent_name", "/agent?lookup=1234&agent_id=a&agent_name=Ann%0D%0ASet-Cookie:%20x=1", 400, "invalid_parameter"],
  ["LF in a Short ID", `/agent?visitorid=abc%0A&${A}`, 400, "invalid_parameter"],
  ["CR LF in the visitor's ID", "/visitor?uniqueid=a%0D%0ALocation:%20https://evil.example", 400, "invalid_parameter"],
  ["NUL inside a lookup code", `/agent?lookup=12%0034&${A}`, 400, "invalid_parameter"],
  // Overlong UTF-8, invalid bytes, look-alikes
  ["overlong UTF-8 slash in an own ID", `/agent?uniqueid=a%C0%AFb&${A}`, 400, "invalid_parameter"],
  ["overlong UTF-8 dots in a Short ID", `/agent?visitorid=%C0%AE%C0%AE%C0%AF&${A}`, 400, "invalid_parameter"],
  ["invalid UTF-8 bytes", `/agent?uniqueid=%FF%FE&${A}`, 400, "invalid_parameter"],
  ["full-width digits as a lookup code", `/agent?lookup=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94&${A}`, 400, "invalid_parameter"],
  ["Arabic-Indic digits as a lookup code", `/agent?lookup=%D9%A1%D9%A2%D9%A3%D9%A4&${A}`, 400, "invalid_parameter"],
  ["zero-width space in an own ID", `/agent?uniqueid=alice%E2%80%8B&${A}`, 400, "invalid_parameter"],
  ["full-width letter in an own ID", `/agent?uniqueid=%EF%BD%81lice&${A}`, 400, "invalid_parameter"],
  ["broken percent-encoding", `/agent?uniqueid=%ZZalice&${A}`, 400, "invalid_parameter"],
  // Search-widening attempts
  ["'alice online'", `/agent?uniqueid=alice%20online&${A}`, 400, "invalid_parameter"],
  ["'alice+online' (plus is a space)", `/agent?uniqueid=alice+online&${A}`, 400, "invalid_parameter"],
  ["'a id:b'", `/agent?uniqueid=a%20id%3Ab&${A}`, 400, "invalid_parameter"],
  ["a lone '*'", `/agent?uniqueid=*&${A}`, 400, "invalid_parameter"],
  ["quoted ID", `/agent?uniqueid=%22alice%22&${A}`, 400, "invalid_parameter"],
  ["tab-separated terms", `/agent?uniqueid=alice%09online&${A}`, 400, "invalid_parameter"],
  ["lookup code with a search term", `/agent?lookup=4821%20online&${A}`, 400, "invalid_parameter"],
  ["wildcard lookup code", `/agent?lookup=48*&${A}`, 400, "invalid_parameter"],
  // Path tricks in Short IDs
  ["../ in a Short ID", `/agent?visitorid=..%2F..%2Fadmin&${A}`, 400, "invalid_parameter"],
  ["encoded slash in a Short ID", `/agent?visitorid=a%2Fwatch_url&${A}`, 400, "invalid_parameter"],
  ["double-encoded dots", `/agent?visitorid=%252e%252e&${A}`, 400, "invalid_parameter"],
  ["a bare '..'", `/agent?visitorid=..&${A}`, 400, "invalid_parameter"],
  ["backslash in a Short ID", `/agent?visitorid=a%5Cb&${A}`, 400, "invalid_parameter"],
  ["query in a Short ID", `/agent?visitorid=abc%3Fx%3D1&${A}`, 400, "invalid_parameter"],
  ["fragment in a Short ID", `/agent?visitorid=abc%23x&${A}`, 400, "invalid_parameter"],
  // Pages outside the allowlist
  ["javascript: page", "/visitor?url=javascript%3Aalert(1)", 400, "url_not_allowed"],
  ["look-alike host", "/visitor?url=https%3A%2F%2Fshop.example.com.evil.example%2Fhelp", 400, "url_not_allowed"],
  ["prefix without a segment boundary", "/visitor?url=https%3A%2F%2Fshop.example.com%2Fhelpdesk", 400, "url_not_allowed"],
  ["credentials in the page URL", "/visitor?url=https%3A%2F%2Fuser%3Apass%40shop.example.com%2Fhelp", 400, "url_not_allowed"],
  ["dot segments out of the prefix", "/visitor?url=https%3A%2F%2Fshop.example.com%2Fhelp%2F..%2Fadmin", 400, "url_not_allowed"],
  ["encoded slash out of the prefix", "/visitor?url=https%3A%2F%2Fshop.example.com%2Forders%2F..%252Fadmin", 400, "url_not_allowed"],
  ["another scheme", "/visitor?url=http%3A%2F%2Fshop.example.com%2Fhelp", 400, "url_not_allowed"],
  ["scheme-relative page", "/visitor?url=%2F%2Fevil.example%2Fhelp", 400, "url_not_allowed"],
  // Path spellings a site's server may read as a way out of the prefix
  ["'..;' segment (Tomcat, Spring)", `/visitor?url=${enc("https://shop.example.com/help/..;/admin")}`, 400, "url_not_allowed"],
  ["'..;' with a path parameter", `/visitor?url=${enc("https://shop.example.com/help/..;jsessionid=1/admin")}`, 400, "url_not_allowed"],
  ["double-encoded dots", `/visitor?url=${enc("https://shop.example.com/help/%252e%252e/admin")}`, 400, "url_not_allowed"],
  ["a ';' path parameter", `/visitor?url=${enc("https://shop.example.com/orders/x;jsessionid=abc")}`, 400, "url_not_allowed"],
  // The visitor's ID smuggled in the page URL, in any spelling
  ["upper-case unique-id parameter", `/visitor?url=${enc("https://shop.example.com/help?___UPSCOPE_UNIQUE_ID=victim")}`, 400, "url_not_allowed"],
  ["';'-separated unique-id parameter", `/visitor?url=${enc("https://shop.example.com/help?a=1;___upscope_unique_id=victim")}`, 400, "url_not_allowed"],
  ["'[]' unique-id parameter", `/visitor?url=${enc("https://shop.example.com/help?___upscope_unique_id[]=victim")}`, 400, "url_not_allowed"],
  ["unique-id parameter in the fragment", `/visitor?url=${enc("https://shop.example.com/help#___upscope_unique_id=victim")}`, 400, "url_not_allowed"],
  ["percent-encoded unique-id name", `/visitor?url=${enc("https://shop.example.com/help?a=1&%5F%5F%5Fupscope%5Funique%5Fid=victim")}`, 400, "url_not_allowed"],
  ["double-encoded unique-id name", `/visitor?url=${enc("https://shop.example.com/help?%255F%255F%255Fupscope_unique_id=victim")}`, 400, "url_not_allowed"],
  ["plain unique-id parameter", `/visitor?url=${enc("https://shop.example.com/help?___upscope_unique_id=victim")}`, 400, "url_not_allowed"],
  ["a name PHP reads as the unique-id parameter (dots)", `/visitor?url=${enc("https://shop.example.com/help?___upscope.unique.id=victim")}`, 400, "url_not_allowed"],
  ["a name PHP reads as the unique-id parameter (spaces)", `/visitor?url=${enc("https://shop.example.com/help?___upscope+unique+id=victim")}`, 400, "url_not_allowed"],
  ["a name PHP reads as the unique-id parameter ('[')", `/visitor?url=${enc("https://shop.example.com/help?___upscope[unique.id=victim")}`, 400, "url_not_allowed"],
  ["'..' followed by an encoded space", `/visitor?url=${enc("https://shop.example.com/help/..%20/admin")}`, 400, "url_not_allowed"],
  ["'..' followed by NUL", `/visitor?url=${enc("https://shop.example.com/help/..%00/admin")}`, 400, "url_not_allowed"],
  ["IIS %u escape", `/visitor?url=${enc("https://shop.example.com/help/..%u002fadmin")}`, 400, "url_not_allowed"],
  ["overlong UTF-8 slash", `/visitor?url=${enc("https://shop.example.com/help/..%c0%afadmin")}`, 400, "url_not_allowed"],
  // Links that name no visitor, or several
  ["a blank visitor", `/agent?lookup=&${A}`, 400, "invalid_parameter"],
  ["two ways of naming the visitor", `/agent?visitorid=abc&lookup=1234&${A}`, 400, "conflicting_parameters"],
  // Unknown routes
  ["unknown path", "/admin", 404, "not_found"],
  ["trailing slash", "/visitor/", 404, "not_found"],
  ["upper case", "/VISITOR", 404, "not_found"],
  ["extension", "/agent.php?lookup=1234", 404, "not_found"],
  ["encoded traversal", "/%2e%2e/%2e%2e/etc/passwd", 404, "not_found"],
];
// /agent also takes a POST, from its own launch confirmation only (cross-site.test.mjs).
const WRONG_METHODS = [["POST", "/visitor"], ["PUT", "/visitor"], ["DELETE", "/agent"], ["PATCH", "/healthz"], ["OPTIONS", "/visitor"], ["HEAD", "/visitor"]];
const allowed = (path) => (path.startsWith("/agent") ? "GET, POST" : "GET");

const suite = gatewaySuite();

test(`${GET_CASES.length + WRONG_METHODS.length} hostile requests: each a clear 4xx, none reaching Upscope`, async () => {
  assert.ok(GET_CASES.length + WRONG_METHODS.length >= 40);
  for (const [name, path, status, code] of GET_CASES) {
    const res = await suite.gw.fetch(path, { headers: { Accept: "application/json" } });
    const text = await res.text();
    assert.equal(res.status, status, `${name}: ${text}`);
    const { error } = JSON.parse(text);
    assert.equal(error.code, code, name);
    assert.ok(error.message.length > 20 && !/[\r\n\0]/.test(error.message), `${name}: unclear message ${JSON.stringify(error.message)}`);
    const html = await (await suite.gw.fetch(path)).text();
    assert.doesNotMatch(html, /<script|<iframe|Set-Cookie:/i, `${name}: markup or a header echoed`);
  }
  for (const [method, path] of WRONG_METHODS) {
    const res = await suite.gw.fetch(path, { method, headers: { Accept: "application/json" } });
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get("allow"), allowed(path), `${method} ${path}`);
    if (method !== "HEAD") assert.equal((await res.json()).error.code, "method_not_allowed");
  }
  // A POST to /agent from anywhere but the gateway's own page, whatever it carries, is refused first.
  for (const headers of [{}, { "Sec-Fetch-Site": "cross-site" }, { Origin: "https://evil.example" }]) {
    const res = await suite.gw.fetch("/agent?lookup=12&visitorid=../x", { method: "POST", headers: { Accept: "application/json", ...headers } });
    assert.equal(res.status, 403, JSON.stringify(headers));
    assert.equal((await res.json()).error.code, "cross_site_request");
  }
  assert.deepEqual(await suite.up.requests(), [], "no hostile request reached Upscope");
  await new Promise((r) => setTimeout(r, 100));
  const output = suite.gw.logs.join("");
  assert.doesNotMatch(output, /panicked|RuntimeError|unreachable executed|Uncaught/);
  const lines = suite.gw.logLines();
  assert.ok(lines.length >= GET_CASES.length + WRONG_METHODS.length);
  assert.ok(lines.every((l) => l.status >= 400 && l.status < 500), "every answer was a 4xx");
});
