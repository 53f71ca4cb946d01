// One Cloudflare account as the stand-in models it: Workers (their versions,
// deployments, secrets, non-versioned settings and triggers), zones, the
// workers.dev subdomain, KV namespaces and D1 databases, and the plan. Every
// rule the stand-in enforces lives here, as a method that either changes the
// account or throws a CloudflareError; api.mjs only translates HTTP to these
// calls, and nothing here knows about HTTP or Miniflare.
import { randomBytes, randomUUID, createHash } from "node:crypto";
import { refuse } from "./errors.mjs";

/** Cloudflare's documented limit: a deployment may use any of the 100 most recent versions. */
export const DEPLOYABLE_VERSIONS = 100;
const hex32 = () => randomBytes(16).toString("hex");

/** Binding types the runtime can serve (runtime.mjs) and their required fields. */
const SUPPORTED_BINDINGS = new Set([
  "plain_text", "json", "secret_text", "kv_namespace", "d1", "ratelimit", "version_metadata", "analytics_engine", "service",
]);

export class Account {
  constructor({ id, plan = "paid", zones = [], workersDevSubdomain = "standin", apiToken, email = "deployer@example.com" }) {
    this.id = id;
    this.plan = plan;
    this.apiToken = apiToken;
    this.email = email;
    this.subdomain = workersDevSubdomain;
    this.zones = zones.map((name) => ({ id: hex32(), name }));
    this.scripts = new Map();
    this.kv = new Map();
    this.d1 = new Map();
    /** Custom Domains, by host name: { id, hostname, zone_id, zone_name, service, environment, created_on }. */
    this.domains = new Map();
    this.clock = 0;
    /** Called after every change that alters what the edge serves or which storage exists. */
    this.onChange = () => {};
  }

  /** An ISO timestamp, strictly after the previous one (wrangler sorts deployments by this text). */
  now() {
    this.clock = Math.max(Date.now(), this.clock + 1);
    return new Date(this.clock).toISOString();
  }

  changed() {
    this.onChange();
  }

  // ── Workers ────────────────────────────────────────────────────────────

  script(name) {
    const script = this.scripts.get(name);
    if (!script) throw refuse.workerNotFound();
    return script;
  }

  service(name) {
    const script = this.scripts.get(name);
    if (!script) throw refuse.serviceNotFound();
    return script;
  }

  latestVersion(script) {
    return script.versions.at(-1) ?? null;
  }

  currentDeployment(script) {
    return script.deployments.at(-1) ?? null;
  }

  /** The version serving 100 % now, if the current deployment is a single version. */
  stableVersionId(script) {
    const current = this.currentDeployment(script);
    return current?.versions.length === 1 && current.versions[0].percentage === 100 ? current.versions[0].version_id : null;
  }

  /**
   * `PUT /workers/scripts/:name`: the whole Worker at once. A new Worker is
   * created; an existing one gets a new version deployed at 100 %. Either
   * way the upload's non-versioned settings (tail consumers, logpush,
   * observability, tags) are applied, and checked first: nothing changes
   * when any part is refused.
   */
  putScript(name, upload, { source = "wrangler" } = {}) {
    const existing = this.scripts.get(name);
    const settings = this.checkSettings(name, {
      tail_consumers: upload.tail_consumers,
      logpush: upload.logpush,
      observability: upload.observability,
      tags: upload.tags,
    });
    const bindings = this.resolveBindings(existing, upload);
    const script = existing ?? this.newScript(name, source);
    const version = this.addVersion(script, upload, bindings, { source, triggered_by: "upload" });
    this.addDeployment(script, [{ version_id: version.id, percentage: 100 }], { source, triggered_by: "upload", message: upload.annotations?.["workers/message"] });
    Object.assign(script.settings, settings);
    if (!existing) this.scripts.set(name, script);
    script.last_deployed_from = source;
    this.changed();
    return { script, version };
  }

  newScript(name, source) {
    const created = this.now();
    return {
      name,
      tag: hex32(),
      created_on: created,
      modified_on: created,
      last_deployed_from: source,
      versions: [],
      deployments: [],
      settings: { tail_consumers: [], logpush: false, observability: { enabled: false }, tags: [] },
      subdomain: { enabled: false, previews_enabled: false },
      routes: [],
      schedules: [],
    };
  }

  /** `POST /workers/scripts/:name/versions`: a new version, serving nothing. */
  uploadVersion(name, upload, { source = "wrangler" } = {}) {
    const script = this.script(name);
    const bindings = this.resolveBindings(script, upload);
    const version = this.addVersion(script, upload, bindings, { source, triggered_by: "upload" });
    script.modified_on = version.created_on;
    this.changed();
    return version;
  }

  addVersion(script, upload, bindings, { source, triggered_by }) {
    const version = {
      id: randomUUID(),
      number: script.versions.length + 1,
      created_on: this.now(),
      source,
      author_email: this.email,
      annotations: {
        ...(upload.annotations?.["workers/message"] ? { "workers/message": upload.annotations["workers/message"] } : {}),
        ...(upload.annotations?.["workers/tag"] ? { "workers/tag": upload.annotations["workers/tag"] } : {}),
        "workers/triggered_by": triggered_by,
      },
      main_module: upload.main_module,
      modules: upload.modules,
      compatibility_date: upload.compatibility_date ?? "2021-11-02",
      compatibility_flags: upload.compatibility_flags ?? [],
      bindings,
    };
    script.versions.push(version);
    return version;
  }

  /**
   * The bindings a new version gets from an upload: `inherit` bindings take
   * the latest version's binding of that name (refused when it has none, as
   * `bindings_inherit=strict` asks); secrets the upload does not name are
   * kept from the latest version; variables only when `keep_bindings` says so.
   * Resources a binding names must exist.
   */
  resolveBindings(script, upload) {
    const previous = script ? this.latestVersion(script) : null;
    const before = new Map((previous?.bindings ?? []).map((b) => [b.name, b]));
    const result = [];
    const missing = [];
    const seen = new Set();
    for (const binding of upload.bindings) {
      if (seen.has(binding.name)) throw refuse.invalidUpload(`binding name '${binding.name}' is used more than once`);
      seen.add(binding.name);
      if (binding.type === "inherit") {
        const old = before.get(binding.name);
        if (old) result.push(structuredClone(old));
        else missing.push(binding.name);
        continue;
      }
      result.push(this.checkBinding(binding));
    }
    if (missing.length) throw refuse.invalidInherit(missing);
    const keep = new Set(["secret_text", ...(upload.keep_bindings ?? [])]);
    for (const old of before.values()) {
      if (!seen.has(old.name) && keep.has(old.type)) result.push(structuredClone(old));
    }
    return result;
  }

  checkBinding(binding) {
    if (!SUPPORTED_BINDINGS.has(binding.type)) throw refuse.unsupportedBinding(binding.type, binding.name);
    switch (binding.type) {
      case "plain_text":
      case "secret_text":
        if (typeof binding.text !== "string") throw refuse.invalidUpload(`binding ${binding.name} of type ${binding.type} needs a text`);
        return { type: binding.type, name: binding.name, text: binding.text };
      case "json":
        return { type: "json", name: binding.name, json: binding.json };
      case "kv_namespace":
        if (!this.kv.has(binding.namespace_id)) throw refuse.kvNamespaceInvalid(binding.namespace_id);
        return { type: "kv_namespace", name: binding.name, namespace_id: binding.namespace_id };
      case "d1":
        if (!this.d1.has(binding.id)) throw refuse.d1BindingInvalid(binding.name);
        return { type: "d1", name: binding.name, id: binding.id };
      case "ratelimit": {
        const { namespace_id, simple } = binding;
        if (!/^[1-9]\d*$/.test(String(namespace_id ?? ""))) {
          throw refuse.invalidUpload(`binding ${binding.name} of type ratelimit needs a positive integer namespace_id`);
        }
        if (!(simple?.limit > 0) || ![10, 60].includes(simple?.period)) {
          throw refuse.invalidUpload(`binding ${binding.name} of type ratelimit needs simple.limit > 0 and simple.period 10 or 60`);
        }
        return { type: "ratelimit", name: binding.name, namespace_id: String(namespace_id), simple: { limit: simple.limit, period: simple.period } };
      }
      case "version_metadata":
        return { type: "version_metadata", name: binding.name };
      case "analytics_engine":
        return { type: "analytics_engine", name: binding.name, dataset: binding.dataset ?? binding.name };
      case "service":
        return { type: "service", name: binding.name, service: binding.service, environment: binding.environment };
    }
  }

  /**
   * Non-versioned settings as sent, checked: tail consumers must be Workers
   * of this account (the Worker itself included), on a paid plan.
   */
  checkSettings(name, settings) {
    const out = {};
    if (settings.tail_consumers !== undefined) {
      const consumers = (settings.tail_consumers ?? []).map((c) => ({ service: c.service, ...(c.environment ? { environment: c.environment } : {}) }));
      if (consumers.length && this.plan !== "paid") throw refuse.tailConsumersNeedPaid();
      for (const consumer of consumers) {
        if (consumer.service !== name && !this.scripts.has(consumer.service)) throw refuse.tailConsumerMissing(consumer.service);
      }
      out.tail_consumers = consumers;
    }
    if (settings.logpush !== undefined) out.logpush = Boolean(settings.logpush);
    if (settings.observability !== undefined) out.observability = settings.observability ?? { enabled: false };
    if (settings.tags !== undefined) out.tags = settings.tags ?? [];
    return out;
  }

  /** `PATCH /workers/scripts/:name/script-settings`. */
  patchSettings(name, patch) {
    const script = this.script(name);
    Object.assign(script.settings, this.checkSettings(name, patch));
    this.changed();
    return script.settings;
  }

  /**
   * `POST /workers/scripts/:name/deployments`: which versions serve, and how
   * much. One version at 100 %, or two splitting 100 %; each one of the
   * Worker's 100 most recent versions. Returning to an older version whose
   * secrets differ from those serving now is refused unless `force`.
   */
  createDeployment(name, { strategy, versions, annotations } = {}, { force = false, source = "wrangler" } = {}) {
    const script = this.script(name);
    if (strategy !== "percentage") throw refuse.deploymentStrategy(strategy);
    if (!Array.isArray(versions) || versions.length < 1 || versions.length > 2) throw refuse.deploymentVersions(versions?.length ?? 0);
    const recent = new Set(script.versions.slice(-DEPLOYABLE_VERSIONS).map((v) => v.id));
    const ids = new Set();
    for (const { version_id, percentage } of versions) {
      if (ids.has(version_id)) throw refuse.deploymentDuplicate(version_id);
      ids.add(version_id);
      if (!script.versions.some((v) => v.id === version_id)) throw refuse.versionNotFound(version_id);
      if (!recent.has(version_id)) throw refuse.versionTooOld(version_id);
      if (typeof percentage !== "number" || !(percentage >= 0 && percentage <= 100)) throw refuse.deploymentPercentage(percentage);
    }
    const total = versions.reduce((sum, v) => sum + v.percentage, 0);
    // The tolerance wrangler itself allows (EPSILON in its versions deploy): no stricter than the client.
    if (Math.abs(total - 100) > 1e-3) throw refuse.deploymentPercentages(total);
    if (!force && versions.length === 1) {
      const changed = this.secretsChangedSince(script, versions[0].version_id);
      if (changed.length) throw refuse.secretsChanged(changed);
    }
    const deployment = this.addDeployment(script, versions.map(({ version_id, percentage }) => ({ version_id, percentage })), {
      source,
      triggered_by: "deployment",
      message: annotations?.["workers/message"],
    });
    this.changed();
    return deployment;
  }

  /**
   * The secrets whose value differs between `versionId` and the versions
   * serving now, when `versionId` is older than all of them (a rollback).
   */
  secretsChangedSince(script, versionId) {
    const current = this.currentDeployment(script);
    if (!current) return [];
    const index = (id) => script.versions.findIndex((v) => v.id === id);
    const target = index(versionId);
    if (!current.versions.every((v) => index(v.version_id) > target)) return [];
    const secrets = (id) => new Map(script.versions[index(id)].bindings.filter((b) => b.type === "secret_text").map((b) => [b.name, b.text]));
    const then = secrets(versionId);
    const changed = new Set();
    for (const { version_id } of current.versions) {
      const now = secrets(version_id);
      for (const name of new Set([...then.keys(), ...now.keys()])) {
        if (then.get(name) !== now.get(name)) changed.add(name);
      }
    }
    return [...changed].sort();
  }

  addDeployment(script, versions, { source, triggered_by, message }) {
    const deployment = {
      id: randomUUID(),
      source,
      strategy: "percentage",
      author_email: this.email,
      created_on: this.now(),
      annotations: { "workers/triggered_by": triggered_by, ...(message ? { "workers/message": message } : {}) },
      versions,
    };
    script.deployments.push(deployment);
    script.modified_on = deployment.created_on;
    return deployment;
  }

  version(name, id) {
    const version = this.script(name).versions.find((v) => v.id === id);
    if (!version) throw refuse.versionNotFound(id);
    return version;
  }

  // ── secrets ────────────────────────────────────────────────────────────

  /**
   * `wrangler secret put|delete|bulk`: a new version (the latest one with
   * the secrets changed), deployed at 100 % at once. Refused when the latest
   * version is not the one serving 100 % (an unfinished or returned rollout):
   * the change would silently deploy code that is not serving.
   */
  editSecretsAndDeploy(name, changes) {
    const script = this.script(name);
    const latest = this.latestVersion(script);
    if (!latest || this.stableVersionId(script) !== latest.id) throw refuse.latestNotDeployed();
    const version = this.versionWithSecrets(script, latest, changes, { message: undefined, tag: undefined, triggered_by: "secret" });
    this.addDeployment(script, [{ version_id: version.id, percentage: 100 }], { source: "wrangler", triggered_by: "secret" });
    this.changed();
    return version;
  }

  /** `wrangler versions secret put|bulk|delete`: a new version from the latest one, serving nothing. */
  editSecretsOfLatest(name, changes, annotations = {}) {
    const script = this.script(name);
    const latest = this.latestVersion(script);
    if (!latest) throw refuse.noVersions();
    const version = this.versionWithSecrets(script, latest, changes, {
      message: annotations["workers/message"],
      tag: annotations["workers/tag"],
      triggered_by: "secret",
    });
    this.changed();
    return version;
  }

  /** `changes`: { NAME: value | null } (null deletes). */
  versionWithSecrets(script, base, changes, { message, tag, triggered_by }) {
    const bindings = base.bindings.filter((b) => !(b.name in changes));
    for (const [secretName, value] of Object.entries(changes)) {
      if (value === null || value === undefined) continue;
      if (typeof value !== "string") throw refuse.badRequest(`secret ${secretName} needs a text value`);
      bindings.push({ type: "secret_text", name: secretName, text: value });
    }
    return this.addVersion(
      script,
      {
        main_module: base.main_module,
        modules: base.modules,
        compatibility_date: base.compatibility_date,
        compatibility_flags: base.compatibility_flags,
        annotations: { "workers/message": message, "workers/tag": tag },
      },
      bindings,
      { source: "wrangler", triggered_by },
    );
  }

  /** The secrets of the latest version, by name only. */
  secretNames(name) {
    const latest = this.latestVersion(this.script(name));
    return (latest?.bindings ?? []).filter((b) => b.type === "secret_text").map((b) => ({ name: b.name, type: "secret_text" }));
  }

  // ── triggers ───────────────────────────────────────────────────────────

  /** The zone of this account a host name belongs to (the longest matching zone name). */
  zoneFor(hostname, { zone_id, zone_name } = {}) {
    if (zone_id) return this.zones.find((z) => z.id === zone_id) ?? null;
    if (zone_name) {
      const zone = this.zones.find((z) => z.name === zone_name);
      return zone && (hostname === zone.name || hostname.endsWith(`.${zone.name}`)) ? zone : null;
    }
    const matches = this.zones.filter((z) => hostname === z.name || hostname.endsWith(`.${z.name}`));
    return matches.sort((a, b) => b.name.length - a.name.length)[0] ?? null;
  }

  /** `PUT /workers/scripts/:name/routes`: this Worker's routes, replaced. */
  putRoutes(name, routes) {
    const script = this.script(name);
    const resolved = [];
    const noZone = [];
    for (const route of routes) {
      const pattern = route.pattern;
      const host = pattern.replace(/^https?:\/\//, "").split("/")[0].replace(/^\*\.?/, "");
      const zone = this.zoneFor(host, route);
      if (!zone) noZone.push(pattern);
      else resolved.push({ id: hex32(), pattern, zone_id: zone.id, zone_name: zone.name, script: name });
    }
    if (noZone.length) throw refuse.zoneNotFound(noZone);
    for (const route of resolved) {
      for (const other of this.scripts.values()) {
        if (other.name !== name && other.routes.some((r) => r.pattern === route.pattern)) throw refuse.routeTaken(route.pattern, other.name);
      }
    }
    script.routes = resolved;
    this.changed();
    return resolved.map(({ id, pattern, script: s }) => ({ id, pattern, script: s }));
  }

  /** `GET /zones/:id/workers/routes`. */
  zoneRoutes(zoneId) {
    return [...this.scripts.values()].flatMap((s) => s.routes.filter((r) => r.zone_id === zoneId).map(({ id, pattern }) => ({ id, pattern, script: s.name })));
  }

  /**
   * `PUT /workers/scripts/:name/domains/records`: this Worker's Custom
   * Domains. Each host must be in one of the account's zones; a host that is
   * another Worker's domain moves only with `override_existing_origin`.
   * `override_scope` replaces this Worker's whole set.
   */
  putDomains(name, { origins = [], override_scope = false, override_existing_origin = false } = {}) {
    this.script(name);
    const records = [];
    const noZone = [];
    for (const origin of origins) {
      const hostname = String(origin.hostname ?? "").toLowerCase();
      const zone = this.zoneFor(hostname, origin);
      if (!zone) {
        noZone.push(hostname);
        continue;
      }
      const taken = this.domains.get(hostname);
      if (taken && taken.service !== name && !override_existing_origin) throw refuse.domainTaken(hostname, taken.service);
      records.push({ hostname, zone });
    }
    if (noZone.length) throw refuse.zoneNotFound(noZone);
    if (override_scope) {
      for (const [host, record] of this.domains) if (record.service === name) this.domains.delete(host);
    }
    const result = records.map(({ hostname, zone }) => {
      const record = {
        id: hex32(),
        zone_id: zone.id,
        zone_name: zone.name,
        hostname,
        service: name,
        environment: "production",
        cert_id: hex32(),
        created_on: this.now(),
      };
      this.domains.set(hostname, record);
      return record;
    });
    this.changed();
    return result;
  }

  /** What `PUT …/domains/records` would change, as `POST …/domains/changeset` reports it. */
  domainChangeset(name, origins) {
    const added = [];
    const updated = [];
    const conflicting = [];
    for (const origin of origins) {
      const hostname = String(origin.hostname ?? "").toLowerCase();
      const zone = this.zoneFor(hostname, origin);
      if (!zone) throw refuse.zoneNotFound([hostname]);
      const taken = this.domains.get(hostname);
      const entry = { hostname, zone_id: zone.id, zone_name: zone.name, service: name, environment: "production" };
      if (!taken) added.push(entry);
      else updated.push({ ...entry, id: taken.id, modified: taken.service !== name });
    }
    const wanted = new Set(origins.map((o) => String(o.hostname).toLowerCase()));
    const removed = [...this.domains.values()].filter((r) => r.service === name && !wanted.has(r.hostname));
    return { added, removed, updated, conflicting };
  }

  domainRecords(filter = {}) {
    return [...this.domains.values()].filter((r) => !filter.service || r.service === filter.service);
  }

  domainRecord(id) {
    const record = [...this.domains.values()].find((r) => r.id === id);
    if (!record) throw refuse.noRoute("GET", `/workers/domains/records/${id}`);
    return record;
  }

  /** `PUT /workers/scripts/:name/schedules`: this Worker's cron triggers, replaced. */
  putSchedules(name, schedules) {
    const script = this.script(name);
    const now = this.now();
    for (const { cron } of schedules) {
      if (typeof cron !== "string" || cron.trim().split(/\s+/).length !== 5) throw refuse.invalidCron(cron);
    }
    script.schedules = schedules.map(({ cron }) => ({ cron, created_on: now, modified_on: now }));
    return { schedules: script.schedules };
  }

  /** `POST /workers/scripts/:name/subdomain`: whether the Worker answers on workers.dev (and preview URLs). */
  setScriptSubdomain(name, { enabled, previews_enabled }) {
    const script = this.script(name);
    if (enabled && !this.subdomain) throw refuse.subdomainNotFound();
    script.subdomain = {
      enabled: Boolean(enabled),
      previews_enabled: previews_enabled === undefined ? Boolean(enabled) : Boolean(previews_enabled),
    };
    this.changed();
    return script.subdomain;
  }

  accountSubdomain() {
    if (!this.subdomain) throw refuse.subdomainNotFound();
    return { subdomain: this.subdomain };
  }

  subdomainAvailability(name) {
    if (name === this.subdomain) throw refuse.subdomainTaken();
    throw refuse.subdomainAvailable();
  }

  registerSubdomain(name) {
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name ?? "")) throw refuse.badRequest(`invalid subdomain ${JSON.stringify(name)}`);
    this.subdomain = name;
    this.changed();
    return { subdomain: name };
  }

  // ── storage ────────────────────────────────────────────────────────────

  createKvNamespace(title) {
    if (typeof title !== "string" || !title) throw refuse.badRequest("a KV namespace needs a title");
    if ([...this.kv.values()].some((ns) => ns.title === title)) throw refuse.kvTitleTaken();
    const ns = { id: hex32(), title, supports_url_encoding: true };
    this.kv.set(ns.id, ns);
    this.changed();
    return ns;
  }

  kvNamespace(id) {
    const ns = this.kv.get(id);
    if (!ns) throw refuse.kvNotFound();
    return ns;
  }

  createD1Database(name) {
    if (typeof name !== "string" || !/^[a-z0-9][a-z0-9-_]*$/i.test(name)) throw refuse.badRequest(`invalid database name ${JSON.stringify(name)}`);
    if ([...this.d1.values()].some((db) => db.name === name)) throw refuse.d1NameTaken();
    const db = { uuid: randomUUID(), name, created_at: this.now(), version: "production", num_tables: 0, file_size: 0, running_in_region: "WEUR" };
    this.d1.set(db.uuid, db);
    this.changed();
    return db;
  }

  /** A D1 database by uuid or by name, as `GET /d1/database/:idOrName` finds it. */
  d1Database(idOrName) {
    const db = this.d1.get(idOrName) ?? [...this.d1.values()].find((d) => d.name === idOrName);
    if (!db) throw refuse.d1NotFound();
    return db;
  }
}

/** A version as the API shows it (`GET …/versions/:id`): bindings with secrets by name only. */
export function publicVersion(version) {
  return {
    id: version.id,
    number: version.number,
    metadata: {
      author_email: version.author_email,
      author_id: "standin",
      created_on: version.created_on,
      modified_on: version.created_on,
      source: version.source,
      has_preview: false,
    },
    annotations: version.annotations,
    resources: {
      script: { etag: digest(version.modules.map((m) => m.content)), handlers: ["fetch"], last_deployed_from: version.source },
      script_runtime: { compatibility_date: version.compatibility_date, compatibility_flags: version.compatibility_flags, usage_model: "standard" },
      bindings: version.bindings.map(publicBinding),
    },
  };
}

/** A binding as the API shows it: a secret's value never leaves the stand-in. */
export function publicBinding(binding) {
  if (binding.type === "secret_text") return { type: "secret_text", name: binding.name };
  return structuredClone(binding);
}

/** A deployment as the API shows it. */
export function publicDeployment(deployment) {
  return structuredClone(deployment);
}

function digest(parts) {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
}

/** A short fingerprint of a secret's value: tests can see that it changed without seeing it. */
export function fingerprint(value) {
  return createHash("sha256").update(value).digest("hex").slice(0, 12);
}
