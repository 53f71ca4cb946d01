// Upstream faults end fast with a clear answer: one retry for searches on
// trouble that may pass, never for session-creating POSTs or 429s, and a
// deadline (UPSTREAM_TIMEOUT_MS) over all upstream work of a request.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gatewaySuite, baseVars, refusal, AGENT_QUERY, ask } from "../support/harness.mjs";
import { assertAsked } from "../support/upstream.mjs";

const TIMEOUT_MS = 600;
const AGENT_LINK = `/agent?uniqueid=alice-1001&${AGENT_QUERY}`;
const suite = gatewaySuite((apiBase) => ({ vars: baseVars(apiBase, { UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) }) }));

const SEARCH = ask.search("id:alice-1001");
const WATCH = ask.watch("sAlice01");

async function timed(run) {
  const started = performance.now();
  const result = await run();
  return { result, ms: performance.now() - started };
}

test("a search answering 502, 503 or 504 is retried once, then the flow goes on", async () => {
  for (const status of [502, 503, 504]) {
    await suite.up.reset();
    await suite.up.fault({ endpoint: "search", status, body: "busy" });
    const res = await suite.gw.fetch(AGENT_LINK);
    assert.equal(res.status, 302, `after ${status}`);
    await suite.up.assertAsked([SEARCH, SEARCH, WATCH], `after ${status}`);
  }
});

test("a search whose connection is reset is retried once", async () => {
  await suite.up.fault({ endpoint: "search", reset_connection: true });
  assert.equal((await suite.gw.fetch(AGENT_LINK)).status, 302);
  await suite.up.assertAsked([SEARCH, SEARCH, WATCH]);
});

test("a search failing twice is a 503 after exactly two tries", async () => {
  await suite.up.fault({ endpoint: "search", status: 503, times: 2 });
  const got = await refusal(suite.gw, AGENT_LINK);
  assert.deepEqual([got.status, got.code], [503, "upstream_unavailable"]);
  await suite.up.assertAsked([SEARCH, SEARCH]);
});

test("session-creating POSTs are never retried", async () => {
  await suite.up.fault({ method: "POST", path: "/visitors/sAlice01/watch_url", status: 503 });
  assert.equal((await refusal(suite.gw, AGENT_LINK)).status, 503);
  await suite.up.fault({ method: "POST", path: "/visitors/sAlice01/watch_url", reset_connection: true });
  const reset = await refusal(suite.gw, AGENT_LINK);
  assert.deepEqual([reset.status, reset.code], [502, "upstream_unreachable"]);
  await suite.up.fault({ method: "POST", path: "/proxy_sessions", status: 502 });
  assert.equal((await refusal(suite.gw, "/visitor")).status, 503);
  const posts = (await suite.up.requests()).filter((r) => r.method === "POST");
  assertAsked(posts, [WATCH, WATCH, ask.proxy()]);
});

test("429 is not retried: one call, 503 with Upscope's Retry-After", async () => {
  await suite.up.fault({ endpoint: "search", status: 429, headers: { "Retry-After": "12" } });
  const got = await refusal(suite.gw, AGENT_LINK);
  assert.deepEqual([got.status, got.code, got.headers.get("retry-after")], [503, "upstream_rate_limited", "12"]);
  await suite.up.assertAsked([SEARCH]);
});

test("a search slower than the deadline is a 504, answered at the deadline, and not retried", async () => {
  await suite.up.fault({ endpoint: "search", delay_ms: 5000 });
  const { result: got, ms } = await timed(() => refusal(suite.gw, AGENT_LINK));
  assert.deepEqual([got.status, got.code], [504, "upstream_timeout"]);
  assert.match(got.message, /did not answer in time/);
  assert.ok(ms >= TIMEOUT_MS - 50 && ms < TIMEOUT_MS + 1500, `answered after ${Math.round(ms)} ms`);
  await suite.up.assertAsked([SEARCH]);
});

test("a slow proxy_sessions POST is a 504 page for the visitor", async () => {
  await suite.up.fault({ method: "POST", path: "/proxy_sessions", delay_ms: 5000 });
  const { result: res, ms } = await timed(() => suite.gw.fetch("/visitor"));
  assert.equal(res.status, 504);
  assert.match(await res.text(), /Co-browsing timed out/);
  assert.ok(ms < TIMEOUT_MS + 1500, `answered after ${Math.round(ms)} ms`);
});

test("the deadline covers the whole request, not each call", async () => {
  // Each call alone fits the deadline; together they do not.
  await suite.up.fault([
    { endpoint: "search", delay_ms: 350 },
    { method: "POST", path: "/visitors/sAlice01/watch_url", delay_ms: 350 },
  ]);
  const { result: got, ms } = await timed(() => refusal(suite.gw, AGENT_LINK));
  assert.deepEqual([got.status, got.code], [504, "upstream_timeout"]);
  assert.ok(ms < TIMEOUT_MS + 1500, `answered after ${Math.round(ms)} ms`);
});

test("no retry is started when the deadline leaves no room for it", async () => {
  await suite.up.fault({ endpoint: "search", status: 503, delay_ms: 450 });
  const got = await refusal(suite.gw, AGENT_LINK);
  assert.deepEqual([got.status, got.code], [503, "upstream_unavailable"]);
  await suite.up.assertAsked([SEARCH]);
});
