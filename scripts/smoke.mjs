// `make smoke [ENV=staging|production] [URL=https://…] [SECRETS=file]`: proves
// a gateway end to end, from a real browser, against whatever Upscope it is
// configured with, and says exactly what differed when a step fails.
//
//   no ENV or URL   the local `make dev` gateway, http://127.0.0.1:8787
//   ENV=…           that environment's custom domain in wrangler.toml (or SMOKE_URL)
//   URL=https://…   any gateway
//
// Steps, one row each (step, result, time, reason): the gateway answers;
// it is ready (`/readyz?upstream=1`: settings and the API key); a customer
// opens /visitor with a fresh own ID (`smoke-<random>`) in Chromium and stays
// on the proxied page; an agent link for that own ID is redirected to a
// watch_url (polled while the visitor registers); the same for /view when it
// is configured, and for the visitor's Short ID and lookup code when the
// proxied page's Upscope SDK tells them. Links are signed with the secrets
// from the environment or SECRETS when the gateway needs it; in Access mode
// an Access service token (SMOKE_ACCESS_CLIENT_ID, SMOKE_ACCESS_CLIENT_SECRET)
// passes Access. It never prints or stores a watch_url, a proxy URL, a
// signature or a secret: hosts, statuses, codes and the gateway's own
// messages only. Exit 0 only when no step failed.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { signLink } from "../examples/sign-link.mjs";
import { environmentSecretsFile, readSecretsFile } from "./lib/secrets-file.mjs";
import { readEnv, DEPLOY_ENVS } from "./lib/wrangler-config.mjs";

export const LOCAL_GATEWAY = "http://127.0.0.1:8787";
/** How long an agent link is retried while the new visitor registers with Upscope. */
const REGISTER_MS = 30_000;
/** How long any one request may take. */
const REQUEST_MS = 10_000;
/** The agent and viewer a smoke run names. */
const AGENT = { id: "smoke-test", name: "Smoke test" };
const VIEWER = { id: "smoke-viewer", name: "Smoke viewer" };

/** Where Chromium is: CHROMIUM_PATH, Debian's package, or Chrome on a Mac. */
function chromiumPath() {
  const candidates = [
    process.env.CHROMIUM_PATH,
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
  ];
  return candidates.find((p) => p && existsSync(p));
}

/**
 * SMOKE_CHROMIUM_ARGS: more Chromium flags, as a JSON array; the tests give
 * it the Cloudflare stand-in's edge (--host-resolver-rules and its
 * certificate), as a person might give a proxy.
 */
function extraChromiumArgs() {
  const text = process.env.SMOKE_CHROMIUM_ARGS;
  if (!text) return [];
  const args = JSON.parse(text);
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string" && a.startsWith("--"))) {
    throw new Error("SMOKE_CHROMIUM_ARGS must be a JSON array of --flags");
  }
  return args;
}

/** The gateway's error as `code: message`, from its JSON or its HTML page; never a URL. */
function describeError(status, text) {
  try {
    const { error } = JSON.parse(text);
    if (error?.code) return `${status} ${error.code}: ${error.message}`;
  } catch {
    // an HTML page, or not the gateway at all
  }
  const code = /Error <code>([a-z_]+)<\/code>/.exec(text)?.[1];
  const message = /<\/h1><p>([^<]*)<\/p>/.exec(text)?.[1];
  return code ? `${status} ${code}: ${message ?? ""}` : `${status}, not an answer of the gateway's`;
}

/**
 * `text` with every URL in it cut to its scheme and host: an error thrown
 * by Chromium or fetch names the link it was given, and a link may be signed
 * (`sig=`) or be a session URL.
 */
export function hostsOnly(text) {
  return String(text).replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi, (match) => {
    // Punctuation ending a sentence is the sentence's, not the URL's.
    const [url, after] = [match.replace(/[),.;:!?]+$/, ""), /[),.;:!?]*$/.exec(match)[0]];
    try {
      const { protocol, host } = new URL(url);
      return `${protocol}//${host}${after}`;
    } catch {
      return `(a URL)${after}`;
    }
  });
}

/**
 * Runs every step against `base` and returns the rows. `secrets` holds
 * AGENT_LINK_SECRET and friends; `accessToken` is `{ id, secret }`;
 * `headers` go with every request (e.g. a version override).
 * `version: { id, waitMs }` makes the `ready` step require that `/readyz`
 * reports `version_id` = `id` (the Worker version that answered, from the
 * CF_VERSION_METADATA binding), asking again for up to `waitMs` while another
 * version answers (a new deployment takes a few seconds to reach every
 * location).
 */
export async function smoke({ base, secrets = {}, accessToken, headers = {}, version, log = () => {} }) {
  const rows = [];
  const gateway = new URL(base);
  const row = (step, result, started, reason) => {
    // Whatever a step says, no URL leaves this function but its host.
    const r = { step, result, ms: Date.now() - started, reason: hostsOnly(reason) };
    rows.push(r);
    log(r);
    return r;
  };
  const request = (path, init = {}) =>
    fetch(new URL(path, gateway), {
      redirect: "manual",
      ...init,
      headers: { Accept: "application/json", ...headers, ...accessHeaders(accessToken), ...(init.headers ?? {}) },
      signal: AbortSignal.timeout(REQUEST_MS),
    });

  // 1. The gateway answers.
  let started = Date.now();
  try {
    const res = await request("/healthz");
    const body = await res.text();
    if (res.status !== 200) return [row("gateway answers", "fail", started, `/healthz: ${describeError(res.status, body)}`)];
    row("gateway answers", "pass", started, `version ${JSON.parse(body).version}`);
  } catch (err) {
    const why = err.cause?.code ?? err.name;
    const hint = base === LOCAL_GATEWAY ? "; start it with `make dev`" : "";
    return [row("gateway answers", "fail", started, `no gateway at ${gateway.host} (${why})${hint}`)];
  }

  // 2. Ready: settings, and Upscope accepting the key.
  started = Date.now();
  let features = [];
  {
    const deadline = Date.now() + (version?.waitMs ?? 0);
    let res;
    let body;
    for (;;) {
      res = await request("/readyz?upstream=1");
      body = await res.json().catch(() => ({}));
      if (!version || body.version_id === version.id || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    features = body.features ?? [];
    const upstream = body.upstream ? `; upstream ${body.upstream.status}${body.upstream.reason ? ` (${body.upstream.reason})` : ""}` : "";
    if (res.status !== 200) {
      const problems = (body.problems ?? []).join("; ") || body.error?.message || `HTTP ${res.status}`;
      return [...rows, row("ready", "fail", started, `${problems}${upstream}${answeredBy(body)}`)];
    }
    if (version && body.version_id !== version.id) {
      const got = body.version_id ? `version ${body.version_id} answered` : "/readyz names no version_id (is [version_metadata] bound?)";
      return [...rows, row("ready", "fail", started, `want version ${version.id}, but ${got}`)];
    }
    row("ready", "pass", started, `${features.join(", ")}${upstream}${answeredBy(body)}`);
  }

  const ownId = `smoke-${randomBytes(6).toString("hex")}`;
  const need = (name) => {
    if (!secrets[name]) throw new Error(`set ${name} in the environment or in SECRETS=file`);
    return secrets[name];
  };
  const sign = (path, secretName) => signLink(new URL(path, gateway).href, need(secretName), { ttlSeconds: 120 });

  // 3. A customer opens /visitor in Chromium and lands on the proxied page.
  started = Date.now();
  let learned = {};
  const executablePath = chromiumPath();
  if (!features.includes("visitor")) {
    row("visitor opens /visitor", "fail", started, "/visitor is not configured (see /readyz)");
  } else if (!executablePath) {
    row("visitor opens /visitor", "fail", started, "no Chromium found: install it (make setup-browser) or set CHROMIUM_PATH");
  } else {
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", ...extraChromiumArgs()] });
    try {
      const path = `/visitor?uniqueid=${ownId}`;
      const link = features.includes("signed_visitor_links") ? sign(path, "VISITOR_LINK_SECRET") : new URL(path, gateway).href;
      const page = await browser.newPage({ extraHTTPHeaders: headers });
      const answer = await page.goto(link, { timeout: 20_000 });
      const landed = new URL(page.url());
      if (landed.host === gateway.host) {
        row("visitor opens /visitor", "fail", started, describeError(answer?.status(), await page.content()));
      } else if ((answer?.status() ?? 0) >= 400) {
        row("visitor opens /visitor", "fail", started, `the proxied page on ${landed.host} answered ${answer.status()}`);
      } else {
        await page.waitForTimeout(1000);
        const stayed = new URL(page.url()).host === landed.host;
        learned = await fromSdk(page);
        row("visitor opens /visitor", stayed ? "pass" : "fail", started,
          stayed ? `on the proxied page at ${landed.host}` : `left the proxied page for ${new URL(page.url()).host}`);
      }
      // 4–7 run while the visitor's page stays open; without a visitor they could only wait.
      if (rows.at(-1).result === "pass") await agentSteps();
      else row("agent steps", "skip", Date.now(), "no visitor reached the proxied page, so no agent can watch one");
    } catch (err) {
      row("visitor opens /visitor", "fail", started, err.message.split("\n")[0]);
    } finally {
      await browser.close();
    }
  }

  async function agentSteps() {
    const agentAuth = features.find((f) => f.startsWith("agent_auth:"))?.slice("agent_auth:".length);
    const agentLink = (visitor) => {
      const who = `agent_id=${AGENT.id}&agent_name=${encodeURIComponent(AGENT.name)}`;
      if (agentAuth === "signed-link") return sign(`/agent?${visitor}&${who}`, "AGENT_LINK_SECRET");
      if (agentAuth === "access") {
        if (!accessToken) throw new Error("Access mode: set SMOKE_ACCESS_CLIENT_ID and SMOKE_ACCESS_CLIENT_SECRET (a service token listed in ACCESS_SERVICE_TOKENS)");
        return new URL(`/agent?${visitor}`, gateway).href;
      }
      return new URL(`/agent?${visitor}&${who}`, gateway).href;
    };
    const watchStep = async (step, link) => {
      const t0 = Date.now();
      try {
        const outcome = await untilRedirected(typeof link === "function" ? link() : link, request);
        row(step, outcome.ok ? "pass" : "fail", t0, outcome.reason);
      } catch (err) {
        row(step, "fail", t0, err.message);
      }
    };
    if (!agentAuth) return row("agent by own ID", "fail", Date.now(), "/agent is not configured (see /readyz)");
    await watchStep("agent by own ID", () => agentLink(`uniqueid=${ownId}`));
    if (features.includes("viewer_links")) {
      await watchStep("viewer by own ID (/view)", () =>
        sign(`/view?uniqueid=${ownId}&viewer_id=${VIEWER.id}&viewer_name=${encodeURIComponent(VIEWER.name)}`, "VIEWER_LINK_SECRET"));
    } else {
      row("viewer by own ID (/view)", "skip", Date.now(), "/view is not configured");
    }
    if (learned.shortId) await watchStep("agent by Short ID", () => agentLink(`shortid=${encodeURIComponent(learned.shortId)}`));
    else row("agent by Short ID", "skip", Date.now(), "the proxied page's Upscope SDK did not tell the Short ID");
    if (learned.lookupCode) await watchStep("agent by lookup code", () => agentLink(`lookup=${encodeURIComponent(learned.lookupCode)}`));
    else row("agent by lookup code", "skip", Date.now(), "the proxied page's Upscope SDK did not tell the lookup code");
  }
  return rows;
}

/** "; version <id>" when /readyz names the Worker version that answered. */
const answeredBy = (body) => (body.version_id ? `; version ${body.version_id}` : "");

/** Cloudflare Access's service-token headers, when a token is given. */
const accessHeaders = (token) => (token ? { "CF-Access-Client-Id": token.id, "CF-Access-Client-Secret": token.secret } : {});

/**
 * Asks for `link` until it is redirected to a watch_url (a 404 means the
 * visitor has not registered yet), for at most REGISTER_MS. Reports the
 * host it was sent to, never the URL.
 */
async function untilRedirected(link, request) {
  const deadline = Date.now() + REGISTER_MS;
  const path = new URL(link);
  for (;;) {
    const res = await request(path.pathname + path.search);
    const body = await res.text();
    if (res.status === 302) {
      const location = res.headers.get("location") ?? "";
      let target;
      try {
        target = new URL(location);
      } catch {
        return { ok: false, reason: "302 without an absolute Location" };
      }
      const secure = target.protocol === "https:" || ["127.0.0.1", "localhost", "[::1]"].includes(target.hostname);
      return secure && target.host !== path.host
        ? { ok: true, reason: `302 to a watch_url on ${target.host}` }
        : { ok: false, reason: `302 to ${target.protocol}//${target.host}, not a watch_url` };
    }
    const waiting = res.status === 404 && /visitor_not_found/.test(body);
    if (!waiting || Date.now() > deadline) {
      return { ok: false, reason: describeError(res.status, body) + (waiting ? ` (after ${REGISTER_MS / 1000} s)` : "") };
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The Short ID and lookup code, as the page's Upscope SDK tells them (documented calls), if it does. */
async function fromSdk(page) {
  return page
    .evaluate(() => {
      const ask = (command) =>
        new Promise((resolve) => {
          if (typeof window.Upscope !== "function") return resolve(null);
          setTimeout(() => resolve(null), 5000);
          window.Upscope(command, (value) => resolve(value == null ? null : String(value)));
        });
      return Promise.all([ask("getShortId"), ask("getLookupCode")]).then(([shortId, lookupCode]) => ({ shortId, lookupCode }));
    })
    .catch(() => ({}));
}

/**
 * What a smoke run signs and authenticates with: the environment, overlaid
 * with `fileSecrets` (a secrets file as lib/secrets-file.mjs reads it), and
 * the Access service token named there (SMOKE_ACCESS_CLIENT_ID,
 * SMOKE_ACCESS_CLIENT_SECRET).
 */
export function credentials(fileSecrets = {}) {
  const secrets = { ...process.env, ...fileSecrets };
  const accessToken = secrets.SMOKE_ACCESS_CLIENT_ID && secrets.SMOKE_ACCESS_CLIENT_SECRET
    ? { id: secrets.SMOKE_ACCESS_CLIENT_ID, secret: secrets.SMOKE_ACCESS_CLIENT_SECRET }
    : undefined;
  return { secrets, accessToken };
}

/** The rows as a table. */
export function table(rows) {
  const lines = [["step", "result", "time", "reason"], ...rows.map((r) => [r.step, r.result, `${(r.ms / 1000).toFixed(1)} s`, r.reason])];
  const widths = [0, 1, 2].map((i) => Math.max(...lines.map((l) => l[i].length)));
  return lines.map((l) => l.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join("  ")).join("\n");
}

/** Which gateway: URL, else ENV's SMOKE_URL or custom domain, else the local one. */
export async function target({ url, env }) {
  if (url) return url.replace(/\/$/, "");
  if (!env) return LOCAL_GATEWAY;
  if (!DEPLOY_ENVS.includes(env)) throw new Error(`ENV must be one of ${DEPLOY_ENVS.join(", ")} (got "${env}")`);
  if (process.env.SMOKE_URL) return process.env.SMOKE_URL.replace(/\/$/, "");
  const config = await readEnv(env);
  const domain = (config.routes ?? []).find((r) => typeof r === "object" && r.custom_domain)?.pattern;
  if (!domain) throw new Error(`no custom domain for ${env} in wrangler.toml; pass URL=https://…`);
  return `https://${domain}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { env: { type: "string" }, url: { type: "string" }, secrets: { type: "string" } } });
  let base;
  try {
    base = await target(values);
  } catch (err) {
    console.error(`smoke: ${err.message}`);
    process.exit(2);
  }
  // SECRETS, else the environment's own .env.<env> (make init writes it).
  const secretsFile = values.secrets || (values.env && !values.url ? environmentSecretsFile(values.env) : undefined);
  let fileSecrets;
  try {
    fileSecrets = secretsFile ? readSecretsFile(secretsFile) : {};
  } catch (err) {
    console.error(`smoke: ${err.message}`);
    process.exit(2);
  }
  const { secrets, accessToken } = credentials(fileSecrets);
  console.log(`smoke: ${new URL(base).host}`);
  // Bounded as a whole: no step may hold the run past this.
  const guard = setTimeout(() => {
    console.error("smoke: gave up after 3 minutes");
    process.exit(1);
  }, 180_000);
  guard.unref();
  const rows = await smoke({ base, secrets, accessToken, log: (r) => console.log(`  ${r.result.padEnd(4)}  ${r.step}: ${r.reason}`) });
  console.log(`\n${table(rows)}`);
  const failed = rows.filter((r) => r.result === "fail").length;
  console.log(failed ? `\nsmoke: ${failed} step(s) failed` : "\nsmoke: every step passed");
  process.exit(failed ? 1 : 0);
}
