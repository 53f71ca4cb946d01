// The uniqueId -> shortId cache in a real (local) Workers KV namespace. The
// cache may only make answers faster, never different: the search always
// decides, and a cached Short ID only lets its session start alongside it.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { gatewaySuite, baseVars, withGateway, SLOW_KV_MS, AGENT_QUERY, ask } from "../support/harness.mjs";

const suite = gatewaySuite((apiBase) => ({ vars: baseVars(apiBase), kv: true }));
// (The suite resets the simulator; this empties the cache too.)
beforeEach(async () => {
  for (const { name } of (await suite.gw.kv.list()).keys) await suite.gw.kv.delete(name);
});

const AGENT = AGENT_QUERY;
const KEY = "short-id:v1:alice-1001";
/** Asserts the calls Upscope received, in order. */
const asked = (expected) => suite.up.assertAsked(expected);
/** The same, in any order: a hit's search and head-start session run at once. */
const askedAtOnce = (expected) => suite.up.assertAskedInAnyOrder(expected);
const SEARCH_ALICE = ask.search("id:alice-1001");
const WATCH_ALICE = ask.watch("sAlice01");
const minutesAgo = (m) => new Date(Date.now() - m * 60_000).toISOString();

async function agent(q) {
  const res = await suite.gw.fetch(`/agent?${q}&${AGENT}`);
  const location = res.headers.get("location");
  await res.arrayBuffer();
  return { status: res.status, location };
}

test("a miss searches and stores the Short ID for SHORT_ID_CACHE_TTL (default 3600 s)", async () => {
  const before = Math.floor(Date.now() / 1000);
  assert.equal((await agent("uniqueid=alice-1001")).status, 302);
  assert.equal(await suite.gw.kv.get(KEY), "sAlice01");
  const [entry] = (await suite.gw.kv.list()).keys;
  assert.equal(entry.name, KEY);
  assert.ok(entry.expiration >= before + 3600 && entry.expiration <= before + 3605, `expiration ${entry.expiration}`);
  await asked([SEARCH_ALICE, WATCH_ALICE]);
});

/**
 * Upscope's search is slower than a KV read at the edge; on loopback it may
 * not be. The tests that show the head start make the next search take
 * 200 ms, so the cache surely answers first (without it, a late read is
 * simply not used: see the slow-KV test).
 */
const searchSlowerThanKv = () => suite.up.fault({ method: "GET", path: "/list", delay_ms: 200 });

/** Which visitor a redirect watches, from the simulator's watch page. */
async function watched(location) {
  const page = await (await fetch(location)).text();
  return page.match(/id="watch-short-id">([^<]+)</)[1];
}

test("a hit still searches; the session for the cached Short ID starts alongside and is used: two calls", async () => {
  await agent("uniqueid=alice-1001");
  await suite.up.reset();
  await searchSlowerThanKv();
  const { status, location } = await agent("uniqueid=alice-1001");
  assert.equal(status, 302);
  assert.equal(await watched(location), "sAlice01");
  await askedAtOnce([SEARCH_ALICE, WATCH_ALICE]);
});

test("a cached Short ID now worn by someone else is never used: the agent watches the visitor the search finds", async () => {
  await suite.gw.kv.put(KEY, "sAlice01");
  // sAlice01 now carries another customer's ID; Alice is on a new device.
  await suite.up.addVisitors([
    { short_id: "sAlice01", unique_id: "mallory-9", lookup_code: "1999", is_online: true, last_seen_at: minutesAgo(0) },
    { short_id: "sAlice09", unique_id: "alice-1001", lookup_code: "4829", is_online: true, last_seen_at: minutesAgo(0) },
  ]);
  await searchSlowerThanKv();
  const { status, location } = await agent("uniqueid=alice-1001");
  assert.equal(status, 302);
  assert.equal(await watched(location), "sAlice09");
  await askedAtOnce([
    SEARCH_ALICE, WATCH_ALICE, ask.watch("sAlice09"),
  ]);
  assert.equal(await suite.gw.kv.get(KEY), "sAlice09", "the entry follows the search");
});

test("a hit still offers the chooser when a second device comes online, and the entry is dropped", async () => {
  await suite.gw.kv.put(KEY, "sAlice01");
  await suite.up.addVisitors([
    { short_id: "sAlicePhone", unique_id: "alice-1001", is_online: true, last_seen_at: minutesAgo(1), device_name: "Phone" },
  ]);
  const res = await suite.gw.fetch(`/agent?uniqueid=alice-1001&${AGENT}`);
  assert.equal(res.status, 200);
  const page = await res.text();
  assert.match(page, /shortid=sAlice01&/);
  assert.match(page, /shortid=sAlicePhone&/);
  assert.equal(await suite.gw.kv.get(KEY), null);
});

test("a stale entry (watch_url 404) is replaced by what the search finds, and the flow carries on", async () => {
  await suite.gw.kv.put(KEY, "sGone99");
  await searchSlowerThanKv();
  const { status, location } = await agent("uniqueid=alice-1001");
  assert.equal(status, 302);
  assert.equal(await watched(location), "sAlice01");
  await askedAtOnce([
    SEARCH_ALICE, WATCH_ALICE, ask.watch("sGone99"),
  ]);
  assert.equal(await suite.gw.kv.get(KEY), "sAlice01");
});

test("an entry for a visitor nobody matches any more ends in 404 and leaves no entry", async () => {
  await suite.gw.kv.put("short-id:v1:zoe-1", "sBob0002");
  await searchSlowerThanKv();
  assert.equal((await agent("uniqueid=zoe-1")).status, 404);
  await askedAtOnce([ask.search("id:zoe-1"), ask.watch("sBob0002")]);
  assert.equal(await suite.gw.kv.get("short-id:v1:zoe-1"), null);
});

test("every answer with the cache bound equals the answer without it", async () => {
  const scenarios = [
    ["entry right", "sAlice01", []],
    ["entry for a Short ID Upscope forgot", "sGone99", []],
    ["entry now worn by someone else", "sAlice01", [
      { short_id: "sAlice01", unique_id: "mallory-9", is_online: true, last_seen_at: minutesAgo(0) },
      { short_id: "sAlice09", unique_id: "alice-1001", is_online: false, last_seen_at: minutesAgo(5) },
    ]],
    ["second device online", "sAlice01", [{ short_id: "sAlicePhone", unique_id: "alice-1001", is_online: true, last_seen_at: minutesAgo(1) }]],
    ["nobody matches", "sAlice01", [{ short_id: "sAlice01", unique_id: "mallory-9", is_online: true, last_seen_at: minutesAgo(0) }]],
    ["entry names another real visitor", "sBob0002", []],
  ];
  const answer = async (gw) => {
    const res = await gw.fetch(`/agent?uniqueid=alice-1001&${AGENT}`);
    const body = await res.text();
    if (res.status === 302) return `302 watching ${await watched(res.headers.get("location"))}`;
    if (res.status === 200) return `200 choosing ${[...body.matchAll(/shortid=(\w+)&/g)].map((m) => m[1]).join(" ")}`;
    return String(res.status);
  };
  await withGateway({ vars: baseVars(suite.up.apiBase) }, async (uncached) => {
    for (const [name, entry, visitors] of scenarios) {
      await suite.up.reset();
      await suite.up.addVisitors(visitors);
      const without = await answer(uncached);
      await suite.up.reset();
      await suite.up.addVisitors(visitors);
      await suite.gw.kv.put(KEY, entry);
      assert.equal(await answer(suite.gw), without, name);
    }
  });
});

test("only own IDs are cached: never lookup codes, Short IDs or watch URLs", async () => {
  await agent("lookup=4821");
  await agent("visitorid=sBob0002");
  assert.deepEqual((await suite.gw.kv.list()).keys, []);
  const { location } = await agent("uniqueid=alice-1001");
  const keys = (await suite.gw.kv.list()).keys.map((k) => k.name);
  assert.deepEqual(keys, [KEY]);
  for (const key of keys) assert.ok(!(await suite.gw.kv.get(key)).includes(new URL(location).pathname.split("/").pop()));
});

test("SHORT_ID_CACHE_TTL above a day is refused as a misconfiguration", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase, { SHORT_ID_CACHE_TTL: "86401" }), kv: true }, async (bad) => {
    const res = await bad.fetch(`/agent?uniqueid=alice-1001&${AGENT}`);
    assert.equal(res.status, 500);
    assert.match(await res.text(), /SHORT_ID_CACHE_TTL must be a whole number of seconds, 60 to 86400/);
    assert.deepEqual(await suite.up.requests(), []);
  });
});

test("SHORT_ID_CACHE_TTL sets the entry's lifetime", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase, { SHORT_ID_CACHE_TTL: "120" }), kv: true }, async (short) => {
    const before = Math.floor(Date.now() / 1000);
    const res = await short.fetch(`/agent?uniqueid=alice-1001&${AGENT}`);
    assert.equal(res.status, 302);
    const [entry] = (await short.kv.list()).keys;
    assert.ok(entry.expiration >= before + 120 && entry.expiration <= before + 125, `expiration ${entry.expiration}`);
  });
});

test("a SHORT_ID_CACHE_TTL below 60 is refused as a misconfiguration", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase, { SHORT_ID_CACHE_TTL: "30" }), kv: true }, async (bad) => {
    const res = await bad.fetch(`/agent?uniqueid=alice-1001&${AGENT}`);
    assert.equal(res.status, 500);
    assert.match(await res.text(), /SHORT_ID_CACHE_TTL must be a whole number of seconds, 60 to 86400/);
    assert.deepEqual(await suite.up.requests(), []);
  });
});

test("without the SHORT_ID_CACHE binding every request searches", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase) }, async (uncached) => {
    for (let i = 0; i < 2; i++) assert.equal((await uncached.fetch(`/agent?uniqueid=alice-1001&${AGENT}`)).status, 302);
    await asked([
      SEARCH_ALICE, WATCH_ALICE,
      SEARCH_ALICE, WATCH_ALICE,
    ]);
  });
});

test("a failing KV namespace degrades to uncached operation, logged, never failing the request", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase), kv: "broken" }, async (broken) => {
    const res = await broken.fetch(`/agent?uniqueid=alice-1001&${AGENT}`);
    assert.equal(res.status, 302);
    await asked([SEARCH_ALICE, WATCH_ALICE]);
    await new Promise((r) => setTimeout(r, 100));
    const [line] = broken.logLines();
    assert.equal(line.cache, "error");
    assert.deepEqual(line.warnings, ["kv_get_failed", "kv_put_failed"]);
  });
});

test("hits and misses are in the request's log line", async () => {
  suite.gw.logs.length = 0;
  await agent("uniqueid=alice-1001");
  await searchSlowerThanKv();
  await agent("uniqueid=alice-1001");
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(suite.gw.logLines().map((l) => [l.cache, l.upstream.map((u) => u.endpoint).sort()]), [
    ["miss", ["search", "watch_url"]],
    ["hit", ["search", "watch_url"]],
  ]);
});

test("a stale entry whose session call is slow does not hold the answer up: the search's visitor is watched in time", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase, { UPSTREAM_TIMEOUT_MS: "1500" }), kv: true }, async (gw) => {
    await gw.kv.put(KEY, "sAlice01");
    await suite.up.addVisitors([
      { short_id: "sAlice01", unique_id: "mallory-9", is_online: true, last_seen_at: minutesAgo(0) },
      { short_id: "sAlice09", unique_id: "alice-1001", is_online: true, last_seen_at: minutesAgo(0) },
    ]);
    await suite.up.fault({ method: "POST", path: "/visitors/sAlice01/watch_url", delay_ms: 3000 });
    const res = await gw.fetch(`/agent?uniqueid=alice-1001&${AGENT}`);
    assert.equal(res.status, 302, await res.clone().text());
    assert.equal(await watched(res.headers.get("location")), "sAlice09");
  });
});

test("a slow KV namespace never holds the answer up for long: reads and writes are bounded", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase, { UPSTREAM_TIMEOUT_MS: "1500" }), kv: "slow" }, async (slow) => {
    const started = Date.now();
    const res = await slow.fetch(`/agent?uniqueid=alice-1001&${AGENT}`);
    assert.equal(res.status, 302, await res.clone().text());
    assert.ok(Date.now() - started < SLOW_KV_MS, "answered before the KV namespace did");
    await asked([SEARCH_ALICE, WATCH_ALICE]);
    await new Promise((r) => setTimeout(r, 100));
    const [line] = slow.logLines();
    assert.equal(line.cache, "error");
    assert.deepEqual(line.warnings, ["kv_get_timeout", "kv_put_timeout"]);
  });
});
