// A stand-in for Cloudflare Access on loopback: it publishes a team's
// signing keys at /cdn-cgi/access/certs (counting the fetches) and mints
// Access tokens with real RSA signatures (for people and for service
// tokens), plus the forgeries the gateway must refuse.
import http from "node:http";
import { createHmac, createSign, generateKeyPairSync } from "node:crypto";
import { before, after, beforeEach } from "node:test";
import { startSimulator, baseVars, withGateway } from "./harness.mjs";

export const TEAM_DOMAIN = "gateway-test.cloudflareaccess.com";
export const AUDIENCE = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";

const b64url = (data) => Buffer.from(data).toString("base64url");
const json64 = (value) => b64url(JSON.stringify(value));

export function newKey(kid) {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { kid, publicKey, privateKey, jwk: { ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" } };
}

export async function startAccess() {
  const state = { published: [], fetches: 0, failing: false, delayMs: 0 };
  const server = http.createServer(async (req, res) => {
    if (req.url === "/cdn-cgi/access/certs") {
      state.fetches += 1;
      if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
      if (state.failing) return res.writeHead(503, { "Content-Type": "text/plain" }).end("unavailable");
      res.writeHead(200, { "Content-Type": "application/json" });
      const [current] = state.published;
      res.end(JSON.stringify({
        keys: state.published.map((k) => k.jwk),
        public_cert: current ? { kid: current.kid, cert: "-----BEGIN CERTIFICATE-----" } : undefined,
      }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** Publishes exactly these keys. */
    publish: (...keys) => { state.published = keys; },
    resetFetches: () => { state.fetches = 0; },
    /** Makes the key endpoint answer 503 (true) or serve the keys again (false). */
    fail: (failing) => { state.failing = failing; },
    /** Makes the key endpoint answer only after `ms` (0: at once). */
    delay: (ms) => { state.delayMs = ms; },
    fetches: () => state.fetches,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Claims as Access issues them for a signed-in user, valid for ten minutes. */
export function claims(extra = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    aud: [AUDIENCE],
    email: "ann.lee@example.com",
    exp: now + 600,
    iat: now,
    nbf: now,
    iss: `https://${TEAM_DOMAIN}`,
    type: "app",
    identity_nonce: "6ei69kawdKzMIAPF",
    sub: "7335d417-61da-459d-899c-0a01c76a2f94",
    country: "GB",
    ...extra,
  };
}

/** A service token's Client ID, as Access issues them (`CF-Access-Client-Id`). */
export const SERVICE_CLIENT_ID = "e367826f93b8d71185e03fe518aff3b4.access";

/**
 * Claims as Access issues them for a service token (machine-to-machine
 * login): the token's Client ID in `common_name`, `sub` empty, no email.
 */
export function serviceClaims(clientId = SERVICE_CLIENT_ID, extra = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    type: "app",
    aud: [AUDIENCE],
    exp: now + 600,
    iss: `https://${TEAM_DOMAIN}`,
    common_name: clientId,
    iat: now,
    sub: "",
    ...extra,
  };
}

/** A token signed with `key` (RS256), or with the header's own alg when overridden. */
export function token(key, claimSet = claims(), header = {}) {
  const input = `${json64({ alg: "RS256", kid: key.kid, typ: "JWT", ...header })}.${json64(claimSet)}`;
  const signature = createSign("RSA-SHA256").update(input).sign(key.privateKey);
  return `${input}.${b64url(signature)}`;
}

/** `alg: none`: no signature at all. */
export function unsignedToken(key, claimSet = claims()) {
  return `${json64({ alg: "none", kid: key.kid, typ: "JWT" })}.${json64(claimSet)}.`;
}

/** HS256 keyed with the RSA public key's PEM: the classic algorithm-confusion forgery. */
export function hs256WithPublicKey(key, claimSet = claims()) {
  const input = `${json64({ alg: "HS256", kid: key.kid, typ: "JWT" })}.${json64(claimSet)}`;
  const pem = key.publicKey.export({ format: "pem", type: "spki" });
  return `${input}.${createHmac("sha256", pem).update(input).digest("base64url")}`;
}

/**
 * The usual Access-mode suite: a simulator and a stand-in Access IdP for the
 * whole file, the simulator reset and one key published before each test.
 * Returns `{ up, access, key }` (filled in before the first test),
 * `withAccessGateway(extra, run)` for a gateway in access mode with `extra`
 * vars, and `signedIn(headers, claims)`: headers carrying an Access token for
 * "Ann Lee" (plus `claims`).
 */
export function accessSuite() {
  const suite = { up: null, access: null, key: null };
  before(async () => {
    suite.up = await startSimulator();
    suite.access = await startAccess();
    suite.key = newKey("kid-one");
  });
  after(async () => {
    await suite.access?.close();
    await suite.up?.close();
  });
  beforeEach(async () => {
    await suite.up.reset();
    suite.access.publish(suite.key);
  });
  const withAccessGateway = (extra, run) => withGateway({
    vars: baseVars(suite.up.apiBase, {
      AGENT_AUTH: "access", ALLOW_UNAUTHENTICATED_AGENTS: "", ACCESS_TEAM_DOMAIN: TEAM_DOMAIN, ACCESS_AUD: AUDIENCE, ...extra,
    }),
    hosts: { [TEAM_DOMAIN]: suite.access.url },
  }, run);
  const signedIn = (headers = {}, extraClaims = {}) =>
    ({ "Cf-Access-Jwt-Assertion": token(suite.key, claims({ name: "Ann Lee", ...extraClaims })), ...headers });
  return { suite, withAccessGateway, signedIn };
}
