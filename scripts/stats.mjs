// `make stats ENV=<staging|production> [SINCE=24h]`: the gateway's numbers
// from its Workers Analytics Engine dataset, with no dashboard to build.
//
//   node scripts/stats.mjs --env production [--since 24h|90m|7d]
//
// Runs each query of docs/metrics.sql through Cloudflare's Analytics Engine
// SQL API (POST <base>/accounts/<account>/analytics_engine/sql, the SQL as
// the body) and prints requests, 4xx and 5xx rates, p50/p95 latency per
// route, upstream failures by cause and sessions started per hour.
//
// From the environment: CLOUDFLARE_API_TOKEN (a token with Account
// Analytics: Read; never printed), CLOUDFLARE_ACCOUNT_ID, and optionally
// STATS_API_BASE (default https://api.cloudflare.com/client/v4; the tests
// point it at a loopback stand-in). The dataset is the environment's METRICS
// binding in wrangler.toml. Exits 1 on any failure, saying what failed.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { readEnv, DEPLOY_ENVS, ROOT } from "./lib/wrangler-config.mjs";

export const QUERIES_PATH = path.join(ROOT, "docs/metrics.sql");
export const DEFAULT_API_BASE = "https://api.cloudflare.com/client/v4";
/** What the queries file says, replaced by the environment's dataset and window. */
const DATASET_IN_FILE = "upscope_gateway_production";
const WINDOW_IN_FILE = "INTERVAL '24' HOUR";
const UNITS = { m: "MINUTE", h: "HOUR", d: "DAY" };
/** Analytics Engine keeps three months. */
const MAX_WINDOW_MINUTES = 92 * 24 * 60;
const TIMEOUT_MS = 30_000;

/** `24h`, `90m`, `7d` as an SQL interval; anything else throws. */
export function windowInterval(since) {
  const m = /^([1-9][0-9]{0,5})([mhd])$/.exec(since);
  const minutes = m && Number(m[1]) * { m: 1, h: 60, d: 1440 }[m[2]];
  if (!m || minutes > MAX_WINDOW_MINUTES) {
    throw new Error(`SINCE must be a number of minutes, hours or days (90m, 24h, 7d), at most 92 days; got "${since}"`);
  }
  return `INTERVAL '${m[1]}' ${UNITS[m[2]]}`;
}

/** The named queries of docs/metrics.sql for `dataset` over `interval`. */
export function queries(dataset, interval, text = readFileSync(QUERIES_PATH, "utf8")) {
  const named = {};
  for (const block of text.split(/^-- name: /m).slice(1)) {
    const name = block.slice(0, block.indexOf("\n")).trim();
    const sql = block
      .split("\n")
      .slice(1)
      .filter((line) => !line.startsWith("--"))
      .join("\n")
      .trim()
      .replace(/;$/, "")
      .replaceAll(DATASET_IN_FILE, dataset)
      .replaceAll(WINDOW_IN_FILE, interval);
    named[name] = `${sql}\nFORMAT JSON`;
  }
  return named;
}

/** One query through the SQL API: its rows, or an error that says what went wrong (never the token). */
export async function runQuery(sql, { apiBase, accountId, token }) {
  const url = `${apiBase.replace(/\/$/, "")}/accounts/${encodeURIComponent(accountId)}/analytics_engine/sql`;
  const host = new URL(url).host;
  let res;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "text/plain" },
      body: sql,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    const why = err.name === "TimeoutError" ? `no answer in ${TIMEOUT_MS / 1000} s` : (err.cause?.code ?? err.cause?.message ?? err.message);
    throw new Error(`could not reach the Analytics Engine SQL API at ${host}: ${why}`);
  }
  const text = await res.text();
  if (res.status === 401 || res.status === 403) {
    throw new Error(
      `the SQL API refused the token (${res.status}): CLOUDFLARE_API_TOKEN needs Account Analytics: Read on account CLOUDFLARE_ACCOUNT_ID`,
    );
  }
  if (!res.ok) {
    throw new Error(`the SQL API answered ${res.status}: ${apiMessage(text) ?? "(no message)"}`);
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  if (!Array.isArray(body?.data)) {
    throw new Error(`the SQL API's answer is not the JSON expected (no "data" rows): ${JSON.stringify(text.slice(0, 120))}`);
  }
  return body.data;
}

/** The error text of a Cloudflare API answer (SQL errors come as text, API errors as JSON). */
function apiMessage(text) {
  try {
    const messages = JSON.parse(text).errors?.map((e) => e.message).filter(Boolean);
    if (messages?.length) return messages.join("; ").slice(0, 300);
  } catch {}
  return text.trim().slice(0, 300) || null;
}

const num = (v) => Number(v ?? 0);
const pct = (part, whole) => (whole > 0 ? `${((100 * part) / whole).toFixed(2)}%` : "-");
const ms = (v) => (v === null || v === undefined || Number.isNaN(Number(v)) ? "-" : String(Math.round(Number(v))));

function table(header, rows) {
  if (!rows.length) return ["  (none)"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  // Numbers (and rates, and "-") right-aligned, names left-aligned.
  const right = header.map((_, i) => rows.every((r) => /^(-?[0-9.]+%?|-)$/.test(String(r[i]))));
  const line = (cells) => "  " + cells.map((c, i) => String(c)[right[i] ? "padStart" : "padEnd"](widths[i])).join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The report, as lines. */
export function render({ env, since, dataset, results }) {
  const totals = results.totals[0] ?? {};
  const requests = num(totals.requests);
  const lines = [`stats ${env}: last ${since}, dataset ${dataset}`, ""];
  lines.push(...table(["requests", "4xx", "4xx rate", "5xx", "5xx rate"], [[
    requests, num(totals.status_4xx), pct(num(totals.status_4xx), requests), num(totals.status_5xx), pct(num(totals.status_5xx), requests),
  ]]));
  lines.push("", "latency by route");
  lines.push(...table(["route", "requests", "p50 ms", "p95 ms"], results.latency.map((r) => [r.route, num(r.requests), ms(r.p50_ms), ms(r.p95_ms)])));
  lines.push("", "upstream failures by cause");
  lines.push(...table(["route", "cause", "requests"], results.upstream_failures.map((r) => [r.route, r.cause, num(r.requests)])));
  lines.push("", "sessions started per hour");
  lines.push(...table(["hour (UTC)", "route", "sessions"], results.sessions_per_hour.map((r) => [r.hour, r.route, num(r.sessions)])));
  return lines;
}

async function main() {
  const { values } = parseArgs({ options: { env: { type: "string", default: "" }, since: { type: "string", default: "24h" } } });
  const { env, since } = values;
  if (!DEPLOY_ENVS.includes(env)) throw new Error(`ENV must be one of ${DEPLOY_ENVS.join(", ")} (got "${env}")`);
  const interval = windowInterval(since);
  const token = process.env.CLOUDFLARE_API_TOKEN?.trim();
  const accountId = process.env.CLOUDFLARE_ACCOUNT_ID?.trim();
  const missing = [!token && "CLOUDFLARE_API_TOKEN", !accountId && "CLOUDFLARE_ACCOUNT_ID"].filter(Boolean);
  if (missing.length) throw new Error(`set ${missing.join(" and ")} in the environment (a token with Account Analytics: Read)`);
  const config = await readEnv(env);
  const dataset = (config.analytics_engine_datasets ?? []).find((d) => d.binding === "METRICS")?.dataset;
  if (!dataset) throw new Error(`[env.${env}] binds no METRICS Analytics Engine dataset in wrangler.toml`);
  const api = { apiBase: process.env.STATS_API_BASE || DEFAULT_API_BASE, accountId, token };
  const results = {};
  for (const [name, sql] of Object.entries(queries(dataset, interval))) results[name] = await runQuery(sql, api);
  console.log(render({ env, since, dataset, results }).join("\n"));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(`stats: ${err.message}`);
    process.exit(1);
  });
}
