// The Cloudflare v4 API over HTTP on loopback, as the pinned wrangler calls it
// (CLOUDFLARE_API_BASE_URL=http://127.0.0.1:PORT/client/v4): the envelope
// `{ success, errors, messages, result, result_info }`, bearer-token auth,
// and one route per endpoint wrangler uses on this project's life cycle
// (README.md lists them). Rules live in account.mjs; this file only maps
// HTTP to it. The same server is also the "internet sentinel": wrangler is
// given it as HTTPS_PROXY/HTTP_PROXY, so any request wrangler would send
// off loopback arrives here, is recorded and refused.
import http from "node:http";
import { CloudflareError, refuse } from "./errors.mjs";
import { parseUpload } from "./upload.mjs";
import { publicBinding, publicDeployment, publicVersion } from "./account.mjs";

export const API_PREFIX = "/client/v4";

/** Routes: [method, pattern, handler(ctx)]; `:name` segments are captured (decoded). */
function routes(account, runtime) {
  const ok = (result, result_info) => ({ result, result_info });
  const mine = (ctx) => {
    if (ctx.params.account !== account.id) throw refuse.authentication();
  };
  const source = (ctx) => (String(ctx.headers["user-agent"] ?? "").startsWith("wrangler/") ? "wrangler" : "api");
  const paged = (ctx, items) => {
    const page = Math.max(1, Number(ctx.query.get("page") ?? 1) || 1);
    const perPage = Math.max(1, Number(ctx.query.get("per_page") ?? 20) || 20);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    return ok(slice, { page, per_page: perPage, count: slice.length, total_count: items.length });
  };
  const scriptSummary = (s) => ({
    id: s.name,
    tag: s.tag,
    etag: s.tag,
    handlers: ["fetch"],
    created_on: s.created_on,
    modified_on: s.modified_on,
    last_deployed_from: s.last_deployed_from,
    usage_model: "standard",
    tags: s.settings.tags,
    tail_consumers: s.settings.tail_consumers,
    logpush: s.settings.logpush,
    observability: s.settings.observability,
    has_modules: true,
  });
  const settingsOf = (s) => {
    const latest = account.latestVersion(s);
    return {
      bindings: (latest?.bindings ?? []).map(publicBinding),
      compatibility_date: latest?.compatibility_date,
      compatibility_flags: latest?.compatibility_flags ?? [],
      logpush: s.settings.logpush,
      observability: s.settings.observability,
      tail_consumers: s.settings.tail_consumers,
      tags: s.settings.tags,
      placement: {},
      usage_model: "standard",
    };
  };
  const body = (ctx) => {
    try {
      return ctx.body.length ? JSON.parse(ctx.body.toString("utf8")) : {};
    } catch {
      throw refuse.badRequest("the request body is not JSON");
    }
  };
  const upload = async (ctx) => {
    const type = ctx.headers["content-type"] ?? "";
    if (!type.startsWith("multipart/form-data")) throw refuse.invalidUpload("a Worker upload is multipart/form-data");
    const form = await new Response(ctx.body, { headers: { "content-type": type } }).formData();
    return parseUpload(form);
  };
  const A = "/accounts/:account";
  const S = `${A}/workers/scripts/:script`;
  return [
    // ── who am I ──
    ["GET", "/user", () => ok({ id: "standin-user", email: account.email })],
    ["GET", "/user/tokens/verify", () => ok({ id: "standin-token", status: "active" })],
    ["GET", "/memberships", () => ok([{ id: "standin-membership", status: "accepted", account: { id: account.id, name: "Stand-in account" }, roles: ["Administrator"] }])],
    ["GET", "/accounts", () => ok([{ id: account.id, name: "Stand-in account" }])],
    ["GET", A, (ctx) => (mine(ctx), ok({ id: account.id, name: "Stand-in account", settings: {} }))],
    // ── zones and their routes ──
    ["GET", "/zones", (ctx) => {
      const name = ctx.query.get("name");
      const accountId = ctx.query.get("account.id");
      const zones = account.zones.filter((z) => (!name || z.name === name) && (!accountId || accountId === account.id));
      return ok(zones.map((z) => ({ id: z.id, name: z.name, status: "active", account: { id: account.id } })));
    }],
    ["GET", "/zones/:zone/workers/routes", (ctx) => ok(account.zoneRoutes(ctx.params.zone))],
    // ── workers.dev ──
    ["GET", `${A}/workers/subdomain`, (ctx) => (mine(ctx), ok(account.accountSubdomain()))],
    ["PUT", `${A}/workers/subdomain`, (ctx) => (mine(ctx), ok(account.registerSubdomain(body(ctx).subdomain)))],
    ["GET", `${A}/workers/subdomains/:name`, (ctx) => (mine(ctx), ok(account.subdomainAvailability(ctx.params.name)))],
    // ── Workers ──
    ["GET", `${A}/workers/scripts`, (ctx) => (mine(ctx), ok([...account.scripts.values()].map(scriptSummary)))],
    ["GET", `${A}/workers/services/:script`, (ctx) => {
      mine(ctx);
      const s = account.service(ctx.params.script);
      return ok({
        id: s.name,
        default_environment: { environment: "production", created_on: s.created_on, modified_on: s.modified_on, script: scriptSummary(s) },
        created_on: s.created_on,
        modified_on: s.modified_on,
      });
    }],
    ["PUT", S, async (ctx) => {
      mine(ctx);
      const parsed = await upload(ctx);
      await runtime.validate(parsed);
      const { script, version } = account.putScript(ctx.params.script, parsed, { source: source(ctx) });
      return ok({ ...scriptSummary(script), deployment_id: version.id, startup_time_ms: 1 });
    }],
    ["GET", `${S}/settings`, (ctx) => (mine(ctx), ok(settingsOf(account.script(ctx.params.script))))],
    ["GET", `${S}/script-settings`, (ctx) => (mine(ctx), ok(account.script(ctx.params.script).settings))],
    ["PATCH", `${S}/script-settings`, (ctx) => (mine(ctx), ok(account.patchSettings(ctx.params.script, body(ctx))))],
    ["GET", `${S}/subdomain`, (ctx) => (mine(ctx), ok(account.script(ctx.params.script).subdomain))],
    ["POST", `${S}/subdomain`, (ctx) => (mine(ctx), ok(account.setScriptSubdomain(ctx.params.script, body(ctx))))],
    ["GET", `${S}/routes`, (ctx) => (mine(ctx), ok(account.script(ctx.params.script).routes.map(({ id, pattern }) => ({ id, pattern, script: ctx.params.script }))))],
    ["PUT", `${S}/routes`, (ctx) => (mine(ctx), ok(account.putRoutes(ctx.params.script, body(ctx))))],
    ["PUT", `${S}/domains/records`, (ctx) => (mine(ctx), ok(account.putDomains(ctx.params.script, body(ctx))))],
    ["POST", `${S}/domains/changeset`, (ctx) => (mine(ctx), account.script(ctx.params.script), ok(account.domainChangeset(ctx.params.script, body(ctx))))],
    ["GET", `${A}/workers/domains/records`, (ctx) => (mine(ctx), ok(account.domainRecords({ service: ctx.query.get("service") })))],
    ["GET", `${A}/workers/domains/records/:id`, (ctx) => (mine(ctx), ok(account.domainRecord(ctx.params.id)))],
    ["GET", `${S}/schedules`, (ctx) => (mine(ctx), ok({ schedules: account.script(ctx.params.script).schedules }))],
    ["PUT", `${S}/schedules`, (ctx) => (mine(ctx), ok(account.putSchedules(ctx.params.script, body(ctx))))],
    // ── secrets ──
    ["GET", `${S}/secrets`, (ctx) => (mine(ctx), ok(account.secretNames(ctx.params.script)))],
    ["PUT", `${S}/secrets`, (ctx) => {
      mine(ctx);
      const { name, text, type } = body(ctx);
      if (type !== "secret_text" || typeof name !== "string") throw refuse.badRequest("a secret is { name, text, type: \"secret_text\" }");
      account.editSecretsAndDeploy(ctx.params.script, { [name]: text });
      return ok({ name, type });
    }],
    ["DELETE", `${S}/secrets/:key`, (ctx) => {
      mine(ctx);
      account.editSecretsAndDeploy(ctx.params.script, { [ctx.params.key]: null });
      return ok(null);
    }],
    ["PATCH", `${S}/secrets-bulk`, (ctx) => {
      mine(ctx);
      const { secrets = {} } = body(ctx);
      const changes = Object.fromEntries(Object.entries(secrets).map(([name, s]) => [name, s === null ? null : s.text]));
      account.editSecretsAndDeploy(ctx.params.script, changes);
      return ok(Object.entries(secrets).filter(([, s]) => s !== null).map(([name]) => ({ name, type: "secret_text" })));
    }],
    ["PATCH", `${A}/workers/workers/:script/versions/latest`, (ctx) => {
      mine(ctx);
      const { env = {}, annotations = {} } = body(ctx);
      const changes = Object.fromEntries(Object.entries(env).map(([name, b]) => {
        if (b !== null && b.type !== "secret_text") throw refuse.badRequest(`only secret_text env entries are modelled (got ${b.type} for ${name})`);
        return [name, b === null ? null : b.text];
      }));
      return ok(publicVersion(account.editSecretsOfLatest(ctx.params.script, changes, annotations)));
    }],
    // ── versions and deployments ──
    ["GET", `${S}/versions`, (ctx) => {
      mine(ctx);
      const items = [...account.script(ctx.params.script).versions].reverse().slice(0, 100).map(publicVersion);
      return ok({ items });
    }],
    ["POST", `${S}/versions`, async (ctx) => {
      mine(ctx);
      account.script(ctx.params.script);
      const parsed = await upload(ctx);
      await runtime.validate(parsed);
      const version = account.uploadVersion(ctx.params.script, parsed, { source: source(ctx) });
      return ok({ ...publicVersion(version), startup_time_ms: 1 });
    }],
    ["GET", `${S}/versions/:version`, (ctx) => (mine(ctx), ok(publicVersion(account.version(ctx.params.script, ctx.params.version))))],
    ["GET", `${S}/deployments`, (ctx) => {
      mine(ctx);
      return ok({ deployments: [...account.script(ctx.params.script).deployments].reverse().map(publicDeployment) });
    }],
    ["POST", `${S}/deployments`, (ctx) => {
      mine(ctx);
      const force = ctx.query.get("force") === "true";
      return ok(publicDeployment(account.createDeployment(ctx.params.script, body(ctx), { force, source: source(ctx) })));
    }],
    // ── KV ──
    ["GET", `${A}/storage/kv/namespaces`, (ctx) => {
      mine(ctx);
      const all = [...account.kv.values()].sort((a, b) => a.title.localeCompare(b.title));
      if (ctx.query.get("direction") === "desc") all.reverse();
      return paged(ctx, all);
    }],
    ["POST", `${A}/storage/kv/namespaces`, (ctx) => (mine(ctx), ok(account.createKvNamespace(body(ctx).title)))],
    ["GET", `${A}/storage/kv/namespaces/:id`, (ctx) => (mine(ctx), ok(account.kvNamespace(ctx.params.id)))],
    // ── D1 ──
    ["GET", `${A}/d1/database`, (ctx) => {
      mine(ctx);
      const name = ctx.query.get("name");
      return paged(ctx, [...account.d1.values()].filter((db) => !name || db.name === name));
    }],
    ["POST", `${A}/d1/database`, (ctx) => (mine(ctx), ok(account.createD1Database(body(ctx).name)))],
    ["GET", `${A}/d1/database/:db`, (ctx) => (mine(ctx), ok(account.d1Database(ctx.params.db)))],
    ["POST", `${A}/d1/database/:db/query`, async (ctx) => {
      mine(ctx);
      const db = account.d1Database(ctx.params.db);
      const { sql, params } = body(ctx);
      if (typeof sql !== "string" || !sql.trim()) throw refuse.d1Query("a query needs sql");
      return ok(await runtime.d1Query(db.uuid, sql, params ?? []));
    }],
  ];
}

function compile(table) {
  return table.map(([method, pattern, handler]) => {
    const names = [];
    const regex = new RegExp(`^${pattern.replace(/:([a-z]+)/g, (_, n) => (names.push(n), "([^/]+)"))}$`);
    return { method, regex, names, handler };
  });
}

/**
 * Starts the API server. `runtime` gives it `validate(version)` and
 * `d1Query(uuid, sql, params)`. Returns `{ port, requests, internetAttempts, close }`:
 * `requests` lists every API call as `{ method, path }` (no bodies: they
 * carry secrets), `internetAttempts` every request that was not for the API.
 */
export async function startApiServer({ account, runtime, host = "127.0.0.1" }) {
  const table = compile(routes(account, runtime));
  const requests = [];
  const internetAttempts = [];
  const server = http.createServer(async (req, res) => {
    const send = (status, payload) => {
      res.writeHead(status, { "content-type": "application/json", "cf-ray": `${Date.now().toString(16)}-STANDIN` });
      res.end(JSON.stringify(payload));
    };
    if (!req.url.startsWith("/")) {
      // An absolute URL: a request sent through us as a proxy.
      internetAttempts.push({ method: req.method, target: req.url });
      req.resume();
      res.writeHead(403, { "content-type": "text/plain" });
      res.end("the Cloudflare API stand-in refuses to proxy requests off loopback\n");
      return;
    }
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const url = new URL(req.url, "http://standin");
    const path = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) : null;
    requests.push({ method: req.method, path: path ?? url.pathname, query: url.search });
    try {
      if (path === null) throw refuse.noRoute(req.method, url.pathname);
      if (req.headers.authorization !== `Bearer ${account.apiToken}`) throw refuse.authentication();
      const matching = table.filter((r) => r.regex.test(path));
      const route = matching.find((r) => r.method === req.method);
      if (!route) throw refuse.noRoute(req.method, path);
      const match = route.regex.exec(path);
      const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(match[i + 1])]));
      const { result, result_info } = await route.handler({ params, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks) });
      send(200, { success: true, errors: [], messages: [], result: result ?? null, ...(result_info ? { result_info } : {}) });
    } catch (err) {
      if (err instanceof CloudflareError) {
        send(err.status, { success: false, errors: err.errors, messages: [], result: null });
      } else {
        send(500, { success: false, errors: [{ code: 10013, message: `stand-in failure: ${err.message}` }], messages: [], result: null });
      }
    }
  });
  server.on("connect", (req, socket) => {
    internetAttempts.push({ method: "CONNECT", target: req.url });
    socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
  });
  await new Promise((resolve) => server.listen(0, host, resolve));
  return {
    port: server.address().port,
    requests,
    internetAttempts,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}
