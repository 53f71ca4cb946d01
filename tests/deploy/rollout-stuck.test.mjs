// `make deploy` when the way back is refused too (scripts/deploy.mjs), with
// the real pinned wrangler against the Cloudflare API stand-in: it says what
// to run; the rollout left under way stops the next deploy until
// make rollback; a token the account does not know changes nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { deployedAccount } from "../support/rollout-account.mjs";

let a;
before(async () => {
  a = await deployedAccount("gateway-rollout-stuck-");
});
after(async () => {
  await a?.close();
});

test("the new version fails at 0% and the account refuses the way back: it says what to run; a rollout left under way stops the next deploy", async () => {
  const old = a.serving().split("@")[0];
  const count = a.gateway().deployments.length;
  let restore;
  a.when(a.newestAt(0), () => {
    a.upscopeFails();
    restore = a.refuseDeployments(2);
  });
  const run = await a.deploy();
  restore?.();
  assert.equal(run.status, 1, run.output);
  const fresh = a.newest();
  assert.deepEqual(a.since(count), [`${fresh}@0 ${old}@100`]);
  assert.match(run.output, new RegExp(`smoke check failed at new version at 0%, and returning traffic to ${old} FAILED: run \`make rollback ENV=staging VERSION=${old}\` now`));

  const stuck = await a.deploy();
  assert.equal(stuck.status, 1, stuck.output);
  assert.match(stuck.output, new RegExp(`a rollout is under way \\(${fresh} at 0%, ${old} at 100%\\): finish it, or \`make rollback ENV=staging\`, first; nothing was changed`));
  assert.deepEqual(a.since(count), [`${fresh}@0 ${old}@100`]);

  const back = await a.co.make(["rollback", "ENV=staging", `VERSION=${old}`], { env: a.env });
  assert.equal(back.status, 0, back.output);
  assert.equal(a.serving(), `${old}@100`);
  assert.match(back.output, new RegExp(`rolled back: ${old} serves 100% and answers`));
});

test("an account wrangler cannot read changes nothing", async () => {
  const count = a.gateway().deployments.length;
  const run = await a.deploy([], { CLOUDFLARE_API_TOKEN: "not-the-accounts-token" });
  assert.equal(run.status, 1, run.output);
  assert.match(run.output, /could not read the current deployment, so nothing was changed:\n[\s\S]*Authentication error/);
  assert.deepEqual(a.since(count), []);
});
