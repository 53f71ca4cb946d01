// `make deploy SECRETS=…` (scripts/deploy.mjs) with the real pinned wrangler
// against the Cloudflare API stand-in: the file's secrets go up with the new
// version, smoke-only values left out; a failure at 100% returns the old
// version with its own secrets (which Cloudflare lets happen only through
// wrangler rollback); and the next deploy, whose version would inherit the
// secrets turned away, carries .env.staging's instead.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { parseSecrets } from "../../scripts/lib/secrets-file.mjs";
import { deployedAccount } from "../support/rollout-account.mjs";

const fingerprint = (value) => createHash("sha256").update(value).digest("hex").slice(0, 12);

let a;
before(async () => {
  a = await deployedAccount("gateway-rollout-secrets-");
});
after(async () => {
  await a?.close();
});

test("SECRETS= goes up with the new version (smoke-only values left out); failing at 100%, the old version returns with its own secrets", async () => {
  const old = a.serving().split("@")[0];
  const count = a.gateway().deployments.length;
  const dir = mkdtempSync(path.join(os.tmpdir(), "rollout-secrets-"));
  const file = path.join(dir, "staging.env");
  const agentSecret = "a-new-agent-link-secret-0123456789abcdef";
  writeFileSync(file, `AGENT_LINK_SECRET=${agentSecret}\nSMOKE_ACCESS_CLIENT_ID=0123456789abcdef.access\nSMOKE_ACCESS_CLIENT_SECRET=not-for-the-worker-0123\n`);
  a.when(a.newestAt(100), a.upscopeFails);
  const run = await a.deploy(["--secrets", file]);
  assert.equal(run.status, 1, run.output);
  const fresh = a.gateway().versions.at(-1);
  assert.deepEqual(a.since(count), [`${fresh.id}@0 ${old}@100`, `${fresh.id}@10 ${old}@90`, `${fresh.id}@100`, `${old}@100`]);
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

test("the next deploy after that returned rollout carries .env.staging's secrets, not the ones turned away", async () => {
  const old = a.serving().split("@")[0];
  const count = a.gateway().deployments.length;
  a.co.commit("the deploy after a returned rollout");
  const run = await a.deploy(["--steps", "100"]);
  assert.equal(run.status, 0, run.output);
  const fresh = a.gateway().versions.at(-1);
  assert.deepEqual(a.since(count), [`${fresh.id}@0 ${old}@100`, `${fresh.id}@100`]);
  assert.match(run.output, /is not the one serving \(a returned rollout\): a new version inherits its secrets, so this one carries \.env\.staging's/);
  const secrets = Object.fromEntries(fresh.bindings.filter((b) => b.type === "secret_text").map((b) => [b.name, b.text]));
  assert.equal(secrets.AGENT_LINK_SECRET, parseSecrets(a.co.file(".env.staging")).AGENT_LINK_SECRET);
  assert.equal(run.output.match(/smoke agent by own ID: pass/g)?.length, 2, run.output);
});
