// `make init ENV=staging|production`: sets an environment up for its first
// `make deploy`, with no id or secret pasted by hand.
//
// It asks (on a terminal), or takes as variables (CI, scripts):
//   GATEWAY_HOST        the gateway's host name, a Custom Domain in a zone of
//                       the account (cobrowse.example.com)
//   VISITOR_PAGES       the page(s) /visitor opens, space separated: the first
//                       is PROXY_INITIAL_URL, the others PROXY_ALLOWED_URLS;
//                       their hosts become PROXY_ALLOWED_DOMAINS
//   EMBED_ORIGINS       the site(s) that embed /visitor (https://shop.example.com)
//   AGENT_AUTH          how agents sign in: signed-link or access; for access
//                       also ACCESS_TEAM_DOMAIN and ACCESS_AUD, and optionally
//                       SMOKE_ACCESS_CLIENT_ID and SMOKE_ACCESS_CLIENT_SECRET
//                       (a service token the smoke check acts as an agent with)
//   VIEWER_LINKS        yes: /view links for people outside the company
//                       (VIEWER_LINK_SECRET and AUDIT_ID_SECRET, with signed
//                       visitor IDs)
//   SIGNED_VISITOR_IDS  yes: /visitor?uniqueid= links must be signed
//                       (VISITOR_LINK_SECRET)
//   UPSCOPE_API_KEY     Upscope's REST API key (asked without echo)
//   UPSCOPE_API_BASE    optional: another Upscope API root (not asked)
//
// and writes:
//   wrangler.toml   that environment's route, vars and secrets.required,
//                   line by line, every comment kept; nothing else changes
//                   (the file is committed: these are the deployment's
//                   settings, reviewed like code; no id, no secret)
//   .env.<env>      its secrets, mode 0600, git-ignored: the link and audit
//                   secrets its features need, generated with a CSPRNG, and
//                   UPSCOPE_API_KEY. A value is never printed.
//
// Idempotent: what is already set is kept (and offered as the answer on a
// terminal), no secret is ever regenerated, and a file is written only when
// its content changes. A second run changes nothing unless a variable (or
// an answer) asks for a different value. Ends with `make check`'s check.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { CONFIG_PATH, DEPLOY_ENVS, PLACEHOLDER, ROOT, readEnv } from "./lib/wrangler-config.mjs";
import { committable, formatSecrets, readSecretsFile } from "./lib/secrets-file.mjs";
import { editTable, tomlString } from "./lib/toml-edit.mjs";
import { ask, askSecret, askYesNo, interactive } from "./lib/prompt.mjs";
import { checkEnvironment } from "./check-config.mjs";

const { values } = parseArgs({ options: { env: { type: "string", default: "" } } });
const env = values.env;
const say = (line) => console.log(`init ${env}: ${line}`);
const stop = (line, status = 1) => {
  console.error(`init ${env}: ${line}`);
  process.exit(status);
};
if (!DEPLOY_ENVS.includes(env)) {
  console.error(`init: ENV must be one of ${DEPLOY_ENVS.join(", ")} (got "${env}")`);
  process.exit(2);
}

const SECRETS_FILE = path.join(ROOT, `.env.${env}`);
/** A new secret: 32 random bytes from the CSPRNG, base64url (43 characters). */
const generate = () => randomBytes(32).toString("base64url");
const list = (text) => String(text ?? "").split(/[\s,]+/).filter(Boolean);
const unset = (value) => value === undefined || value === null || String(value).trim() === "" || String(value).includes(PLACEHOLDER);
const given = (name) => (process.env[name] ?? "").trim() || undefined;

// ── what each answer must look like (the reason never quotes a secret) ──
const HOST = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const checks = {
  GATEWAY_HOST: (v) => (HOST.test(v) ? null : "a host name such as cobrowse.example.com (no scheme, path or port; ASCII, punycode for others)"),
  VISITOR_PAGES: (v) => {
    const pages = list(v);
    if (!pages.length) return "at least one page URL";
    // A reason names the entry by its place, never its text: a pasted URL may carry a token.
    for (const [i, page] of pages.entries()) {
      let url;
      try {
        url = new URL(page);
      } catch {
        return `absolute http(s) URLs: page ${i + 1} is not one`;
      }
      if (!["https:", "http:"].includes(url.protocol)) return `absolute http(s) URLs: page ${i + 1} is not one`;
      if (url.username || url.password || url.search || url.hash) return `URLs with no user name, password, query or fragment: page ${i + 1} has one`;
    }
    return null;
  },
  EMBED_ORIGINS: (v) => {
    const origins = list(v);
    if (!origins.length) return "at least one origin, such as https://shop.example.com";
    const bad = origins.findIndex((o) => o !== "'self'" && !/^https?:\/\/(?:\*\.)?[a-z0-9.-]+(?::\d{1,5})?$/i.test(o));
    return bad >= 0 ? `origins (scheme and host only, e.g. https://shop.example.com): entry ${bad + 1} is not one` : null;
  },
  AGENT_AUTH: (v) => (["signed-link", "access"].includes(v) ? null : "signed-link or access"),
  ACCESS_TEAM_DOMAIN: (v) => (/^[a-z0-9-]+\.cloudflareaccess\.com$/.test(v) ? null : "your team's <name>.cloudflareaccess.com"),
  ACCESS_AUD: (v) => (/^[A-Za-z0-9]{16,128}$/.test(v) ? null : "the application's AUD tag (letters and digits)"),
  SMOKE_ACCESS_CLIENT_ID: (v) => (/^[A-Za-z0-9]+\.access$/.test(v) ? null : "a service token's Client ID, ending in .access"),
  SMOKE_ACCESS_CLIENT_SECRET: (v) => (/^[\x21-\x7e]{8,512}$/.test(v) && !/['\\]/.test(v) ? null : "the service token's Client Secret, as Cloudflare shows it"),
  UPSCOPE_API_KEY: (v) => (/^[\x21-\x7e]{8,512}$/.test(v) && !/['\\]/.test(v) ? null : "Upscope's REST API key, as its dashboard shows it (printable, no spaces)"),
  UPSCOPE_API_BASE: (v) => (/^https?:\/\/[^\s?#]+$/.test(v) ? null : "an http(s) URL without query"),
  VIEWER_LINKS: (v) => (/^(yes|no)$/.test(v) ? null : "yes or no"),
  SIGNED_VISITOR_IDS: (v) => (/^(yes|no)$/.test(v) ? null : "yes or no"),
};

/** A valid value for `name`: the variable, else the answer (on a terminal), else `current`. */
async function answer(name, question, current, { secret = false, optional = false } = {}) {
  const problem = (v) => checks[name](v);
  const fromEnv = given(name);
  if (fromEnv !== undefined) {
    const why = problem(fromEnv);
    if (why) stop(`${name} must be ${why}`, 2);
    return fromEnv;
  }
  if (!interactive()) {
    if (!unset(current) || optional) return unset(current) ? undefined : current;
    stop(`${name} is not set yet: run make init on a terminal, or give it as a variable (make init ENV=${env} ${name}=…)`, 2);
  }
  for (let tries = 0; tries < 5; tries++) {
    let value;
    if (secret) value = unset(current) ? await askSecret(question) : current;
    else value = await ask(question, unset(current) ? "" : current);
    if (!value && optional) return undefined;
    const why = value ? problem(value) : "given";
    if (!why) return value;
    console.log(`  ${name} must be ${why}`);
    if (secret) current = undefined;
  }
  stop(`no valid ${name}`, 2);
}

const yes = (v) => v === "yes";

async function main() {
  if (!interactive()) say("not on a terminal: taking the answers from variables, keeping what is already set");
  ignoredByGit(SECRETS_FILE);
  const config = await readEnv(env);
  const vars = config.vars ?? {};
  const secrets = existsSync(SECRETS_FILE) ? readSecretsFile(SECRETS_FILE) : {};
  const customDomain = (config.routes ?? []).find((r) => typeof r === "object" && r.custom_domain)?.pattern;
  const currentPages = unset(vars.PROXY_INITIAL_URL) ? undefined : [vars.PROXY_INITIAL_URL, ...list(vars.PROXY_ALLOWED_URLS)].join(" ");

  // ── the answers ──
  const host = (await answer("GATEWAY_HOST", "The gateway's host name (a Custom Domain in one of your Cloudflare zones)", customDomain)).toLowerCase();
  const pages = await answer("VISITOR_PAGES", "The page(s) /visitor opens, space separated (the first is where a session starts)", currentPages);
  const embed = await answer("EMBED_ORIGINS", "The site(s) that embed /visitor in an iframe (origins)", unset(vars.EMBED_ORIGINS) ? undefined : vars.EMBED_ORIGINS);
  const agentAuth = await answer("AGENT_AUTH", "How agents sign in: signed-link (your helpdesk signs links) or access (Cloudflare Access)", unset(vars.AGENT_AUTH) ? undefined : vars.AGENT_AUTH);
  let access = {};
  if (agentAuth === "access") {
    access.ACCESS_TEAM_DOMAIN = await answer("ACCESS_TEAM_DOMAIN", "Your Access team domain (Zero Trust → Settings → Custom Pages)", vars.ACCESS_TEAM_DOMAIN);
    access.ACCESS_AUD = await answer("ACCESS_AUD", "The /agent application's Application Audience (AUD) tag", vars.ACCESS_AUD);
    const tokenId = await answer("SMOKE_ACCESS_CLIENT_ID", "Optional: a service token's Client ID for the smoke check (Enter to skip)", secrets.SMOKE_ACCESS_CLIENT_ID, { optional: true });
    if (tokenId) {
      access.SMOKE_ACCESS_CLIENT_ID = tokenId;
      access.SMOKE_ACCESS_CLIENT_SECRET = await answer("SMOKE_ACCESS_CLIENT_SECRET", "That service token's Client Secret", secrets.SMOKE_ACCESS_CLIENT_SECRET, { secret: true });
    }
  }
  const viewer = yes(given("VIEWER_LINKS") ?? (secrets.VIEWER_LINK_SECRET ? "yes" : !interactive() ? "no"
    : (await askYesNo("Viewer links (/view) for people outside the company?", false)) ? "yes" : "no"));
  if (given("VIEWER_LINKS") && checks.VIEWER_LINKS(given("VIEWER_LINKS"))) stop("VIEWER_LINKS must be yes or no", 2);
  const signedVisitors = viewer || yes(given("SIGNED_VISITOR_IDS") ?? (secrets.VISITOR_LINK_SECRET ? "yes" : !interactive() ? "no"
    : (await askYesNo("Must /visitor?uniqueid= links be signed by your site (VISITOR_LINK_SECRET)?", false)) ? "yes" : "no"));
  if (given("SIGNED_VISITOR_IDS") && checks.SIGNED_VISITOR_IDS(given("SIGNED_VISITOR_IDS"))) stop("SIGNED_VISITOR_IDS must be yes or no", 2);
  const apiKey = await answer("UPSCOPE_API_KEY", "Upscope's REST API key", secrets.UPSCOPE_API_KEY, { secret: true });
  const apiBase = given("UPSCOPE_API_BASE");
  if (apiBase && checks.UPSCOPE_API_BASE(apiBase)) stop(`UPSCOPE_API_BASE must be ${checks.UPSCOPE_API_BASE(apiBase)}`, 2);

  // ── wrangler.toml ──
  const original = readFileSync(CONFIG_PATH, "utf8");
  let text = original;
  const table = `env.${env}`;
  if (host !== customDomain) text = editTable(text, table, { set: { routes: `[{ pattern = ${tomlString(host)}, custom_domain = true }]` } });
  const wanted = {};
  const pageList = list(pages);
  if (pages !== currentPages) {
    wanted.PROXY_INITIAL_URL = pageList[0];
    wanted.PROXY_ALLOWED_URLS = pageList.slice(1).join(" ");
    wanted.PROXY_ALLOWED_DOMAINS = [...new Set(pageList.map((p) => new URL(p).hostname))].join(" ");
  }
  wanted.EMBED_ORIGINS = list(embed).join(" ");
  wanted.AGENT_AUTH = agentAuth;
  if (agentAuth === "access") {
    wanted.ACCESS_TEAM_DOMAIN = access.ACCESS_TEAM_DOMAIN;
    wanted.ACCESS_AUD = access.ACCESS_AUD;
    if (access.SMOKE_ACCESS_CLIENT_ID && !String(vars.ACCESS_SERVICE_TOKENS ?? "").includes(access.SMOKE_ACCESS_CLIENT_ID)) {
      wanted.ACCESS_SERVICE_TOKENS = [vars.ACCESS_SERVICE_TOKENS, `${access.SMOKE_ACCESS_CLIENT_ID}=Smoke test`].filter(Boolean).join(",");
    }
  }
  if (apiBase) wanted.UPSCOPE_API_BASE = apiBase;
  const changed = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => vars[k] !== v));
  const removed = agentAuth === "access" ? [] : ["ACCESS_TEAM_DOMAIN", "ACCESS_AUD", "ACCESS_SERVICE_TOKENS"].filter((k) => k in vars);
  if (Object.keys(changed).length || removed.length) {
    text = editTable(text, `${table}.vars`, {
      set: Object.fromEntries(Object.entries(changed).map(([k, v]) => [k, tomlString(v)])),
      remove: removed,
      after: "AGENT_AUTH",
    });
  }
  const required = agentAuth === "signed-link" ? ["UPSCOPE_API_KEY", "AGENT_LINK_SECRET"] : ["UPSCOPE_API_KEY"];
  if (JSON.stringify(config.secrets?.required ?? []) !== JSON.stringify(required)) {
    text = editTable(text, `${table}.secrets`, { set: { required: `[${required.map(tomlString).join(", ")}]` } });
  }
  if (text !== original) {
    await writeConfig(text, { host, vars: { ...vars, ...wanted }, removed });
    say(`wrangler.toml [env.${env}]: ${[...(host !== customDomain ? ["route"] : []), ...Object.keys(changed), ...removed.map((k) => `${k} (removed)`)].join(", ") || "secrets.required"} written`);
  } else {
    say("wrangler.toml: unchanged");
  }

  // ── .env.<env> ──
  const next = { ...secrets };
  const notes = [];
  const keep = (name, value, how) => {
    if (next[name] === value) return;
    notes.push(`${name} ${how}`);
    next[name] = value;
  };
  keep("UPSCOPE_API_KEY", apiKey, secrets.UPSCOPE_API_KEY ? "replaced" : "stored");
  const generated = [
    ...(agentAuth === "signed-link" ? ["AGENT_LINK_SECRET"] : []),
    ...(signedVisitors ? ["VISITOR_LINK_SECRET"] : []),
    // /view's: the audit key names its viewers in the audit log (never rotated).
    ...(viewer ? ["VIEWER_LINK_SECRET", "AUDIT_ID_SECRET"] : []),
  ];
  for (const name of generated) if (!next[name]) keep(name, generate(), "generated");
  for (const name of ["SMOKE_ACCESS_CLIENT_ID", "SMOKE_ACCESS_CLIENT_SECRET"]) if (access[name]) keep(name, access[name], secrets[name] ? "replaced" : "stored");
  if (notes.length) {
    writeSecrets(next);
    say(`.env.${env} (mode 0600): ${notes.join(", ")}; no value is shown`);
  } else {
    if (existsSync(SECRETS_FILE) && (statSync(SECRETS_FILE).mode & 0o077)) chmodSync(SECRETS_FILE, 0o600);
    say(`.env.${env}: unchanged`);
  }

  // ── the check make deploy will run ──
  const { problems, features } = await checkEnvironment(env, { secrets: next });
  for (const problem of problems) say(`problem: ${problem}`);
  if (problems.length) stop(`${problems.length} problem(s) left: see above, then run make init ENV=${env} again`);
  say(`ready (features: ${features.join(", ")}). Next: make deploy ENV=${env}`);
}

/** Writes `text` as wrangler.toml once wrangler's own reader reads back what was meant. */
async function writeConfig(text, { host, vars, removed }) {
  const tmp = path.join(path.dirname(CONFIG_PATH), `.wrangler.init-${process.pid}.toml`);
  writeFileSync(tmp, text);
  try {
    const read = await readEnv(env, tmp);
    const domain = (read.routes ?? []).find((r) => typeof r === "object" && r.custom_domain)?.pattern;
    const wrong = Object.entries(vars).filter(([k, v]) => !removed.includes(k) && read.vars?.[k] !== v).map(([k]) => k);
    if (domain !== host) wrong.push("routes");
    for (const k of removed) if (k in (read.vars ?? {})) wrong.push(k);
    if (wrong.length) throw new Error(`the edited wrangler.toml did not read back as meant (${wrong.join(", ")}); nothing was written`);
    renameSync(tmp, CONFIG_PATH);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Writes the secrets file, mode 0600 from its first byte. */
function writeSecrets(secrets) {
  const header = `# ${env}'s secrets, written by make init (never commit this file).\n# make deploy uploads the gateway's from here on the first deploy; make smoke signs with them.\n`;
  const tmp = `${SECRETS_FILE}.${process.pid}.tmp`;
  writeFileSync(tmp, header + formatSecrets(secrets), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, SECRETS_FILE);
}

/** Refuses to write secrets to a file git would commit. */
function ignoredByGit(file) {
  if (committable(file)) stop(`${path.relative(ROOT, file)} is not git-ignored: add .env* to .gitignore first; nothing was written`);
}

main().catch((err) => stop(err.message));
