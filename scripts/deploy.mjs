// `make deploy ENV=<staging|production> [SECRETS=file] [STEPS=10,100] [DRY_RUN=1]`,
// after `make check` and `make build`; and `make rollback`.
//
// Every deploy starts with the audit trail's Tail Worker (audit/wrangler.toml),
// which the gateway's tail_consumers names and which must exist first: its D1
// migrations (`wrangler d1 migrations apply AUDIT_DB --remote`), then
// `wrangler deploy` of it. On the first deploy its database does not exist
// yet: then the deploy creates it (wrangler's automatic provisioning, by the
// database_name in the config) and the migrations follow.
//
// The first deploy of the gateway (no Worker yet, or one that is not a
// deploy of this gateway: the placeholder `wrangler secret put` creates for a
// Worker that does not exist, whose version binds nothing but secrets) is
// `wrangler deploy` with the environment's secrets in the same upload
// (`--secrets-file`: SECRETS, else .env.<env> from `make init`, filtered to
// the secrets the gateway reads; SMOKE_* and anything else stay local). It
// creates the KV namespace (automatic provisioning), the routes and the
// Custom Domain, then the smoke check runs (or, while the host does not
// resolve yet, a note to run `make smoke` later).
//
// Every later deploy is a gradual rollout with Worker versions, proven by the
// smoke check (scripts/smoke.mjs) before each shift of traffic:
//   1. `wrangler deployments status --json`: the version serving now (old).
//   2. `wrangler triggers deploy`: the routes and Custom Domains of
//      wrangler.toml (versions never change them), so a changed route applies.
//   3. `wrangler versions upload --tag=<commit> --message=<subject>` (with
//      SECRETS when given): the new version, serving nothing yet. It inherits
//      its secrets from the newest uploaded version; when that is not the
//      serving one (a returned rollout, whose secrets may have been turned
//      away), .env.<env>'s are uploaded with it.
//   4. `wrangler versions deploy <new>@0% <old>@100%`: the new version joins
//      the deployment at 0%, which a version override needs, and the smoke
//      check runs against it alone (Cloudflare-Workers-Version-Overrides:
//      <worker>="<new>"), requiring /readyz to report version_id <new>.
//   5. For each step (STEPS, default 10,100): `wrangler versions deploy
//      <new>@N% <old>@(100-N)%`, then the smoke check again: through the
//      override below 100%, and at 100% without it.
//   Any failure returns all traffic to <old> (`wrangler versions deploy
//   <old>@100%`) and says so; the exit status is then 1.
//
// `--rollback [--version <id>]` is `make rollback`: `wrangler rollback`, then
// the smoke check of whichever version then serves.
// `--dry-run` uploads nothing: `wrangler versions upload --dry-run` builds
// and validates the version offline.
//
// The smoke URL is SMOKE_URL when set, else the environment's first custom
// domain in wrangler.toml.
import { lookup } from "node:dns/promises";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { AUDIT_CONFIG_PATH, DEPLOY_ENVS, ROOT, readEnv } from "./lib/wrangler-config.mjs";
import { environmentSecretsFile, readSecretsFile } from "./lib/secrets-file.mjs";
import { VERSION_ID, commit, currentDeployment, isGatewayVersion, latestVersion, removeSecretsFiles, secretsFileFor, viewVersion, wrangler as run } from "./lib/wrangler-run.mjs";
import { gatewaySecretNames } from "./check-config.mjs";
import { credentials, smoke, table, target } from "./smoke.mjs";

/** How long a smoke check waits for a new deployment to reach the location it asks. */
const SETTLE_MS = Number(process.env.DEPLOY_SETTLE_SECONDS ?? 30) * 1000;

const { values } = parseArgs({
  options: {
    env: { type: "string", default: "" },
    secrets: { type: "string" },
    "dry-run": { type: "boolean" },
    steps: { type: "string", default: "" },
    rollback: { type: "boolean" },
    version: { type: "string", default: "" },
  },
});
const env = values.env;
const say = (line) => console.log(`${values.rollback ? "rollback" : "deploy"} ${env}: ${line}`);
const fail = (line, status = 1) => {
  say(line);
  process.exit(status);
};
const wrangler = (args, options) => run(args, { show: say, ...options });
if (!DEPLOY_ENVS.includes(env)) {
  console.error(`deploy: ENV must be one of ${DEPLOY_ENVS.join(", ")} (got "${env}")`);
  process.exit(2);
}

/** STEPS as ascending percentages ending at 100; exits 2 when malformed. */
function parseSteps(text) {
  const steps = (text || "10,100").split(",").map((s) => s.trim().replace(/%$/, ""));
  const numbers = steps.map(Number);
  const ok = steps.every((s) => /^\d+$/.test(s)) && numbers.every((n, i) => n >= 1 && n <= 100 && (i === 0 || n > numbers[i - 1])) && numbers.at(-1) === 100;
  return ok ? numbers : null;
}

const steps = parseSteps(values.steps);
if (!steps) fail(`STEPS must be ascending percentages from 1 to 100 ending at 100, e.g. 10,50,100 (got "${values.steps}")`, 2);
if (values.version && !values.rollback) fail("VERSION is for make rollback only", 2);
if (values.version && !VERSION_ID.test(values.version)) fail(`VERSION must be a version id as wrangler versions list prints it (got "${values.version}")`, 2);

// The secrets file: SECRETS, else .env.<env>; read once, here, by the one reader.
const secretsPath = values.secrets || environmentSecretsFile(env);
let fileSecrets = {};
try {
  fileSecrets = secretsPath ? readSecretsFile(secretsPath) : {};
} catch (err) {
  fail(`${err.message}; nothing was done`, 2);
}
const { secrets, accessToken } = credentials(fileSecrets);

/**
 * The secrets of `fileSecrets` the gateway reads, as a --secrets-file
 * argument (a 0600 temp file in JSON); the other names (SMOKE_* for the smoke
 * check, anything else) are left out, and named.
 */
function secretsUpload() {
  const names = gatewaySecretNames();
  const upload = Object.fromEntries(Object.entries(fileSecrets).filter(([name]) => names.includes(name)));
  const left = Object.keys(fileSecrets).filter((name) => !names.includes(name));
  if (left.length) say(`not uploaded from ${path.relative(ROOT, secretsPath)}: ${left.join(", ")} (not secrets the gateway reads)`);
  if (!Object.keys(upload).length) return [];
  say(`uploading with this version: ${Object.keys(upload).join(", ")} (values not shown)`);
  return [`--secrets-file=${secretsFileFor(upload).file}`];
}

/** Whether the smoke URL's host resolves from here; says why not. */
async function resolvable(base) {
  const host = new URL(base).hostname;
  try {
    await lookup(host);
    return true;
  } catch (err) {
    say(`${host} does not resolve from here (${err.code}): offline, or DNS not yet propagated`);
    return false;
  }
}

/** The smoke check against `base`, requiring version `id` (through the override when `override`). */
async function smokeCheck(base, label, { id, override, worker }) {
  const headers = override ? { "Cloudflare-Workers-Version-Overrides": `${worker}="${id}"` } : {};
  say(`smoke check (${label}): version ${id}${override ? ", through the version override" : ""}`);
  const rows = await smoke({
    base,
    secrets,
    accessToken,
    headers,
    version: { id, waitMs: SETTLE_MS },
    log: (r) => say(`smoke ${r.step}: ${r.result}, ${r.reason}`),
  });
  console.log(table(rows));
  return !rows.some((r) => r.result === "fail");
}

const versionOf = (result, type) => result.outputs.find((o) => o.type === type)?.version_id;
const split = (traffic) => traffic.map(([id, pct]) => `${id}@${pct}%`);

if (values["dry-run"]) {
  const { tag, message } = commit();
  const outdir = mkdtempSync(path.join(os.tmpdir(), `gateway-${env}-`));
  const dry = wrangler(["versions", "upload", `--env=${env}`, `--tag=${tag}`, `--message=${message}`, "--dry-run", `--outdir=${outdir}`]);
  if (!dry.ok) fail(`wrangler versions upload --dry-run failed (exit ${dry.status}); nothing more done`);
  say(`dry run: nothing was uploaded, so nothing was deployed and the smoke check is skipped (the bundle is in ${outdir})`);
  process.exit(0);
}

const worker = (await readEnv(env)).name;
const base = await target({ env });

if (values.rollback) await rollback();
else await rollout();

async function rollback() {
  say("rolling back: a version from before a secret change runs with the secrets it was deployed with (docs/deploy.md, Rollback)");
  const back = wrangler(["rollback", ...(values.version ? [values.version] : []), `--env=${env}`, "-y", "--message=make rollback"]);
  if (!back.ok) fail(`wrangler rollback failed (exit ${back.status}): the deployment is unchanged`);
  const now = currentDeployment(env);
  const serving = now.versions?.find((v) => v.percentage === 100)?.version_id;
  if (!serving) fail(`rolled back, but could not confirm which version serves: ${now.error ?? JSON.stringify(now)}`);
  if (values.version && serving !== values.version) fail(`rolled back, but ${serving} serves, not ${values.version}`);
  if (!(await resolvable(base))) fail(`rolled back to ${serving}; smoke check skipped. Check later: make smoke ENV=${env}`, 0);
  if (!(await smokeCheck(base, "after rollback", { id: serving, override: false, worker }))) {
    fail(`rolled back to ${serving}, but its smoke check failed: see above`);
  }
  say(`rolled back: ${serving} serves 100% and answers`);
}

/**
 * The audit trail's Tail Worker, before the gateway (whose tail_consumers
 * names it): migrations, then the Worker; on the first deploy, the Worker
 * first, which creates the database, then the migrations. Exits on failure,
 * the gateway untouched.
 */
async function deployAudit(tag, message) {
  const config = [`--config=${path.relative(ROOT, AUDIT_CONFIG_PATH)}`];
  const migrate = () => {
    const done = wrangler(["d1", "migrations", "apply", "AUDIT_DB", "--remote", `--env=${env}`, ...config]);
    if (!done.ok) fail(`the audit trail's D1 migrations failed (exit ${done.status}): the gateway was not changed`);
  };
  const deploy = () => {
    const done = wrangler(["deploy", `--env=${env}`, ...config, `--tag=${tag}`, `--message=${message}`]);
    if (!done.ok) fail(`the audit trail's Tail Worker did not deploy (exit ${done.status}): the gateway was not changed`);
  };
  const list = wrangler(["d1", "list", "--json"], { quiet: true });
  let databases;
  try {
    databases = JSON.parse(list.stdout).map((d) => d.name);
  } catch {
    fail(`wrangler d1 list --json failed (exit ${list.status}): ${`${list.stdout}\n${list.stderr}`.trim()}`);
  }
  const audit = await readEnv(env, AUDIT_CONFIG_PATH);
  const name = audit.d1_databases?.find((d) => d.binding === "AUDIT_DB")?.database_name;
  if (databases.includes(name)) {
    migrate();
    deploy();
  } else {
    say(`the audit database ${name} does not exist yet: deploying the Tail Worker creates it, then its migrations`);
    deploy();
    migrate();
  }
}

async function rollout() {
  const { tag, message } = commit();
  const now = currentDeployment(env);
  if (now.error) fail(`could not read the current deployment, so nothing was changed:\n${now.error}`);
  if (now.none) return firstDeploy(tag, message, "no Worker or no deployment yet");
  if (now.versions.length !== 1 || now.versions[0].percentage !== 100) {
    const traffic = now.versions.map((v) => `${v.version_id} at ${v.percentage}%`).join(", ");
    fail(`a rollout is under way (${traffic}): finish it, or \`make rollback ENV=${env}\`, first; nothing was changed`);
  }
  const old = now.versions[0].version_id;
  const serving = viewVersion(env, old);
  if (serving.error) fail(`could not read the serving version ${old}, so nothing was changed:\n${serving.error}`);
  if (!isGatewayVersion(serving)) {
    return firstDeploy(tag, message, `what serves (${old}) is not a deploy of this gateway (it binds no CF_VERSION_METADATA): the placeholder \`wrangler secret put\` creates, or a Worker deployed from elsewhere`);
  }
  say(`serving now: ${old} (100%)`);

  await deployAudit(tag, message);
  const triggers = wrangler(["triggers", "deploy", `--env=${env}`]);
  if (!triggers.ok) fail(`wrangler triggers deploy failed (exit ${triggers.status}): nothing was uploaded; ${old} still serves 100%`);
  if (!(await resolvable(base))) fail(`without a smoke check there is no gradual deploy: nothing was uploaded; ${old} still serves 100%`);

  // A new version inherits its secrets from the newest uploaded one. After a
  // returned rollout that is not the serving version, and its secrets may be
  // ones that were turned away (SECRETS= changed one): then the environment's
  // own file sets them again.
  let secretsArgs = values.secrets ? secretsUpload() : [];
  const latest = latestVersion(env);
  if (!values.secrets && latest.id && latest.id !== old) {
    const inherits = `the newest uploaded version, ${latest.id}, is not the one serving (a returned rollout): a new version inherits its secrets`;
    if (secretsPath) {
      say(`${inherits}, so this one carries ${path.relative(ROOT, secretsPath)}'s`);
      secretsArgs = secretsUpload();
    } else {
      say(`note: ${inherits}, which differ from ${old}'s if that rollout changed one; give SECRETS= to set them`);
    }
  }
  const uploaded = wrangler(["versions", "upload", `--env=${env}`, `--tag=${tag}`, `--message=${message}`, ...secretsArgs]);
  removeSecretsFiles();
  const fresh = uploaded.ok && versionOf(uploaded, "version-upload");
  if (!fresh) fail(`wrangler versions upload failed (exit ${uploaded.status}${uploaded.ok ? ", no version id" : ""}): nothing was deployed; ${old} still serves 100%`);
  say(`uploaded version ${fresh} (tag ${tag})`);

  let moved = false;
  const restore = (why) => {
    if (!moved) fail(`${why}; traffic was never moved: ${old} still serves 100%`);
    say(`${why}: returning all traffic to ${old}`);
    let back = wrangler(["versions", "deploy", `${old}@100%`, "-y", `--env=${env}`, `--message=make deploy: back to ${old}`]);
    if (!back.ok) {
      // Cloudflare refuses to return to a version whose secrets differ from the
      // serving ones (SECRETS= changed one) unless confirmed, which only
      // `wrangler rollback` does (-y): the old version runs with its old values.
      say(`returning with wrangler rollback instead, which confirms a change of secrets: ${old} runs with the secrets it was deployed with`);
      back = wrangler(["rollback", old, `--env=${env}`, "-y", `--message=make deploy: back to ${old}`]);
    }
    if (!back.ok) fail(`${why}, and returning traffic to ${old} FAILED: run \`make rollback ENV=${env} VERSION=${old}\` now`);
    fail(`${why}; traffic returned to ${old} (100%). ${fresh} stays uploaded, serving nothing: to change a secret now, see make secret (docs/deploy.md, step 11)`);
  };
  process.on("SIGINT", () => restore("interrupted"));
  process.on("SIGTERM", () => restore("terminated"));

  for (const pct of [0, ...steps]) {
    const traffic = pct === 100 ? [[fresh, 100]] : [[fresh, pct], [old, 100 - pct]];
    const deployed = wrangler(["versions", "deploy", ...split(traffic), "-y", `--env=${env}`, `--message=make deploy: ${tag} at ${pct}%`]);
    if (!deployed.ok) restore(`wrangler versions deploy ${split(traffic).join(" ")} failed (exit ${deployed.status})`);
    moved = true;
    const label = pct === 0 ? "new version at 0%" : `${pct}%`;
    try {
      if (!(await smokeCheck(base, label, { id: fresh, override: pct < 100, worker }))) restore(`smoke check failed at ${label}`);
    } catch (err) {
      restore(`smoke check broke at ${label} (${err.message})`);
    }
    say(pct === 100 ? `${fresh} serves 100%` : `${fresh} at ${pct}%, ${old} at ${100 - pct}%: smoke check passed`);
  }
  say(`deployed ${fresh} (tag ${tag}) and answering; the previous version was ${old}: make rollback ENV=${env} VERSION=${old}`);
  process.exit(0);
}

async function firstDeploy(tag, message, why) {
  say(`${why}: a first deploy (\`wrangler deploy\`, which also creates the KV namespace, the routes and the custom domain)`);
  await deployAudit(tag, message);
  if (!secretsPath) say(`no SECRETS file and no .env.${env}: the Worker gets no secrets from here (make init ENV=${env} writes them)`);
  const done = wrangler(["deploy", `--env=${env}`, `--tag=${tag}`, `--message=${message}`, ...(secretsPath ? secretsUpload() : [])]);
  removeSecretsFiles();
  const id = done.ok && versionOf(done, "deploy");
  if (!id) {
    const plan = /tail/i.test(`${done.stdout}${done.stderr}`) ? " (a Worker with tail_consumers needs the Workers Paid plan)" : "";
    fail(`wrangler deploy failed (exit ${done.status}${done.ok ? ", no version id" : ""})${plan}; nothing more done`);
  }
  if (!(await resolvable(base))) fail(`deployed ${id}; smoke check skipped. Check later: make smoke ENV=${env}`, 0);
  if (!(await smokeCheck(base, "first deploy", { id, override: false, worker }))) {
    fail(`deployed ${id}, but its smoke check failed: see above. There is no earlier version to return to: fix it and deploy again`);
  }
  say(`deployed ${id} (tag ${tag}) and answering`);
  process.exit(0);
}
