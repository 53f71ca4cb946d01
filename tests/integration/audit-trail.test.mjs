// The audit trail, kept: audit/worker.mjs as the gateway's Tail Worker (as
// `tail_consumers` makes it when deployed) in the same workerd, storing each
// audit record in D1 (migrated with audit/migrations/, as `wrangler d1
// migrations apply` does), and nothing else; its daily retention cron; and
// scripts/audit-id.mjs finding a viewer's records there through wrangler.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  startSimulator, startGateway, baseVars, API_KEY, GATEWAY_ORIGIN as ORIGIN, pathOf, COMPATIBILITY_DATE,
} from "../support/harness.mjs";
import { signLink } from "../../examples/sign-link.mjs";
import { viewerPseudonym } from "../../scripts/audit-id.mjs";
import auditWorker, { auditRow } from "../../audit/worker.mjs";
import { MAX_ID_CHARS } from "../../audit/limits.mjs";
import { ROOT, readEnv } from "../../scripts/lib/wrangler-config.mjs";

const VISITOR_SECRET = "visitor-link-secret-for-audit-tests-001";
const VIEWER_SECRET = "viewer-link-secret-for-audit-tests-0001";
const AUDIT_SECRET = "audit-id-secret-for-audit-trail-tests-01";
const AGENT = "agent_id=agent-7&agent_name=Ann%20Lee";
const VIEWER = "viewer_id=cust-501&viewer_name=Pat%20Customer";
const auditDir = path.join(ROOT, "audit");

let up, gw, db, persist, seenPaths = [];
before(async () => {
  up = await startSimulator();
  persist = mkdtempSync(path.join(os.tmpdir(), "gateway-audit-d1-"));
  // The id `wrangler d1 execute --local --persist-to` gives the database (audit/wrangler.toml names none: its binding), so both find one file.
  const auditConfig = await readEnv("staging", path.join(auditDir, "wrangler.toml"));
  const [d1] = auditConfig.d1_databases;
  gw = await startGateway({
    vars: baseVars(up.apiBase, { VISITOR_LINK_SECRET: VISITOR_SECRET, VIEWER_LINK_SECRET: VIEWER_SECRET, AUDIT_ID_SECRET: AUDIT_SECRET }),
    tails: ["audit"],
    extraWorkers: [{
      name: "audit",
      modules: true,
      modulesRoot: auditDir,
      scriptPath: path.join(auditDir, auditConfig.main ? path.basename(auditConfig.main) : "worker.mjs"),
      compatibilityDate: COMPATIBILITY_DATE,
      bindings: { AUDIT_RETENTION_DAYS: "30" },
      d1Databases: { [d1.binding]: d1.database_id ?? d1.binding },
    }],
    miniflareOptions: { d1Persist: path.join(persist, "v3", "d1") },
  });
  db = await gw.mf.getD1Database("AUDIT_DB", "audit");
  for (const file of readdirSync(path.join(auditDir, "migrations")).sort()) {
    const sql = readFileSync(path.join(auditDir, "migrations", file), "utf8").replace(/--.*$/gm, "");
    for (const statement of sql.split(";").map((s) => s.trim()).filter(Boolean)) await db.prepare(statement).run();
  }
});
after(async () => {
  await gw?.close();
  await up?.close();
  if (persist) rmSync(persist, { recursive: true, force: true });
});

const rows = async () => (await db.prepare("SELECT * FROM audit ORDER BY ts, request_id").all()).results;

/** Waits (bounded) until the trail holds `n` records. */
async function waitForRows(n) {
  for (let i = 0; i < 100; i++) {
    const got = await rows();
    if (got.length >= n) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
  return rows();
}

test("each watch_url handed out is kept as its audit record, with request id, time, route and status; nothing else is", async () => {
  const started = Date.now();
  const requests = [
    [`/agent?visitorid=sAlice01&${AGENT}`, { "cf-ray": "8c2d7e1f0a9b3c4d-LHR" }],
    [`/agent?uniqueid=alice-1001&${AGENT}`, { "cf-ray": "8c2d7e1f0a9b3c4e-LHR" }],
    [pathOf(signLink(`${ORIGIN}/view?uniqueid=bob-2002&${VIEWER}`, VIEWER_SECRET)), { "cf-ray": "8c2d7e1f0a9b3c4f-LHR" }],
    // No session handed out: no record.
    [pathOf(signLink(`${ORIGIN}/visitor?uniqueid=alice-1001`, VISITOR_SECRET)), {}],
    [`/agent?uniqueid=bad%20id&${AGENT}`, {}],
    ["/no/such/page?uniqueid=alice-1001", {}],
  ];
  const statuses = [];
  for (const [p, headers] of requests) {
    const res = await gw.fetch(p, { headers });
    await res.arrayBuffer();
    statuses.push(res.status);
    seenPaths.push(p);
  }
  assert.deepEqual(statuses, [302, 302, 302, 302, 400, 404]);
  const kept = await waitForRows(3);
  // A moment more: nothing beyond the three arrives.
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await rows()).length, 3);
  for (const row of kept) assert.ok(row.ts >= started - 1000 && row.ts <= Date.now(), `ts ${row.ts}`);
  const pseudonym = viewerPseudonym(AUDIT_SECRET, "cust-501");
  assert.deepEqual(kept.map(({ ts, ...rest }) => rest).sort((a, b) => a.request_id.localeCompare(b.request_id)), [
    { request_id: "8c2d7e1f0a9b3c4d-LHR", route: "/agent", status: 302, role: "agent", watcher: "agent-7", short_id: "sAlice01", named_by: "short" },
    { request_id: "8c2d7e1f0a9b3c4e-LHR", route: "/agent", status: 302, role: "agent", watcher: "agent-7", short_id: "sAlice01", named_by: "unique" },
    { request_id: "8c2d7e1f0a9b3c4f-LHR", route: "/view", status: 302, role: "viewer", watcher: pseudonym, short_id: "sBob0002", named_by: "unique" },
  ]);
  // The records are the audit members of the gateway's own lines, exactly.
  const lines = gw.logLines().filter((l) => l.audit);
  assert.deepEqual(lines.map((l) => l.request_id).sort(), kept.map((r) => r.request_id).sort());
  // The table holds those columns and no others; no customer id, URL or secret is anywhere in it.
  const columns = (await db.prepare("PRAGMA table_info(audit)").all()).results.map((c) => c.name);
  assert.deepEqual(columns, ["request_id", "ts", "route", "status", "role", "watcher", "short_id", "named_by"]);
  const dump = JSON.stringify(await rows());
  for (const secret of ["alice-1001", "bob-2002", "cust-501", "Pat Customer", "Ann Lee", "http", "?", "sig", API_KEY, VIEWER_SECRET, AUDIT_SECRET]) {
    assert.ok(!dump.includes(secret), `the trail holds ${secret}`);
  }
});

test("a record is stored once even when its events come twice; lines without a well-formed audit member are skipped", async () => {
  const line = (audit, extra = {}) => JSON.stringify({ level: "info", request_id: "r-1", route: "/agent", status: 302, outcome: "redirect", upstream: [], cache: "none", total_ms: 1, ...extra, ...(audit ? { audit } : {}) });
  const good = { role: "agent", agent_id: "a-1", short_id: "s1", named_by: "short" };
  assert.deepEqual(auditRow(line(good), 1700000000000.7), { request_id: "r-1", ts: 1700000000000, route: "/agent", status: 302, role: "agent", watcher: "a-1", short_id: "s1", named_by: "short" });
  for (const bad of [
    line(null), line({ ...good, role: "admin" }), line({ ...good, named_by: "guess" }), line({ ...good, short_id: "" }),
    line({ role: "viewer", agent_id: "a-1", short_id: "s1", named_by: "short" }), line(good, { status: "302" }),
    line({ ...good, agent_id: "x".repeat(201) }), "not json", "{broken", 42, undefined,
  ]) {
    assert.equal(auditRow(bad, 1), null, String(bad));
  }
  assert.equal(auditRow(line(good), Number.NaN), null);
  // Delivered twice (as a retried tail batch may be): one row.
  const before = (await rows()).length;
  const res = await gw.fetch(`/agent?visitorid=sAlice01&${AGENT}`, { headers: { "cf-ray": "8c2d7e1f0a9b3c50-LHR" } });
  await res.arrayBuffer();
  await waitForRows(before + 1);
  const [row] = (await db.prepare("SELECT * FROM audit WHERE request_id = ?").bind("8c2d7e1f0a9b3c50-LHR").all()).results;
  await db.prepare("INSERT OR IGNORE INTO audit (request_id, ts, route, status, role, watcher, short_id, named_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    .bind(...Object.values(row)).run();
  assert.equal((await rows()).length, before + 1);
});

test("the daily cron deletes records older than AUDIT_RETENTION_DAYS and keeps the rest", async () => {
  const day = 86_400_000;
  const now = Date.now();
  const insert = db.prepare("INSERT INTO audit (request_id, ts, route, status, role, watcher, short_id, named_by) VALUES (?, ?, '/agent', 302, 'agent', 'old-agent', 'sOld', 'short')");
  await insert.bind("old-31d", now - 31 * day).run();
  await insert.bind("old-29d", now - 29 * day).run();
  const worker = await gw.mf.getWorker("audit");
  await worker.scheduled({ scheduledTime: new Date(now), cron: "17 3 * * *" });
  const left = (await db.prepare("SELECT request_id FROM audit WHERE watcher = 'old-agent'").all()).results.map((r) => r.request_id);
  assert.deepEqual(left, ["old-29d"]);
});

// Issue 25, item 3: the gateway accepts agent ids of up to 128 characters, any
// of them astral (two UTF-16 units each); the trail must keep every one it
// hands a watch_url to, and name the same bound.
const ASTRAL_128 = "\u{1F600}".repeat(128);
const AUDITED_IDS = ["Ann Lee", "o'neil@example.com", "\u738B\u82B3", ASTRAL_128];

test("every agent id the gateway accepts is kept, up to its one bound of 128 characters, astral ones included", async () => {
  const before = (await rows()).length;
  for (const [i, id] of AUDITED_IDS.entries()) {
    const res = await gw.fetch(`/agent?visitorid=sAlice01&agent_id=${encodeURIComponent(id)}&agent_name=Someone`, { headers: { "cf-ray": `8c2d7e1f0a9b3d0${i}-LHR` } });
    await res.arrayBuffer();
    assert.equal(res.status, 302, id);
  }
  // One more character and the gateway refuses it: no session, nothing to keep.
  const over = await gw.fetch(`/agent?visitorid=sAlice01&agent_id=${encodeURIComponent(ASTRAL_128 + "\u{1F600}")}&agent_name=Someone`, { headers: { Accept: "application/json" } });
  assert.equal(over.status, 400);
  const kept = await waitForRows(before + AUDITED_IDS.length);
  for (const [i, id] of AUDITED_IDS.entries()) {
    const row = kept.find((r) => r.request_id === `8c2d7e1f0a9b3d0${i}-LHR`);
    assert.equal(row?.watcher, id, `the record of ${id.slice(0, 12)}… is kept`);
  }
  const rustBound = Number(readFileSync(path.join(ROOT, "src/core/ids.rs"), "utf8").match(/pub const MAX_AGENT_ID_CHARS: usize = (\d+);/)?.[1]);
  assert.equal(MAX_ID_CHARS, rustBound, "audit/worker.mjs and the gateway bound agent ids alike");
});

test("a record the trail cannot store is counted and logged by request id, never dropped without a trace", async () => {
  const line = (requestId, audit) => JSON.stringify({ level: "info", request_id: requestId, route: "/agent", status: 302, outcome: "redirect", upstream: [], cache: "none", total_ms: 1, audit });
  const good = { role: "agent", agent_id: "a-stored", short_id: "s1", named_by: "short" };
  const logs = [
    line("r-good", good),
    line("r-long", { ...good, agent_id: `${ASTRAL_128}\u{1F600}` }),
    line("r-role", { ...good, role: "admin" }),
    JSON.stringify({ level: "info", request_id: "r-plain", route: "/healthz", status: 200 }),
    "not json",
  ].map((message, i) => ({ message: [message], level: "log", timestamp: 1_700_000_000_000 + i }));
  const printed = [];
  const original = { error: console.error, log: console.log, warn: console.warn };
  for (const level of Object.keys(original)) console[level] = (...args) => printed.push(args.join(" "));
  try {
    await auditWorker.tail([{ logs }], { AUDIT_DB: db });
  } finally {
    Object.assign(console, original);
  }
  const stored = (await db.prepare("SELECT request_id FROM audit WHERE request_id IN ('r-good', 'r-long', 'r-role')").all()).results;
  assert.deepEqual(stored.map((r) => r.request_id), ["r-good"]);
  assert.equal(printed.length, 1, printed.join("\n"));
  const report = JSON.parse(printed[0]);
  assert.equal(report.level, "error");
  assert.equal(report.message, "audit records not stored");
  assert.equal(report.count, 2);
  assert.deepEqual(report.records.map((r) => r.request_id), ["r-long", "r-role"]);
  assert.match(report.records[0].reason, /agent_id/);
  assert.ok(!printed[0].includes("\u{1F600}") && !printed[0].includes("a-stored"), "the report names no agent");

  // D1 refusing the batch: the records are counted and logged, and the batch fails (to be retried).
  const down = { prepare: () => ({ bind: () => ({}) }), batch: async () => { throw new Error("D1_ERROR: no such table: audit"); } };
  const downPrinted = [];
  console.error = (...args) => downPrinted.push(args.join(" "));
  try {
    await assert.rejects(auditWorker.tail([{ logs: logs.slice(0, 1) }], { AUDIT_DB: down }), /D1_ERROR/);
  } finally {
    Object.assign(console, original);
  }
  const downReport = JSON.parse(downPrinted[0]);
  // A batch of many: every record counted, the first 50 named, one line.
  const many = Array.from({ length: 60 }, (_, i) => ({ message: [line(`r-many-${i}`, { ...good, role: "admin" })], timestamp: 1 }));
  const manyPrinted = [];
  console.error = (...args) => manyPrinted.push(args.join(" "));
  try {
    await auditWorker.tail([{ logs: many }], { AUDIT_DB: down });
  } finally {
    Object.assign(console, original);
  }
  assert.equal(manyPrinted.length, 1);
  const manyReport = JSON.parse(manyPrinted[0]);
  assert.deepEqual([manyReport.count, manyReport.records.length, manyReport.records[0].request_id], [60, 50, "r-many-0"]);
  assert.deepEqual([downReport.message, downReport.count, downReport.records.map((r) => r.request_id)], ["audit records not stored", 1, ["r-good"]]);
  assert.match(downReport.records[0].reason, /D1_ERROR/);
});

test("audit-id.mjs --find reads a viewer's records from the trail by pseudonym, through wrangler", async () => {
  // The database is read by wrangler from disk: let workerd finish with it first.
  await gw.close();
  gw = null;
  const out = execFileSync(process.execPath, [
    "scripts/audit-id.mjs", "cust-501", "--find", "--env", "staging", "--local", "--persist-to", persist,
  ], { cwd: ROOT, encoding: "utf8", env: { ...process.env, AUDIT_ID_SECRET: AUDIT_SECRET }, timeout: 120_000 });
  const pseudonym = viewerPseudonym(AUDIT_SECRET, "cust-501");
  const lines = out.trim().split("\n");
  assert.equal(lines.length, 2, out);
  assert.match(lines[0], new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  8c2d7e1f0a9b3c4f-LHR  /view 302  viewer ${pseudonym} watched sBob0002 \\(named by unique\\)$`));
  assert.equal(lines[1], `1 record for ${pseudonym} in the staging audit trail`);
  assert.ok(!out.includes("cust-501"));
  const agent = execFileSync(process.execPath, [
    "scripts/audit-id.mjs", "--agent", "agent-7", "--find", "--env", "staging", "--local", "--persist-to", persist,
  ], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  assert.match(agent, /^3 records for agent-7 in the staging audit trail$/m);
  // Whatever id the gateway audits, audit-id finds it: spaces, quotes, any script, astral characters.
  for (const id of AUDITED_IDS) {
    const found = execFileSync(process.execPath, [
      "scripts/audit-id.mjs", "--agent", id, "--find", "--env", "staging", "--local", "--persist-to", persist,
    ], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    assert.match(found, / watched sAlice01 \(named by short\)\n1 record for /, `${id.slice(0, 12)}…: ${found}`);
  }
  // An id is data, never SQL.
  const injected = execFileSync(process.execPath, [
    "scripts/audit-id.mjs", "--agent", "x' OR '1'='1", "--find", "--env", "staging", "--local", "--persist-to", persist,
  ], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  assert.match(injected, /^0 records for /m);
});

test("audit-id.mjs refuses, naming the rule, an id the gateway would refuse", () => {
  for (const bad of ["", "   ", "a\u0007b", `${ASTRAL_128}\u{1F600}`]) {
    let failed;
    try {
      execFileSync(process.execPath, ["scripts/audit-id.mjs", "--agent", bad, "--find", "--env", "staging", "--local"], { cwd: ROOT, encoding: "utf8", stdio: "pipe", timeout: 60_000 });
    } catch (err) {
      failed = err;
    }
    assert.equal(failed?.status, 2, JSON.stringify(bad));
    assert.match(failed.stderr, /1 to 128 characters, without control characters/);
  }
});
