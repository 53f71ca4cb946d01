// `make deploy` as a gradual rollout (scripts/deploy.mjs), with the project's
// real pinned wrangler against the Cloudflare API stand-in (tests/cloudflare/),
// whose edge serves each deployed version in workerd: by the deployment's
// percentages, or the version a Cloudflare-Workers-Version-Overrides header
// names when that version is in the deployment. So a smoke check sees the new
// version only once the script has put it into the deployment, and /readyz's
// version_id tells which version answered. Upscope failing mid-rollout returns
// all traffic to the old version. The account behind these tests is
// tests/support/rollout-account.mjs; each file has its own, as a file may run
// at most 4 minutes: rollout-secrets (SECRETS=, and after a returned rollout),
// rollout-refusals and rollout-stuck (what Cloudflare refuses), rollback,
// first-deploy (after a placeholder Worker); lifecycle.test.mjs is the whole
// story from a blank account.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { deployedAccount } from "../support/rollout-account.mjs";

let a;
before(async () => {
  a = await deployedAccount("gateway-rollout-");
});
after(async () => {
  await a?.close();
});

test("STEPS=10,50,100: each step smoke-checked through the override; a failure at 50% returns all traffic to the old version", async () => {
  const bad = await a.deploy(["--steps", "10,5,100"]);
  assert.equal(bad.status, 2, bad.output);
  assert.match(bad.output, /STEPS must be ascending percentages from 1 to 100 ending at 100/);

  const old = a.newest();
  const count = a.gateway().deployments.length;
  const tag = a.co.commit("a change rolled out in three steps");
  a.when(a.newestAt(50), a.upscopeFails);
  const run = await a.deploy(["--steps", "10,50,100"]);
  assert.equal(run.status, 1, run.output);
  const fresh = a.newest();
  assert.notEqual(fresh, old);
  assert.deepEqual(a.since(count), [`${fresh}@0 ${old}@100`, `${fresh}@10 ${old}@90`, `${fresh}@50 ${old}@50`, `${old}@100`]);
  assert.equal(a.gateway().versions.at(-1).annotations["workers/tag"], tag);
  assert.match(run.output, new RegExp(`smoke check \\(new version at 0%\\): version ${fresh}, through the version override`));
  assert.match(run.output, new RegExp(`smoke check \\(10%\\): version ${fresh}, through the version override`));
  assert.equal(run.output.match(new RegExp(`smoke ready: pass, .*; version ${fresh}`, "g"))?.length, 3, run.output);
  assert.match(run.output, /smoke visitor opens \/visitor: fail, 503 upstream_unavailable: Upscope is having trouble \(HTTP 500\)/);
  assert.match(run.output, new RegExp(`smoke check failed at 50%; traffic returned to ${old} \\(100%\\)\\. ${fresh} stays uploaded, serving nothing`));
  assert.ok(a.cf.edge.requests.some((r) => r.version === fresh && r.override), "the override reached the new version");
});
