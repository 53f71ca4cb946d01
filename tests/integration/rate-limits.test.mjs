// Optional Workers rate-limiting bindings: visitors are limited per client
// IP, agents per verified identity; without the bindings, no limit.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startSimulator, baseVars, refusal, withGateway, RATE_LIMIT_PERIOD_SECONDS } from "../support/harness.mjs";

let up;
before(async () => {
  up = await startSimulator();
});
after(() => up?.close());
beforeEach(() => up.reset());

// Miniflare counts each limiter in fixed windows aligned to the clock
// (floor(now / period)), so a test that straddles a window edge sees its
// count reset. Start the requests with at least MARGIN_MS left in the window.
const PERIOD_MS = RATE_LIMIT_PERIOD_SECONDS * 1000;
const MARGIN_MS = 10_000;
async function clearOfWindowEdge() {
  const left = PERIOD_MS - (Date.now() % PERIOD_MS);
  if (left < MARGIN_MS) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

/** A gateway with the usual settings and these rate limiters (`{ NAME: limit per minute }`). */
const withLimiters = (rateLimits, run) =>
  withGateway({ vars: baseVars(up.apiBase), rateLimits }, async (gw) => {
    await clearOfWindowEdge();
    await run(gw);
  });

const fromIp = (ip) => ({ "CF-Connecting-IP": ip });

test("VISITOR_RATE_LIMITER: over the limit is a 429 page per client IP, with no upstream call", async () => {
  await withLimiters({ VISITOR_RATE_LIMITER: 2 }, async (gw) => {
    for (let i = 0; i < 2; i++) assert.equal((await gw.fetch("/visitor", { headers: fromIp("203.0.113.7") })).status, 302);
    const got = await refusal(gw, "/visitor", fromIp("203.0.113.7"));
    assert.deepEqual([got.status, got.code], [429, "rate_limited"]);
    assert.match(got.message, /Too many requests/);
    const page = await gw.fetch("/visitor", { headers: fromIp("203.0.113.7") });
    assert.match(await page.text(), /<h1>Slow down<\/h1>/);
    assert.equal((await gw.fetch("/visitor", { headers: fromIp("198.51.100.1") })).status, 302, "another visitor is not limited");
  });
  assert.equal((await up.requests()).length, 3);
});

test("VISITOR_RATE_LIMITER keys IPv6 clients by their /64: new addresses in the same /64 share one allowance", async () => {
  await withLimiters({ VISITOR_RATE_LIMITER: 2 }, async (gw) => {
    assert.equal((await gw.fetch("/visitor", { headers: fromIp("2001:db8:a:b::1") })).status, 302);
    assert.equal((await gw.fetch("/visitor", { headers: fromIp("2001:db8:a:b:1111:2222:3333:4444") })).status, 302);
    const got = await refusal(gw, "/visitor", fromIp("2001:0db8:000a:000b:ffff::9"));
    assert.deepEqual([got.status, got.code], [429, "rate_limited"], "a third address in the same /64 is limited");
    assert.equal((await gw.fetch("/visitor", { headers: fromIp("2001:db8:a:c::1") })).status, 302, "the next /64 is another client");
  });
  assert.equal((await up.requests()).length, 3);
});

test("AGENT_RATE_LIMITER: limited per agent identity", async () => {
  await withLimiters({ AGENT_RATE_LIMITER: 1 }, async (gw) => {
    const link = (agent) => `/agent?visitorid=sAlice01&agent_id=${agent}&agent_name=${agent}`;
    assert.equal((await gw.fetch(link("ann"))).status, 302);
    assert.equal((await refusal(gw, link("ann"))).status, 429);
    assert.equal((await gw.fetch(link("bob"))).status, 302, "another agent is not limited");
  });
  assert.equal((await up.requests()).length, 2);
});

test("without the bindings there is no limit", async () => {
  await withLimiters({}, async (gw) => {
    for (let i = 0; i < 12; i++) assert.equal((await gw.fetch("/visitor", { headers: fromIp("203.0.113.7") })).status, 302);
  });
});
