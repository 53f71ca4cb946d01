// `make secret ENV=<staging|production> NAME=<secret>`: changes one secret of
// the gateway where it serves, and in .env.<env>; before, during and after a
// rollout. The value comes from the environment variable NAME (CI), else it
// is asked for without echo; it is never printed.
//
// A secret is part of a Worker version, so a change is a new version, made
// with `wrangler versions secret put` (it works while the latest version is
// not the one deployed, where `wrangler secret put` is refused) and then
// deployed at 100% with `wrangler versions deploy`, and smoke-checked. But
// `versions secret put` builds on the latest *uploaded* version:
//
//   no Worker yet          only .env.<env> changes: the first make deploy
//                          uploads it with the Worker.
//   the version serving    patched (versions secret put), deployed, smoke-checked.
//   100% is the latest
//   a rollout under way    waits (up to SECRET_WAIT_SECONDS, default 600) for
//   (two versions)         it to end at one version, then as above or below.
//   100% is not the latest after a failed rollout or a rollback, the latest is
//                          code that was turned away: patching it would ship
//                          that code. Instead the serving code is uploaded
//                          again from this checkout with the new value
//                          (versions upload --secrets-file, with .env.<env>'s
//                          other secrets), when the checkout
//                          is that code (the serving version's tag names its
//                          commit); otherwise nothing changes and this says
//                          which commit to check out.
import { parseArgs } from "node:util";
import { chmodSync, existsSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DEPLOY_ENVS, ROOT, readEnv } from "./lib/wrangler-config.mjs";
import { committable, environmentSecretsFile, formatSecrets, readSecretsFile } from "./lib/secrets-file.mjs";
import { askSecret, interactive } from "./lib/prompt.mjs";
import { checkoutIs, currentDeployment, latestVersion, secretsFileFor, viewVersion, wrangler as run } from "./lib/wrangler-run.mjs";
import { gatewaySecretNames } from "./check-config.mjs";
import { credentials, smoke, table, target } from "./smoke.mjs";
import { lookup } from "node:dns/promises";

const { values } = parseArgs({ options: { env: { type: "string", default: "" }, name: { type: "string", default: "" } } });
const { env, name } = values;
const say = (line) => console.log(`secret ${env}: ${line}`);
const fail = (line, status = 1) => {
  say(line);
  process.exit(status);
};
const wrangler = (args, options) => run(args, { show: say, ...options });
if (!DEPLOY_ENVS.includes(env)) fail(`ENV must be one of ${DEPLOY_ENVS.join(", ")} (got "${env}")`, 2);
const LOCAL_ONLY = ["SMOKE_ACCESS_CLIENT_ID", "SMOKE_ACCESS_CLIENT_SECRET"];
const names = gatewaySecretNames();
if (!names.includes(name) && !LOCAL_ONLY.includes(name)) {
  fail(`NAME must be one of the gateway's secrets (${names.join(", ")}) or ${LOCAL_ONLY.join(", ")} (got "${name}")`, 2);
}
const WAIT_MS = Number(process.env.SECRET_WAIT_SECONDS ?? 600) * 1000;
const SETTLE_MS = Number(process.env.DEPLOY_SETTLE_SECONDS ?? 30) * 1000;

const file = environmentSecretsFile(env) ?? path.join(ROOT, `.env.${env}`);
if (committable(file)) fail(`.env.${env} is not git-ignored: add .env* to .gitignore first; nothing was changed`, 2);
let stored = {};
try {
  stored = existsSync(file) ? readSecretsFile(file) : {};
} catch (err) {
  fail(`${err.message}; nothing was changed`, 2);
}

let value = (process.env[name] ?? "").trim();
if (!value && interactive()) value = await askSecret(`The new value of ${name} for ${env}`);
if (!value) fail(`give the new value as the environment variable ${name} (or run this on a terminal): nothing was changed`, 2);
if (!/^[\x21-\x7e]+$/.test(value) || /['\\]/.test(value)) fail(`${name} must be printable, without spaces, quotes or backslashes: nothing was changed`, 2);
if (stored[name] === value) say(`${name} in .env.${env} already has this value`);

/** .env.<env> with the new value, mode 0600. */
function record() {
  const next = { ...stored, [name]: value };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, formatSecrets(next), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  stored = next;
  say(`.env.${env}: ${name} recorded (mode 0600; value not shown)`);
}

if (LOCAL_ONLY.includes(name)) {
  record();
  fail(`${name} is the smoke check's own, never uploaded: nothing to change at Cloudflare`, 0);
}

let now = currentDeployment(env);
if (now.error) fail(`could not read the current deployment, so nothing was changed:\n${now.error}`);
if (now.none) {
  record();
  fail(`the Worker is not deployed yet: the first make deploy ENV=${env} uploads ${name} with it`, 0);
}
const deadline = Date.now() + WAIT_MS;
while (now.versions.length !== 1 || now.versions[0].percentage !== 100) {
  const traffic = now.versions.map((v) => `${v.version_id} at ${v.percentage}%`).join(", ");
  if (Date.now() >= deadline) fail(`a rollout is under way (${traffic}) and did not end within ${WAIT_MS / 1000} s: let it finish, or make rollback ENV=${env}, then run this again; nothing was changed`);
  say(`a rollout is under way (${traffic}): waiting for it to end at one version, as each version holds its own secrets`);
  await new Promise((r) => setTimeout(r, Math.min(10_000, Math.max(0, deadline - Date.now()))));
  now = currentDeployment(env);
  if (now.error) fail(`could not read the current deployment, so nothing was changed:\n${now.error}`);
}
const serving = now.versions[0].version_id;
const latest = latestVersion(env);
if (latest.error) fail(`could not list the versions, so nothing was changed:\n${latest.error}`);

let fresh;
if (latest.id === serving) {
  // The serving version is the latest: patch it.
  const put = wrangler(["versions", "secret", "put", name, `--env=${env}`, `--message=make secret: ${name}`], { input: `${value}\n` });
  fresh = put.ok && /Created version ([0-9a-f-]{36})/.exec(put.stdout)?.[1];
  if (!fresh) fail(`wrangler versions secret put failed (exit ${put.status}): nothing was deployed; ${serving} still serves 100%`);
} else {
  const info = viewVersion(env, serving);
  const tag = info.annotations?.["workers/tag"] ?? "";
  const sha = /^([0-9a-f]{7,40})$/.exec(tag)?.[1];
  const what = `the latest uploaded version, ${latest.id}${latest.annotations?.["workers/tag"] ? ` (tag ${latest.annotations["workers/tag"]})` : ""}, is not the one serving (${serving}${tag ? `, tag ${tag}` : ""}), as after a failed rollout or a rollback; wrangler versions secret put would build on ${latest.id} and ship its code`;
  if (!sha || !checkoutIs(sha)) {
    const how = sha ? `check out the serving code (git checkout ${sha}) and run this again` : `the serving version names no commit (tag "${tag}"): deploy a fixed version with make deploy ENV=${env} SECRETS=<file with ${name}>`;
    fail(`${what}. So nothing was changed: ${how}`);
  }
  // The upload inherits the other secrets from the newest version, the one
  // turned away: .env.<env>'s are uploaded with it, so they are the known ones.
  const known = Object.fromEntries(Object.entries(stored).filter(([n]) => names.includes(n)));
  say(`${what}: uploading the serving code (${sha}, this checkout) again, with the new ${name}${Object.keys(known).length ? ` and .env.${env}'s other secrets` : ""}`);
  const upload = secretsFileFor({ ...known, [name]: value });
  const up = wrangler(["versions", "upload", `--env=${env}`, `--tag=${tag}`, `--message=make secret: ${name}, on ${sha}'s code`, `--secrets-file=${upload.file}`]);
  upload.remove();
  fresh = up.ok && up.outputs.find((o) => o.type === "version-upload")?.version_id;
  if (!fresh) fail(`wrangler versions upload failed (exit ${up.status}): nothing was deployed; ${serving} still serves 100%`);
}
say(`version ${fresh} holds the new ${name}`);
const deployed = wrangler(["versions", "deploy", `${fresh}@100%`, "-y", `--env=${env}`, `--message=make secret: ${name}`]);
if (!deployed.ok) fail(`wrangler versions deploy ${fresh}@100% failed (exit ${deployed.status}): ${serving} still serves with the old value; ${fresh} stays uploaded`);
record();

const base = await target({ env });
try {
  await lookup(new URL(base).hostname);
} catch (err) {
  fail(`${fresh} serves 100% with the new ${name}; smoke check skipped (${new URL(base).hostname} does not resolve: ${err.code}). Check later: make smoke ENV=${env}`, 0);
}
const worker = (await readEnv(env)).name;
const { secrets, accessToken } = credentials(stored);
const rows = await smoke({ base, secrets, accessToken, version: { id: fresh, waitMs: SETTLE_MS }, log: (r) => say(`smoke ${r.step}: ${r.result}, ${r.reason}`) });
console.log(table(rows));
if (rows.some((r) => r.result === "fail")) {
  fail(`${fresh} (${worker}) serves 100% with the new ${name}, but its smoke check failed: see above. The old value is still in ${serving}; make rollback ENV=${env} VERSION=${serving} would bring it back`);
}
say(`${fresh} serves 100% with the new ${name}, and answers`);
