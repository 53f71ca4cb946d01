// The Cloudflare API stand-in (tests/cloudflare/) enforcing each rule it
// documents, shown by driving the project's real pinned wrangler against it
// (and, where wrangler checks a rule itself before asking the API, by also
// asking the API directly, so the stand-in cannot drift into agreeing with
// whatever a script sends). Small fixture Workers stand in for the gateway
// where the gateway is not the point; the serving tests at the end use the
// real build (build/) and the real audit Worker (audit/).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { startCloudflareApi } from "../cloudflare/index.mjs";
import { runWrangler, ROOT } from "../cloudflare/wrangler.mjs";
import { parseOverrides } from "../cloudflare/edge.mjs";
import { splitSql } from "../cloudflare/runtime.mjs";

const COMPAT = "2025-09-01";
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
/** The 12-hex fingerprint the stand-in shows for a secret (and the fixture Worker answers with). */
const fingerprint = (value) => createHash("sha256").update(value).digest("hex").slice(0, 12);

let cf;
let work;
/** Every stand-in started, so the last test can check none saw wrangler leave loopback. */
const standIns = [];

before(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "cf-api-test-"));
  cf = await start();
});

after(async () => {
  for (const s of standIns) await s.close();
  rmSync(work, { recursive: true, force: true });
});

async function start(options) {
  const s = await startCloudflareApi(options);
  standIns.push(s);
  return s;
}

/**
 * A fixture Worker that answers with what identifies it: its code label,
 * its version id (version metadata) and a fingerprint of API_KEY, never the
 * value itself.
 */
const fixture = (label) => `
const digest = async (value) => value == null ? null
  : [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)))]
      .map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 12);
export default {
  async fetch(request, env) {
    return Response.json({ code: ${JSON.stringify(label)}, version: env.VERSION?.id ?? null, secret: await digest(env.API_KEY) });
  },
};
`;

/** A project folder for Worker `name`: wrangler.toml (`toml` appended) and worker.mjs (`code`). */
function project(name, { toml = "", code = fixture("v1"), files = {} } = {}) {
  const dir = mkdtempSync(path.join(work, `${name}-`));
  writeFileSync(
    path.join(dir, "wrangler.toml"),
    `name = "${name}"\nmain = "worker.mjs"\ncompatibility_date = "${COMPAT}"\n${toml}\n[version_metadata]\nbinding = "VERSION"\n`,
  );
  writeFileSync(path.join(dir, "worker.mjs"), code);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

/** Runs wrangler in `dir` against stand-in `on` (default: the shared one). */
const wrangler = (dir, args, { input, on = cf, env } = {}) => runWrangler(on, args, { cwd: dir, input, env });

/** Runs wrangler and requires exit 0; returns the run. */
async function ok(dir, args, options) {
  const run = await wrangler(dir, args, options);
  assert.equal(run.status, 0, `wrangler ${args.join(" ")} failed:\n${run.output}`);
  return run;
}

/** Runs wrangler and requires it to fail; returns the run. */
async function refused(dir, args, options) {
  const run = await wrangler(dir, args, options);
  assert.notEqual(run.status, 0, `wrangler ${args.join(" ")} should have failed:\n${run.output}`);
  return run;
}

const idAfter = (label, output) => {
  const id = new RegExp(`${label}:?\\s+(${UUID})`).exec(output)?.[1];
  assert.ok(id, `no "${label}" in:\n${output}`);
  return id;
};
const deployedId = (run) => idAfter("Current Version ID", run.output);
const uploadedId = (run) => idAfter("Worker Version ID", run.output);

/** The edge's answer for https://<host>/ as JSON (the fixture's identity). */
async function visit(host, headers = {}, on = cf) {
  const res = await on.edge.fetch(`https://${host}/`, { headers });
  const text = await res.text();
  assert.equal(res.status, 200, `https://${host}/ answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

/** The API directly, as a script that bypassed wrangler would call it. */
async function api(method, resource, body, on = cf) {
  const res = await fetch(`${on.apiBaseUrl}/accounts/${on.accountId}${resource}`, {
    method,
    headers: { Authorization: `Bearer ${on.env.CLOUDFLARE_API_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const script = (name, on = cf) => on.state().scripts[name];
const current = (name, on = cf) => script(name, on).deployments.at(-1).versions;

// ── secrets and the placeholder Worker ──────────────────────────────────

test("secret put on a Worker that does not exist creates a placeholder deployed at 100 %, then the secret in a new version at 100 %", async () => {
  const dir = project("placeholder", { toml: 'routes = [{ pattern = "placeholder.example.com", custom_domain = true }]' });
  const run = await ok(dir, ["secret", "put", "API_KEY"], { input: "first-key\n" });
  assert.match(run.output, /Creating new Worker "placeholder"/);
  const s = script("placeholder");
  assert.equal(s.versions.length, 2, "the placeholder, then the version with the secret");
  assert.deepEqual(s.versions[0].bindings, [], "the placeholder has no bindings");
  assert.deepEqual(s.versions[0].modules, ["placeholder"], "wrangler's draft Worker: one module named after the Worker");
  assert.deepEqual(s.versions[1].bindings, [{ type: "secret_text", name: "API_KEY", fingerprint: fingerprint("first-key") }]);
  assert.deepEqual(s.deployments.map((d) => d.versions), [
    [{ version_id: s.versions[0].id, percentage: 100 }],
    [{ version_id: s.versions[1].id, percentage: 100 }],
  ]);
  assert.deepEqual(cf.state().domains.filter((d) => d.service === "placeholder"), [], "a secret put attaches no trigger");
  const status = await ok(dir, ["deployments", "status", "--json"]);
  assert.equal(JSON.parse(status.stdout).versions[0].version_id, s.versions[1].id, "wrangler now sees a deployment");
  // A full deploy (not versions upload) of the real code then attaches the Custom Domain, and the secret stays.
  const id = deployedId(await ok(dir, ["deploy"]));
  assert.deepEqual(cf.state().domains.filter((d) => d.service === "placeholder").map((d) => d.hostname), ["placeholder.example.com"]);
  assert.deepEqual(await visit("placeholder.example.com"), { code: "v1", version: id, secret: fingerprint("first-key") });
});

test("secret bulk on a Worker that does not exist: the placeholder, then one version with every secret, at 100 %", async () => {
  const dir = project("bulk");
  const file = path.join(dir, ".env.bulk");
  writeFileSync(file, "API_KEY=bulk-key\nOTHER_SECRET=other\n", { mode: 0o600 });
  await ok(dir, ["secret", "bulk", file]);
  const s = script("bulk");
  assert.equal(s.versions.length, 2);
  assert.deepEqual(s.versions[1].bindings.map((b) => b.name).sort(), ["API_KEY", "OTHER_SECRET"]);
  assert.deepEqual(current("bulk"), [{ version_id: s.versions[1].id, percentage: 100 }]);
});

test("versions upload attaches no trigger and deploys nothing; triggers deploy then attaches the Custom Domain, workers.dev and crons", async () => {
  const toml = [
    "workers_dev = true",
    'routes = [{ pattern = "triggers.example.com", custom_domain = true }, { pattern = "www.example.com/triggers/*", zone_name = "example.com" }]',
    '[triggers]\ncrons = ["17 3 * * *"]',
  ].join("\n");
  const dir = project("triggers", { toml });
  await ok(dir, ["secret", "put", "API_KEY"], { input: "k\n" });
  const before = current("triggers");
  const up = await ok(dir, ["versions", "upload"]);
  const id = uploadedId(up);
  assert.match(up.output, /Changes to triggers \(routes, custom domains, cron schedules, etc\) must be applied with the command/);
  assert.deepEqual(current("triggers"), before, "an upload serves nothing");
  await ok(dir, ["versions", "deploy", `${id}@100%`, "-y"]);
  const s = script("triggers");
  assert.deepEqual(current("triggers"), [{ version_id: id, percentage: 100 }]);
  assert.deepEqual(cf.state().domains.filter((d) => d.service === "triggers"), [], "versions deploy attaches no Custom Domain either");
  assert.equal(s.subdomain.enabled, false);
  assert.deepEqual(s.schedules, []);
  const edge404 = await cf.edge.fetch("https://triggers.example.com/");
  assert.equal(edge404.status, 404, "the host reaches no Worker");
  await ok(dir, ["triggers", "deploy"]);
  assert.deepEqual(cf.state().domains.filter((d) => d.service === "triggers").map((d) => d.hostname), ["triggers.example.com"]);
  assert.equal(script("triggers").subdomain.enabled, true);
  assert.deepEqual(script("triggers").schedules, ["17 3 * * *"]);
  assert.deepEqual(script("triggers").routes, [{ pattern: "www.example.com/triggers/*", zone_name: "example.com" }]);
  assert.equal((await visit("triggers.example.com")).version, id);
  assert.equal((await visit("triggers.standin.workers.dev")).version, id);
  const routed = await cf.edge.fetch("https://www.example.com/triggers/page");
  assert.equal((await routed.json()).version, id, "the route pattern reaches the Worker");
  assert.equal((await cf.edge.fetch("https://www.example.com/elsewhere")).status, 404, "outside the pattern, no Worker");
});

test("secrets.required: versions upload is refused while a required secret is unset, and accepted once versions secret put set it", async () => {
  const dir = project("required");
  await ok(dir, ["deploy"]);
  writeFileSync(path.join(dir, "wrangler.toml"), `${"name = \"required\"\nmain = \"worker.mjs\"\n"}compatibility_date = "${COMPAT}"\n[secrets]\nrequired = ["API_KEY"]\n`);
  const run = await refused(dir, ["versions", "upload"]);
  assert.match(run.output, /The following required secrets have not been set: API_KEY/);
  assert.ok(cf.requests.some((r) => r.method === "POST" && r.path.endsWith("/workers/scripts/required/versions")), "the API refused it, not wrangler");
  assert.equal(script("required").versions.length, 1, "nothing was uploaded");
  await ok(dir, ["versions", "secret", "put", "API_KEY"], { input: "required-key\n" });
  await ok(dir, ["versions", "upload"]);
  const latest = script("required").versions.at(-1);
  assert.deepEqual(latest.bindings.filter((b) => b.type === "secret_text"), [{ type: "secret_text", name: "API_KEY", fingerprint: fingerprint("required-key") }]);
});

test("after a returned rollout secret put is refused (also mid-rollout), and versions secret put builds on the latest uploaded version", async () => {
  const dir = project("rotate", { toml: 'routes = [{ pattern = "rotate.example.com", custom_domain = true }]' });
  const v1 = deployedId(await ok(dir, ["deploy"]));
  writeFileSync(path.join(dir, "worker.mjs"), fixture("v2"));
  const v2 = uploadedId(await ok(dir, ["versions", "upload"]));
  await ok(dir, ["versions", "deploy", `${v2}@10%`, `${v1}@90%`, "-y"]);
  const midRollout = await refused(dir, ["secret", "put", "API_KEY"], { input: "rotated\n" });
  assert.match(midRollout.output, /latest version of your Worker isn't currently deployed/, "assumed: a secret put would end the split");
  await ok(dir, ["versions", "deploy", `${v1}@100%`, "-y"]);
  const run = await refused(dir, ["secret", "put", "API_KEY"], { input: "rotated\n" });
  assert.match(run.output, /latest version of your Worker isn't currently deployed/);
  assert.match(run.output, /wrangler versions secret put/);
  assert.deepEqual(current("rotate"), [{ version_id: v1, percentage: 100 }], "the refusal changed nothing");
  const put = await ok(dir, ["versions", "secret", "put", "API_KEY"], { input: "rotated\n" });
  const v3 = /Created version (\S+) with secret API_KEY/.exec(put.output)?.[1];
  assert.ok(v3, put.output);
  assert.deepEqual(current("rotate"), [{ version_id: v1, percentage: 100 }], "versions secret put deploys nothing");
  await ok(dir, ["versions", "deploy", `${v3}@100%`, "-y"]);
  const answer = await visit("rotate.example.com");
  assert.deepEqual(answer, { code: "v2", version: v3, secret: fingerprint("rotated") }, "the new version carries v2's code: the latest upload, not the code that served");
});

// ── deployments ─────────────────────────────────────────────────────────

test("a deployment has one or two versions, and its percentages add up to 100", async () => {
  const dir = project("split-rules");
  const v1 = deployedId(await ok(dir, ["deploy"]));
  const v2 = uploadedId(await ok(dir, ["versions", "upload"]));
  const v3 = uploadedId(await ok(dir, ["versions", "upload"]));
  // wrangler stops at two versions itself; its hidden --max-versions lifts that, so the API must refuse.
  const three = await refused(dir, ["versions", "deploy", `${v1}@50%`, `${v2}@25%`, `${v3}@25%`, "-y", "--max-versions=3"]);
  assert.match(three.output, /names 3/);
  assert.ok(cf.requests.some((r) => r.method === "POST" && r.path.endsWith("/workers/scripts/split-rules/deployments")), "refused by the API");
  // wrangler checks the sum before asking the API, so the API is asked directly.
  const resource = "/workers/scripts/split-rules/deployments";
  const short = await api("POST", resource, { strategy: "percentage", versions: [{ version_id: v2, percentage: 90 }, { version_id: v1, percentage: 5 }] });
  assert.equal(short.status, 400);
  assert.match(short.body.errors[0].message, /add up to 95/);
  const unknown = await api("POST", resource, { strategy: "percentage", versions: [{ version_id: "00000000-0000-4000-8000-000000000000", percentage: 100 }] });
  assert.equal(unknown.status, 404);
  const wranglerSum = await refused(dir, ["versions", "deploy", `${v2}@90%`, `${v1}@5%`, "-y"]);
  assert.match(wranglerSum.output, /add up to 95%, but must total exactly 100%/, "and wrangler's own check says the same");
  assert.deepEqual(current("split-rules"), [{ version_id: v1, percentage: 100 }], "no refused deployment took effect");
  const fine = await api("POST", resource, { strategy: "percentage", versions: [{ version_id: v3, percentage: 50 }, { version_id: v2, percentage: 50 }] });
  assert.equal(fine.status, 200, JSON.stringify(fine.body));
});

test("the edge splits traffic by the deployment's percentages, repeatably; a version key keeps its version; overrides apply only to versions in the deployment", async () => {
  const dir = project("split", { toml: 'routes = [{ pattern = "split.example.com", custom_domain = true }]' });
  const v1 = deployedId(await ok(dir, ["deploy"]));
  writeFileSync(path.join(dir, "worker.mjs"), fixture("v2"));
  const v2 = uploadedId(await ok(dir, ["versions", "upload"]));
  writeFileSync(path.join(dir, "worker.mjs"), fixture("v3"));
  const v3 = uploadedId(await ok(dir, ["versions", "upload"]));
  await ok(dir, ["versions", "deploy", `${v2}@25%`, `${v1}@75%`, "-y"]);
  const draw = async (n) => {
    const seen = [];
    for (let i = 0; i < n; i++) seen.push((await visit("split.example.com")).version);
    return seen;
  };
  cf.edge.seed(7);
  const first = await draw(80);
  cf.edge.seed(7);
  assert.deepEqual(await draw(80), first, "the same seed, the same versions in the same order");
  const share = first.filter((v) => v === v2).length / first.length;
  assert.ok(share > 0.1 && share < 0.4, `about 25 % to ${v2}, got ${share}`);
  assert.ok(first.every((v) => v === v1 || v === v2), "only the deployment's versions serve");
  const keyed = new Set();
  for (let i = 0; i < 10; i++) keyed.add((await visit("split.example.com", { "Cloudflare-Workers-Version-Key": "visitor-42" })).version);
  assert.equal(keyed.size, 1, "one version key, one version");

  const override = (id) => ({ "Cloudflare-Workers-Version-Overrides": `split="${id}"` });
  await ok(dir, ["versions", "deploy", `${v2}@0%`, `${v1}@100%`, "-y"]);
  assert.equal((await visit("split.example.com", override(v2))).version, v2, "an override reaches a version at 0 % of the deployment");
  assert.equal((await visit("split.example.com", override(v3))).version, v1, "an override for a version outside the deployment is ignored");
  assert.equal((await visit("split.example.com", { "Cloudflare-Workers-Version-Overrides": `other-worker="${v2}"` })).version, v1, "an override for another Worker is ignored");
  assert.equal((await visit("split.example.com", { "Cloudflare-Workers-Version-Overrides": `split=${v2}` })).version, v1, "a value that is not a String is ignored");
  const served = cf.edge.requests.filter((r) => r.host === "split.example.com");
  assert.deepEqual(served.filter((r) => r.override).map((r) => r.version), [v2], "the edge records which requests an override steered");
});

test("rollback goes to the last deployment's 100 % version before the current one, or the version named; changed secrets need wrangler's confirmation", async () => {
  const dir = project("rollback");
  const v1 = deployedId(await ok(dir, ["deploy"]));
  const v2 = uploadedId(await ok(dir, ["versions", "upload"]));
  await ok(dir, ["versions", "deploy", `${v2}@50%`, `${v1}@50%`, "-y"]);
  await ok(dir, ["versions", "deploy", `${v2}@100%`, "-y"]);
  const back = await ok(dir, ["rollback", "-y", "--message", "back"]);
  assert.match(back.output, new RegExp(`Worker Version ${v1} has been deployed to 100% of traffic`));
  assert.deepEqual(current("rollback"), [{ version_id: v1, percentage: 100 }], "the split had no 100 % version, so v1's deployment is the target");
  await ok(dir, ["rollback", v2, "-y"]);
  assert.deepEqual(current("rollback"), [{ version_id: v2, percentage: 100 }]);
  // A secret set after v1: returning to v1 would change it.
  await ok(dir, ["secret", "put", "API_KEY"], { input: "added-later\n" });
  const forced = await ok(dir, ["rollback", v1, "-y"]);
  assert.match(forced.output, new RegExp(`The following secrets have changed since version ${v1} was deployed`));
  assert.match(forced.output, /\* API_KEY/);
  const deploymentCalls = cf.requests.filter((r) => r.method === "POST" && r.path.endsWith("/workers/scripts/rollback/deployments"));
  assert.equal(deploymentCalls.at(-1).query, "?force=true", "wrangler confirmed and forced the rollback after the API refused it");
  assert.deepEqual(current("rollback"), [{ version_id: v1, percentage: 100 }]);
});

// ── tail consumers, plans, zones, workers.dev ───────────────────────────

test("a deploy naming a Tail Worker that does not exist is refused and creates nothing; on an existing Worker the settings stay unchanged", async () => {
  const producer = project("producer", { toml: 'tail_consumers = [{ service = "missing-tail" }]' });
  const run = await refused(producer, ["deploy"]);
  assert.match(run.output, /Tail Worker does not exist on this account/);
  assert.match(run.output, /code: 10203/);
  assert.equal(script("producer"), undefined, "no Worker was created");
  // The same Worker deployed without one, then with the missing one: wrangler's settings patch is refused.
  writeFileSync(path.join(producer, "wrangler.toml"), `name = "producer"\nmain = "worker.mjs"\ncompatibility_date = "${COMPAT}"\n`);
  await ok(producer, ["deploy"]);
  writeFileSync(path.join(producer, "wrangler.toml"), `name = "producer"\nmain = "worker.mjs"\ncompatibility_date = "${COMPAT}"\ntail_consumers = [{ service = "missing-tail" }]\n`);
  await wrangler(producer, ["deploy"]);
  const patches = cf.requests.filter((r) => r.method === "PATCH" && r.path.endsWith("/workers/scripts/producer/script-settings"));
  assert.ok(patches.length >= 1, "wrangler asked for the tail consumer");
  assert.deepEqual(script("producer").settings.tail_consumers, [], "and the API refused it");
  const consumer = project("tail-consumer", { code: "export default { tail() {} };" });
  await ok(consumer, ["deploy"]);
  writeFileSync(path.join(producer, "wrangler.toml"), `name = "producer"\nmain = "worker.mjs"\ncompatibility_date = "${COMPAT}"\ntail_consumers = [{ service = "tail-consumer" }]\n`);
  await ok(producer, ["deploy"]);
  assert.deepEqual(script("producer").settings.tail_consumers, [{ service: "tail-consumer" }]);
});

test("Tail Workers need the Workers Paid plan: on a Free account a producer naming one is refused", async () => {
  const free = await start({ plan: "free" });
  const consumer = project("free-tail", { code: "export default { tail() {} };" });
  await ok(consumer, ["deploy"], { on: free });
  const producer = project("free-producer", { toml: 'tail_consumers = [{ service = "free-tail" }]' });
  const run = await refused(producer, ["deploy"], { on: free });
  assert.match(run.output, /Workers Paid/);
  assert.equal(free.state().scripts["free-producer"], undefined);
});

test("a Custom Domain or route outside the account's zones is refused (zone_not_found)", async () => {
  // With workers_dev off, wrangler looks the zone up itself first (GET /zones) and stops.
  const dir = project("elsewhere", { toml: 'routes = [{ pattern = "cobrowse.not-my-zone.test", custom_domain = true }]' });
  const own = await refused(dir, ["deploy"]);
  assert.match(own.output, /Could not find zone for `cobrowse\.not-my-zone\.test`/);
  assert.ok(cf.requests.some((r) => r.path === "/zones" && r.query.includes("name=not-my-zone.test")), "from the stand-in's zones");
  // With workers_dev on it skips that look-up, and the API itself refuses the domain.
  const direct = project("elsewhere-direct", { toml: 'workers_dev = true\nroutes = [{ pattern = "cobrowse.not-my-zone.test", custom_domain = true }, { pattern = "www.not-my-zone.test/cobrowse/*", zone_name = "not-my-zone.test" }]' });
  const run = await refused(direct, ["deploy"]);
  // wrangler lists failed triggers by request only; the API's answer (10083) is asked for directly below.
  assert.match(run.output, /Some triggers failed to deploy for elsewhere-direct/);
  assert.match(run.output, /workers\/scripts\/elsewhere-direct\/routes\) failed/);
  assert.match(run.output, /workers\/scripts\/elsewhere-direct\/domains\/records\) failed/);
  const answer = await api("PUT", "/workers/scripts/elsewhere-direct/domains/records", { origins: [{ hostname: "cobrowse.not-my-zone.test" }], override_scope: true });
  assert.deepEqual([answer.status, answer.body.errors], [400, [{ code: 10083, message: 'workers.api.error.zone_not_found for "cobrowse.not-my-zone.test"' }]]);
  assert.deepEqual(cf.state().domains.filter((d) => d.service.startsWith("elsewhere")), []);
  assert.deepEqual(script("elsewhere-direct").routes, []);
  // The Worker itself was uploaded before its triggers failed, as on Cloudflare.
  assert.equal(script("elsewhere-direct").deployments.length, 1);
});

test("an account with no workers.dev subdomain refuses workers_dev = true (wrangler cannot register one non-interactively)", async () => {
  const blank = await start({ workersDevSubdomain: null });
  const dir = project("no-subdomain", { toml: "workers_dev = true" });
  const run = await refused(dir, ["deploy"], { on: blank });
  assert.match(run.output, /register a workers\.dev subdomain/);
  const fine = project("no-subdomain-ok", { toml: "workers_dev = false" });
  await ok(fine, ["deploy"], { on: blank });
});

// ── KV, D1, provisioning, migrations ───────────────────────────────────

test("automatic provisioning creates a KV namespace and a D1 database once and reuses them; d1 migrations apply runs the SQL for real", async () => {
  const code = `
export default {
  async fetch(request, env) {
    const seen = Number(await env.CACHE.get("seen") ?? 0) + 1;
    await env.CACHE.put("seen", String(seen));
    const { n } = await env.DB.prepare("SELECT count(*) AS n FROM notes").first();
    return Response.json({ seen, notes: n, version: env.VERSION.id });
  },
};`;
  const toml = [
    'routes = [{ pattern = "provision.example.com", custom_domain = true }]',
    "[[kv_namespaces]]",
    'binding = "CACHE"',
    "[[d1_databases]]",
    'binding = "DB"',
    'database_name = "provision-db"',
    'migrations_dir = "migrations"',
  ].join("\n");
  const migration = "-- two statements and a comment; one has a semicolon inside a string\nCREATE TABLE notes (text TEXT NOT NULL);\nINSERT INTO notes VALUES ('a; b');\n";
  const dir = project("provision", { toml, code, files: { "migrations/0001_notes.sql": migration } });
  const first = await ok(dir, ["deploy"]);
  assert.match(first.output, /Creating new KV Namespace "provision-cache"/);
  assert.match(first.output, /Creating new D1 Database "provision-db"/);
  const { kv, d1 } = cf.state();
  const ns = kv.find((n) => n.title === "provision-cache");
  const db = d1.find((d) => d.name === "provision-db");
  assert.ok(ns && db, JSON.stringify({ kv, d1 }));
  const bindingsOf = (v) => v.bindings.filter((b) => ["kv_namespace", "d1"].includes(b.type));
  assert.deepEqual(bindingsOf(script("provision").versions[0]), [
    { type: "kv_namespace", name: "CACHE", namespace_id: ns.id },
    { type: "d1", name: "DB", id: db.uuid },
  ]);

  const applied = await ok(dir, ["d1", "migrations", "apply", "DB", "--remote"]);
  assert.match(applied.output, /0001_notes\.sql\s*│\s*✅/);
  const rows = await (await cf.d1(db.uuid)).prepare("SELECT text FROM notes").all();
  assert.deepEqual(rows.results, [{ text: "a; b" }], "the migration's SQL ran in D1");
  const again = await ok(dir, ["d1", "migrations", "apply", "DB", "--remote"]);
  assert.match(again.output, /No migrations to apply/, "d1_migrations recorded it");

  const second = await ok(dir, ["deploy"]);
  assert.doesNotMatch(second.output, /Creating new/);
  assert.equal(cf.state().kv.filter((n) => n.title === "provision-cache").length, 1);
  assert.equal(cf.state().d1.filter((d) => d.name === "provision-db").length, 1);
  const versions = script("provision").versions;
  assert.deepEqual(bindingsOf(versions.at(-1)), bindingsOf(versions[0]), "the second deploy inherited the same namespace and database");
  const one = await visit("provision.example.com");
  assert.deepEqual([one.notes, one.version], [1, versions.at(-1).id]);
  // One KV store per namespace id, shared by every version binding it.
  writeFileSync(path.join(dir, "worker.mjs"), code.replace("Response.json({ seen,", 'Response.json({ code: "v2", seen,'));
  await ok(dir, ["deploy"]);
  const two = await visit("provision.example.com");
  assert.deepEqual([two.code, two.seen], ["v2", one.seen + 1], "the new version sees the count the old one wrote");

  const failing = project("provision-bad", {
    toml: '[[d1_databases]]\nbinding = "DB"\ndatabase_name = "provision-bad-db"\nmigrations_dir = "migrations"',
    files: { "migrations/0001_bad.sql": "CREATE TABLE t (a TEXT);\nINSERT INTO no_such_table VALUES (1);\n" },
  });
  await ok(failing, ["d1", "create", "provision-bad-db"]);
  const bad = await refused(failing, ["d1", "migrations", "apply", "DB", "--remote"]);
  assert.match(bad.output, /no such table: no_such_table/, "SQLite's own error, from running the SQL");
  const badDb = cf.state().d1.find((d) => d.name === "provision-bad-db");
  const tables = await (await cf.d1(badDb.uuid)).prepare("SELECT name FROM sqlite_master WHERE name = 't'").all();
  assert.deepEqual(tables.results, [], "a failed migration changes nothing (one batch)");
});

test("d1 create refuses a name in use; kv namespace create refuses a title in use", async () => {
  const dir = project("names");
  await ok(dir, ["d1", "create", "names-db"]);
  const d1 = await refused(dir, ["d1", "create", "names-db"]);
  assert.match(d1.output, /A database with that name already exists/);
  await ok(dir, ["kv", "namespace", "create", "NAMES"]);
  const kv = await refused(dir, ["kv", "namespace", "create", "NAMES"]);
  assert.match(kv.output, /A KV namespace with the title "NAMES" already exists/, "wrangler's words for the API's 10014");
  assert.equal(cf.requests.filter((r) => r.method === "POST" && r.path.endsWith("/storage/kv/namespaces")).length >= 2, true);
  assert.equal(cf.state().kv.filter((n) => n.title === "NAMES").length, 1);
});

test("uploads are validated: a KV namespace or D1 database that does not exist, and code that throws at startup, are refused", async () => {
  const kv = project("bad-kv", { toml: '[[kv_namespaces]]\nbinding = "CACHE"\nid = "REPLACE-ME-staging-kv-namespace-id"' });
  const kvRun = await refused(kv, ["deploy"]);
  assert.match(kvRun.output, /KV namespace 'REPLACE-ME-staging-kv-namespace-id' is not valid.*\[code: 10042\]/);
  const d1 = project("bad-d1", { toml: '[[d1_databases]]\nbinding = "DB"\ndatabase_name = "x"\ndatabase_id = "REPLACE-ME-staging-d1-database-id"' });
  const d1Run = await refused(d1, ["deploy"]);
  assert.match(d1Run.output, /binding DB of type d1 must have a valid `id` specified|You must use a real database in the database_id configuration/);
  // (Not the word "startup" in the message: wrangler would take it for a startup-limit error and profile the Worker locally.)
  const throws = project("bad-code", { code: 'throw new Error("exploded while loading"); export default {};' });
  const codeRun = await refused(throws, ["deploy"]);
  assert.match(codeRun.output, /Uncaught Error: exploded while loading/);
  assert.match(codeRun.output, /code: 10021/);
  for (const name of ["bad-kv", "bad-d1", "bad-code"]) assert.equal(script(name), undefined, `${name} was not created`);
  // The same placeholder id for migrations: the database is looked for, and not found.
  const migrate = project("bad-d1-migrate", {
    toml: '[[d1_databases]]\nbinding = "DB"\ndatabase_name = "x"\ndatabase_id = "REPLACE-ME-staging-d1-database-id"\nmigrations_dir = "migrations"',
    files: { "migrations/0001.sql": "CREATE TABLE t (a TEXT);\n" },
  });
  const migrateRun = await refused(migrate, ["d1", "migrations", "apply", "DB", "--remote"]);
  assert.match(migrateRun.output, /The database could not be found \[code: 7404\]/);
});

test("the API wants the account's token: any other is refused with an authentication error", async () => {
  const dir = project("auth");
  const run = await refused(dir, ["deployments", "status", "--json"], { env: { CLOUDFLARE_API_TOKEN: "someone-elses-token" } });
  assert.match(run.output, /Authentication error \[code: 10000\]/);
});

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
  cpSync(path.join(ROOT, "audit/worker.mjs"), path.join(audit, "worker.mjs"));
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

function chromium() {
  return [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"].find(
    (p) => p && existsSync(p),
  );
}

// ── the stand-in's own parsers ─────────────────────────────────────────

test("Cloudflare-Workers-Version-Overrides is read as a Structured Fields Dictionary; D1 SQL splits on statements", () => {
  assert.deepEqual(parseOverrides('gw="a", other="b";p=1'), { gw: "a", other: "b" });
  assert.deepEqual(parseOverrides("gw=a"), { gw: undefined });
  assert.equal(parseOverrides('gw="unterminated'), null);
  assert.equal(parseOverrides("Not A Key"), null);
  assert.deepEqual(splitSql("CREATE TABLE a (x TEXT); -- c;\nINSERT INTO a VALUES ('1;2');/* ; */"), ["CREATE TABLE a (x TEXT)", "INSERT INTO a VALUES ('1;2')"]);
  assert.deepEqual(splitSql("CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM a; END; SELECT 1"), ["CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM a; END", "SELECT 1"]);
});

test("wrangler never left loopback: nothing it sent went anywhere but the stand-in's API", () => {
  // Every wrangler run had HTTPS_PROXY/HTTP_PROXY pointing at the stand-in, which records and refuses
  // whatever is not for the API. (The one call known to try: wrangler's npm update check when a
  // command ends in an error it does not recognise, which WRANGLER_HIDE_BANNER does not turn off.)
  assert.deepEqual(standIns.flatMap((s) => s.internetAttempts), []);
  assert.ok(cf.requests.length > 50, "the tests above did talk to the API");
});
