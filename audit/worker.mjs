// The gateway's audit trail, kept: a Tail Worker that receives the gateway's
// trace events and stores, for each `watch_url` handed out, the `audit`
// member of the gateway's JSON log line (src/observe.rs) with its request
// id, timestamp, route and status, in a D1 database the operator owns.
// Nothing else of the event (its URL, headers, other log lines) is stored.
//
// AUDIT_RETENTION_DAYS: a daily cron deletes records older than that many
// days; unset or 0 keeps them for good.
//
// A record it cannot keep (a member it cannot read, or D1 refusing the
// batch) is counted and named by request id in this worker's own log, as
// `"message":"audit records not stored"`; a failed batch also fails the
// invocation.

import { MAX_ID_CHARS } from "./limits.mjs";

const ROLES = { agent: "agent_id", viewer: "viewer" };
const NAMED_BY = ["short", "unique", "lookup", "chooser"];
const MAX_TEXT = 200;
const DAY_MS = 86_400_000;
/** Records named, by request id, in one "not stored" line (all are counted). */
const MAX_NAMED = 50;

const text = (value) => (typeof value === "string" && value.length > 0 && value.length <= MAX_TEXT ? value : null);
/** A watcher as the gateway writes one: 1 to MAX_ID_CHARS characters. */
const watcherId = (value) => (typeof value === "string" && value.length > 0 && [...value].length <= MAX_ID_CHARS ? value : null);
/** A request id as the gateway makes one (a cf-ray, or 16 hex digits): safe to log. */
const loggableId = (value) => (typeof value === "string" && /^[A-Za-z0-9-]{1,64}$/.test(value) ? value : "unknown");

/**
 * What a log message is to the trail: `null` when it is no gateway line
 * with an `audit` member (nothing to keep), else `{ row }`, or `{ unstored }`
 * naming the request and which member could not be read (never its value).
 */
export function auditRecord(message, timestamp) {
  if (typeof message !== "string" || !message.startsWith("{")) return null;
  let line;
  try {
    line = JSON.parse(message);
  } catch {
    return null;
  }
  const audit = line?.audit;
  if (audit === undefined) return null;
  const watcherKey = ROLES[audit?.role];
  const row = {
    request_id: text(line.request_id),
    ts: Number.isFinite(timestamp) ? Math.trunc(timestamp) : null,
    route: text(line.route),
    status: Number.isInteger(line.status) ? line.status : null,
    role: watcherKey ? audit.role : null,
    watcher: watcherKey ? watcherId(audit[watcherKey]) : null,
    short_id: text(audit?.short_id),
    named_by: NAMED_BY.includes(audit?.named_by) ? audit.named_by : null,
  };
  const missing = Object.keys(row).filter((key) => row[key] === null);
  if (!missing.length) return { row };
  const name = (key) => (key === "watcher" ? (watcherKey ?? "watcher") : key === "ts" ? "timestamp" : key);
  const reason = `unreadable ${missing.map(name).join(", ")}${missing.includes("watcher") && watcherKey ? ` (1 to ${MAX_ID_CHARS} characters)` : ""}`;
  return { unstored: { request_id: loggableId(line.request_id), reason } };
}

/** The row a log message yields: only a gateway line with a well-formed `audit` member does. */
export const auditRow = (message, timestamp) => auditRecord(message, timestamp)?.row ?? null;

/**
 * Records the trail could not keep, counted and named by request id in the
 * audit worker's own log (its Workers Logs): never dropped without a trace,
 * and never with a watcher, Short ID or URL.
 */
function reportUnstored(records) {
  // Every one counted; the first MAX_NAMED named, so that one line stays small.
  const named = records.slice(0, MAX_NAMED);
  console.error(JSON.stringify({ level: "error", message: "audit records not stored", count: records.length, records: named }));
}

export default {
  async tail(events, env) {
    const rows = [];
    const unstored = [];
    for (const event of events) {
      for (const log of event.logs ?? []) {
        const record = auditRecord(log.message?.[0], log.timestamp);
        if (record?.row) rows.push(record.row);
        else if (record) unstored.push(record.unstored);
      }
    }
    if (rows.length) {
      // A batch delivered twice stores each record once.
      const insert = env.AUDIT_DB.prepare(
        "INSERT OR IGNORE INTO audit (request_id, ts, route, status, role, watcher, short_id, named_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      );
      try {
        await env.AUDIT_DB.batch(rows.map((r) => insert.bind(r.request_id, r.ts, r.route, r.status, r.role, r.watcher, r.short_id, r.named_by)));
      } catch (err) {
        // Only the error's kind (D1_ERROR, …): its message may quote a value.
        const kind = String(err?.message ?? err).match(/^[A-Z][A-Z0-9_]{0,39}(?=:)/)?.[0] ?? "error";
        reportUnstored([...unstored, ...rows.map((r) => ({ request_id: loggableId(r.request_id), reason: `not written: ${kind}` }))]);
        throw err;
      }
    }
    if (unstored.length) reportUnstored(unstored);
  },

  async scheduled(controller, env) {
    const days = Number(env.AUDIT_RETENTION_DAYS ?? 0);
    if (!Number.isInteger(days) || days <= 0) return;
    await env.AUDIT_DB.prepare("DELETE FROM audit WHERE ts < ?").bind(controller.scheduledTime - days * DAY_MS).run();
  },
};
