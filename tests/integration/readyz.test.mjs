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
import { runtimeVersion } from "../../scripts/lib/wrangler-config.mjs";

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
