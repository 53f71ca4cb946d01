// make deploy's smoke check (`make smoke`), against the real wasm served by
// Miniflare on loopback, standing in for the deployed URL.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ROOT } from "../../scripts/lib/wrangler-config.mjs";
import { baseVars, startSimulator, withGateway } from "../support/harness.mjs";

function smoke(url, env = "production") {
  return spawnSync("node", ["scripts/deploy.mjs", "--env", env, "--smoke-only"], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, SMOKE_URL: url },
    timeout: 60_000,
  });
}

test("smoke check: passes on a ready gateway, fails on one that is not, never calls Upscope", async () => {
  const up = await startSimulator();
  try {
    await withGateway({ vars: baseVars(up.apiBase), listen: true }, async (gw) => {
      const run = smoke(gw.url.replace(/\/$/, ""));
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /smoke \/healthz: 200 ok/);
      assert.match(run.stdout, /smoke \/readyz: 200 ok/);
      assert.match(run.stdout, /deployed and answering/);
    });
    await withGateway({ vars: baseVars(up.apiBase, { AGENT_AUTH: "" }), listen: true }, async (gw) => {
      const run = smoke(gw.url.replace(/\/$/, ""));
      assert.equal(run.status, 1, run.stdout + run.stderr);
      assert.match(run.stdout, /smoke \/readyz: 503 expected 200 .*AGENT_AUTH is not set/);
      assert.match(run.stdout, /wrangler rollback --env production/);
    });
    assert.deepEqual(await up.requests(), []);
  } finally {
    await up.close();
  }
});

test("smoke check: a host that does not resolve (offline) is skipped, and says why", () => {
  const run = smoke("https://gateway.invalid");
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /smoke check skipped: gateway\.invalid does not resolve from here/);
});

test("smoke check: a wrong ENV is refused", () => {
  const run = smoke("https://gateway.invalid", "dev");
  assert.equal(run.status, 2);
  assert.match(run.stderr, /ENV must be one of staging, production/);
});
