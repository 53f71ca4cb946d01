// `make deploy ENV=<staging|production> [SECRETS=file] [STEPS=10,100] [DRY_RUN=1]`,
// after `make check` and `make build`: a gradual rollout with Worker versions,
// proven by the smoke check (scripts/smoke.mjs) before each shift of traffic.
//
//   1. `wrangler deployments status --json`: the version serving now (old).
//   2. `wrangler versions upload --tag <commit> --message <subject>`: the new
//      version, serving nothing yet.
//   3. `wrangler versions deploy <new>@0% <old>@100%`: the new version joins
//      the deployment at 0%, which a version override needs, and the smoke
//      check runs against it alone (header Cloudflare-Workers-Version-Overrides:
//      <worker>="<new>"), requiring /readyz to report version_id <new>.
//   4. For each step (STEPS, default 10,100): `wrangler versions deploy
//      <new>@N% <old>@(100-N)%`, then the smoke check again: through the
//      override below 100%, and at 100% without it, so it proves that plain
//      traffic reaches <new>.
//   Any failure returns all traffic to <old> (`wrangler versions deploy
//   <old>@100%`) and says so; the exit status is then 1.
//
// A Worker with no deployment yet (the first deploy) gets `wrangler deploy`,
// which also creates its routes and custom domain, then the smoke check (or,
// while its host does not resolve yet, a note to run `make smoke` later).
// `--rollback [--version <id>]` is `make rollback`: `wrangler rollback`, then
// the smoke check of whichever version then serves.
// `--dry-run` uploads nothing: `wrangler versions upload --dry-run` builds
// and validates the version offline.
//
// The smoke URL is SMOKE_URL when set, else the environment's first custom
// domain in wrangler.toml. WRANGLER names the wrangler to run (default: the
// one on PATH; the tests point it at a stand-in).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { lookup } from "node:dns/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { DEPLOY_ENVS, ROOT, readEnv } from "./lib/wrangler-config.mjs";
import { credentials, smoke, table, target } from "./smoke.mjs";

const WRANGLER = process.env.WRANGLER || "wrangler";
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

/**
 * Runs wrangler with `args`, its output shown (unless `quiet`) and kept.
 * Returns { ok, stdout, stderr, outputs }: `outputs` are the entries wrangler
 * wrote to WRANGLER_OUTPUT_FILE_PATH, its machine-readable record of what it did.
 */
function wrangler(args, { quiet = false } = {}) {
  if (!quiet) say(`wrangler ${args.join(" ")}`);
  const outputFile = path.join(mkdtempSync(path.join(os.tmpdir(), "wrangler-output-")), "output.ndjson");
  const run = spawnSync(WRANGLER, args, {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_OUTPUT_FILE_PATH: outputFile },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (!quiet) {
    process.stdout.write(run.stdout ?? "");
    process.stderr.write(run.stderr ?? "");
  }
  const outputs = existsSync(outputFile)
    ? readFileSync(outputFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
    : [];
  if (run.error) return { ok: false, stdout: "", stderr: String(run.error.message), outputs };
  return { ok: run.status === 0, status: run.status, stdout: run.stdout ?? "", stderr: run.stderr ?? "", outputs };
}

/** The commit being deployed, for the version's tag and message. */
function commit() {
  const git = (...args) => spawnSync("git", args, { cwd: ROOT, encoding: "utf8" });
  const sha = git("rev-parse", "--short=12", "HEAD").stdout?.trim();
  if (!sha) return { tag: "no-git", message: "deployed from a tree outside git" };
  const dirty = git("status", "--porcelain", "--untracked-files=no").stdout?.trim() ? "-dirty" : "";
  const subject = git("log", "-1", "--format=%s").stdout.trim();
  // Cloudflare keeps a version's message short; the commit names the rest.
  const message = subject.length > 100 ? `${subject.slice(0, 99)}…` : subject;
  return { tag: `${sha}${dirty}`, message };
}

/** Which versions serve now: { versions: [{ version_id, percentage }] }, { none: true } or { error }. */
function currentDeployment() {
  const run = wrangler(["deployments", "status", "--json", "--env", env], { quiet: true });
  if (run.ok) {
    try {
      const deployment = JSON.parse(run.stdout);
      if (Array.isArray(deployment.versions) && deployment.versions.length) return { versions: deployment.versions };
    } catch {
      // not JSON: reported below
    }
    return { error: `wrangler deployments status --json printed no deployment:\n${run.stdout}` };
  }
  const said = `${run.stdout}\n${run.stderr}`;
  // A Worker that exists without a deployment, or does not exist yet (API error 10007 or 10090).
  if (/has no deployments|\[code: 100(07|90)\]/.test(said)) return { none: true };
  return { error: said.trim() || `exit ${run.status}` };
}

const secretsArgs = values.secrets ? ["--secrets-file", values.secrets] : [];
const { secrets, accessToken } = credentials(values.secrets);

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

const versionOf = (run, type) => run.outputs.find((o) => o.type === type)?.version_id;
const split = (traffic) => traffic.map(([id, pct]) => `${id}@${pct}%`);

if (values["dry-run"]) {
  const { tag, message } = commit();
  const outdir = mkdtempSync(path.join(os.tmpdir(), `gateway-${env}-`));
  const run = wrangler(["versions", "upload", "--env", env, "--tag", tag, "--message", message, ...secretsArgs, "--dry-run", "--outdir", outdir]);
  if (!run.ok) fail(`wrangler versions upload --dry-run failed (exit ${run.status}); nothing more done`);
  say(`dry run: nothing was uploaded, so nothing was deployed and the smoke check is skipped (the bundle is in ${outdir})`);
  process.exit(0);
}

const worker = (await readEnv(env)).name;
const base = await target({ env });

if (values.rollback) await rollback();
else await rollout();

async function rollback() {
  say("rolling back: a version from before a secret change runs with the secrets it was deployed with (docs/deploy.md, Rollback)");
  const run = wrangler(["rollback", ...(values.version ? [values.version] : []), "--env", env, "-y", "--message", "make rollback"]);
  if (!run.ok) fail(`wrangler rollback failed (exit ${run.status}): the deployment is unchanged`);
  const now = currentDeployment();
  const serving = now.versions?.find((v) => v.percentage === 100)?.version_id;
  if (!serving) fail(`rolled back, but could not confirm which version serves: ${now.error ?? JSON.stringify(now)}`);
  if (values.version && serving !== values.version) fail(`rolled back, but ${serving} serves, not ${values.version}`);
  if (!(await resolvable(base))) fail(`rolled back to ${serving}; smoke check skipped. Check later: make smoke ENV=${env}`, 0);
  if (!(await smokeCheck(base, "after rollback", { id: serving, override: false, worker }))) {
    fail(`rolled back to ${serving}, but its smoke check failed: see above`);
  }
  say(`rolled back: ${serving} serves 100% and answers`);
}

async function rollout() {
  const { tag, message } = commit();
  const now = currentDeployment();
  if (now.error) fail(`could not read the current deployment, so nothing was changed:\n${now.error}`);
  if (now.none) return firstDeploy(tag, message);
  if (now.versions.length !== 1 || now.versions[0].percentage !== 100) {
    const traffic = now.versions.map((v) => `${v.version_id} at ${v.percentage}%`).join(", ");
    fail(`a rollout is under way (${traffic}): finish it, or \`make rollback ENV=${env}\`, first; nothing was changed`);
  }
  const old = now.versions[0].version_id;
  say(`serving now: ${old} (100%)`);
  if (!(await resolvable(base))) fail(`without a smoke check there is no gradual deploy: nothing was changed; ${old} still serves 100%`);

  const uploaded = wrangler(["versions", "upload", "--env", env, "--tag", tag, "--message", message, ...secretsArgs]);
  const fresh = uploaded.ok && versionOf(uploaded, "version-upload");
  if (!fresh) fail(`wrangler versions upload failed (exit ${uploaded.status}${uploaded.ok ? ", no version id" : ""}): nothing was deployed; ${old} still serves 100%`);
  say(`uploaded version ${fresh} (tag ${tag})`);

  let moved = false;
  const restore = (why) => {
    if (!moved) fail(`${why}; traffic was never moved: ${old} still serves 100%`);
    say(`${why}: returning all traffic to ${old}`);
    const back = wrangler(["versions", "deploy", `${old}@100%`, "-y", "--env", env, "--message", `make deploy: back to ${old}`]);
    if (!back.ok) fail(`${why}, and returning traffic to ${old} FAILED: run \`make rollback ENV=${env} VERSION=${old}\` now`);
    fail(`${why}; traffic returned to ${old} (100%). ${fresh} stays uploaded, serving nothing`);
  };
  process.on("SIGINT", () => restore("interrupted"));
  process.on("SIGTERM", () => restore("terminated"));

  for (const pct of [0, ...steps]) {
    const traffic = pct === 100 ? [[fresh, 100]] : [[fresh, pct], [old, 100 - pct]];
    const deployed = wrangler(["versions", "deploy", ...split(traffic), "-y", "--env", env, "--message", `make deploy: ${tag} at ${pct}%`]);
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

async function firstDeploy(tag, message) {
  say("no deployment yet: a first deploy (`wrangler deploy`, which also creates the routes and custom domain)");
  const run = wrangler(["deploy", "--env", env, "--tag", tag, "--message", message, ...secretsArgs]);
  const id = run.ok && versionOf(run, "deploy");
  if (!id) fail(`wrangler deploy failed (exit ${run.status}${run.ok ? ", no version id" : ""}); nothing more done`);
  if (!(await resolvable(base))) fail(`deployed ${id}; smoke check skipped. Check later: make smoke ENV=${env}`, 0);
  if (!(await smokeCheck(base, "first deploy", { id, override: false, worker }))) {
    fail(`deployed ${id}, but its smoke check failed: see above. There is no earlier version to return to: fix it and deploy again`);
  }
  say(`deployed ${id} (tag ${tag}) and answering`);
  process.exit(0);
}
