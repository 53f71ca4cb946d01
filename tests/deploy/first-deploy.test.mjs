// The first deploy after `wrangler secret put` made a placeholder Worker
// (wrangler creates one to hold a secret when the Worker does not exist) is
// still a first deploy: the real pinned wrangler against the Cloudflare API
// stand-in, on a copy of the checkout set up by make init.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import path from "node:path";
import { startCloudflareApi } from "../cloudflare/index.mjs";
import { startSimulator } from "../support/harness.mjs";
import { cleanEnvironment, makeCheckout } from "../support/checkout.mjs";
import { parseSecrets } from "../../scripts/lib/secrets-file.mjs";
import { HOST, KEY, WORKER, environment, initStaging } from "../support/rollout-account.mjs";

const fingerprint = (value) => createHash("sha256").update(value).digest("hex").slice(0, 12);
let up;
let co;
before(async () => {
  up = await startSimulator({ apiKey: KEY });
  co = makeCheckout("gateway-first-deploy-");
});
after(async () => {
  await up?.close();
  co?.remove();
});

test("the first deploy after `wrangler secret put` made a placeholder Worker is still a first deploy: secrets, custom domain, smoke", async () => {
  const blank = await startCloudflareApi({ zones: ["example.com"] });
  try {
    const blankEnv = environment(blank);
    const init = await initStaging(co, blankEnv, up.apiBase);
    assert.equal(init.status, 0, init.output);
    co.commit("staging's settings");
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
