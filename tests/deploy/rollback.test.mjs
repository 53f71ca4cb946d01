// A gradual deploy that passes every step, `make rollback` to the version
// before and to a named one, and a dry run, with the real pinned wrangler
// against the Cloudflare API stand-in (scripts/deploy.mjs).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { deployedAccount } from "../support/rollout-account.mjs";

let a;
before(async () => {
  a = await deployedAccount("gateway-rollback-");
});
after(async () => {
  await a?.close();
});

test("a deploy that passes every step, then make rollback to the version before and to a named one", async () => {
  const old = a.serving().split("@")[0];
  const count = a.gateway().deployments.length;
  const run = await a.co.make(["deploy", "ENV=staging"], { env: a.env });
  assert.equal(run.status, 0, run.output);
  const fresh = a.newest();
  assert.deepEqual(a.since(count), [`${fresh}@0 ${old}@100`, `${fresh}@10 ${old}@90`, `${fresh}@100`]);
  assert.doesNotMatch(run.output, /uploading with this version/, "a later deploy uploads no secrets unless asked");
  assert.match(run.output, new RegExp(`smoke check \\(100%\\): version ${fresh}\\n`));
  assert.equal(run.output.match(/smoke agent by own ID: pass/g)?.length, 3, run.output);
  assert.match(run.output, new RegExp(`deployed ${fresh} \\(tag [0-9a-f]{12}\\) and answering; the previous version was ${old}: make rollback ENV=staging VERSION=${old}`));

  const back = await a.co.make(["rollback", "ENV=staging"], { env: a.env });
  assert.equal(back.status, 0, back.output);
  assert.equal(a.serving(), `${old}@100`, "wrangler's choice: the last version that served 100% before");
  assert.match(back.output, new RegExp(`smoke ready: pass, .*; version ${old}`));
  const again = await a.co.make(["rollback", "ENV=staging", `VERSION=${fresh}`], { env: a.env });
  assert.equal(again.status, 0, again.output);
  assert.equal(a.serving(), `${fresh}@100`);
  const refused = await a.co.make(["rollback", "ENV=staging", "VERSION=--help"], { env: a.env });
  assert.equal(refused.status, 2, refused.output);
  assert.match(refused.output, /VERSION must be a version id as wrangler versions list prints it \(got "--help"\)/);
});

test("DRY_RUN builds and validates the version offline with the real wrangler, asks the account nothing, and takes a subject starting with -", async () => {
  const asked = a.cf.requests.length;
  const tag = a.co.commit("-p is the subject of this commit, not a flag");
  const run = await a.deploy(["--dry-run"]);
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, new RegExp(`wrangler versions upload --env=staging --tag=${tag} --message=-p is the subject of this commit, not a flag --dry-run`));
  assert.match(run.output, /dry run: nothing was uploaded, so nothing was deployed and the smoke check is skipped/);
  assert.equal(a.cf.requests.length, asked);
});
