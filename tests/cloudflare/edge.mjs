// Cloudflare's edge, for one account: an HTTPS listener on loopback that
// serves what is deployed. A request's host picks the Worker (a Custom
// Domain, then a route, then `<worker>.<subdomain>.workers.dev`); the
// Worker's current deployment picks the version (a version override for a
// version in that deployment, else `Cloudflare-Workers-Version-Key`
// affinity, else a seeded pseudo-random draw weighted by the percentages);
// the version runs in workerd (runtime.mjs) with the headers Cloudflare adds.
import https from "node:https";
import tls from "node:tls";
import { createHash, randomBytes } from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

const RESOLVER = path.join(path.dirname(fileURLToPath(import.meta.url)), "resolve-edge.mjs");
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer", "host"]);
/** Headers Cloudflare sets itself: a client's own values never reach the Worker. */
const EDGE_SET = ["cf-connecting-ip", "cf-ray", "cf-visitor", "cf-ipcountry", "x-forwarded-proto", "x-real-ip", "cf-worker"];

/** A seedable pseudo-random sequence in [0, 1) (mulberry32): the split is repeatable in tests. */
function sequence(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `Cloudflare-Workers-Version-Overrides`, a Structured Fields Dictionary
 * (RFC 8941) whose values must be Strings: `{ worker: versionId }`, or null
 * when the header is not a valid dictionary (then no override applies).
 */
export function parseOverrides(header) {
  if (!header) return {};
  const out = {};
  const text = header.trim();
  let i = 0;
  const skipSpaces = () => {
    while (text[i] === " " || text[i] === "\t") i++;
  };
  while (i < text.length) {
    skipSpaces();
    const key = /^[a-z*][a-z0-9_\-.*]*/.exec(text.slice(i))?.[0];
    if (!key) return null;
    i += key.length;
    if (text[i] !== "=") return null;
    i++;
    if (text[i] !== '"') {
      // A value that is not a String: still a valid member, but not a usable override.
      const token = /^[^,;]*/.exec(text.slice(i))[0];
      i += token.length;
      out[key] = undefined;
    } else {
      i++;
      let value = "";
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\") i++;
        value += text[i++];
      }
      if (text[i] !== '"') return null;
      i++;
      out[key] = value;
    }
    while (text[i] === ";") {
      const param = /^;\s*[a-z*][a-z0-9_\-.*]*(=("[^"]*"|[^,;]*))?/.exec(text.slice(i))?.[0];
      if (!param) return null;
      i += param.length;
    }
    skipSpaces();
    if (i < text.length) {
      if (text[i] !== ",") return null;
      i++;
    }
  }
  return out;
}

/** A route pattern (`host/path*`, `*.host/*`) as a test of host and path. */
function routeMatches(pattern, host, pathname) {
  const p = pattern.replace(/^https?:\/\//, "");
  const slash = p.indexOf("/");
  const [hostPattern, pathPattern] = slash === -1 ? [p, "/"] : [p.slice(0, slash), p.slice(slash)];
  const glob = (g) => new RegExp(`^${g.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return glob(hostPattern).test(host) && glob(pathPattern).test(pathname);
}

export class Edge {
  constructor({ account, runtime, certificates, seed = 1 }) {
    this.account = account;
    this.runtime = runtime;
    this.certificates = certificates;
    this.random = sequence(seed);
    /** Every request served: { host, path, script, version, status, override } (no query: it may carry signatures). */
    this.requests = [];
    this.server = null;
    this.port = null;
  }

  /** Restarts the split's sequence: the same seed gives the same versions in the same order. */
  seed(value) {
    this.random = sequence(value);
  }

  async listen(host = "127.0.0.1") {
    const defaultHost = "edge.cf-standin.test";
    const contexts = new Map();
    const contextFor = async (servername) => {
      if (!contexts.has(servername)) {
        contexts.set(servername, this.certificates.certFor(servername).then((cert) => tls.createSecureContext({ key: this.certificates.keyPem, cert })));
      }
      return contexts.get(servername);
    };
    const fallback = await this.certificates.certFor(defaultHost);
    this.server = https.createServer(
      {
        key: this.certificates.keyPem,
        cert: fallback,
        SNICallback: (servername, callback) => contextFor(servername).then((ctx) => callback(null, ctx), (err) => callback(err)),
      },
      (req, res) => this.handle(req, res).catch((err) => {
        if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
        res.end(`Cloudflare API stand-in edge failure: ${err.message}\n`);
      }),
    );
    await new Promise((resolve) => this.server.listen(0, host, resolve));
    this.port = this.server.address().port;
  }

  /** The Worker a host (and path) is routed to, or null. */
  route(host, pathname) {
    const domain = this.account.domains.get(host);
    if (domain) return this.account.scripts.get(domain.service) ?? null;
    for (const script of this.account.scripts.values()) {
      if (script.routes.some((r) => routeMatches(r.pattern, host, pathname))) return script;
    }
    if (this.account.subdomain) {
      const suffix = `.${this.account.subdomain}.workers.dev`;
      if (host.endsWith(suffix)) {
        const script = this.account.scripts.get(host.slice(0, -suffix.length));
        if (script?.subdomain.enabled) return script;
      }
    }
    return null;
  }

  /**
   * The version of `script` a request goes to: an override for a version in
   * the current deployment; else, with a version key, the key's hash; else
   * the next draw. Newer versions take the low end of [0, 100), so a growing
   * percentage keeps the keys it already had.
   */
  chooseVersion(script, headers) {
    const current = this.account.currentDeployment(script);
    if (!current) return null;
    const overrides = parseOverrides(headers["cloudflare-workers-version-overrides"]);
    const wanted = overrides?.[script.name];
    if (typeof wanted === "string" && current.versions.some((v) => v.version_id === wanted)) return { versionId: wanted, override: true };
    const key = headers["cloudflare-workers-version-key"];
    const point = key ? createHash("sha256").update(String(key)).digest().readUInt32BE(0) / 4294967296 : this.random();
    const index = (id) => script.versions.findIndex((v) => v.id === id);
    const ordered = [...current.versions].sort((a, b) => index(b.version_id) - index(a.version_id));
    let upTo = 0;
    for (const v of ordered) {
      upTo += v.percentage / 100;
      if (v.percentage > 0 && point < upTo) return { versionId: v.version_id, override: false };
    }
    return { versionId: ordered.filter((v) => v.percentage > 0).at(-1).version_id, override: false };
  }

  async handle(req, res) {
    const host = String(req.headers.host ?? req.socket.servername ?? "").split(":")[0].toLowerCase();
    const url = new URL(req.url, `https://${host}`);
    const script = this.route(host, url.pathname);
    const record = { host, path: url.pathname, script: script?.name ?? null, version: null, status: 0, override: false };
    this.requests.push(record);
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    if (!script) {
      record.status = 404;
      res.writeHead(404, { "content-type": "text/plain", server: "cloudflare" });
      res.end(`No Worker is routed to ${host} on this account (Cloudflare API stand-in).\n`);
      return;
    }
    // The runtime first (it rebuilds after a change), then the choice: the version chosen is loaded.
    await this.runtime.ready();
    const choice = this.chooseVersion(script, req.headers);
    if (!choice) {
      record.status = 503;
      res.writeHead(503, { "content-type": "text/plain", server: "cloudflare" });
      res.end(`The Worker ${script.name} has no deployment (Cloudflare API stand-in).\n`);
      return;
    }
    Object.assign(record, { version: choice.versionId, override: choice.override });
    const ray = `${randomBytes(8).toString("hex")}-STI`;
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (HOP_BY_HOP.has(name) || EDGE_SET.includes(name)) continue;
      for (const v of [value].flat()) headers.append(name, v);
    }
    const clientIp = req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1";
    headers.set("cf-connecting-ip", clientIp);
    headers.set("x-real-ip", clientIp);
    headers.set("cf-ray", ray);
    headers.set("cf-visitor", '{"scheme":"https"}');
    headers.set("x-forwarded-proto", "https");
    headers.set("cf-ipcountry", "XX");
    const body = ["GET", "HEAD"].includes(req.method) ? undefined : Buffer.concat(chunks);
    let response;
    try {
      response = await this.runtime.fetch(script.name, choice.versionId, url.href, {
        method: req.method,
        headers,
        body,
        redirect: "manual",
        cf: { colo: "STI", country: "XX", httpProtocol: `HTTP/${req.httpVersion}`, tlsVersion: req.socket.getProtocol?.() ?? "TLSv1.3" },
      });
    } catch (err) {
      // An exception the Worker did not catch: Cloudflare's error 1101 page.
      record.status = 500;
      res.writeHead(500, { "content-type": "text/plain", "cf-ray": ray, server: "cloudflare" });
      res.end(`error code: 1101\n`);
      return;
    }
    record.status = response.status;
    const out = {};
    for (const [name, value] of response.headers) {
      if (name === "set-cookie" || name === "content-length" || name === "transfer-encoding" || name === "content-encoding") continue;
      out[name] = value;
    }
    const cookies = response.headers.getSetCookie();
    if (cookies.length) out["set-cookie"] = cookies;
    out["cf-ray"] = ray;
    out.server = "cloudflare";
    const payload = Buffer.from(await response.arrayBuffer());
    out["content-length"] = String(payload.length);
    res.writeHead(response.status, out);
    res.end(req.method === "HEAD" ? undefined : payload);
  }

  /** Chromium's flags to reach `hosts` (names) at this edge and trust its certificates. */
  chromiumArgs(hosts) {
    return [`--host-resolver-rules=${this.hostResolverRules(hosts)}`, `--ignore-certificate-errors-spki-list=${this.certificates.spkiHash}`];
  }

  /** The value of Chromium's --host-resolver-rules mapping `hosts` (port 443 and any other) to this edge. */
  hostResolverRules(hosts) {
    return [hosts].flat().map((h) => `MAP ${h}:443 127.0.0.1:${this.port}, MAP ${h} 127.0.0.1:${this.port}`).join(", ");
  }

  /**
   * Environment for a Node process that must reach `hosts` (names, or
   * `*.zone` patterns) at this edge over https://<host>/ and trust it:
   * a preload (resolve-edge.mjs) maps those names and port 443 to the edge,
   * NODE_EXTRA_CA_CERTS trusts the stand-in's CA. Other names are untouched.
   */
  nodeEnv(hosts, env = process.env) {
    const preload = `--import=${pathToFileURL(RESOLVER).href}`;
    return {
      NODE_OPTIONS: [env.NODE_OPTIONS, preload].filter(Boolean).join(" "),
      NODE_EXTRA_CA_CERTS: this.certificates.caFile,
      CF_STANDIN_EDGE: `127.0.0.1:${this.port}`,
      CF_STANDIN_EDGE_HOSTS: [hosts].flat().join(","),
    };
  }

  /**
   * Requests `url` (https://<host>/…) from this edge, from this process:
   * like fetch, but connected to the edge and trusting its CA. Never
   * follows redirects. Resolves to a Fetch Response.
   */
  fetch(url, init = {}) {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: "127.0.0.1",
          port: this.port,
          servername: target.hostname,
          method: init.method ?? "GET",
          path: `${target.pathname}${target.search}`,
          headers: { ...Object.fromEntries(headers), host: target.host },
          ca: this.certificates.caPem,
          agent: false,
        },
        async (res) => {
          const chunks = [];
          for await (const chunk of res) chunks.push(chunk);
          const out = new Headers();
          for (const [name, value] of Object.entries(res.headers)) for (const v of [value].flat()) out.append(name, v);
          const nullBody = [101, 204, 205, 304].includes(res.statusCode) || init.method === "HEAD";
          resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status: res.statusCode, headers: out }));
        },
      );
      req.on("error", reject);
      req.setTimeout(30_000, () => req.destroy(new Error(`edge request to ${target.host} timed out`)));
      req.end(init.body);
    });
  }

  close() {
    if (!this.server) return Promise.resolve();
    return new Promise((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }
}
