// The expected-request helpers every suite asserts with: they must catch a
// wrong call, a wrong header, a key sent twice or a wrong body, and nothing
// else (a field no expectation names never breaks a test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { assertAsked, assertAskedInAnyOrder, callLine, upscopeCalls } from "./upstream.mjs";

const ask = upscopeCalls({ basePath: "/v1.3", apiKey: "k-1" });

/** A request as the simulator records it, with headers a runtime adds. */
const recorded = (method, path, rawQuery, headers, body = null) => ({
  method, path, rawQuery, endpoint: "whatever", query: {}, body,
  headers: { host: "127.0.0.1:9", "user-agent": "workerd", "accept-encoding": "gzip", accept: "application/json", ...headers },
});
const SEARCH = recorded("GET", "/v1.3/list", "?search=id%3Aalice&max_results=10", { "x-api-key": "k-1" });
const WATCH = recorded("POST", "/v1.3/visitors/s1/watch_url", "", { "x-api-key": "k-1", "content-type": "application/json" }, { agent: { id: "a", name: "A" } });

test("the calls are written as the documented API spells them", () => {
  assert.equal(callLine(ask.search("id:alice+x@example.com")), "GET /v1.3/list?search=id%3Aalice%2Bx%40example.com&max_results=10");
  assert.equal(callLine(ask.watch("s1")), "POST /v1.3/visitors/s1/watch_url");
  assert.equal(callLine(ask.proxy()), "POST /v1.3/proxy_sessions");
  assert.equal(callLine(ask.keyCheck()), "GET /v1.3/usage");
});

test("on premise: under <base>/api, the documented search, the bare key and never X-Api-Key", () => {
  const prem = upscopeCalls({ edition: "on_premise", basePath: "/cobrowsing", apiKey: "k-1" });
  assert.equal(callLine(prem.search("id:alice+x@example.com")), "GET /cobrowsing/api/visitors/list/search?q=id%3Aalice%2Bx%40example.com");
  assert.equal(callLine(prem.watch("s1")), "POST /cobrowsing/api/visitors/s1/watch_url");
  assert.equal(callLine(prem.proxy()), "POST /cobrowsing/api/proxy_sessions");
  assert.equal(callLine(prem.keyCheck()), "GET /cobrowsing/api/visitors/list/search?q=id%3Aupscope-gateway-key-check");
  const sent = recorded("GET", "/cobrowsing/api/visitors/list/search", "?q=4821", { authorization: "k-1" });
  assertAsked([sent], [prem.search("4821")]);
  assert.throws(() => assertAsked([{ ...sent, headers: { ...sent.headers, "x-api-key": "k-1" } }], [prem.search("4821")]), assert.AssertionError);
  assert.throws(() => assertAsked([{ ...sent, headers: { ...sent.headers, authorization: "Bearer k-1" } }], [prem.search("4821")]), assert.AssertionError);
  assert.throws(() => assertAsked([SEARCH], [prem.search("id:alice")]), assert.AssertionError, "a cloud request is not an on-premise one");
});

test("what matches passes, whatever else the record holds", () => {
  assertAsked([SEARCH, WATCH], [ask.search("id:alice"), ask.watch("s1")]);
  assertAsked([SEARCH, WATCH], [ask.search("id:alice"), ask.watch("s1", { agent: { id: "a", name: "A" } })]);
  assertAskedInAnyOrder([WATCH, SEARCH], [ask.search("id:alice"), ask.watch("s1")]);
  assertAsked([], []);
});

test("a wrong call, header, key or body fails", () => {
  const fails = (got, want, why) => assert.throws(() => assertAsked(got, want), assert.AssertionError, why);
  fails([SEARCH], [ask.search("id:alice"), ask.watch("s1")], "a call missing");
  fails([SEARCH, WATCH], [ask.search("id:alice")], "a call too many");
  fails([WATCH, SEARCH], [ask.search("id:alice"), ask.watch("s1")], "out of order");
  fails([SEARCH], [ask.search("id:alicia")], "another query");
  fails([{ ...SEARCH, rawQuery: "?max_results=10&search=id%3Aalice" }], [ask.search("id:alice")], "parameters reordered");
  fails([{ ...SEARCH, headers: { ...SEARCH.headers, "x-api-key": "other" } }], [ask.search("id:alice")], "another key");
  fails([{ ...SEARCH, headers: { ...SEARCH.headers, authorization: "k-1" } }], [ask.search("id:alice")], "the key in a second header");
  fails([{ ...WATCH, headers: { ...WATCH.headers, "content-type": "text/plain" } }], [ask.watch("s1")], "not JSON");
  fails([WATCH], [ask.watch("s1", { agent: { id: "b", name: "A" } })], "another body");
});
