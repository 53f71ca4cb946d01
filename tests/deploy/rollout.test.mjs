// `make deploy` as a gradual rollout, and `make rollback` (scripts/deploy.mjs),
// with the project's real pinned wrangler against the Cloudflare API stand-in
// (tests/cloudflare/), whose edge serves each deployed version in workerd:
// by the deployment's percentages, or the version a
// Cloudflare-Workers-Version-Overrides header names when that version is in
// the deployment. So a smoke check sees the new version only once the script
// has put it into the deployment, and /readyz's version_id tells which
// version answered.
//
// Failures come from where they would: Upscope (the simulator) failing a
// request at a chosen moment of the rollout, the account refusing an upload
// (a required secret not set) or a deployment (the API refusing it, injected
// into the stand-in's account), or a token the account does not know.
//
// It runs on a copy of this checkout set up by make init and a first
// make deploy (tests/support/checkout.mjs); each test then deploys from
// whatever the one before left.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { startCloudflareApi } from "../cloudflare/index.mjs";
import { refuse } from "../cloudflare/errors.mjs";
import { startSimulator } from "../support/harness.mjs";
import { cleanEnvironment, makeCheckout } from "../support/checkout.mjs";
import { parseSecrets } from "../../scripts/lib/secrets-file.mjs";

const HOST = "cobrowse-staging.example.com";
const WORKER = "upscope-gateway-staging";
const KEY = "upscope-rest-key-rollout-012345";
const fingerprint = (value) => createHash("sha256").update(value).digest("hex").slice(0, 12);

let cf;
let up;
let co;
let env;
/** Actions run once each, on the first change of the account after which `when(account)` holds. */
let hooks = [];

/** The environment of every run: the stand-in, its edge for the staging host, a quick settle. */
const environment = (stand) => ({
  ...stand.env,
  ...stand.edge.nodeEnv(HOST),
  // Once loaded, wrangler sends the script's fetch through HTTPS_PROXY (the stand-in's sentinel).
  NO_PROXY: `${stand.env.NO_PROXY},${HOST}`,
  SMOKE_CHROMIUM_ARGS: JSON.stringify([...stand.edge.chromiumArgs(HOST), "--no-proxy-server", "--disable-background-networking"]),
  DEPLOY_SETTLE_SECONDS: "10",
});

before(async () => {
  cf = await startCloudflareApi({ zones: ["example.com"] });
  up = await startSimulator({ apiKey: KEY });
  co = makeCheckout("gateway-rollout-");
  env = environment(cf);
  const changed = cf.account.onChange;
  cf.account.onChange = () => {
    changed();
    for (const hook of [...hooks]) {
      if (hook.when(cf.account)) {
        hooks = hooks.filter((h) => h !== hook);
        hook.then();
      }
    }
  };
  const init = await co.make(["init", "ENV=staging"], {
    env: { ...env, GATEWAY_HOST: HOST, VISITOR_PAGES: "https://shop.example.com/account", EMBED_ORIGINS: "https://shop.example.com", AGENT_AUTH: "signed-link", UPSCOPE_API_KEY: KEY, UPSCOPE_API_BASE: up.apiBase },
  });
  assert.equal(init.status, 0, init.output);
  co.commit("staging's settings");
  const first = await co.make(["deploy", "ENV=staging"], { env });
  assert.equal(first.status, 0, first.output);
});

after(async () => {
  await cf?.close();
  await up?.close();
  co?.remove();
});

/** scripts/deploy.mjs itself (no make check first), with `args`. */
const deploy = (args = [], extra = {}) => co.node("scripts/deploy.mjs", ["--env", "staging", ...args], { env: { ...env, ...extra } });
const gateway = () => cf.account.scripts.get(WORKER);
const traffic = (d) => d.versions.map((v) => `${v.version_id}@${v.percentage}`).join(" ");
const serving = () => traffic(gateway().deployments.at(-1));
const newest = () => gateway().versions.at(-1).id;
/** The deployments made since `count` deployments existed. */
const since = (count) => gateway().deployments.slice(count).map(traffic);
/** True once the newest version has `pct` of the traffic. */
const newestAt = (pct) => (account) => {
  const script = account.scripts.get(WORKER);
  const latest = script.versions.at(-1).id;
  return script.deployments.at(-1).versions.some((v) => v.version_id === latest && v.percentage === pct);
};
/** Upscope fails the next proxy session: the smoke check's visitor step fails. */
const upscopeFails = () => up.sim.state.faults.push({ method: "POST", path: "/proxy_sessions", status: 500, body: { status: "error" }, times: 1 });
/** The account refuses the gateway's next `times` deployments (the API's authentication error). */
function refuseDeployments(times) {
  const original = cf.account.createDeployment;
  let left = times;
  cf.account.createDeployment = function (name, ...rest) {
    if (name === WORKER && left > 0) {
      left -= 1;
      throw refuse.authentication();
    }
    return original.call(this, name, ...rest);
  };
  return () => (cf.account.createDeployment = original);
}

test("STEPS=10,50,100: each step smoke-checked through the override; a failure at 50% returns all traffic to the old version", async () => {
  const bad = await deploy(["--steps", "10,5,100"]);
  assert.equal(bad.status, 2, bad.output);
  assert.match(bad.output, /STEPS must be ascending percentages from 1 to 100 ending at 100/);

  const old = newest();
  const count = gateway().deployments.length;
  const tag = co.commit("a change rolled out in three steps");
  hooks.push({ when: newestAt(50), then: upscopeFails });
  const run = await deploy(["--steps", "10,50,100"]);
  assert.equal(run.status, 1, run.output);
  const fresh = newest();
  assert.notEqual(fresh, old);
  assert.deepEqual(since(count), [`${fresh}@0 ${old}@100`, `${fresh}@10 ${old}@90`, `${fresh}@50 ${old}@50`, `${old}@100`]);
  assert.equal(gateway().versions.at(-1).annotations["workers/tag"], tag);
  assert.match(run.output, new RegExp(`smoke check \\(new version at 0%\\): version ${fresh}, through the version override`));
  assert.match(run.output, new RegExp(`smoke check \\(10%\\): version ${fresh}, through the version override`));
  assert.equal(run.output.match(new RegExp(`smoke ready: pass, .*; version ${fresh}`, "g"))?.length, 3, run.output);
  assert.match(run.output, /smoke visitor opens \/visitor: fail, 503 upstream_unavailable: Upscope is having trouble \(HTTP 500\)/);
  assert.match(run.output, new RegExp(`smoke check failed at 50%; traffic returned to ${old} \\(100%\\)\\. ${fresh} stays uploaded, serving nothing`));
  assert.ok(cf.edge.requests.some((r) => r.version === fresh && r.override), "the override reached the new version");
});

test("SECRETS= goes up with the new version (smoke-only values left out); failing at 100%, the old version returns with its own secrets", async () => {
  const old = serving().split("@")[0];
  const count = gateway().deployments.length;
  const dir = mkdtempSync(path.join(os.tmpdir(), "rollout-secrets-"));
  const file = path.join(dir, "staging.env");
  const agentSecret = "a-new-agent-link-secret-0123456789abcdef";
  writeFileSync(file, `AGENT_LINK_SECRET=${agentSecret}\nSMOKE_ACCESS_CLIENT_ID=0123456789abcdef.access\nSMOKE_ACCESS_CLIENT_SECRET=not-for-the-worker-0123\n`);
  hooks.push({ when: newestAt(100), then: upscopeFails });
  const run = await deploy(["--secrets", file]);
  assert.equal(run.status, 1, run.output);
  const fresh = gateway().versions.at(-1);
  assert.deepEqual(since(count), [`${fresh.id}@0 ${old}@100`, `${fresh.id}@10 ${old}@90`, `${fresh.id}@100`, `${old}@100`]);
  assert.match(run.output, /not uploaded from .*staging\.env: SMOKE_ACCESS_CLIENT_ID, SMOKE_ACCESS_CLIENT_SECRET \(not secrets the gateway reads\)/);
  const secrets = Object.fromEntries(fresh.bindings.filter((b) => b.type === "secret_text").map((b) => [b.name, fingerprint(b.text)]));
  assert.deepEqual(Object.keys(secrets).sort(), ["AGENT_LINK_SECRET", "UPSCOPE_API_KEY"]);
  assert.equal(secrets.AGENT_LINK_SECRET, fingerprint(agentSecret));
  // The smoke checks signed with the new secret, and passed until Upscope failed at 100%.
  assert.equal(run.output.match(new RegExp(`smoke agent by own ID: pass`, "g"))?.length, 2, run.output);
  assert.match(run.output, /smoke check failed at 100%: returning all traffic to/);
  assert.match(run.output, /returning with wrangler rollback instead, which confirms a change of secrets/);
  assert.match(run.output, new RegExp(`traffic returned to ${old} \\(100%\\)`));
  assert.ok(!run.output.includes(agentSecret) && !run.output.includes("not-for-the-worker"));
});

test("a failing upload changes nothing, and neither does a refused first shift of traffic", async () => {
  const old = serving();
  const count = gateway().deployments.length;
  const versions = gateway().versions.length;
  // A required secret that was never set: Cloudflare refuses the version.
  co.write("wrangler.toml", co.file("wrangler.toml").replace('required = ["UPSCOPE_API_KEY", "AGENT_LINK_SECRET"]', 'required = ["UPSCOPE_API_KEY", "AGENT_LINK_SECRET", "VIEWER_LINK_SECRET"]'));
  let run = await deploy();
  co.git("checkout", "--", "wrangler.toml");
  assert.equal(run.status, 1, run.output);
  assert.match(run.output, /VIEWER_LINK_SECRET/);
  assert.match(run.output, new RegExp(`wrangler versions upload failed \\(exit 1\\): nothing was deployed; ${old.split("@")[0]} still serves 100%`));
  assert.equal(gateway().versions.length, versions);
  assert.deepEqual(since(count), []);

  // The account refuses `versions deploy <new>@0%`: traffic never moved, nothing to return.
  const restore = refuseDeployments(1);
  run = await deploy();
  restore();
  assert.equal(run.status, 1, run.output);
  assert.match(run.output, /Authentication error \[code: 10000\]/);
  assert.match(run.output, new RegExp(`wrangler versions deploy ${newest()}@0% ${old.split("@")[0]}@100% failed \\(exit 1\\); traffic was never moved: ${old.split("@")[0]} still serves 100%`));
  assert.deepEqual(since(count), []);
});

test("the new version fails at 0% and the account refuses the way back: it says what to run; a rollout left under way stops the next deploy", async () => {
  const old = serving().split("@")[0];
  const count = gateway().deployments.length;
  let restore;
  hooks.push({ when: newestAt(0), then: () => { upscopeFails(); restore = refuseDeployments(2); } });
  const run = await deploy();
  restore?.();
  assert.equal(run.status, 1, run.output);
  const fresh = newest();
  assert.deepEqual(since(count), [`${fresh}@0 ${old}@100`]);
  assert.match(run.output, new RegExp(`smoke check failed at new version at 0%, and returning traffic to ${old} FAILED: run \`make rollback ENV=staging VERSION=${old}\` now`));

  const stuck = await deploy();
  assert.equal(stuck.status, 1, stuck.output);
  assert.match(stuck.output, new RegExp(`a rollout is under way \\(${fresh} at 0%, ${old} at 100%\\): finish it, or \`make rollback ENV=staging\`, first; nothing was changed`));
  assert.deepEqual(since(count), [`${fresh}@0 ${old}@100`]);

  const back = await co.make(["rollback", "ENV=staging", `VERSION=${old}`], { env });
  assert.equal(back.status, 0, back.output);
  assert.equal(serving(), `${old}@100`);
  assert.match(back.output, new RegExp(`rolled back: ${old} serves 100% and answers`));
});

test("an account wrangler cannot read changes nothing", async () => {
  const count = gateway().deployments.length;
  const run = await deploy([], { CLOUDFLARE_API_TOKEN: "not-the-accounts-token" });
  assert.equal(run.status, 1, run.output);
  assert.match(run.output, /could not read the current deployment, so nothing was changed:\n[\s\S]*Authentication error/);
  assert.deepEqual(since(count), []);
});

test("a deploy that passes every step, then make rollback to the version before and to a named one", async () => {
  const old = serving().split("@")[0];
  const count = gateway().deployments.length;
  const run = await co.make(["deploy", "ENV=staging"], { env });
  assert.equal(run.status, 0, run.output);
  const fresh = newest();
  assert.deepEqual(since(count), [`${fresh}@0 ${old}@100`, `${fresh}@10 ${old}@90`, `${fresh}@100`]);
  // The versions uploaded since the secrets changed were all turned away: this one carries .env.staging's again.
  assert.match(run.output, /is not the one serving \(a returned rollout\): a new version inherits its secrets, so this one carries \.env\.staging's/);
  const agentSecret = gateway().versions.at(-1).bindings.find((b) => b.name === "AGENT_LINK_SECRET").text;
  assert.equal(agentSecret, parseSecrets(co.file(".env.staging")).AGENT_LINK_SECRET);
  assert.match(run.output, new RegExp(`smoke check \\(100%\\): version ${fresh}\\n`));
  assert.equal(run.output.match(/smoke agent by own ID: pass/g)?.length, 3, run.output);
  assert.match(run.output, new RegExp(`deployed ${fresh} \\(tag [0-9a-f]{12}\\) and answering; the previous version was ${old}: make rollback ENV=staging VERSION=${old}`));

  const back = await co.make(["rollback", "ENV=staging"], { env });
  assert.equal(back.status, 0, back.output);
  assert.equal(serving(), `${old}@100`, "wrangler's choice: the last version that served 100% before");
  assert.match(back.output, new RegExp(`smoke ready: pass, .*; version ${old}`));
  const again = await co.make(["rollback", "ENV=staging", `VERSION=${fresh}`], { env });
  assert.equal(again.status, 0, again.output);
  assert.equal(serving(), `${fresh}@100`);
  const refused = await co.make(["rollback", "ENV=staging", "VERSION=--help"], { env });
  assert.equal(refused.status, 2, refused.output);
  assert.match(refused.output, /VERSION must be a version id as wrangler versions list prints it \(got "--help"\)/);
});

test("the first deploy after `wrangler secret put` made a placeholder Worker is still a first deploy: secrets, custom domain, smoke", async () => {
  const blank = await startCloudflareApi({ zones: ["example.com"] });
  try {
    const blankEnv = environment(blank);
    const put = await co.exec(path.join(co.dir, "node_modules/.bin/wrangler"), ["secret", "put", "UPSCOPE_API_KEY", "--env=staging"], {
      env: { ...blankEnv, PATH: `${path.join(co.dir, "node_modules/.node-bin")}${path.delimiter}${cleanEnvironment().PATH}` },
      input: `${KEY}\n`,
    });
    assert.equal(put.status, 0, put.output);
    const placeholder = blank.state().scripts[WORKER];
    assert.equal(placeholder.deployments.length > 0, true, "wrangler's placeholder Worker is deployed");
    assert.deepEqual(blank.state().domains, [], "and has no custom domain");

    const run = await co.make(["deploy", "ENV=staging"], { env: blankEnv });
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /is not a deploy of this gateway \(it binds no CF_VERSION_METADATA\): the placeholder `wrangler secret put` creates.*: a first deploy/);
    const state = blank.state();
    assert.deepEqual(state.domains.map((d) => [d.hostname, d.service]), [[HOST, WORKER]]);
    const gatewayNow = state.scripts[WORKER];
    assert.deepEqual(Object.keys(gatewayNow.secrets).sort(), ["AGENT_LINK_SECRET", "UPSCOPE_API_KEY"]);
    assert.equal(gatewayNow.secrets.AGENT_LINK_SECRET, fingerprint(parseSecrets(co.file(".env.staging")).AGENT_LINK_SECRET));
    assert.match(run.output, /smoke agent by own ID: pass/);
    assert.match(run.output, new RegExp(`deployed ${gatewayNow.versions.at(-1).id} \\(tag [0-9a-f]{12}\\) and answering`));
  } finally {
    await blank.close();
  }
});

test("DRY_RUN builds and validates the version offline with the real wrangler, asks the account nothing, and takes a subject starting with -", async () => {
  const asked = cf.requests.length;
  const tag = co.commit("-p is the subject of this commit, not a flag");
  const run = await deploy(["--dry-run"]);
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, new RegExp(`wrangler versions upload --env=staging --tag=${tag} --message=-p is the subject of this commit, not a flag --dry-run`));
  assert.match(run.output, /dry run: nothing was uploaded, so nothing was deployed and the smoke check is skipped/);
  assert.equal(cf.requests.length, asked);
});
