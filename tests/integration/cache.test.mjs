// The uniqueId -> shortId cache in a real (local) Workers KV namespace.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { gatewaySuite, baseVars, withGateway } from "./harness.mjs";

const suite = gatewaySuite((apiBase) => ({ vars: baseVars(apiBase), kv: true }));
// (The suite resets the simulator; this empties the cache too.)
beforeEach(async () => {
  for (const { name } of (await suite.gw.kv.list()).keys) await suite.gw.kv.delete(name);
});

const AGENT = "agent_id=agent-7&agent_name=Ann";
const KEY = "short-id:v1:alice-1001";
const summary = async () => (await suite.up.requests()).map((r) => `${r.method} ${r.path}${r.rawQuery}`);

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
  assert.deepEqual(await summary(), ["GET /list?search=id%3Aalice-1001&max_results=10", "POST /visitors/sAlice01/watch_url"]);
});

test("a hit makes no search call", async () => {
  await agent("uniqueid=alice-1001");
  await suite.up.reset();
  assert.equal((await agent("uniqueid=alice-1001")).status, 302);
  assert.deepEqual(await summary(), ["POST /visitors/sAlice01/watch_url"]);
});

test("a stale entry (watch_url 404) is deleted, searched once more, and the flow carries on", async () => {
  await suite.gw.kv.put(KEY, "sGone99");
  const { status, location } = await agent("uniqueid=alice-1001");
  assert.equal(status, 302);
  assert.match(location, /\/sim\/watch\//);
  assert.deepEqual(await summary(), [
    "POST /visitors/sGone99/watch_url",
    "GET /list?search=id%3Aalice-1001&max_results=10",
    "POST /visitors/sAlice01/watch_url",
  ]);
  assert.equal(await suite.gw.kv.get(KEY), "sAlice01");
});

test("a stale entry for a visitor that is gone ends in 404 and leaves no entry", async () => {
  await suite.gw.kv.put("short-id:v1:zoe-1", "sGone99");
  assert.equal((await agent("uniqueid=zoe-1")).status, 404);
  assert.deepEqual(await summary(), ["POST /visitors/sGone99/watch_url", "GET /list?search=id%3Azoe-1&max_results=10"]);
  assert.equal(await suite.gw.kv.get("short-id:v1:zoe-1"), null);
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
    assert.match(await res.text(), /SHORT_ID_CACHE_TTL must be a whole number of seconds, at least 60/);
    assert.deepEqual(await suite.up.requests(), []);
  });
});

test("without the SHORT_ID_CACHE binding every request searches", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase) }, async (uncached) => {
    for (let i = 0; i < 2; i++) assert.equal((await uncached.fetch(`/agent?uniqueid=alice-1001&${AGENT}`)).status, 302);
    assert.deepEqual(await summary(), [
      "GET /list?search=id%3Aalice-1001&max_results=10", "POST /visitors/sAlice01/watch_url",
      "GET /list?search=id%3Aalice-1001&max_results=10", "POST /visitors/sAlice01/watch_url",
    ]);
  });
});

test("a failing KV namespace degrades to uncached operation, logged, never failing the request", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase), kv: "broken" }, async (broken) => {
    const res = await broken.fetch(`/agent?uniqueid=alice-1001&${AGENT}`);
    assert.equal(res.status, 302);
    assert.deepEqual(await summary(), ["GET /list?search=id%3Aalice-1001&max_results=10", "POST /visitors/sAlice01/watch_url"]);
    await new Promise((r) => setTimeout(r, 100));
    const [line] = broken.logLines();
    assert.equal(line.cache, "error");
    assert.deepEqual(line.warnings, ["kv_get_failed", "kv_put_failed"]);
  });
});

test("hits and misses are in the request's log line", async () => {
  suite.gw.logs.length = 0;
  await agent("uniqueid=alice-1001");
  await agent("uniqueid=alice-1001");
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(suite.gw.logLines().map((l) => [l.cache, l.upstream.map((u) => u.endpoint)]), [
    ["miss", ["search", "watch_url"]],
    ["hit", ["watch_url"]],
  ]);
});
