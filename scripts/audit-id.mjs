// The pseudonym under which the gateway's audit log names a /view viewer
// (docs/operations.md, "Logs"): who watched can be looked up for a known viewer id,
// while the log never holds a customer's ID in clear.
//
//   node scripts/audit-id.mjs "cust-501"
//   node scripts/audit-id.mjs "cust-501" --find --env production
//   node scripts/audit-id.mjs --agent "agent-7" --find --env production
//
// The key is AUDIT_ID_SECRET, from the environment, else from .dev.vars. It
// signs nothing and is never rotated, so a viewer's pseudonym is the same in
// every record, before and after a rotation of VIEWER_LINK_SECRET.
//
// With --find, the records of that viewer (or, with --agent, of that agent)
// are read from the kept audit trail: the D1 database of audit/wrangler.toml
// (docs/operations.md, "Audit trail"), through `wrangler d1 execute --remote`. Only the
// pseudonym or the agent id is sent, never the viewer's id. `--local
// --persist-to DIR` reads a local copy instead (what the tests do).
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { MAX_ID_CHARS } from "../audit/limits.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const AUDIT_CONFIG = path.join(ROOT, "audit/wrangler.toml");

/** First 8 bytes, hex, of HMAC-SHA256(key, "audit:" + viewer id): as the gateway computes it. */
export const viewerPseudonym = (auditKey, viewerId) =>
  createHmac("sha256", auditKey.trim()).update(`audit:${viewerId}`).digest().subarray(0, 8).toString("hex");

/**
 * An agent or viewer id as the gateway reads it from a link or a token:
 * trimmed (Unicode White_Space, as Rust's `trim`), 1 to MAX_ID_CHARS
 * characters, no control characters; otherwise an Error naming the rule.
 * Any id the gateway audits passes: spaces, quotes, any script.
 */
export function auditedId(raw) {
  const id = String(raw).replace(/^\p{White_Space}+|\p{White_Space}+$/gu, "");
  if (!id || [...id].length > MAX_ID_CHARS || /\p{Cc}/u.test(id)) {
    throw new Error(`an id is 1 to ${MAX_ID_CHARS} characters, without control characters, as the gateway takes it`);
  }
  return id;
}

/**
 * The SQL that lists one watcher's records, oldest first. The id goes in
 * as a hex blob literal cast to text: whatever it holds (quotes included)
 * is data, never SQL, with nothing to escape.
 */
export function recordsQuery(watcher) {
  const hex = Buffer.from(auditedId(watcher), "utf8").toString("hex");
  return `SELECT ts, request_id, route, status, role, watcher, short_id, named_by FROM audit WHERE watcher = CAST(X'${hex}' AS TEXT) ORDER BY ts`;
}

/** One watcher's records from the audit D1 database of `env`, through wrangler. */
export function findRecords(watcher, { env, local = false, persistTo } = {}) {
  // Every value as --flag=value: one starting with - would otherwise be read as a flag.
  const args = ["d1", "execute", "AUDIT_DB", `--env=${env}`, `--config=${AUDIT_CONFIG}`, "--json", `--command=${recordsQuery(watcher)}`];
  args.push(...(local ? ["--local", ...(persistTo ? [`--persist-to=${persistTo}`] : [])] : ["--remote"]));
  const run = spawnSync("wrangler", args, { cwd: ROOT, encoding: "utf8", timeout: 120_000, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  if (run.status !== 0) throw new Error(`wrangler d1 execute failed: ${(run.stderr || run.stdout).trim().split("\n").slice(-3).join(" ")}`);
  const [answer] = JSON.parse(run.stdout);
  return answer.results;
}

/** A record as one line: when, request id, route, status, whom, named how. */
export const recordLine = (r) =>
  `${new Date(r.ts).toISOString()}  ${r.request_id}  ${r.route} ${r.status}  ${r.role} ${r.watcher} watched ${r.short_id} (named by ${r.named_by})`;

function auditKey() {
  const devVars = (() => {
    try {
      return readFileSync(path.join(ROOT, ".dev.vars"), "utf8").match(/^\s*AUDIT_ID_SECRET\s*=\s*"?(.*?)"?\s*$/m)?.[1];
    } catch {
      return undefined;
    }
  })();
  return process.env.AUDIT_ID_SECRET ?? devVars;
}

function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      agent: { type: "string" },
      find: { type: "boolean" },
      env: { type: "string" },
      local: { type: "boolean" },
      "persist-to": { type: "string" },
    },
  });
  const [viewerId] = positionals;
  const byAgent = values.agent !== undefined;
  if ((viewerId === undefined) === !byAgent || (byAgent && !values.find) || (values.find && !values.env)) {
    console.error('usage: node scripts/audit-id.mjs "<viewer id>" [--find --env ENV]   |   --agent "<agent id>" --find --env ENV');
    process.exit(2);
  }
  let watcher = values.agent;
  try {
    if (byAgent) watcher = auditedId(watcher);
    if (viewerId !== undefined) auditedId(viewerId);
  } catch (err) {
    console.error(`audit-id: ${err.message}`);
    process.exit(2);
  }
  if (viewerId !== undefined) {
    const key = auditKey();
    if (!key) {
      console.error("audit-id: set AUDIT_ID_SECRET (the deployment's audit key) in the environment or in .dev.vars");
      process.exit(2);
    }
    watcher = viewerPseudonym(key, auditedId(viewerId));
    if (!values.find) {
      console.log(watcher);
      return;
    }
  }
  const records = findRecords(watcher, { env: values.env, local: values.local, persistTo: values["persist-to"] });
  for (const record of records) console.log(recordLine(record));
  console.log(`${records.length} record${records.length === 1 ? "" : "s"} for ${watcher} in the ${values.env} audit trail`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (err) {
    console.error(`audit-id: ${err.message}`);
    process.exit(1);
  }
}
