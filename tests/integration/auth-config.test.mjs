// /agent fails closed: without a complete AGENT_AUTH configuration every
// request is a 500 naming what is missing, and nothing is called.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startSimulator, baseVars, refusal, withGateway } from "./harness.mjs";

const LINK = "/agent?visitorid=sAlice01&agent_id=a-1&agent_name=Ann";
let up;
before(async () => {
  up = await startSimulator();
});
after(() => up?.close());
beforeEach(() => up.reset());

const cases = [
  ["AGENT_AUTH unset", { AGENT_AUTH: "", ALLOW_UNAUTHENTICATED_AGENTS: "" }, /AGENT_AUTH is not set/],
  ["AGENT_AUTH unset, even with the none flag", { AGENT_AUTH: "" }, /AGENT_AUTH is not set/],
  ["none without the second flag", { ALLOW_UNAUTHENTICATED_AGENTS: "" }, /ALLOW_UNAUTHENTICATED_AGENTS=true/],
  ["none with a flag that is not true", { ALLOW_UNAUTHENTICATED_AGENTS: "1" }, /ALLOW_UNAUTHENTICATED_AGENTS=true/],
  ["unknown mode", { AGENT_AUTH: "password" }, /AGENT_AUTH must be access, signed-link or none/],
  ["signed-link without its secret", { AGENT_AUTH: "signed-link" }, /AGENT_LINK_SECRET/],
  ["signed-link with a short secret", { AGENT_AUTH: "signed-link", AGENT_LINK_SECRET: "hunter2" }, /at least|shorter than 32/],
  ["access without its settings", { AGENT_AUTH: "access" }, /ACCESS_TEAM_DOMAIN/],
];

for (const [name, vars, expected] of cases) {
  test(`${name}: 500, no upstream call`, async () => {
    await withGateway({ vars: baseVars(up.apiBase, vars) }, async (gw) => {
      const got = await refusal(gw, LINK);
      assert.equal(got.status, 500);
      assert.equal(got.code, "gateway_misconfigured");
      assert.match(got.message, /^gateway misconfigured: /);
      assert.match(got.message, expected);
      assert.doesNotMatch(got.message, /hunter2/, "a secret's value is never echoed");
      // /visitor does not depend on agent settings.
      assert.equal((await gw.fetch("/visitor")).status, 302);
    });
    const requests = await up.requests();
    assert.deepEqual(requests.map((r) => r.path), ["/proxy_sessions"]);
  });
}
