// GET /readyz: every setting both routes need, checked without calling
// Upscope; 200 with feature names, versions; else 503 naming each setting.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  API_KEY,
  COMPATIBILITY_DATE,
  COMPATIBILITY_FLAGS,
  baseVars,
  startSimulator,
  withGateway,
} from "../support/harness.mjs";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT, runtimeVersion } from "../../scripts/lib/wrangler-config.mjs";

const SECRET = "readyz-agent-link-secret-0123456789abcdef";
const VERSION = { id: "6f1e2d3c-4b5a-4968-8776-655443322110", tag: "", timestamp: "2026-11-27T21:00:00Z" };

async function ready(gw, path = "/readyz") {
  const res = await gw.fetch(path, { headers: { Accept: "application/json" } });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

test("ready: 200 with feature names, the crate version and the deployed version id; no upstream call", async () => {
  const up = await startSimulator();
  try {
    const vars = baseVars(up.apiBase, { AGENT_AUTH: "signed-link", AGENT_LINK_SECRET: SECRET, ALLOW_UNAUTHENTICATED_AGENTS: "" });
    await withGateway({ vars, kv: true, rateLimits: { VISITOR_RATE_LIMITER: 10 }, versionMetadata: VERSION }, async (gw) => {
      const { status, headers, body } = await ready(gw);
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.status, "ready");
      assert.match(body.version, /^\d+\.\d+\.\d+/);
      assert.equal(body.version_id, VERSION.id);
      assert.deepEqual(body.features, ["agent", "agent_auth:signed-link", "short_id_cache", "visitor", "visitor_rate_limit"]);
      assert.equal(headers.get("Cache-Control"), "no-store");
      const text = JSON.stringify(body);
      for (const value of [API_KEY, SECRET, up.apiBase, "shop.example.com"]) {
        assert.ok(!text.includes(value), `a setting's value leaked: ${value}`);
      }
      assert.equal(gw.logLines().at(-1).route, "/readyz");
    });
    assert.deepEqual(await up.requests(), [], "readiness never calls Upscope");
  } finally {
    await up.close();
  }
});

test("not ready: 503 naming each wrong setting, never a value; no upstream call; /healthz stays 200", async () => {
  const up = await startSimulator();
  try {
    const vars = {
      UPSCOPE_API_BASE: up.apiBase,
      AGENT_AUTH: "",
      VISITOR_LINK_SECRET: "short-visitor-secret",
      UPSTREAM_TIMEOUT_MS: "5s",
    };
    await withGateway({ vars }, async (gw) => {
      const { status, body } = await ready(gw);
      assert.equal(status, 503);
      assert.equal(body.status, "not_ready");
      assert.equal(body.version_id, undefined, "no metadata binding, no version id");
      assert.equal(body.features, undefined);
      const problems = body.problems.join("\n");
      for (const name of ["UPSTREAM_TIMEOUT_MS", "UPSCOPE_API_KEY", "PROXY_INITIAL_URL", "VISITOR_LINK_SECRET", "AGENT_AUTH"]) {
        assert.ok(problems.includes(name), `${name} not named in:\n${problems}`);
      }
      assert.equal(body.problems.length, 5, problems);
      assert.ok(!problems.includes("short-visitor-secret"), "a secret's value leaked");
      const health = await gw.fetch("/healthz");
      assert.equal(health.status, 200, "liveness does not depend on settings");
      assert.equal((await gw.fetch("/readyz", { method: "POST" })).status, 405);
    });
    assert.deepEqual(await up.requests(), [], "readiness never calls Upscope");
  } finally {
    await up.close();
  }
});

test("the harness runs the compatibility date and flags of wrangler.toml", async () => {
  const fromConfig = await runtimeVersion("dev");
  assert.equal(COMPATIBILITY_DATE, fromConfig.compatibilityDate);
  assert.deepEqual(COMPATIBILITY_FLAGS, fromConfig.compatibilityFlags);
  const { readFileSync } = await import("node:fs");
  const source = readFileSync(new URL("../support/harness.mjs", import.meta.url), "utf8");
  assert.doesNotMatch(source, /\d{4}-\d{2}-\d{2}/, "the harness names no date of its own");
});

test("?upstream=1 proves the API key with one GET /usage, kept 30 s; plain /readyz still never calls Upscope", async () => {
  const up = await startSimulator();
  try {
    await withGateway({ vars: baseVars(up.apiBase) }, async (gw) => {
      const plain = await ready(gw);
      assert.equal(plain.status, 200);
      assert.equal(plain.body.upstream, undefined);
      assert.deepEqual(await up.calls(), [], "plain /readyz never calls Upscope");

      const first = await ready(gw, "/readyz?upstream=1");
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.deepEqual(first.body.upstream, { endpoint: "usage", status: "ok", age_seconds: 0 });
      // Asked again and again: Upscope is asked once.
      for (let i = 0; i < 5; i++) assert.equal((await ready(gw, "/readyz?upstream=1")).status, 200);
      await up.assertAsked([up.ask.keyCheck()]);
      const bad = await gw.fetch("/readyz?upstream=yes", { headers: { Accept: "application/json" } });
      assert.equal(bad.status, 400);
    });
  } finally {
    await up.close();
  }
});

// Issue 25, item 9(b): the answer is kept in each Worker isolate, with no
// global bound (a Durable Object would be the only one, for a health check).
// routes.md promises exactly that: a burst costs one call per isolate, and
// each isolate at most one call per 30 s.
test("?upstream=1 costs at most one call per isolate per 30 s: a burst at two isolates costs two calls, as routes.md says", async () => {
  const up = await startSimulator();
  try {
    await up.fault({ endpoint: "usage", delay_ms: 300, status: 200, body: { status: "ok" }, times: 10 });
    await withGateway({ vars: baseVars(up.apiBase) }, async (one) => {
      await withGateway({ vars: baseVars(up.apiBase) }, async (two) => {
        const burst = [one, two].flatMap((gw) => Array.from({ length: 6 }, () => ready(gw, "/readyz?upstream=1")));
        for (const answer of await Promise.all(burst)) assert.equal(answer.status, 200, JSON.stringify(answer.body));
        // And again at each, within the 30 s: nothing more.
        for (const gw of [one, two]) assert.equal((await ready(gw, "/readyz?upstream=1")).status, 200);
        await up.assertAsked([up.ask.keyCheck(), up.ask.keyCheck()]);
      });
    });
  } finally {
    await up.close();
  }
  const routes = readFileSync(path.join(ROOT, "docs/routes.md"), "utf8").replace(/\s+/g, " ");
  const promise = routes.slice(routes.indexOf("**`/readyz?upstream=1`**"), routes.indexOf("### Errors"));
  assert.ok(promise.includes("at most one call per Worker isolate per 30 seconds"), "routes.md states the per-isolate bound");
  assert.ok(!promise.includes("so a burst costs one call."), "routes.md promises no single call for a burst across isolates");
});

test("?upstream=1: five requests at once while Upscope is slow make one call, and all five get its answer", async () => {
  // Issue 28: the check is claimed before it is awaited. Five requests sent
  // together (not one after another) reach the gateway while the first call
  // is still waiting for Upscope's answer; they wait for it instead of asking
  // again. Without the claim each of them calls Upscope.
  const up = await startSimulator();
  try {
    await up.fault({ endpoint: "usage", delay_ms: 1500, times: 5 });
    await withGateway({ vars: baseVars(up.apiBase, { UPSTREAM_TIMEOUT_MS: "10000" }) }, async (gw) => {
      const answers = await Promise.all(Array.from({ length: 5 }, () => ready(gw, "/readyz?upstream=1")));
      await up.assertAsked([up.ask.keyCheck()], "five simultaneous checks, one call");
      for (const { status, body } of answers) {
        assert.equal(status, 200, JSON.stringify(body));
        // The one answer, dated when the call began (Upscope took 1.5 s).
        assert.deepEqual({ ...body.upstream, age_seconds: undefined }, { endpoint: "usage", status: "ok", age_seconds: undefined });
        assert.ok(body.upstream.age_seconds <= 2, JSON.stringify(body.upstream));
      }
    });
  } finally {
    await up.close();
  }
});

test("?upstream=1 is 503 naming Upscope's reason: a rejected key, no subscription, unreachable, timeout", async () => {
  const up = await startSimulator();
  try {
    const cases = [
      [{ status: 401, body: { status: "error", error: "invalid_api_key" } }, "invalid_api_key", /rejected the API key/],
      [{ status: 401, body: { status: "error", error: "no_subscription" } }, "no_subscription", /no active subscription/],
      [{ status: 401, body: { status: "error", error: "api_not_enabled" } }, "api_not_enabled", /REST API is not enabled/],
      [{ reset_connection: true, times: 2 }, "unreachable", /could not be reached/],
      [{ delay_ms: 3000, status: 200, body: {} }, "timeout", /did not answer in time/],
    ];
    for (const [fault, reason, message] of cases) {
      await up.reset();
      await up.fault({ endpoint: "usage", ...fault });
      // A fresh gateway each time: nothing kept from the previous case.
      await withGateway({ vars: baseVars(up.apiBase, { UPSTREAM_TIMEOUT_MS: "1000" }) }, async (gw) => {
        const { status, body } = await ready(gw, "/readyz?upstream=1");
        assert.equal(status, 503, reason);
        assert.equal(body.status, "not_ready");
        assert.equal(body.upstream.status, "failed");
        assert.equal(body.upstream.reason, reason);
        assert.match(body.problems[0], message);
        assert.ok(!JSON.stringify(body).includes(API_KEY));
      });
    }
    // Settings that are not ready: Upscope is not asked at all.
    await up.reset();
    await withGateway({ vars: baseVars(up.apiBase, { UPSCOPE_API_KEY: "" }) }, async (gw) => {
      const { status, body } = await ready(gw, "/readyz?upstream=1");
      assert.equal(status, 503);
      assert.deepEqual(body.upstream, { endpoint: "usage", status: "not_checked", reason: "settings_not_ready" });
    });
    assert.deepEqual(await up.calls(), []);
  } finally {
    await up.close();
  }
});
