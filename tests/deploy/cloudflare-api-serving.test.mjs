// The Cloudflare API stand-in (tests/cloudflare/) enforcing each rule it documents, shown by driving the
// project's real pinned wrangler against it: the real gateway and the real audit Worker served at the edge, and the edge reached by Node and Chromium.
// (Where wrangler checks a rule itself before asking the API, the API is also asked directly, so the
// stand-in cannot drift into agreeing with whatever a script sends.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../cloudflare/wrangler.mjs";
import { COMPAT, cf, work, project, wrangler, ok, refused, deployedId, api, script, chromium, neverLeftLoopback } from "../cloudflare/api-test-kit.mjs";

// ── serving the real gateway and the real audit Worker ──────────────────

test("the real gateway, deployed with its secrets in the same upload, serves its Custom Domain with its vars, secrets, KV, rate limiters, version metadata and dataset", { skip: !existsSync(path.join(ROOT, "build/index.js")) && "no build/: run make build" }, async () => {
  const dir = mkdtempSync(path.join(work, "gateway-"));
  cpSync(path.join(ROOT, "build"), path.join(dir, "build"), { recursive: true });
  writeFileSync(
    path.join(dir, "wrangler.toml"),
    [
      'name = "gateway"',
      'main = "build/index.js"',
      `compatibility_date = "${COMPAT}"`,
      "workers_dev = false",
      'routes = [{ pattern = "cobrowse.example.com", custom_domain = true }]',
      "[vars]",
      'UPSCOPE_API_BASE = "https://api.upscope.io/v1.3"',
      'PROXY_INITIAL_URL = "https://shop.example.com/account"',
      'AGENT_AUTH = "signed-link"',
      "[secrets]",
      'required = ["UPSCOPE_API_KEY", "AGENT_LINK_SECRET"]',
      "[[kv_namespaces]]",
      'binding = "SHORT_ID_CACHE"',
      "[[ratelimits]]",
      'name = "VISITOR_RATE_LIMITER"',
      'namespace_id = "2001"',
      "simple = { limit = 30, period = 60 }",
      "[version_metadata]",
      'binding = "CF_VERSION_METADATA"',
      "[[analytics_engine_datasets]]",
      'binding = "METRICS"',
      'dataset = "gateway_test"',
    ].join("\n"),
  );
  const secrets = path.join(dir, ".env.test");
  writeFileSync(secrets, "UPSCOPE_API_KEY=test-upscope-key\nAGENT_LINK_SECRET=test-agent-link-secret-0123456789abcdef\n", { mode: 0o600 });
  const without = await refused(dir, ["deploy"]);
  assert.match(without.output, /This Worker does not exist yet, so secrets cannot be set in advance/, "wrangler's own check on a first deploy");
  const run = await ok(dir, ["deploy", "--secrets-file", secrets]);
  const id = deployedId(run);
  const res = await cf.edge.fetch("https://cobrowse.example.com/readyz", { headers: { Accept: "application/json" } });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.version_id, id, "version metadata: the deployed version's id");
  assert.deepEqual(body.features.filter((f) => ["short_id_cache", "visitor_rate_limit", "agent_auth:signed-link"].includes(f)).sort(), [
    "agent_auth:signed-link",
    "short_id_cache",
    "visitor_rate_limit",
  ]);
  const points = cf.dataPoints().filter((p) => p.script === "gateway");
  assert.ok(points.length >= 1 && points.every((p) => p.dataset === "gateway_test" && p.version === id), JSON.stringify(points));
  const secretsShown = script("gateway").versions[0].bindings.filter((b) => b.type === "secret_text");
  assert.deepEqual(secretsShown.map((b) => b.name).sort(), ["AGENT_LINK_SECRET", "UPSCOPE_API_KEY"]);
  assert.ok(!JSON.stringify(cf.state()).includes("test-upscope-key"), "state() never shows a secret's value");
});

test("tail events of a producer reach the deployed audit Worker, which stores audit rows in its D1 database", async () => {
  const audit = mkdtempSync(path.join(work, "audit-"));
  for (const file of ["worker.mjs", "limits.mjs"]) cpSync(path.join(ROOT, "audit", file), path.join(audit, file));
  cpSync(path.join(ROOT, "audit/migrations"), path.join(audit, "migrations"), { recursive: true });
  writeFileSync(
    path.join(audit, "wrangler.toml"),
    `name = "audit-trail"\nmain = "worker.mjs"\ncompatibility_date = "${COMPAT}"\nworkers_dev = false\n[[d1_databases]]\nbinding = "AUDIT_DB"\ndatabase_name = "audit-trail-db"\nmigrations_dir = "migrations"\n`,
  );
  await ok(audit, ["deploy"]);
  await ok(audit, ["d1", "migrations", "apply", "AUDIT_DB", "--remote"]);
  const line = { request_id: "8f1e2d3c4b5a6978-STI", route: "/agent", status: 302, audit: { role: "agent", agent_id: "agent-7", short_id: "SHORT1", named_by: "short" } };
  const producer = project("audited", {
    toml: 'routes = [{ pattern = "audited.example.com", custom_domain = true }]\ntail_consumers = [{ service = "audit-trail" }]',
    code: `export default { fetch() { console.log(${JSON.stringify(JSON.stringify(line))}); return new Response("ok"); } };`,
  });
  await ok(producer, ["deploy"]);
  const res = await cf.edge.fetch("https://audited.example.com/");
  assert.equal(res.status, 200);
  const db = cf.state().d1.find((d) => d.name === "audit-trail-db");
  let rows = [];
  for (const started = Date.now(); Date.now() - started < 20_000 && !rows.length; await new Promise((r) => setTimeout(r, 200))) {
    rows = (await (await cf.d1(db.uuid)).prepare("SELECT request_id, route, status, role, watcher, short_id, named_by FROM audit").all()).results;
  }
  assert.deepEqual(rows, [{ request_id: line.request_id, route: "/agent", status: 302, role: "agent", watcher: "agent-7", short_id: "SHORT1", named_by: "short" }]);
});

// ── reaching the edge from Node and from Chromium ───────────────────────

test("a Node process given edge.nodeEnv reaches https://<custom domain>/ at the edge, trusting its certificate; other names are untouched", async () => {
  const dir = project("node-reach", { toml: 'routes = [{ pattern = "node-reach.example.com", custom_domain = true }]' });
  const id = deployedId(await ok(dir, ["deploy"]));
  const probe = `
    import { lookup } from "node:dns/promises";
    const res = await fetch("https://node-reach.example.com/");
    const mapped = await lookup("node-reach.example.com");
    let other = "unresolved";
    try { other = (await lookup("unmapped.invalid")).address; } catch (err) { other = err.code; }
    console.log(JSON.stringify({ status: res.status, body: await res.json(), mapped: mapped.address, other }));`;
  const out = await new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, "node_modules/.node-bin/node"), ["--input-type=module", "-e", probe], {
      env: { ...process.env, ...cf.edge.nodeEnv(["*.example.com"]) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.stderr.on("data", (d) => (text += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", () => (clearTimeout(timer), resolve(text)));
    child.on("error", reject);
  });
  const result = JSON.parse(out.trim().split("\n").at(-1));
  assert.deepEqual(result, { status: 200, body: { code: "v1", version: id, secret: null }, mapped: "127.0.0.1", other: "ENOTFOUND" });
});

test("Chromium given edge.chromiumArgs (a *.zone pattern) opens https://<custom domain>/ at the edge", { skip: !chromium() && "no Chromium (make setup-browser)" }, async () => {
  const { chromium: playwright } = await import("playwright-core");
  const dir = project("browser-reach", { toml: 'routes = [{ pattern = "browser-reach.example.com", custom_domain = true }]' });
  const id = deployedId(await ok(dir, ["deploy"]));
  const browser = await playwright.launch({ executablePath: chromium(), args: [...cf.edge.chromiumArgs("*.example.com"), "--no-proxy-server"], timeout: 60_000 });
  try {
    const page = await browser.newPage();
    const res = await page.goto("https://browser-reach.example.com/", { timeout: 30_000 });
    assert.equal(res.status(), 200);
    assert.deepEqual(JSON.parse(await page.innerText("body")), { code: "v1", version: id, secret: null });
  } finally {
    await browser.close();
  }
});

neverLeftLoopback();
