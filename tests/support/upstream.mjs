// What the gateway asks Upscope, written once for every suite: each upstream
// call's expected request (method, path, query, headers, body), from
// docs/upscope-api.md and never from the gateway's code; and the one check
// that compares the requests the simulator recorded with them.
//
// The check compares what identifies a call (method, path and the exact
// query, in order, and how many calls there were), then of each call only
// what its expectation names: its headers, the headers it must not carry,
// and its body when one is given. A field no expectation names (a header the
// runtime adds, a new member of the simulator's record) never breaks a test.
import assert from "node:assert/strict";

/** Results the gateway asks each visitor search for (in the cloud; on premise none is documented). */
export const SEARCH_MAX_RESULTS = 10;
/** What `/readyz?upstream=1` searches for on premise: an own ID nobody has. */
export const KEY_CHECK_QUERY = "id:upscope-gateway-key-check";

const JSON_TYPE = "application/json";

/**
 * The calls the gateway makes to the Upscope `edition` ("cloud" or
 * "on_premise") whose API base path is `basePath` (the path of
 * UPSCOPE_API_BASE: "/v1.3", or an on-premise BASE_ENDPOINT such as
 * "/cobrowsing"), with `apiKey`. Each returns
 * `{ endpoint, method, path, query, headers, without, body? }`; `body` is
 * compared only when given.
 */
export function upscopeCalls({ edition = "cloud", basePath, apiKey }) {
  const onPremise = edition === "on_premise";
  // On premise: everything under <base>/api, the key as the bare Authorization header.
  const root = onPremise ? `${basePath}/api` : basePath;
  const key = onPremise ? { authorization: apiKey } : { "x-api-key": apiKey };
  const call = (endpoint, method, path, query, body) => ({
    endpoint,
    method,
    path: root + path,
    query,
    // The key in the edition's header, and only there.
    headers: { ...key, accept: JSON_TYPE, ...(method === "POST" ? { "content-type": JSON_TYPE } : {}) },
    without: [onPremise ? "x-api-key" : "authorization"],
    ...(body === undefined ? {} : { body }),
  });
  const search = (query) => onPremise
    ? call("search", "GET", "/visitors/list/search", [["q", query]])
    : call("search", "GET", "/list", [["search", query], ["max_results", String(SEARCH_MAX_RESULTS)]]);
  return {
    /** `GET /list?search=QUERY&max_results=10`; on premise `GET /visitors/list/search?q=QUERY`. */
    search,
    /** `POST /visitors/:short_id/watch_url`, with `body` when the test names it. */
    watch: (shortId, body) => call("watch_url", "POST", `/visitors/${encodeURIComponent(shortId)}/watch_url`, [], body),
    /** `POST /proxy_sessions`, with `body` when the test names it. */
    proxy: (body) => call("proxy_sessions", "POST", "/proxy_sessions", [], body),
    /** `/readyz?upstream=1`'s one authenticated read: `GET /usage`; on premise a search for nobody. */
    keyCheck: () => (onPremise ? search(KEY_CHECK_QUERY) : call("usage", "GET", "/usage", [])),
  };
}

/** An expected call as `METHOD path?query`, the form the simulator's calls are listed in. */
export function callLine({ method, path, query }) {
  return `${method} ${path}${query.length ? `?${new URLSearchParams(query)}` : ""}`;
}

/** A recorded request as `METHOD path?query`, exactly as it arrived. */
export const recordedLine = (r) => `${r.method} ${r.path}${r.rawQuery}`;

/**
 * Asserts that `recorded` (the simulator's requests) are exactly the calls
 * `expected`, in order, each carrying the headers and body its expectation
 * names. Returns `recorded`.
 */
export function assertAsked(recorded, expected, message) {
  const where = (what) => [message, what].filter(Boolean).join(": ");
  assert.deepEqual(recorded.map(recordedLine), expected.map(callLine), where("the calls Upscope received"));
  expected.forEach((want, i) => {
    const got = recorded[i];
    for (const [name, value] of Object.entries(want.headers)) {
      assert.equal(got.headers[name], value, where(`${callLine(want)}: header ${name}`));
    }
    for (const name of want.without) {
      assert.equal(got.headers[name], undefined, where(`${callLine(want)}: no ${name} header`));
    }
    if ("body" in want) assert.deepEqual(got.body, want.body, where(`${callLine(want)}: body`));
  });
  return recorded;
}

/** `assertAsked` for calls that run at once, so arrive in either order. */
export function assertAskedInAnyOrder(recorded, expected, message) {
  const byLine = (line) => (a, b) => line(a).localeCompare(line(b));
  return assertAsked([...recorded].sort(byLine(recordedLine)), [...expected].sort(byLine(callLine)), message);
}
