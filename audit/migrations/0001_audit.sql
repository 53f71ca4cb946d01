-- The audit trail: one row per watch_url handed out, and nothing else.
-- Written by audit/worker.mjs (a Tail Worker of the gateway).
CREATE TABLE audit (
  request_id TEXT PRIMARY KEY,  -- the gateway's X-Request-Id (the cf-ray)
  ts INTEGER NOT NULL,          -- when, in ms since 1970 (the log line's timestamp)
  route TEXT NOT NULL,          -- /agent or /view
  status INTEGER NOT NULL,      -- the gateway's HTTP status (302)
  role TEXT NOT NULL,           -- agent, or viewer
  watcher TEXT NOT NULL,        -- the agent's id, or the viewer's pseudonym (scripts/audit-id.mjs)
  short_id TEXT NOT NULL,       -- the visitor's Upscope Short ID
  named_by TEXT NOT NULL        -- short, unique, lookup or chooser
) WITHOUT ROWID;
CREATE INDEX audit_by_watcher ON audit (watcher, ts);
CREATE INDEX audit_by_short_id ON audit (short_id, ts);
CREATE INDEX audit_by_ts ON audit (ts);
