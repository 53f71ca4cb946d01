// One staging environment deployed once, for the rollout and rollback tests:
// a Cloudflare API stand-in account (tests/cloudflare/) with the Upscope
// simulator behind it, and a copy of this checkout (tests/support/
// checkout.mjs) where `make init` and a first `make deploy` ran, with the
// project's real pinned wrangler. Each test file gets its own (a file may run
// at most 4 minutes), and each test in it deploys from whatever the one
// before left.
//
// Failures come from where they would: Upscope failing a request at a chosen
// moment of a rollout (`when(predicate, action)` runs the action on the first
// change of the account after which the predicate holds), the account
// refusing a deployment (the API's own error, injected into the stand-in's
// account), a token the account does not know.
import assert from "node:assert/strict";
import { startCloudflareApi } from "../cloudflare/index.mjs";
import { refuse } from "../cloudflare/errors.mjs";
import { startSimulator } from "./harness.mjs";
import { makeCheckout } from "./checkout.mjs";

export const HOST = "cobrowse-staging.example.com";
export const WORKER = "upscope-gateway-staging";
export const KEY = "upscope-rest-key-rollout-012345";

/** What every run needs in its environment: the stand-in, its edge for HOST, a quick settle. */
export const environment = (cf) => ({
  ...cf.env,
  ...cf.edge.nodeEnv(HOST),
  // Once loaded, wrangler sends the script's fetch through HTTPS_PROXY (the
  // stand-in's sentinel): the edge's host goes direct, as to a real edge.
  NO_PROXY: `${cf.env.NO_PROXY},${HOST}`,
  // Chromium, too, goes direct, with no update checks of its own through the sentinel.
  SMOKE_CHROMIUM_ARGS: JSON.stringify([...cf.edge.chromiumArgs(HOST), "--no-proxy-server", "--disable-background-networking"]),
  DEPLOY_SETTLE_SECONDS: "10",
});

/** `make init ENV=staging` in `co`, answers as variables, with Upscope at `apiBase`. */
export const initStaging = (co, env, apiBase) =>
  co.make(["init", "ENV=staging"], {
    env: { ...env, GATEWAY_HOST: HOST, VISITOR_PAGES: "https://shop.example.com/account", EMBED_ORIGINS: "https://shop.example.com", AGENT_AUTH: "signed-link", UPSCOPE_API_KEY: KEY, UPSCOPE_API_BASE: apiBase },
  });

/** The account, set up and deployed once; `close()` disposes of everything. */
export async function deployedAccount(prefix) {
  const cf = await startCloudflareApi({ zones: ["example.com"] });
  const up = await startSimulator({ apiKey: KEY });
  const co = makeCheckout(prefix);
  const env = environment(cf);
  let hooks = [];
  const changed = cf.account.onChange;
  cf.account.onChange = () => {
    changed();
    for (const hook of [...hooks]) {
      if (hook.predicate(cf.account)) {
        hooks = hooks.filter((h) => h !== hook);
        hook.action();
      }
    }
  };
  const init = await initStaging(co, env, up.apiBase);
  assert.equal(init.status, 0, init.output);
  co.commit("staging's settings");
  const first = await co.make(["deploy", "ENV=staging"], { env });
  assert.equal(first.status, 0, first.output);

  const gateway = () => cf.account.scripts.get(WORKER);
  const traffic = (d) => d.versions.map((v) => `${v.version_id}@${v.percentage}`).join(" ");
  return {
    cf, up, co, env,
    /** scripts/deploy.mjs itself (no make check first), with `args`. */
    deploy: (args = [], extra = {}) => co.node("scripts/deploy.mjs", ["--env", "staging", ...args], { env: { ...env, ...extra } }),
    gateway,
    /** The current deployment as "<id>@<pct> …". */
    serving: () => traffic(gateway().deployments.at(-1)),
    newest: () => gateway().versions.at(-1).id,
    /** The deployments made since `count` deployments existed, as "<id>@<pct> …". */
    since: (count) => gateway().deployments.slice(count).map(traffic),
    when: (predicate, action) => hooks.push({ predicate, action }),
    /** True once a version uploaded after this call has `pct` of the traffic. */
    newestAt(pct) {
      const known = gateway().versions.length;
      return (account) => {
        const script = account.scripts.get(WORKER);
        if (script.versions.length <= known) return false;
        const latest = script.versions.at(-1).id;
        return script.deployments.at(-1).versions.some((v) => v.version_id === latest && v.percentage === pct);
      };
    },
    /** Upscope fails the next proxy session: the smoke check's visitor step fails. */
    upscopeFails: () => up.sim.state.faults.push({ method: "POST", path: "/proxy_sessions", status: 500, body: { status: "error" }, times: 1 }),
    /** The account refuses the gateway's next `times` deployments (the API's authentication error); returns the undo. */
    refuseDeployments(times) {
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
    },
    async close() {
      await cf.close();
      await up.close();
      co.remove();
    },
  };
}
