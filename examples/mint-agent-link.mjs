// A minimal server-side minting endpoint for AGENT_AUTH=signed-link: your
// helpdesk app (a Zendesk, Intercom, Freshdesk or HubSpot app, or its
// backend) asks it for a short-lived signed /agent link, and the agent's
// browser opens that link in a new tab. AGENT_LINK_SECRET stays here, on a
// server; the helpdesk holds only MINT_TOKEN, its own credential for this
// endpoint. Node standard library only; the signing is examples/sign-link.mjs.
// See docs/helpdesk.md.
//
//   GATEWAY_URL=https://cobrowse.example.com AGENT_LINK_SECRET=… MINT_TOKEN=… \
//     node examples/mint-agent-link.mjs            (PORT, default 8790; HOST, default 127.0.0.1)
//
//   POST /agent-link
//   Authorization: Bearer <MINT_TOKEN>
//   Content-Type: application/json
//   {"uniqueid": "cust-1001", "agent_id": "a-7", "agent_name": "Ann Lee"}
//   (or "shortid" / "lookup" instead of "uniqueid"; optional "permissions",
//   e.g. "none" or "console,scroll"). A console link, which can watch any
//   customer, only when asked for by name: {"console": true, "agent_id": …,
//   "agent_name": …}. A visitor member that is empty or null is a 400, never
//   a console link (a ticket without a customer ID must not mint one).
//
//   200 {"url": "https://cobrowse.example.com/agent?…&exp=…&sig=…", "expires_at": 1767225600}
//   401 wrong or missing token · 400 a body it cannot use · 404 · 405 · 413
//
// The token is compared in constant time (SHA-256 of both, then
// timingSafeEqual, so neither its content nor its length leaks). Nothing is
// logged: the URL it returns opens a session, treat it like a password.
// Which agent asks is the helpdesk's word: the helpdesk must send the
// signed-in agent's id and name, never one the agent could choose. Run it
// behind HTTPS (your platform's TLS or a reverse proxy).
import { createHash, timingSafeEqual } from "node:crypto";
import http from "node:http";
import { pathToFileURL } from "node:url";
import { signLink } from "./sign-link.mjs";

/** At most one visitor parameter; they are the gateway's own names. */
const VISITOR_PARAMS = ["uniqueid", "shortid", "lookup", "visitorid"];
const MAX_BODY = 4096;
const MAX_FIELD = 256;

/** Whether `given` is `expected`, in time that depends on neither. */
export function sameToken(given, expected) {
  const digest = (s) => createHash("sha256").update(String(s)).digest();
  return timingSafeEqual(digest(given), digest(expected)) && typeof given === "string";
}

/** The /agent link to sign for `body`, or throws an Error naming the problem. */
export function agentLink(gatewayUrl, body) {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new Error("the body must be a JSON object");
  const link = new URL("/agent", gatewayUrl);
  const text = (name, required) => {
    const value = body[name];
    if (value === undefined || value === null || value === "") {
      if (required) throw new Error(`${name} is required`);
      return null;
    }
    if (typeof value !== "string" && typeof value !== "number") throw new Error(`${name} must be a string`);
    const s = String(value);
    if (s.length > MAX_FIELD) throw new Error(`${name} is longer than ${MAX_FIELD} characters`);
    return s;
  };
  // A visitor member that is there at all must name someone: "" or null is
  // what a ticket without a customer ID gives, and must not turn into a
  // console link that watches anyone.
  const visitors = VISITOR_PARAMS.filter((name) => Object.hasOwn(body, name));
  if (visitors.length > 1) throw new Error(`name at most one of ${VISITOR_PARAMS.join(", ")}`);
  const askConsole = `ask for a console link with "console": true`;
  if (body.console !== undefined && typeof body.console !== "boolean") throw new Error("console must be true or left out");
  if (body.console === true && visitors.length) throw new Error(`console: true names no visitor; leave out ${visitors[0]}`);
  if (body.console !== true && !visitors.length) {
    throw new Error(`name the visitor (${VISITOR_PARAMS.slice(0, -1).join(", ")} or ${VISITOR_PARAMS.at(-1)}), or ${askConsole}`);
  }
  for (const name of visitors) {
    const value = text(name, false);
    if (value === null || !value.trim()) throw new Error(`${name} is empty; name the visitor, or ${askConsole}`);
    link.searchParams.set(name, value);
  }
  link.searchParams.set("agent_id", text("agent_id", true));
  link.searchParams.set("agent_name", text("agent_name", true));
  const permissions = text("permissions", false);
  if (permissions !== null) link.searchParams.set("permissions", permissions);
  const unknown = Object.keys(body).filter((k) => ![...VISITOR_PARAMS, "console", "agent_id", "agent_name", "permissions"].includes(k));
  if (unknown.length) throw new Error(`unknown member(s): ${unknown.join(", ")}`);
  return link.href;
}

/**
 * The minting server (not yet listening). `ttlSeconds` must not exceed the
 * gateway's AGENT_LINK_MAX_TTL (default 300).
 */
export function createMintServer({ gatewayUrl, secret, token, ttlSeconds = 120, now = () => Date.now() / 1000 }) {
  if (!gatewayUrl || !/^https?:\/\//.test(gatewayUrl)) throw new Error("GATEWAY_URL must be the gateway's https:// origin");
  if (!secret || secret.length < 32) throw new Error("AGENT_LINK_SECRET must be set (at least 32 characters)");
  if (!token || token.length < 32) throw new Error("MINT_TOKEN must be set (at least 32 characters): openssl rand -base64 32");
  const answer = (res, status, body, headers = {}) => {
    res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store", ...headers });
    res.end(JSON.stringify(body));
  };
  const refuse = (res, status, message, headers) => answer(res, status, { error: message }, headers);

  return http.createServer((req, res) => {
    const { pathname } = new URL(req.url, "http://mint.invalid");
    if (pathname !== "/agent-link") return refuse(res, 404, "not found");
    if (req.method !== "POST") return refuse(res, 405, "use POST", { Allow: "POST" });
    const auth = req.headers.authorization ?? "";
    const given = auth.startsWith("Bearer ") ? auth.slice("Bearer ".length) : null;
    if (given === null || !sameToken(given, token)) {
      req.resume();
      return refuse(res, 401, "a valid bearer token is required", { "WWW-Authenticate": 'Bearer realm="agent-link"' });
    }
    let size = 0;
    const chunks = [];
    let tooBig = false;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) tooBig = true;
      else chunks.push(chunk);
    });
    req.on("end", () => {
      if (tooBig) return refuse(res, 413, `the body is larger than ${MAX_BODY} bytes`);
      if (!/^application\/json\b/.test(req.headers["content-type"] ?? "")) return refuse(res, 400, "Content-Type must be application/json");
      let link;
      try {
        link = agentLink(gatewayUrl, JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (err) {
        return refuse(res, 400, err instanceof SyntaxError ? "the body is not JSON" : err.message);
      }
      const at = now();
      const url = signLink(link, secret, { ttlSeconds, now: at });
      answer(res, 200, { url, expires_at: Math.floor(at) + ttlSeconds });
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { GATEWAY_URL, AGENT_LINK_SECRET, MINT_TOKEN, PORT = "8790", HOST = "127.0.0.1", LINK_TTL = "120" } = process.env;
  let server;
  try {
    server = createMintServer({ gatewayUrl: GATEWAY_URL, secret: AGENT_LINK_SECRET, token: MINT_TOKEN, ttlSeconds: Number(LINK_TTL) });
  } catch (err) {
    console.error(`mint-agent-link: ${err.message}`);
    process.exit(2);
  }
  server.listen(Number(PORT), HOST, () => console.log(`mint-agent-link: POST http://${HOST}:${server.address().port}/agent-link`));
}
