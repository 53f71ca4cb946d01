// /agent fails closed: without a complete AGENT_AUTH configuration every
// request is a 500 naming what is missing, and nothing is called.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startSimulator, baseVars, refusal, withGateway, AGENT_QUERY, ask } from "../support/harness.mjs";

const LINK = `/agent?visitorid=sAlice01&${AGENT_QUERY}`;
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
  ["none with the flag false", { ALLOW_UNAUTHENTICATED_AGENTS: "false" }, /ALLOW_UNAUTHENTICATED_AGENTS=true/],
  // Strict: neither true nor false is named, not read as off, whatever the mode.
  ["none with a flag that is neither true nor false", { ALLOW_UNAUTHENTICATED_AGENTS: "1" }, /ALLOW_UNAUTHENTICATED_AGENTS must be true or false/],
  ["signed-link with a misspelt flag", { AGENT_AUTH: "signed-link", AGENT_LINK_SECRET: "0123456789abcdef0123456789abcdef", ALLOW_UNAUTHENTICATED_AGENTS: "True" }, /ALLOW_UNAUTHENTICATED_AGENTS must be true or false/],
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
    await up.assertAsked([ask.proxy()]);
  });
}

const SECRET = "the-same-secret-for-both-routes-0000001";

test("equal agent and visitor link secrets: both routes answer 500 naming both settings, and call nothing", async () => {
  const vars = { AGENT_AUTH: "signed-link", ALLOW_UNAUTHENTICATED_AGENTS: "", AGENT_LINK_SECRET: SECRET, VISITOR_LINK_SECRET: `${SECRET}\n` };
  await withGateway({ vars: baseVars(up.apiBase, vars) }, async (gw) => {
    for (const path of [LINK, "/visitor", "/visitor?uniqueid=alice-1001"]) {
      const got = await refusal(gw, path);
      assert.deepEqual([got.status, got.code], [500, "gateway_misconfigured"], path);
      assert.match(got.message, /AGENT_LINK_SECRET and VISITOR_LINK_SECRET are the same secret/, path);
      assert.ok(!got.message.includes(SECRET), "a secret's value is never echoed");
    }
  });
  assert.deepEqual(await up.requests(), []);
});

test("UPSCOPE_API_BASE over plain http to a non-loopback host is a 500 before any call; loopback http is fine", async () => {
  for (const base of ["http://api.upscope.io/v1.3", "http://198.51.100.7/v1.3"]) {
    await withGateway({ vars: baseVars(up.apiBase, { UPSCOPE_API_BASE: base }) }, async (gw) => {
      for (const path of [LINK, "/visitor"]) {
        const got = await refusal(gw, path);
        assert.deepEqual([got.status, got.code], [500, "gateway_misconfigured"], `${base} ${path}`);
        assert.match(got.message, /UPSCOPE_API_BASE must start with https:\/\//);
      }
    });
  }
  const localhost = up.apiBase.replace("127.0.0.1", "localhost");
  await withGateway({ vars: baseVars(localhost) }, async (gw) => {
    assert.equal((await gw.fetch("/visitor")).status, 302);
  });
  await up.assertAsked([ask.proxy()]);
});
