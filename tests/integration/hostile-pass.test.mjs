// A hostile review of the fixes for issues 17 and 18: each test here failed
// against the code it was written for (see the commit that adds it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { baseVars, withGateway, ask } from "../support/harness.mjs";
import { accessSuite } from "../support/access-idp.mjs";
import { smoke } from "../../scripts/smoke.mjs";

const { suite, withAccessGateway, signedIn } = accessSuite();

test("AGENT_LAUNCH_ORIGINS: a wrong entry is named in /readyz and on /agent's pages without its password or query", async () => {
  for (const value of [
    "https://helpdesk:hunter2@acme.zendesk.example",
    "https://acme.zendesk.example/?token=s3cret",
    "https://*.zendesk.example/?token=s3cret",
  ]) {
    await withAccessGateway({ AGENT_LAUNCH_ORIGINS: value }, async (gw) => {
      const ready = await gw.fetch("/readyz", { headers: { Accept: "application/json" } });
      assert.equal(ready.status, 503);
      const problems = (await ready.json()).problems.join("\n");
      assert.match(problems, /AGENT_LAUNCH_ORIGINS: entry 1/, problems);
      const page = await (await gw.fetch("/agent?visitorid=sAlice01", { headers: signedIn() })).text();
      assert.match(page, /AGENT_LAUNCH_ORIGINS/);
      for (const leak of ["hunter2", "s3cret", "helpdesk:"]) {
        assert.ok(!problems.includes(leak), `/readyz quotes ${leak}: ${problems}`);
        assert.ok(!page.includes(leak), `the error page quotes ${leak}`);
      }
    });
  }
  assert.deepEqual(await suite.up.calls(), []);
});

test("the launch confirmation is never framed, even by an AGENT_EMBED_ORIGINS wildcard a sibling site falls under", async () => {
  // A sibling subdomain is untrusted (docs/routes.md: "a sibling subdomain may host
  // anyone's pages"). Framing the confirmation would let it click the button
  // for the agent (clickjacking): the button's POST is same-origin inside the frame.
  await withAccessGateway({ AGENT_EMBED_ORIGINS: "https://*.example.com" }, async (gw) => {
    const res = await gw.fetch("/agent?visitorid=sAlice01", {
      headers: signedIn({ "Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe", Referer: "https://uploads.example.com/x" }),
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Open this co-browsing session\?/);
    assert.match(res.headers.get("content-security-policy"), /frame-ancestors 'none'$/);
    // The console and the chooser, which start nothing by themselves, keep the route's policy.
    const console = await gw.fetch("/agent", { headers: signedIn({ "Sec-Fetch-Site": "same-site" }) });
    assert.match(console.headers.get("content-security-policy"), /frame-ancestors https:\/\/\*\.example\.com$/);
  });
  assert.deepEqual(await suite.up.calls(), []);
});

test("/readyz?upstream=1 asked many times at once asks Upscope once", async () => {
  // The endpoint is public: without a claim on the check in flight, a burst
  // of requests spends a call each (and could draw Upscope's rate limit on
  // the account that agents use).
  await suite.up.fault({ endpoint: "usage", delay_ms: 400, status: 200, body: { status: "ok" }, times: 50 });
  await withGateway({ vars: baseVars(suite.up.apiBase) }, async (gw) => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => gw.fetch("/readyz?upstream=1", { headers: { Accept: "application/json" } })),
    );
    const bodies = await Promise.all(answers.map((res) => res.json()));
    for (const [i, res] of answers.entries()) {
      assert.equal(res.status, 200, JSON.stringify(bodies[i]));
      assert.equal(bodies[i].upstream.status, "ok");
    }
    await suite.up.assertAsked([ask.keyCheck()]);
  });
});

test("an Access identity in the service: namespace is refused in look-alike spellings too, as viewer: is", async () => {
  await withAccessGateway({}, async (gw) => {
    for (const sub of ["\u017Fervice:e367826f93b8d71185e03fe518aff3b4.access", "\uFF53ervice:x", "SERV\u0130CE:x", "service\uFE55x", "service\uFE13x", "ser\u2165ce:x"]) {
      const res = await gw.fetch("/agent?visitorid=sAlice01", {
        headers: signedIn({ Accept: "application/json" }, { sub }),
      });
      assert.equal(res.status, 401, sub);
      assert.equal((await res.json()).error.code, "access_token_invalid", sub);
    }
  });
  assert.deepEqual(await suite.up.calls(), []);
});

test("make smoke never prints a signed link, even when Chromium cannot open the page it was sent to", async () => {
  const secrets = { VISITOR_LINK_SECRET: "visitor-link-secret-for-hostile-pass-0001" };
  // The proxy URL points at a closed loopback port: Chromium's error names the link it was given.
  await suite.up.fault({ method: "POST", path: "/proxy_sessions", status: 200, body: { url: "http://127.0.0.1:9/closed" } });
  await withGateway({ vars: baseVars(suite.up.apiBase, secrets), listen: true }, async (gw) => {
    const printed = [];
    const rows = await smoke({ base: gw.url, secrets, log: (r) => printed.push(`${r.step}: ${r.reason}`) });
    const visitor = rows.find((r) => r.step === "visitor opens /visitor");
    assert.equal(visitor.result, "fail", JSON.stringify(rows));
    const text = printed.join("\n");
    for (const leak of ["sig=", "exp=", "uniqueid=", "/closed"]) {
      assert.ok(!text.includes(leak), `smoke printed ${leak}:\n${text}`);
    }
  });
});
