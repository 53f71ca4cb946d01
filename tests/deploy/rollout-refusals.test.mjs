// `make deploy` when Cloudflare refuses (scripts/deploy.mjs), with the real
// pinned wrangler against the Cloudflare API stand-in: a version whose
// required secret was never set, and a first shift of traffic the account
// refuses (its own error, injected into the stand-in's account). Each
// changes nothing, and says so.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { deployedAccount } from "../support/rollout-account.mjs";

let a;
before(async () => {
  a = await deployedAccount("gateway-rollout-refusals-");
});
after(async () => {
  await a?.close();
});

test("a failing upload changes nothing, and neither does a refused first shift of traffic", async () => {
  const old = a.serving();
  const count = a.gateway().deployments.length;
  const versions = a.gateway().versions.length;
  // A required secret that was never set: Cloudflare refuses the version.
  a.co.write("wrangler.toml", a.co.file("wrangler.toml").replace('required = ["UPSCOPE_API_KEY", "AGENT_LINK_SECRET"]', 'required = ["UPSCOPE_API_KEY", "AGENT_LINK_SECRET", "VIEWER_LINK_SECRET"]'));
  let run = await a.deploy();
  a.co.git("checkout", "--", "wrangler.toml");
  assert.equal(run.status, 1, run.output);
  assert.match(run.output, /VIEWER_LINK_SECRET/);
  assert.match(run.output, new RegExp(`wrangler versions upload failed \\(exit 1\\): nothing was deployed; ${old.split("@")[0]} still serves 100%`));
  assert.equal(a.gateway().versions.length, versions);
  assert.deepEqual(a.since(count), []);

  // The account refuses `versions deploy <new>@0%`: traffic never moved, nothing to return.
  const restore = a.refuseDeployments(1);
  run = await a.deploy();
  restore();
  assert.equal(run.status, 1, run.output);
  assert.match(run.output, /Authentication error \[code: 10000\]/);
  assert.match(run.output, new RegExp(`wrangler versions deploy ${a.newest()}@0% ${old.split("@")[0]}@100% failed \\(exit 1\\); traffic was never moved: ${old.split("@")[0]} still serves 100%`));
  assert.deepEqual(a.since(count), []);
});
