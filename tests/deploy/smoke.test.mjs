// `make smoke`: every flow end to end from Chromium, against `make dev`
// (scripts/dev.mjs on free ports: wrangler dev and the simulator) in either
// edition of Upscope, against a signed-link gateway with /view, and against
// gateways that are not there or whose upstream answers in a shape the
// gateway cannot read.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { baseVars, startSimulator, withGateway, DEV_API_KEY } from "../support/harness.mjs";
import { runScript, startDev } from "../support/dev.mjs";

/** Runs scripts/smoke.mjs with `args`; resolves to { status, stdout, ms }. Bounded at 150 s. */
const smoke = (args, env = {}) => runScript("scripts/smoke.mjs", args, { env, timeoutMs: 150_000 });

/** Nothing a smoke run prints may be a session URL, a signature or a secret. */
function assertNothingSecret(stdout, secrets = []) {
  for (const leak of ["/sim/watch/", "/sim/proxy/", "sig=", "exp=", "sim-dev-key", ...secrets]) {
    assert.ok(!stdout.includes(leak), `smoke printed ${leak}:\n${stdout}`);
  }
}

test("make smoke passes against make dev, fails naming the fields of an unreadable answer, and fails fast when the gateway is gone", async () => {
  const dev = await startDev();
  const { gatewayPort, simulatorPort } = dev;
  const url = `http://127.0.0.1:${gatewayPort}`;
  try {
    const ok = await smoke(["--url", url]);
    assert.equal(ok.status, 0, ok.stdout);
    for (const step of ["gateway answers", "ready", "visitor opens /visitor", "agent by own ID", "agent by Short ID", "agent by lookup code"]) {
      assert.match(ok.stdout, new RegExp(`pass  ${step}: `), step);
    }
    assert.match(ok.stdout, /visitor opens \/visitor: on the proxied page at 127\.0\.0\.1:\d+/);
    assert.match(ok.stdout, /agent by own ID: 302 to a watch_url on 127\.0\.0\.1:\d+/);
    assert.match(ok.stdout, /skip  viewer by own ID \(\/view\): \/view is not configured/);
    assert.match(ok.stdout, /smoke: every step passed/);
    assertNothingSecret(ok.stdout);

    // Upscope answers proxy_sessions in a shape the gateway does not know: smoke names what it got.
    const sim = `http://127.0.0.1:${simulatorPort}`;
    await fetch(`${sim}/__sim/faults`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ method: "POST", path: "/proxy_sessions", status: 200, body: { status: "ok", session: { id: "x1", link: "https://elsewhere.example/s/secret-token" } } }),
    });
    const odd = await smoke(["--url", url]);
    assert.equal(odd.status, 1, odd.stdout);
    assert.match(odd.stdout, /fail  visitor opens \/visitor: 502 upstream_unreadable: .*proxy_sessions.*the members session, session\.id, session\.link, status/);
    assert.ok(!odd.stdout.includes("secret-token") && !odd.stdout.includes("elsewhere.example"), "names only, never values");
    assert.match(odd.stdout, /smoke: \d+ step\(s\) failed/);
  } finally {
    await dev.stop();
  }
  // The gateway is gone: a clear failure, fast.
  const gone = await smoke(["--url", url]);
  assert.equal(gone.status, 1, gone.stdout);
  assert.ok(gone.ms < 60_000, `took ${gone.ms} ms`);
  assert.match(gone.stdout, new RegExp(`fail  gateway answers: no gateway at 127\\.0\\.0\\.1:${gatewayPort} \\(ECONNREFUSED\\)`));
});

test("make smoke passes against make dev on premise (UPSCOPE_EDITION=on_premise), which asks only the on-premise API", async () => {
  const dev = await startDev({ env: { UPSCOPE_EDITION: "on_premise" } });
  try {
    assert.match(dev.output, /upstream: Upscope simulator, on premise,/);
    const ok = await smoke(["--url", `http://127.0.0.1:${dev.gatewayPort}`]);
    assert.equal(ok.status, 0, ok.stdout);
    for (const step of ["gateway answers", "ready", "visitor opens /visitor", "agent by own ID", "agent by Short ID", "agent by lookup code"]) {
      assert.match(ok.stdout, new RegExp(`pass  ${step}: `), step);
    }
    assert.match(ok.stdout, /pass  ready: .*upscope:on_premise.*; upstream ok/);
    assertNothingSecret(ok.stdout);
    const { requests } = await (await fetch(`http://127.0.0.1:${dev.simulatorPort}/__sim/requests`)).json();
    const endpoints = new Set(requests.map((r) => r.endpoint));
    for (const endpoint of ["search", "watch_url", "proxy_sessions"]) assert.ok(endpoints.has(endpoint), `${endpoint}: ${[...endpoints]}`);
    for (const r of requests) {
      assert.ok(r.path.startsWith("/cobrowsing/api/"), r.path);
      assert.deepEqual([r.headers.authorization, r.headers["x-api-key"]], [DEV_API_KEY, undefined], r.path);
    }
  } finally {
    await dev.stop();
  }
});

test("make smoke signs its links when the gateway needs it, covers /view, and names a missing secret", async () => {
  const secrets = {
    AGENT_LINK_SECRET: "agent-link-secret-for-smoke-tests-000001",
    VISITOR_LINK_SECRET: "visitor-link-secret-for-smoke-tests-0001",
    VIEWER_LINK_SECRET: "viewer-link-secret-for-smoke-tests-00001",
    AUDIT_ID_SECRET: "audit-id-secret-for-smoke-tests-0000001",
  };
  const up = await startSimulator();
  try {
    const vars = baseVars(up.apiBase, { AGENT_AUTH: "signed-link", ALLOW_UNAUTHENTICATED_AGENTS: "", ...secrets });
    await withGateway({ vars, listen: true }, async (gw) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), "smoke-"));
      const file = path.join(dir, "secrets.env");
      writeFileSync(file, Object.entries(secrets).map(([k, v]) => `${k}="${v}"`).join("\n"));
      const ok = await smoke(["--url", gw.url, "--secrets", file]);
      assert.equal(ok.status, 0, ok.stdout);
      assert.match(ok.stdout, /pass  viewer by own ID \(\/view\): 302 to a watch_url/);
      assert.match(ok.stdout, /pass  agent by lookup code: 302 to a watch_url/);
      assertNothingSecret(ok.stdout, Object.values(secrets));
      const watches = (await up.requests()).filter((r) => r.endpoint === "watch_url").map((r) => r.body.agent.id);
      assert.deepEqual(watches.sort(), ["smoke-test", "smoke-test", "smoke-test", "viewer:smoke-viewer"]);

      // Without the agent secret, the agent steps fail and say which secret is missing.
      writeFileSync(file, `VISITOR_LINK_SECRET=${secrets.VISITOR_LINK_SECRET}\n`);
      const missing = await smoke(["--url", gw.url, "--secrets", file], { AGENT_LINK_SECRET: "", VIEWER_LINK_SECRET: "" });
      assert.equal(missing.status, 1, missing.stdout);
      assert.match(missing.stdout, /fail  agent by own ID: set AGENT_LINK_SECRET in the environment or in SECRETS=file/);
    });
  } finally {
    await up.close();
  }
});

test("make smoke refuses an unknown ENV", async () => {
  const run = await smoke(["--env", "dev"]);
  assert.equal(run.status, 2);
  assert.match(run.stdout, /ENV must be one of staging, production/);
});
