// The Cloudflare API stand-in (tests/cloudflare/) enforcing each rule it documents, shown by driving the
// project's real pinned wrangler against it: tail consumers, plans, zones, workers.dev, KV and D1 provisioning and migrations, upload validation, the token.
// (Where wrangler checks a rule itself before asking the API, the API is also asked directly, so the
// stand-in cannot drift into agreeing with whatever a script sends.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseOverrides } from "../cloudflare/edge.mjs";
import { splitSql } from "../cloudflare/runtime.mjs";
import { COMPAT, cf, start, project, wrangler, ok, refused, visit, api, script, neverLeftLoopback } from "../cloudflare/api-test-kit.mjs";

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

// ── the stand-in's own parsers ─────────────────────────────────────────

test("Cloudflare-Workers-Version-Overrides is read as a Structured Fields Dictionary; D1 SQL splits on statements", () => {
  assert.deepEqual(parseOverrides('gw="a", other="b";p=1'), { gw: "a", other: "b" });
  assert.deepEqual(parseOverrides("gw=a"), { gw: undefined });
  assert.equal(parseOverrides('gw="unterminated'), null);
  assert.equal(parseOverrides("Not A Key"), null);
  assert.deepEqual(splitSql("CREATE TABLE a (x TEXT); -- c;\nINSERT INTO a VALUES ('1;2');/* ; */"), ["CREATE TABLE a (x TEXT)", "INSERT INTO a VALUES ('1;2')"]);
  assert.deepEqual(splitSql("CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM a; END; SELECT 1"), ["CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM a; END", "SELECT 1"]);
});

neverLeftLoopback();
