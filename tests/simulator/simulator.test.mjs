// The simulator against docs/upscope-api.md: if it drifts from the
// reference, the integration tests would prove nothing.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createSimulator, matchesSearch } from "./server.mjs";

const KEY = "reference-key";
let sim;
before(async () => {
  sim = createSimulator({ apiKey: KEY });
  await sim.listen();
});
after(() => sim.close());
beforeEach(() => fetch(`${sim.url}/__sim/reset`, { method: "POST" }));

const api = (path, { method = "GET", body, headers = { "X-Api-Key": KEY } } = {}) =>
  fetch(sim.apiBase + path, {
    method,
    headers: { ...headers, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body && JSON.stringify(body),
  });
const ids = async (search) => (await (await api(`/list?search=${encodeURIComponent(search)}&max_results=50`)).json()).visitors.map((v) => v.short_id).sort();

test("the key is checked: X-Api-Key or Bearer, else 401 invalid_api_key", async () => {
  for (const headers of [{}, { "X-Api-Key": "nope" }, { Authorization: KEY }, { Authorization: `Basic ${KEY}` }]) {
    const res = await api("/list?search=", { headers });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { status: "error", error: "invalid_api_key" });
  }
  assert.equal((await api("/list?search=", { headers: { Authorization: `Bearer ${KEY}` } })).status, 200);
});

test("search syntax: id:, four-digit codes, online/-online, ip:, #tag, e-mail and fuzzy text", async () => {
  assert.deepEqual(await ids("id:alice-1001"), ["sAlice01"]);
  assert.deepEqual(await ids("id:alice"), []);
  assert.deepEqual(await ids("6143"), ["sCarolPhone"]);
  assert.deepEqual(await ids("-online"), ["sBob0002"]);
  assert.deepEqual(await ids("online id:carol-3003"), ["sCarolDesk", "sCarolPhone"]);
  assert.deepEqual(await ids("ip:203.0.113.20"), ["sBob0002"]);
  assert.deepEqual(await ids("#BILLING"), ["sCarolDesk", "sCarolPhone"]);
  assert.deepEqual(await ids("bob@example.com"), ["sBob0002"]);
  assert.deepEqual(await ids("ali"), ["sAlice01", "sAlice02"], "plain text is fuzzy");
  assert.equal((await ids("")).length, 7, "empty search lists the latest visitors");
  assert.equal(matchesSearch({ unique_id: "x" }, "id:X"), false, "id: is exact");
});

test("identifiers may be JSON numbers, and are searched and addressed as text", async () => {
  const [erin] = (await (await api("/list?search=id%3A5005")).json()).visitors;
  assert.deepEqual([erin.short_id, erin.unique_id, erin.lookup_code, typeof erin.last_seen_at], [50050, 5005, 3907, "number"]);
  assert.deepEqual(await ids("3907"), [50050]);
  assert.equal((await api("/visitors/50050")).status, 200);
  const watch = await api("/visitors/50050/watch_url", { method: "POST", body: { agent: { id: "a", name: "A" } } });
  assert.equal(watch.status, 200);
});

test("max_results bounds the answer; visitors carry the documented fields", async () => {
  const body = await (await api("/list?search=&max_results=2")).json();
  assert.equal(body.status, "ok");
  assert.equal(body.visitors.length, 2);
  for (const field of ["short_id", "unique_id", "lookup_code", "is_online", "last_seen_at", "identities", "device_type", "_type"]) {
    assert.ok(field in body.visitors[0], field);
  }
});

test("GET /visitors/:id returns one visitor or 404", async () => {
  assert.equal((await (await api("/visitors/sBob0002")).json()).visitor.unique_id, "bob-2002");
  assert.equal((await api("/visitors/nobody")).status, 404);
});

test("watch_url needs agent id and name, 404s unknown visitors, and returns a fresh URL each call", async () => {
  assert.equal((await api("/visitors/sBob0002/watch_url", { method: "POST", body: { agent: { id: "a" } } })).status, 400);
  assert.equal((await api("/visitors/nobody/watch_url", { method: "POST", body: { agent: { id: "a", name: "A" } } })).status, 404);
  const a = await (await api("/visitors/sBob0002/watch_url", { method: "POST", body: { agent: { id: "a", name: "A" } } })).json();
  const b = await (await api("/visitors/sBob0002/watch_url", { method: "POST", body: { agent: { id: "b", name: "B" } } })).json();
  assert.deepEqual(Object.keys(a), ["watch_url"]);
  assert.notEqual(a.watch_url, b.watch_url);
  assert.match(await (await fetch(b.watch_url)).text(), /id="watch-agent-name">B</);
});

test("watch_url takes the documented branding, and the watch page shows whether the bottom bar is hidden", async () => {
  const agent = { id: "a", name: "A" };
  const page = async (branding) => {
    const res = await api("/visitors/sBob0002/watch_url", { method: "POST", body: branding ? { agent, branding } : { agent } });
    assert.equal(res.status, 200);
    return (await fetch((await res.json()).watch_url)).text();
  };
  const full = { naked: true, retry_url: "https://help.example.com/retry", no_bottom_bar: true, on_end_url: "https://help.example.com/done" };
  assert.match(await page(full), /id="watch-bottom-bar">hidden</);
  assert.match(await page({ no_bottom_bar: false }), /id="watch-bottom-bar">shown</);
  assert.match(await page(null), /id="watch-bottom-bar">shown</, "documented default: null, the bar is shown");
});

test("DELETE /visitors/:id/session answers plain ok, 404 for unknown visitors", async () => {
  const res = await api("/visitors/sBob0002/session", { method: "DELETE" });
  assert.equal(await res.text(), "ok");
  assert.equal((await api("/visitors/nobody/session", { method: "DELETE" })).status, 404);
});

test("proxy_sessions needs an http(s) initial_url; its page shows the unique id and registers the visitor", async () => {
  assert.equal((await api("/proxy_sessions", { method: "POST", body: { initial_url: "ftp://x" } })).status, 400);
  const res = await api("/proxy_sessions", { method: "POST", body: { initial_url: "https://shop.example.com/a?___upscope_unique_id=zed-1" } });
  const { proxy_session } = await res.json();
  const page = await (await fetch(proxy_session.url)).text();
  assert.match(page, /id="proxy-unique-id">zed-1</);
  assert.equal((await ids("id:zed-1")).length, 1, "the proxied visitor is now searchable");
});

test("faults apply to the next matching request only (by path or endpoint), and requests are recorded with every header", async () => {
  const fault = (f) => fetch(`${sim.url}/__sim/faults`, { method: "POST", body: JSON.stringify(f) });
  await fault({ path: "/list", status: 503 });
  assert.equal((await api("/list?search=")).status, 503);
  assert.equal((await api("/list?search=")).status, 200);
  await fault({ endpoint: "watch_url", status: 402 });
  assert.equal((await api("/visitors/sBob0002/watch_url", { method: "POST", body: { agent: { id: "a", name: "A" } } })).status, 402);
  assert.equal((await api("/list?search=id%3Ax", { headers: { "X-Api-Key": KEY, "X-Extra": "kept" } })).status, 200);
  const { requests } = await (await fetch(`${sim.url}/__sim/requests`)).json();
  assert.deepEqual(requests.map((r) => [r.method, r.path, r.endpoint, r.rawQuery]), [
    ["GET", "/v1.3/list", "search", "?search="],
    ["GET", "/v1.3/list", "search", "?search="],
    ["POST", "/v1.3/visitors/sBob0002/watch_url", "watch_url", ""],
    ["GET", "/v1.3/list", "search", "?search=id%3Ax"],
  ]);
  assert.equal(requests[0].headers["x-api-key"], KEY);
  assert.equal(requests[2].headers["content-type"], "application/json");
  assert.deepEqual(requests[2].body, { agent: { id: "a", name: "A" } });
  assert.equal(requests[3].headers["x-extra"], "kept", "every header, not only the ones the simulator reads");
  assert.deepEqual(requests[3].query, { search: "id:x" });
});

test("with a gateway URL, the demo shop page embeds the gateway's /visitor and links the console", async () => {
  const withGateway = createSimulator({ apiKey: KEY, gatewayUrl: "http://127.0.0.1:8787" });
  await withGateway.listen();
  try {
    const html = await (await fetch(`${withGateway.url}/sim/shop?uniqueid=alice%2B1`)).text();
    assert.match(html, /<iframe id="cobrowse" title="Co-browsing" src="http:\/\/127\.0\.0\.1:8787\/visitor\?uniqueid=alice%2B1"/);
    assert.match(html, /href="http:\/\/127\.0\.0\.1:8787\/agent\?agent_id=demo-agent&amp;agent_name=Demo%20Agent"/);
    const index = await (await fetch(`${withGateway.url}/`)).text();
    assert.match(index, /\/sim\/shop\?uniqueid=alice-1001/);
  } finally {
    await withGateway.close();
  }
  assert.equal((await fetch(`${sim.url}/sim/shop`)).status, 404, "no gateway, no shop page");
});

test("on premise: the API under <BASE_ENDPOINT>/api, the bare key in Authorization, the documented search and lists", async () => {
  const prem = createSimulator({ apiKey: KEY, edition: "on_premise" });
  await prem.listen();
  try {
    assert.equal(prem.apiBase, `${prem.url}/cobrowsing`, "UPSCOPE_API_BASE is the BASE_ENDPOINT");
    const call = (path, { method = "GET", body, headers = { Authorization: KEY } } = {}) =>
      fetch(`${prem.apiBase}/api${path}`, {
        method,
        headers: { ...headers, ...(body ? { "Content-Type": "application/json" } : {}) },
        body: body && JSON.stringify(body),
      });
    // Only the bare key: no X-Api-Key, no scheme.
    for (const headers of [{}, { "X-Api-Key": KEY }, { Authorization: `Bearer ${KEY}` }, { Authorization: "nope" }]) {
      const res = await call("/visitors/list/search?q=", { headers });
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.deepEqual(await res.json(), { status: "error", error: "invalid_api_key" });
    }
    const found = async (q) => (await (await call(`/visitors/list/search?q=${encodeURIComponent(q)}`)).json()).visitors.map((v) => v.short_id).sort();
    assert.deepEqual(await found("id:alice-1001"), ["sAlice01"]);
    assert.deepEqual(await found("4821"), ["sAlice01"]);
    assert.deepEqual(await found("online id:carol-3003"), ["sCarolDesk", "sCarolPhone"], "the same query syntax");
    assert.equal((await found("")).length, 7, "an empty query lists the latest visitors");
    const latest = await (await call("/visitors/list/latest")).json();
    assert.equal(latest.status, "ok");
    assert.ok(latest.visitors.length > 0 && latest.visitors.every((v) => v.is_online), "latest online visitors");
    assert.equal((await (await call("/visitors/sBob0002")).json()).visitor.unique_id, "bob-2002");
    const watch = await call("/visitors/sBob0002/watch_url", { method: "POST", body: { agent: { id: "a", name: "A" } } });
    assert.match(await (await fetch((await watch.json()).watch_url)).text(), /id="watch-agent-name">A</);
    const proxy = await call("/proxy_sessions", { method: "POST", body: { initial_url: "https://shop.example.com/" } });
    assert.equal(proxy.status, 200);
    // Not on premise: the cloud's paths, with or without /api.
    for (const path of [`${prem.url}/v1.3/list?search=`, `${prem.apiBase}/api/list?search=`, `${prem.apiBase}/api/usage`, `${prem.apiBase}/visitors/sBob0002`]) {
      assert.equal((await fetch(path, { headers: { Authorization: KEY } })).status, 404, path);
    }
    const { requests } = await (await fetch(`${prem.url}/__sim/requests`)).json();
    assert.deepEqual(requests.slice(4, 6).map((r) => [r.path, r.endpoint, r.headers.authorization]), [
      ["/cobrowsing/api/visitors/list/search", "search", KEY],
      ["/cobrowsing/api/visitors/list/search", "search", KEY],
    ]);
    assert.ok(requests.some((r) => r.endpoint === "latest"));
  } finally {
    await prem.close();
  }
  assert.throws(() => createSimulator({ edition: "on-premise" }), /edition must be one of cloud, on_premise/);
});
