// What the account runs: one Miniflare (workerd) instance holding every
// version that is part of a current deployment, with the modules that were
// uploaded and the bindings the version has, plus a control Worker that
// binds every KV namespace and D1 database of the account (so the API can
// run D1 SQL, and tests can read KV, through the same storage the versions
// use). KV and D1 persist in a temporary folder, keyed by namespace and
// database id, so every version binding one id sees the same data and a
// reconfiguration loses nothing. The instance is rebuilt lazily: a change
// to the account marks it stale, and the next request or query rebuilds it.
import { Miniflare } from "miniflare";
import path from "node:path";
import { refuse } from "./errors.mjs";

const CONTROL = "cf-standin-control";
const ANALYTICS = "cf-standin-analytics-engine";
const DATA_POINT = "cf-standin:data-point ";

/** The Miniflare Worker name of a version. */
export const workerName = (script, versionId) => `${script}--${versionId}`;
const kvBinding = (id) => `KV_${id.replace(/[^A-Za-z0-9]/g, "_")}`;
const d1Binding = (uuid) => `D1_${uuid.replace(/[^A-Za-z0-9]/g, "_")}`;

/**
 * A stand-in for a Workers Analytics Engine dataset: `writeDataPoint` prints
 * the point with its dataset, Worker and version; the runtime collects the
 * lines (Miniflare's own dataset keeps nothing a test could read).
 */
const ANALYTICS_WORKER = {
  name: ANALYTICS,
  modules: true,
  script: `
    export default function ({ dataset, script, version }) {
      return {
        writeDataPoint(point) {
          console.log(${JSON.stringify(DATA_POINT)} + JSON.stringify({ dataset, script, version, point: point ?? {} }));
        },
      };
    }`,
};

export class Runtime {
  constructor({ account, dir, validateUploads = true }) {
    this.account = account;
    this.dir = dir;
    this.validateUploads = validateUploads;
    this.mf = null;
    this.stale = true;
    this.queue = Promise.resolve();
    this.output = "";
    /** Lines the Workers printed (their console), as { line }, data points excluded. */
    this.logs = [];
    /** Analytics Engine data points: { dataset, script, version, point }. */
    this.dataPoints = [];
    /** The Miniflare Worker names of the versions loaded now (workerName(script, version)). */
    this.loaded = new Set();
  }

  markStale() {
    this.stale = true;
  }

  /** The Miniflare instance, rebuilt first if the account changed. Calls are serialised. */
  ready() {
    const next = this.queue.then(async () => {
      if (this.mf && !this.stale) return this.mf;
      this.stale = false;
      const options = this.options();
      if (this.mf) await this.mf.setOptions(options);
      else this.mf = new Miniflare(options);
      await this.mf.ready;
      return this.mf;
    });
    this.queue = next.catch(() => {});
    return next;
  }

  /** The versions to load: every version of every current deployment. */
  deployedVersions() {
    const out = [];
    for (const script of this.account.scripts.values()) {
      const current = this.account.currentDeployment(script);
      for (const { version_id } of current?.versions ?? []) {
        out.push({ script, version: script.versions.find((v) => v.id === version_id) });
      }
    }
    return out;
  }

  /** The version a Worker name (a tail consumer, a service binding) reaches: its deployment's largest share. */
  servingWorker(scriptName) {
    const script = this.account.scripts.get(scriptName);
    const current = script && this.account.currentDeployment(script);
    if (!current) return null;
    const top = [...current.versions].sort((a, b) => b.percentage - a.percentage)[0];
    return workerName(scriptName, top.version_id);
  }

  options() {
    const deployed = this.deployedVersions();
    this.loaded = new Set(deployed.map(({ script, version }) => workerName(script.name, version.id)));
    const control = {
      name: CONTROL,
      modules: true,
      script: `export default { fetch() { return new Response("Cloudflare API stand-in: control Worker"); } }`,
      kvNamespaces: Object.fromEntries([...this.account.kv.keys()].map((id) => [kvBinding(id), id])),
      d1Databases: Object.fromEntries([...this.account.d1.keys()].map((uuid) => [d1Binding(uuid), uuid])),
    };
    const workers = deployed.map(({ script, version }) => this.versionWorker(script, version));
    return {
      kvPersist: path.join(this.dir, "kv"),
      d1Persist: path.join(this.dir, "d1"),
      workers: [control, ANALYTICS_WORKER, ...workers],
      handleRuntimeStdio: (stdout, stderr) => {
        stdout.on("data", (d) => this.collect(String(d)));
        stderr.on("data", (d) => this.collect(String(d)));
      },
    };
  }

  collect(text) {
    this.output += text;
    const lines = this.output.split("\n");
    this.output = lines.pop();
    for (const line of lines) {
      if (line.startsWith(DATA_POINT)) this.dataPoints.push(JSON.parse(line.slice(DATA_POINT.length)));
      else if (line.trim()) this.logs.push(line);
    }
  }

  /** The Miniflare options of one deployed version: its modules and bindings, as Cloudflare would bind them. */
  versionWorker(script, version) {
    const root = path.join(this.dir, "modules", version.id);
    const worker = {
      name: workerName(script.name, version.id),
      modulesRoot: root,
      modules: version.modules.map((m) => ({ type: m.type, path: path.join(root, m.name), contents: m.content })),
      compatibilityDate: version.compatibility_date,
      compatibilityFlags: version.compatibility_flags,
      bindings: {},
      kvNamespaces: {},
      d1Databases: {},
      ratelimits: {},
      wrappedBindings: {},
      serviceBindings: {},
    };
    for (const b of version.bindings) {
      switch (b.type) {
        case "plain_text":
        case "secret_text":
          worker.bindings[b.name] = b.text;
          break;
        case "json":
          worker.bindings[b.name] = b.json;
          break;
        case "version_metadata":
          worker.bindings[b.name] = { id: version.id, tag: version.annotations["workers/tag"] ?? "", timestamp: version.created_on };
          break;
        case "kv_namespace":
          worker.kvNamespaces[b.name] = b.namespace_id;
          break;
        case "d1":
          worker.d1Databases[b.name] = b.id;
          break;
        case "ratelimit":
          worker.ratelimits[b.name] = { namespace_id: b.namespace_id, simple: b.simple };
          break;
        case "analytics_engine":
          worker.wrappedBindings[b.name] = { scriptName: ANALYTICS, bindings: { dataset: b.dataset, script: script.name, version: version.id } };
          break;
        case "service": {
          const target = this.servingWorker(b.service);
          if (target) worker.serviceBindings[b.name] = target;
          break;
        }
      }
    }
    const tails = script.settings.tail_consumers.map((c) => this.servingWorker(c.service)).filter(Boolean);
    if (tails.length) worker.tails = tails;
    return worker;
  }

  /** Sends `request` (url and init) to one deployed version. */
  async fetch(scriptName, versionId, url, init) {
    const mf = await this.ready();
    const name = workerName(scriptName, versionId);
    if (!this.loaded.has(name)) throw new Error(`version ${versionId} of ${scriptName} is not deployed`);
    const worker = await mf.getWorker(name);
    return worker.fetch(url, init);
  }

  /**
   * Runs `sql` (one or more statements) on D1 database `uuid`, as the D1
   * `/query` endpoint does: every statement in order, in one batch (all or
   * nothing), one result per statement.
   */
  async d1Query(uuid, sql, params = []) {
    const mf = await this.ready();
    const db = await mf.getD1Database(d1Binding(uuid), CONTROL);
    const statements = splitSql(sql);
    if (!statements.length) throw refuse.d1Query("no SQL statement to run");
    if (params.length && statements.length > 1) throw refuse.d1Query("parameters need a single statement");
    const started = Date.now();
    let results;
    try {
      results = await db.batch(statements.map((s, i) => (i === 0 && params.length ? db.prepare(s).bind(...params) : db.prepare(s))));
    } catch (err) {
      throw refuse.d1Query(`${(err.cause ?? err).message}: SQLITE_ERROR`);
    }
    const duration = Date.now() - started;
    return results.map((r) => ({
      results: r.results ?? [],
      success: r.success,
      meta: { served_by: "cf-standin", duration, changes: r.meta?.changes ?? 0, last_row_id: r.meta?.last_row_id ?? 0, changed_db: (r.meta?.changes ?? 0) > 0, rows_read: r.meta?.rows_read ?? 0, rows_written: r.meta?.rows_written ?? 0, size_after: r.meta?.size_after ?? 0 },
    }));
  }

  /** The KV namespace `id`, as a Workers KV binding (for tests). */
  async kv(id) {
    const mf = await this.ready();
    return mf.getKVNamespace(kvBinding(id), CONTROL);
  }

  /** The D1 database `uuid`, as a D1 binding (for tests). */
  async d1(uuid) {
    const mf = await this.ready();
    return mf.getD1Database(d1Binding(uuid), CONTROL);
  }

  /**
   * Cloudflare refuses a version whose top-level code throws (the Worker
   * would not start: error 10021 with the exception). Checked in a throwaway
   * instance with the upload's modules only: top-level code has no bindings.
   */
  async validate(upload) {
    if (!this.validateUploads) return;
    const root = path.join(this.dir, "validate");
    const mf = new Miniflare({
      modulesRoot: root,
      modules: upload.modules.map((m) => ({ type: m.type, path: path.join(root, m.name), contents: m.content })),
      compatibilityDate: upload.compatibility_date ?? "2021-11-02",
      compatibilityFlags: upload.compatibility_flags ?? [],
      handleRuntimeStdio: () => {},
    });
    try {
      await mf.ready;
    } catch (err) {
      const uncaught = /Uncaught [^\n]*(\n\s+at [^\n]*)?/.exec(String(err.message))?.[0];
      throw refuse.invalidUpload(uncaught ?? `the Worker failed to start: ${String(err.message).split("\n")[0]}`);
    } finally {
      await mf.dispose().catch(() => {});
    }
  }

  async dispose() {
    await this.queue;
    await this.mf?.dispose();
    this.mf = null;
  }
}

/**
 * SQL text split into statements on `;`, outside quotes, comments and
 * `CREATE TRIGGER … BEGIN … END` bodies, as D1 splits a multi-statement query.
 */
export function splitSql(sql) {
  const statements = [];
  let current = "";
  let depth = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      i = end === -1 ? sql.length : end;
      current += "\n";
      continue;
    }
    if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end === -1 ? sql.length : end + 1;
      current += " ";
      continue;
    }
    if (c === "'" || c === '"' || c === "`" || c === "[") {
      const close = c === "[" ? "]" : c;
      let j = i + 1;
      while (j < sql.length && !(sql[j] === close && sql[j + 1] !== close)) j += sql[j] === close ? 2 : 1;
      current += sql.slice(i, j + 1);
      i = j;
      continue;
    }
    if (/[A-Za-z]/.test(c) && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? "")) {
      const word = /^[A-Za-z_]+/.exec(sql.slice(i))[0];
      const upper = word.toUpperCase();
      if (upper === "BEGIN" && /CREATE\s+(TEMP\s+|TEMPORARY\s+)?TRIGGER/i.test(current)) depth++;
      if (upper === "END" && depth > 0) depth--;
      current += word;
      i += word.length - 1;
      continue;
    }
    if (c === ";" && depth === 0) {
      if (current.trim()) statements.push(current.trim());
      current = "";
      continue;
    }
    current += c;
  }
  if (current.trim()) statements.push(current.trim());
  return statements;
}
