// `make stats`: the queries of docs/metrics.sql sent to the Analytics Engine
// SQL API, here a stand-in on loopback (STATS_API_BASE), and the answers
// rendered; and every way it can fail said plainly, never with the token.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../../scripts/lib/wrangler-config.mjs";
import { queries, windowInterval, QUERIES_PATH } from "../../scripts/stats.mjs";

const TOKEN = "cf-api-token-for-stats-tests-7c1e";
const ACCOUNT = "0123456789abcdef0123456789abcdef";

/** The stand-in's answer per query, keyed by a word only that query has. */
const ANSWERS = {
  status_4xx: { meta: [], data: [{ requests: "1200", status_4xx: "30", status_5xx: "6" }], rows: 1 },
  p95_ms: { meta: [], data: [{ route: "/agent", requests: "700", p50_ms: 48, p95_ms: 212.5 }, { route: "/visitor", requests: "500", p50_ms: 61, p95_ms: 190 }], rows: 2 },
  "LIKE 'upstream_%'": { meta: [], data: [{ route: "/agent", cause: "upstream_timeout", requests: "4" }], rows: 1 },
  toStartOfInterval: { meta: [], data: [{ hour: "2026-03-01 09:00:00", route: "/agent", sessions: "12" }, { hour: "2026-03-01 09:00:00", route: "/visitor", sessions: "9" }], rows: 2 },
};

let server, base, received, mode;
before(async () => {
  server = http.createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    received.push({ method: req.method, url: req.url, auth: req.headers.authorization, type: req.headers["content-type"], body });
    if (mode === "unauthorized") {
      res.writeHead(401, { "Content-Type": "application/json" });
      return res.end(JSON.stringify({ success: false, errors: [{ code: 10000, message: "Authentication error" }] }));
    }
    if (mode === "malformed") {
      res.writeHead(200, { "Content-Type": "text/html" });
      return res.end("<html>a captive portal</html>");
    }
    if (mode === "bad-sql") {
      res.writeHead(422, { "Content-Type": "text/plain" });
      return res.end("unable to parse query: unknown column 'blob99'");
    }
    const key = Object.keys(ANSWERS).find((k) => body.includes(k));
    res.writeHead(key ? 200 : 500, { "Content-Type": "application/json" });
    res.end(JSON.stringify(key ? ANSWERS[key] : { errors: [{ message: "unexpected query" }] }));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${server.address().port}/client/v4`;
});
after(() => new Promise((r) => server.close(r)));

/** Runs `make stats` with `vars`; resolves to its exit status and output. */
function stats(vars = {}, env = {}) {
  received = [];
  const args = ["--no-print-directory", "stats", ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)];
  const child = spawn("make", args, {
    cwd: ROOT,
    env: { ...process.env, CLOUDFLARE_API_TOKEN: TOKEN, CLOUDFLARE_ACCOUNT_ID: ACCOUNT, STATS_API_BASE: base, ...env },
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const timer = setTimeout(() => child.kill(), 120_000);
  return new Promise((resolve) => child.on("close", (status) => {
    clearTimeout(timer);
    assert.ok(!out.includes(TOKEN), "the token is never printed");
    resolve({ status, out });
  }));
}

test("make stats sends each query of docs/metrics.sql, with the bearer token, and prints the numbers", async () => {
  mode = "ok";
  const { status, out } = await stats({ ENV: "staging", SINCE: "6h" });
  assert.equal(status, 0, out);
  const expected = queries("upscope_gateway_staging", "INTERVAL '6' HOUR");
  assert.deepEqual(Object.keys(expected), ["totals", "latency", "upstream_failures", "sessions_per_hour"]);
  assert.deepEqual(received.map((r) => [r.method, r.url, r.auth, r.type, r.body]), Object.values(expected).map((sql) => [
    "POST", `/client/v4/accounts/${ACCOUNT}/analytics_engine/sql`, `Bearer ${TOKEN}`, "text/plain", sql,
  ]));
  for (const { body } of received) {
    assert.match(body, /FROM upscope_gateway_staging\n/);
    assert.match(body, /timestamp > NOW\(\) - INTERVAL '6' HOUR/);
    assert.doesNotMatch(body, /upscope_gateway_production|'24' HOUR|^--/m);
  }
  assert.match(received[1].body, /quantileExactWeighted\(0\.95\)\(double2, _sample_interval\) AS p95_ms/);
  assert.equal(out.trim(), [
    "stats staging: last 6h, dataset upscope_gateway_staging",
    "",
    "  requests  4xx  4xx rate  5xx  5xx rate",
    "      1200   30     2.50%    6     0.50%",
    "",
    "latency by route",
    "  route     requests  p50 ms  p95 ms",
    "  /agent         700      48     213",
    "  /visitor       500      61     190",
    "",
    "upstream failures by cause",
    "  route   cause             requests",
    "  /agent  upstream_timeout         4",
    "",
    "sessions started per hour",
    "  hour (UTC)           route     sessions",
    "  2026-03-01 09:00:00  /agent          12",
    "  2026-03-01 09:00:00  /visitor         9",
  ].join("\n"));
});

test("make stats: a refused token, a malformed answer, an SQL error, an unreachable API: exit 1, saying which", async () => {
  mode = "unauthorized";
  let run = await stats({ ENV: "production" });
  assert.equal(run.status, 2, run.out); // make's own status for a failed recipe
  assert.match(run.out, /stats: the SQL API refused the token \(401\): CLOUDFLARE_API_TOKEN needs Account Analytics: Read/);
  assert.equal(received.length, 1, "it stops at the first failure");

  mode = "malformed";
  run = await stats({ ENV: "production" });
  assert.equal(run.status, 2, run.out);
  assert.match(run.out, /stats: the SQL API's answer is not the JSON expected \(no "data" rows\): "<html>a captive portal<\/html>"/);

  mode = "bad-sql";
  run = await stats({ ENV: "production" });
  assert.match(run.out, /stats: the SQL API answered 422: unable to parse query: unknown column 'blob99'/);

  const closed = http.createServer();
  await new Promise((r) => closed.listen(0, "127.0.0.1", r));
  const port = closed.address().port;
  await new Promise((r) => closed.close(r));
  run = await stats({ ENV: "production" }, { STATS_API_BASE: `http://127.0.0.1:${port}/client/v4` });
  assert.equal(run.status, 2, run.out);
  assert.match(run.out, new RegExp(`stats: could not reach the Analytics Engine SQL API at 127\\.0\\.0\\.1:${port}: ECONNREFUSED`));
});

test("make stats refuses without credentials, a bad window or a non-deploy environment, before any request", async () => {
  mode = "ok";
  let run = await stats({ ENV: "production" }, { CLOUDFLARE_API_TOKEN: "", CLOUDFLARE_ACCOUNT_ID: "" });
  assert.match(run.out, /stats: set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID in the environment/);
  run = await stats({ ENV: "production", SINCE: "1y" });
  assert.match(run.out, /stats: SINCE must be a number of minutes, hours or days \(90m, 24h, 7d\), at most 92 days; got "1y"/);
  run = await stats({ ENV: "dev" });
  assert.match(run.out, /stats: ENV must be one of staging, production \(got "dev"\)/);
  assert.equal(received.length, 0);
  assert.equal(windowInterval("90m"), "INTERVAL '90' MINUTE");
  assert.equal(windowInterval("7d"), "INTERVAL '7' DAY");
  assert.throws(() => windowInterval("93d"));
});

test("the queries file as shown to operators runs as it stands: production's dataset, the last 24 hours", () => {
  const text = readFileSync(QUERIES_PATH, "utf8");
  const asIs = queries("upscope_gateway_production", "INTERVAL '24' HOUR");
  for (const sql of Object.values(asIs)) {
    const pasted = sql.replace(/\nFORMAT JSON$/, "");
    assert.ok(text.includes(pasted), `docs/metrics.sql holds, verbatim:\n${pasted}`);
  }
  assert.equal(path.relative(ROOT, QUERIES_PATH), "docs/metrics.sql");
});
