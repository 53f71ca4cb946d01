// `make deploy ENV=<staging|production> [SECRETS=file] [DRY_RUN=1]`, after
// `make check` and `make build`: `wrangler deploy --env <env>`, then the
// smoke check of the deployed URL (scripts/smoke.mjs: every flow, end to end).
//
// The URL is SMOKE_URL when set, else the environment's first custom domain
// in wrangler.toml. A dry run uploads nothing (`wrangler deploy --dry-run`)
// and so skips the smoke check; so does a machine that cannot resolve the
// URL, and it says why. `make smoke ENV=…` runs the smoke check alone.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { lookup } from "node:dns/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { DEPLOY_ENVS, ROOT } from "./lib/wrangler-config.mjs";
import { parseSecretsFile } from "./check-config.mjs";
import { smoke, table, target } from "./smoke.mjs";

const { values } = parseArgs({
  options: {
    env: { type: "string", default: "" },
    secrets: { type: "string" },
    "dry-run": { type: "boolean" },
  },
});
const env = values.env;
const say = (line) => console.log(`deploy ${env}: ${line}`);
if (!DEPLOY_ENVS.includes(env)) {
  console.error(`deploy: ENV must be one of ${DEPLOY_ENVS.join(", ")} (got "${env}")`);
  process.exit(2);
}

deploy();

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

// The smoke check: every flow end to end, from a real browser (scripts/smoke.mjs).
const base = await target({ env });
const host = new URL(base).hostname;
try {
  await lookup(host);
} catch (err) {
  say(`smoke check skipped: ${host} does not resolve from here (${err.code}); offline, or DNS not yet propagated. Check later: make smoke ENV=${env}`);
  process.exit(0);
}
const secrets = { ...process.env, ...(values.secrets ? parseSecretsFile(readFileSync(values.secrets, "utf8")) : {}) };
const accessToken = secrets.SMOKE_ACCESS_CLIENT_ID && secrets.SMOKE_ACCESS_CLIENT_SECRET
  ? { id: secrets.SMOKE_ACCESS_CLIENT_ID, secret: secrets.SMOKE_ACCESS_CLIENT_SECRET }
  : undefined;
const rows = await smoke({ base, secrets, accessToken, log: (r) => say(`smoke ${r.step}: ${r.result}, ${r.reason}`) });
console.log(table(rows));
if (rows.some((r) => r.result === "fail")) {
  say("smoke check failed: see above; roll back with `wrangler rollback --env " + env + "` if the previous version was good");
  process.exit(1);
}
say("deployed and answering");
