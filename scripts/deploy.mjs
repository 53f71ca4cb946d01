// `make deploy ENV=<staging|production> [SECRETS=file] [DRY_RUN=1]`, after
// `make check` and `make build`: `wrangler deploy --env <env>`, then a smoke
// check of the deployed URL (GET /healthz must be 200, GET /readyz 200).
//
// The URL is SMOKE_URL when set, else the environment's first custom domain
// in wrangler.toml. A dry run uploads nothing (`wrangler deploy --dry-run`)
// and so skips the smoke check; so does a machine that cannot reach the URL,
// and it says why. `--smoke-only` (make smoke) runs the smoke check alone.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { lookup } from "node:dns/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { readEnv, DEPLOY_ENVS, ROOT } from "./lib/wrangler-config.mjs";

const { values } = parseArgs({
  options: {
    env: { type: "string", default: "" },
    secrets: { type: "string" },
    "dry-run": { type: "boolean" },
    "smoke-only": { type: "boolean" },
  },
});
const env = values.env;
const say = (line) => console.log(`deploy ${env}: ${line}`);
if (!DEPLOY_ENVS.includes(env)) {
  console.error(`deploy: ENV must be one of ${DEPLOY_ENVS.join(", ")} (got "${env}")`);
  process.exit(2);
}

if (!values["smoke-only"]) deploy();

function deploy() {
  const args = ["deploy", "--env", env];
  if (values.secrets) args.push("--secrets-file", values.secrets);
  if (values["dry-run"]) args.push("--dry-run", "--outdir", mkdtempSync(path.join(os.tmpdir(), `gateway-${env}-`)));
  say(`wrangler ${args.join(" ")}`);
  const deployed = spawnSync("wrangler", args, { cwd: ROOT, stdio: "inherit" });
  if (deployed.status !== 0) {
    say(`wrangler deploy failed (exit ${deployed.status ?? deployed.signal}); nothing more done`);
    process.exit(1);
  }
  if (values["dry-run"]) {
    say("dry run: nothing was uploaded, so the smoke check is skipped");
    process.exit(0);
  }
}

const config = await readEnv(env);
const domain = (config.routes ?? []).find((r) => typeof r === "object" && r.custom_domain)?.pattern;
const base = process.env.SMOKE_URL || (domain ? `https://${domain}` : "");
if (!base) {
  say("smoke check skipped: no custom domain in wrangler.toml; set SMOKE_URL=https://… to check another URL");
  process.exit(0);
}
const host = new URL(base).hostname;
try {
  await lookup(host);
} catch (err) {
  say(`smoke check skipped: ${host} does not resolve from here (${err.code}); offline, or DNS not yet propagated. Check by hand: curl ${base}/readyz`);
  process.exit(0);
}
let failed = false;
for (const [route, expected] of [["/healthz", 200], ["/readyz", 200]]) {
  try {
    const res = await fetch(base + route, { signal: AbortSignal.timeout(10_000), headers: { Accept: "application/json" } });
    const body = await res.text();
    const ok = res.status === expected;
    failed ||= !ok;
    say(`smoke ${route}: ${res.status} ${ok ? "ok" : `expected ${expected}`} ${body.slice(0, 500)}`);
  } catch (err) {
    failed = true;
    say(`smoke ${route}: no answer (${err.cause?.code ?? err.name})`);
  }
}
if (failed) {
  say("smoke check failed: see above; roll back with `wrangler rollback --env " + env + "` if the previous version was good");
  process.exit(1);
}
say("deployed and answering");
