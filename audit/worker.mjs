// The gateway's audit trail, kept: a Tail Worker that receives the gateway's
// trace events and stores, for each `watch_url` handed out, the `audit`
// member of the gateway's JSON log line (src/observe.rs) with its request
// id, timestamp, route and status, in a D1 database the operator owns.
// Nothing else of the event (its URL, headers, other log lines) is stored.
//
// AUDIT_RETENTION_DAYS: a daily cron deletes records older than that many
// days; unset or 0 keeps them for good.

const ROLES = { agent: "agent_id", viewer: "viewer" };
const NAMED_BY = ["short", "unique", "lookup", "chooser"];
const MAX_TEXT = 200;
const DAY_MS = 86_400_000;

const text = (value) => (typeof value === "string" && value.length > 0 && value.length <= MAX_TEXT ? value : null);

/** The row a log message yields: only a gateway line with a well-formed `audit` member does. */
export function auditRow(message, timestamp) {
  if (typeof message !== "string" || !message.startsWith("{")) return null;
  let line;
  try {
    line = JSON.parse(message);
  } catch {
    return null;
  }
  const audit = line.audit;
  const watcherKey = ROLES[audit?.role];
  const row = {
    request_id: text(line.request_id),
    ts: Number.isFinite(timestamp) ? Math.trunc(timestamp) : null,
    route: text(line.route),
    status: Number.isInteger(line.status) ? line.status : null,
    role: watcherKey ? audit.role : null,
    watcher: watcherKey ? text(audit[watcherKey]) : null,
    short_id: text(audit?.short_id),
    named_by: NAMED_BY.includes(audit?.named_by) ? audit.named_by : null,
  };
  return Object.values(row).includes(null) ? null : row;
}

export default {
  async tail(events, env) {
    const rows = [];
    for (const event of events) {
      for (const log of event.logs ?? []) {
        const row = auditRow(log.message?.[0], log.timestamp);
        if (row) rows.push(row);
      }
    }
    if (!rows.length) return;
    // A batch delivered twice stores each record once.
    const insert = env.AUDIT_DB.prepare(
      "INSERT OR IGNORE INTO audit (request_id, ts, route, status, role, watcher, short_id, named_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    await env.AUDIT_DB.batch(rows.map((r) => insert.bind(r.request_id, r.ts, r.route, r.status, r.role, r.watcher, r.short_id, r.named_by)));
  },

  async scheduled(controller, env) {
    const days = Number(env.AUDIT_RETENTION_DAYS ?? 0);
    if (!Number.isInteger(days) || days <= 0) return;
    await env.AUDIT_DB.prepare("DELETE FROM audit WHERE ts < ?").bind(controller.scheduledTime - days * DAY_MS).run();
  },
};
