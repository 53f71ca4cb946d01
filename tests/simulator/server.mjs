// A local stand-in for Upscope's REST API, written from docs/upscope-api.md
// (never from the gateway's code). It is the default upstream of the dev
// command and the upstream of every integration and browser test.
//
//   API, in the edition it is created with (`edition`):
//     cloud:       /v1.3/list, /v1.3/visitors/:id, /v1.3/visitors/:id/watch_url,
//                  /v1.3/visitors/:id/session, /v1.3/proxy_sessions, /v1.3/usage;
//                  the key in X-Api-Key (or Authorization: Bearer <key>)
//     on_premise:  under <BASE_ENDPOINT>/api, the BASE_ENDPOINT being /cobrowsing:
//                  /visitors/list/latest, /visitors/list/search?q=, /visitors/:id
//                  (documented); /visitors/:id/watch_url, /visitors/:id/session,
//                  /proxy_sessions (inferred); no /usage, no /list; the key as the
//                  bare Authorization header
//   Pages:   /  (what is in the simulator), /sim/proxy/:token, /sim/watch/:token,
//            /sim/shop?uniqueid=ID (a demo customer page embedding the gateway's /visitor)
//   Tests:   /__sim/reset, /__sim/visitors, /__sim/requests (every API request
//            as received: method, path, query, every header, body, and the
//            endpoint it asked for), /__sim/faults (by method, path under the
//            API root, or endpoint)

import http from "node:http";
import { randomBytes } from "node:crypto";
import { seedVisitors } from "./seed.mjs";

export const API_PREFIX = "/v1.3";
/** The on-premise server's BASE_ENDPOINT path (the docs' example); its API is under `${it}/api`. */
export const ON_PREMISE_BASE_PATH = "/cobrowsing";
export const EDITIONS = ["cloud", "on_premise"];
/** The path of the API base the gateway is configured with (UPSCOPE_API_BASE), per edition. */
export const basePathOf = (edition) => (edition === "on_premise" ? ON_PREMISE_BASE_PATH : API_PREFIX);
export const DEV_API_KEY = "sim-dev-key";
const UNIQUE_ID_PARAM = "___upscope_unique_id";
const PERMISSIONS = ["allow_console", "allow_click", "allow_draw", "allow_scroll", "allow_audio", "allow_type", "allow_agent_redirect"];

const token = () => randomBytes(12).toString("base64url");
const escapeHtml = (s) =>
  String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function isWebUrl(text) {
  try {
    const u = new URL(text);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

/** An identifier as text: the API may send a uniqueId, Short ID or code as a JSON number. */
const text = (value) => (value === null || value === undefined ? null : String(value));
/** A lookup code sent as a number keeps its four digits (421 is the code 0421). */
const code = (value) => (typeof value === "number" ? String(value).padStart(4, "0") : text(value));
/** `last_seen_at` as milliseconds: ISO 8601 text, or Unix seconds or milliseconds as a number. */
const seenMs = (value) => (typeof value === "number" ? (value < 1e11 ? value * 1000 : value) : Date.parse(value ?? "") || 0);

/** What a watcher may do, as the watch page shows it: the flags Upscope was sent, or its defaults. */
export function describePermissions(permissions) {
  if (!permissions) return "Upscope defaults";
  const on = PERMISSIONS.filter((p) => permissions[p] === true).map((p) => p.slice("allow_".length));
  const off = PERMISSIONS.filter((p) => permissions[p] === false).map((p) => p.slice("allow_".length));
  const rest = PERMISSIONS.length - on.length - off.length;
  if (!rest) return on.length ? `may ${on.join(", ")}` : "view only";
  return [on.length && `may ${on.join(", ")}`, off.length && `not ${off.join(", ")}`, "the rest as Upscope's defaults"].filter(Boolean).join("; ");
}

/** Upscope's search syntax: whitespace-separated terms, all of which must match. */
export function matchesSearch(visitor, search) {
  const terms = search.trim().split(/\s+/).filter(Boolean);
  return terms.every((term) => {
    if (term.startsWith("id:")) return text(visitor.unique_id) === term.slice(3);
    if (/^\d{4}$/.test(term)) return code(visitor.lookup_code) === term;
    if (term === "online") return visitor.is_online === true;
    if (term === "-online") return visitor.is_online !== true;
    if (term.startsWith("ip:")) return visitor.ip_address === term.slice(3);
    if (/^#[A-Z-]+$/.test(term)) return (visitor.tags ?? []).includes(term);
    if (/^integration_id:[a-z]{3,}:.+$/.test(term)) return (visitor.integration_ids ?? []).includes(term.slice("integration_id:".length));
    if (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(term)) {
      const t = term.toLowerCase();
      return (visitor.identities ?? []).some((i) => i.toLowerCase() === t) || visitor.email?.toLowerCase() === t;
    }
    // Plain text is fuzzy: a case-insensitive substring of any descriptive field.
    const t = term.toLowerCase();
    const fields = [visitor.call_name, visitor.email, text(visitor.unique_id), text(visitor.short_id), visitor.location_city,
      visitor.browser_name, visitor.device_name, visitor.last_url, ...(visitor.identities ?? [])];
    return fields.some((f) => typeof f === "string" && f.toLowerCase().includes(t));
  });
}

/** The full documented visitor object, as the API returns it. */
function publicVisitor(v) {
  return {
    _type: "visitor", short_id: v.short_id, unique_id: v.unique_id ?? null, lookup_code: v.lookup_code ?? null,
    is_online: v.is_online ?? false, is_in_session: v.is_in_session ?? false, is_waiting_for_call: false,
    last_seen_at: v.last_seen_at ?? null, first_seen_at: v.first_seen_at ?? v.last_seen_at ?? null,
    added_at: v.added_at ?? v.last_seen_at ?? null, identities: v.identities ?? [], tags: v.tags ?? [],
    email: v.email ?? null, call_name: v.call_name ?? null, ip_address: v.ip_address ?? null,
    browser_name: v.browser_name ?? null, device_name: v.device_name ?? null, device_type: v.device_type ?? null,
    last_url: v.last_url ?? null, location_city: v.location_city ?? null, location_country: v.location_country ?? null,
    location_country_name: v.location_country_name ?? null, integration: v.integration ?? null,
    is_supported: true, sessions: v.sessions ?? [],
  };
}

export function createSimulator({ apiKey = DEV_API_KEY, gatewayUrl = null, edition = "cloud" } = {}) {
  if (!EDITIONS.includes(edition)) throw new Error(`edition must be one of ${EDITIONS.join(", ")}`);
  const onPremise = edition === "on_premise";
  /** Where the API is mounted on this server. */
  const apiRoot = onPremise ? `${ON_PREMISE_BASE_PATH}/api` : API_PREFIX;
  const state = { visitors: [], requests: [], faults: [], watches: new Map(), proxies: new Map() };
  const reset = () => {
    state.visitors = seedVisitors();
    state.requests = [];
    state.faults = [];
    state.watches.clear();
    state.proxies.clear();
  };
  reset();

  let publicBase = "";
  const send = (res, status, body, headers = {}) => {
    const isText = typeof body === "string";
    res.writeHead(status, {
      "Content-Type": isText ? "text/plain; charset=utf-8" : "application/json",
      ...headers,
    });
    res.end(isText ? body : JSON.stringify(body));
  };
  const sendHtml = (res, status, title, inner) => {
    res.writeHead(status, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:46rem;padding:0 1rem;color:#1f2933}
.banner{background:#fff4d6;border:1px solid #f0c36d;padding:.5rem .75rem;border-radius:6px}
code{background:#eef2f7;padding:0 .25rem;border-radius:3px}table{border-collapse:collapse}td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left}</style>
</head><body><p class="banner">Upscope <strong>simulator</strong>: a local stand-in, not Upscope itself.</p>${inner}</body></html>`);
  };
  const apiError = (res, status, code) => send(res, status, { status: "error", error: code });

  function takeFault(method, path, endpoint) {
    const i = state.faults.findIndex((f) =>
      (!f.method || f.method === method) && (!f.path || f.path === path) && (!f.endpoint || f.endpoint === endpoint));
    if (i < 0) return null;
    const fault = state.faults[i];
    fault.times -= 1;
    if (fault.times <= 0) state.faults.splice(i, 1);
    return fault;
  }

  /** Cloud: X-Api-Key, or Bearer (v1.4's examples). On premise: the bare key in Authorization, nothing else. */
  function authorised(req) {
    const authorization = req.headers["authorization"];
    if (onPremise) return authorization === apiKey;
    const bearer = /^Bearer\s+(.*)$/i.exec(authorization ?? "")?.[1];
    return (req.headers["x-api-key"] ?? bearer) === apiKey;
  }

  async function readBody(req) {
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > 1_000_000) throw new Error("body too large");
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  /** Which documented endpoint a request under the API root asks for, or null. */
  function endpointOf(method, path) {
    const visitor = path.match(/^\/visitors\/[^/]+(\/watch_url|\/session)?$/);
    if (onPremise && method === "GET" && path === "/visitors/list/search") return "search";
    if (onPremise && method === "GET" && path === "/visitors/list/latest") return "latest";
    if (!onPremise && method === "GET" && path === "/list") return "search";
    if (!onPremise && method === "GET" && path === "/usage") return "usage";
    if (method === "POST" && path === "/proxy_sessions") return "proxy_sessions";
    if (method === "GET" && visitor && !visitor[1]) return "visitor";
    if (method === "POST" && visitor?.[1] === "/watch_url") return "watch_url";
    if (method === "DELETE" && visitor?.[1] === "/session") return "session";
    return null;
  }

  async function handleApi(req, res, url, rawBody) {
    const path = url.pathname.slice(apiRoot.length);
    const endpoint = endpointOf(req.method, path);
    let body = null;
    if (rawBody) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
    }
    // Exactly as received: the full path, and every header (Node lowercases the names).
    state.requests.push({
      method: req.method, path: url.pathname, endpoint, query: Object.fromEntries(url.searchParams), rawQuery: url.search,
      headers: { ...req.headers }, body: body === undefined ? rawBody : body,
    });

    const fault = takeFault(req.method, path, endpoint);
    if (fault?.delay_ms) await new Promise((r) => setTimeout(r, Math.min(fault.delay_ms, 30_000)));
    if (fault?.reset_connection) return req.socket.destroy();
    if (fault?.status) {
      const faultBody = fault.body ?? "";
      res.writeHead(fault.status, { "Content-Type": "application/json", ...(fault.headers ?? {}) });
      return res.end(typeof faultBody === "string" ? faultBody : JSON.stringify(faultBody));
    }

    if (!authorised(req)) return apiError(res, 401, "invalid_api_key");

    const visitorPath = path.match(/^\/visitors\/([^/]+)(\/watch_url|\/session)?$/);
    if (endpoint === "search" || endpoint === "latest") {
      // On premise: `q`, no documented bound on the answer; `latest` lists online visitors only.
      const search = (onPremise ? url.searchParams.get("q") : url.searchParams.get("search")) ?? "";
      const max = onPremise ? Infinity : Math.min(Math.max(parseInt(url.searchParams.get("max_results") ?? "25", 10) || 25, 1), 100);
      const found = state.visitors
        .filter((v) => (endpoint === "latest" ? v.is_online === true : matchesSearch(v, search)))
        .sort((a, b) => seenMs(b.last_seen_at) - seenMs(a.last_seen_at))
        .slice(0, max)
        .map(publicVisitor);
      // Fault: a fuzzy search that also returns visitors that were not asked for.
      for (const extra of fault?.extra_visitors ?? []) found.push(publicVisitor(extra));
      return send(res, 200, { status: "ok", visitors: found });
    }
    if (visitorPath) {
      const visitor = state.visitors.find((v) => text(v.short_id) === decodeURIComponent(visitorPath[1]));
      const action = visitorPath[2];
      if (req.method === "GET" && !action) {
        return visitor ? send(res, 200, { status: "ok", visitor: publicVisitor(visitor) }) : apiError(res, 404, "not_found");
      }
      if (req.method === "POST" && action === "/watch_url") {
        if (!visitor) return apiError(res, 404, "not_found");
        const agent = body?.agent;
        if (typeof agent?.id !== "string" || !agent.id || typeof agent?.name !== "string" || !agent.name) {
          return apiError(res, 400, "invalid_agent");
        }
        const id = token();
        state.watches.set(id, { visitor: visitor.short_id, agent, branding: body.branding ?? null, permissions: body.permissions ?? null });
        visitor.is_in_session = true;
        return send(res, 200, { watch_url: `${publicBase}/sim/watch/${id}` });
      }
      if (req.method === "DELETE" && action === "/session") {
        if (!visitor) return apiError(res, 404, "not_found");
        visitor.is_in_session = false;
        return send(res, 200, "ok");
      }
    }
    // Account usage statistics (documented: the "usage" object's four groups; their contents are not).
    if (endpoint === "usage") {
      const sessions = state.watches.size;
      return send(res, 200, {
        status: "ok",
        usage: { visitors: { total: state.visitors.length }, agents: { total: 0 }, session_counts: { total: sessions }, session_seconds: { total: 0 } },
      });
    }
    if (req.method === "POST" && path === "/proxy_sessions") {
      if (!body || typeof body.initial_url !== "string" || !isWebUrl(body.initial_url)) return apiError(res, 400, "invalid_initial_url");
      const id = token();
      state.proxies.set(id, { initial_url: body.initial_url, allowed_domains: body.allowed_domains ?? [] });
      // The response's field names are undocumented; this shape is one the reference says to tolerate.
      return send(res, 200, { status: "ok", proxy_session: { id, url: `${publicBase}/sim/proxy/${id}` } });
    }
    return apiError(res, 404, "not_found");
  }

  function proxyPage(res, id) {
    const proxy = state.proxies.get(id);
    if (!proxy) return sendHtml(res, 404, "Unknown proxy session", "<h1>Unknown proxy session</h1>");
    const page = new URL(proxy.initial_url);
    const uniqueId = page.searchParams.get(UNIQUE_ID_PARAM);
    // Opening the proxied page makes the visitor known to Upscope, as the real SDK would.
    let visitor = proxy.visitor && state.visitors.find((v) => v.short_id === proxy.visitor);
    if (!visitor) {
      visitor = {
        short_id: `p${token().slice(0, 9)}`, unique_id: uniqueId, lookup_code: String(1000 + Math.floor(Math.random() * 9000)),
        is_online: true, last_seen_at: new Date().toISOString(), browser_name: "Chromium", device_type: "desktop",
        device_name: "Proxy session", last_url: proxy.initial_url, identities: [], tags: [],
      };
      state.visitors.push(visitor);
      proxy.visitor = visitor.short_id;
    }
    proxy.opened = (proxy.opened ?? 0) + 1;
    sendHtml(res, 200, "Proxied page", `<h1 id="proxy-title">Universal proxy session</h1>
<p>Upscope would now show this page to the visitor, co-browsable:</p>
<p><code id="proxy-initial-url">${escapeHtml(proxy.initial_url)}</code></p>
<table><tr><th>Visitor's own ID (<code>${UNIQUE_ID_PARAM}</code>)</th><td id="proxy-unique-id">${escapeHtml(uniqueId ?? "(none)")}</td></tr>
<tr><th>Short ID</th><td id="proxy-short-id">${escapeHtml(visitor.short_id)}</td></tr>
<tr><th>Lookup code to read out</th><td id="proxy-lookup-code"><strong>${escapeHtml(visitor.lookup_code)}</strong></td></tr>
<tr><th>Allowed domains</th><td>${escapeHtml(proxy.allowed_domains.join(", ") || "(any)")}</td></tr></table>
<script>
// The part of Upscope's SDK a proxied page has that the REST flow uses (documented
// calls): Upscope('getShortId', cb) and Upscope('getLookupCode', cb).
window.Upscope = (command, callback) => callback(${JSON.stringify({ getShortId: visitor.short_id, getLookupCode: visitor.lookup_code }).replaceAll("<", "\\u003c")}[command]);
</script>`);
  }

  function watchPage(res, id) {
    const watch = state.watches.get(id);
    if (!watch) return sendHtml(res, 404, "Unknown watch URL", "<h1>Unknown watch URL</h1>");
    const visitor = state.visitors.find((v) => text(v.short_id) === text(watch.visitor)) ?? {};
    sendHtml(res, 200, "Watching visitor", `<h1 id="watch-title">Co-browsing session</h1>
<p>Agent <strong id="watch-agent-name">${escapeHtml(watch.agent.name)}</strong> (id <code id="watch-agent-id">${escapeHtml(watch.agent.id)}</code>)
is watching visitor <code id="watch-short-id">${escapeHtml(watch.visitor)}</code>.</p>
<table><tr><th>Visitor's own ID</th><td id="watch-unique-id">${escapeHtml(visitor.unique_id ?? "(none)")}</td></tr>
<tr><th>Name</th><td>${escapeHtml(visitor.call_name ?? "(unknown)")}</td></tr>
<tr><th>Device</th><td>${escapeHtml([visitor.device_name, visitor.browser_name].filter(Boolean).join(", "))}</td></tr>
<tr><th>Permissions</th><td id="watch-permissions">${escapeHtml(describePermissions(watch.permissions))}</td></tr>
<tr><th>Bottom bar (connection information)</th><td id="watch-bottom-bar">${watch.branding?.no_bottom_bar === true ? "hidden" : "shown"}</td></tr></table>`);
  }

  function indexPage(res) {
    const gw = gatewayUrl;
    const rows = state.visitors.map((v) => `<tr><td><code>${escapeHtml(v.short_id)}</code></td><td>${escapeHtml(v.unique_id ?? "")}</td>
<td>${escapeHtml(v.lookup_code ?? "")}</td><td>${v.is_online ? "online" : "offline"}</td><td>${escapeHtml(v.call_name ?? "")}</td>
<td>${gw && v.unique_id != null ? `<a href="${escapeHtml(`${gw}/agent?uniqueid=${encodeURIComponent(v.unique_id)}&agent_id=demo-agent&agent_name=Demo%20Agent`)}">watch as agent</a>` : ""}</td></tr>`).join("");
    sendHtml(res, 200, "Upscope simulator", `<h1>Upscope simulator</h1>
<p>Serves the ${onPremise ? "on-premise" : "cloud"} REST API under <code>${apiRoot}</code> with the key <code>${escapeHtml(apiKey === DEV_API_KEY ? DEV_API_KEY : "(custom)")}</code>.</p>
${gw ? `<ul><li>Customer, in an iframe on a demo shop page: <a href="/sim/shop?uniqueid=alice-1001">/sim/shop?uniqueid=alice-1001</a></li>
<li>Customer, directly: <a href="${escapeHtml(gw)}/visitor?uniqueid=alice-1001">${escapeHtml(gw)}/visitor?uniqueid=alice-1001</a></li>
<li>Agent console (type a lookup code): <a href="${escapeHtml(gw)}/agent?agent_id=demo-agent&amp;agent_name=Demo%20Agent">${escapeHtml(gw)}/agent?agent_id=demo-agent&amp;agent_name=Demo%20Agent</a></li>
<li>Someone online on two devices (the chooser): <a href="${escapeHtml(gw)}/agent?uniqueid=carol-3003&amp;agent_id=demo-agent&amp;agent_name=Demo%20Agent">carol-3003</a></li></ul>` : ""}
<table><tr><th>Short ID</th><th>Own ID</th><th>Code</th><th>Status</th><th>Name</th><th></th></tr>${rows}</table>`);
  }

  /** A customer's page as a company would build it: /visitor in an iframe. */
  function shopPage(res, uniqueId) {
    const src = `${gatewayUrl}/visitor${uniqueId ? `?uniqueid=${encodeURIComponent(uniqueId)}` : ""}`;
    sendHtml(res, 200, "Demo shop", `<h1>Demo shop: help page</h1>
<p>This page stands for your own site. The frame below is the gateway's <code>/visitor</code>; once it opens,
read the lookup code out to an agent using the <a href="${escapeHtml(`${gatewayUrl}/agent?agent_id=demo-agent&agent_name=Demo%20Agent`)}" target="_blank">agent console</a>.</p>
<iframe id="cobrowse" title="Co-browsing" src="${escapeHtml(src)}" style="width:100%;height:28rem;border:1px solid #9aa5b1"></iframe>`);
  }

  async function handleControl(req, res, url, rawBody) {
    const body = rawBody ? JSON.parse(rawBody) : null;
    const path = url.pathname;
    if (req.method === "POST" && path === "/__sim/reset") {
      reset();
      return send(res, 200, { status: "ok" });
    }
    if (req.method === "POST" && path === "/__sim/visitors") {
      for (const v of [body].flat()) {
        state.visitors = state.visitors.filter((old) => old.short_id !== v.short_id);
        state.visitors.push(v);
      }
      return send(res, 200, { status: "ok" });
    }
    if (req.method === "GET" && path === "/__sim/requests") return send(res, 200, { requests: state.requests });
    if (req.method === "POST" && path === "/__sim/faults") {
      for (const f of [body].flat()) state.faults.push({ times: 1, ...f });
      return send(res, 200, { status: "ok" });
    }
    if (req.method === "GET" && path === "/__sim/state") {
      return send(res, 200, { proxies: Object.fromEntries(state.proxies), watches: Object.fromEntries(state.watches) });
    }
    return send(res, 404, { status: "error", error: "not_found" });
  }

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, "http://simulator.invalid");
      const rawBody = await readBody(req);
      if (url.pathname.startsWith(`${apiRoot}/`)) return await handleApi(req, res, url, rawBody);
      if (url.pathname.startsWith("/__sim/")) return await handleControl(req, res, url, rawBody);
      const page = url.pathname.match(/^\/sim\/(proxy|watch)\/([A-Za-z0-9_-]+)$/);
      if (req.method === "GET" && page) return page[1] === "proxy" ? proxyPage(res, page[2]) : watchPage(res, page[2]);
      if (req.method === "GET" && url.pathname === "/") return indexPage(res);
      if (req.method === "GET" && url.pathname === "/sim/shop" && gatewayUrl) return shopPage(res, url.searchParams.get("uniqueid"));
      return send(res, 404, { status: "error", error: "not_found" });
    } catch (err) {
      if (!res.headersSent) send(res, 500, { status: "error", error: "simulator_error", detail: String(err.message) });
    }
  });

  return {
    server,
    state,
    /** Starts listening on loopback; resolves to the simulator's base URL. */
    async listen(port = 0, host = "127.0.0.1") {
      await new Promise((resolve) => server.listen(port, host, resolve));
      publicBase = `http://${host}:${server.address().port}`;
      return publicBase;
    },
    get url() {
      return publicBase;
    },
    edition,
    /** What UPSCOPE_API_BASE is set to: the cloud's API root, or the on-premise BASE_ENDPOINT. */
    get apiBase() {
      return publicBase + basePathOf(edition);
    },
    close() {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
