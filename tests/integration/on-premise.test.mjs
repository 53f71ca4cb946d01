// Upscope on premise (UPSCOPE_EDITION=on_premise) end to end: every flow
// against the simulator's on-premise edition with the exact requests
// asserted (under <BASE_ENDPOINT>/api, the bare key in Authorization, the
// documented search); the settings that keep an on-premise key away from
// Upscope's cloud; and the rules for hostile answers and requests, which
// hold here as they do for the cloud.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import {
  gatewaySuite, baseVars, withGateway, refusal, expectRefused, startSimulator, AGENT_QUERY, AGENT,
  GATEWAY_ORIGIN as ORIGIN, pathOf,
} from "../support/harness.mjs";
import { signLink } from "../../examples/sign-link.mjs";

const ON_PREMISE = { UPSCOPE_EDITION: "on_premise" };
const suite = gatewaySuite((apiBase) => ({ vars: baseVars(apiBase, ON_PREMISE) }), { edition: "on_premise" });
const ask = () => suite.up.ask;

async function expectWatch(gw, path, shortId) {
  const res = await gw.fetch(path);
  assert.equal(res.status, 302, `${path}: ${res.status === 302 ? "" : await res.text()}`);
  const page = await (await fetch(res.headers.get("location"))).text();
  assert.match(page, new RegExp(`id="watch-short-id">${shortId}<`));
}

test("/agent by own ID, lookup code and Short ID asks the on-premise API, with the bare key", async () => {
  await expectWatch(suite.gw, `/agent?uniqueid=alice-1001&${AGENT_QUERY}`, "sAlice01");
  await expectWatch(suite.gw, `/agent?lookup=4821&${AGENT_QUERY}`, "sAlice01");
  await expectWatch(suite.gw, `/agent?visitorid=sBob0002&${AGENT_QUERY}`, "sBob0002");
  const watch = (shortId) => ask().watch(shortId, { agent: AGENT });
  await suite.up.assertAsked([
    ask().search("id:alice-1001"), watch("sAlice01"),
    ask().search("4821"), watch("sAlice01"),
    watch("sBob0002"),
  ]);
  for (const r of await suite.up.requests()) assert.ok(r.path.startsWith("/cobrowsing/api/"), r.path);
});

test("someone online on two devices gets the chooser, and the pick asks for that device only", async () => {
  const res = await suite.gw.fetch(`/agent?uniqueid=carol-3003&${AGENT_QUERY}`);
  assert.equal(res.status, 200);
  const links = [...(await res.text()).matchAll(/href="(\/agent\?shortid=[^"]+)"/g)].map((m) => m[1].replaceAll("&amp;", "&"));
  assert.equal(links.length, 2);
  await suite.up.assertAsked([ask().search("id:carol-3003")], "no session before the agent picks");
  await expectWatch(suite.gw, links[1], "sCarolPhone");
  await suite.up.assertAsked([ask().search("id:carol-3003"), ask().watch("sCarolPhone", { agent: AGENT })]);
});

test("/visitor opens a proxy session under /api", async () => {
  const res = await suite.gw.fetch("/visitor?uniqueid=alice-1001");
  assert.equal(res.status, 302);
  const page = await (await fetch(res.headers.get("location"))).text();
  assert.match(page, /id="proxy-unique-id">alice-1001</);
  await suite.up.assertAsked([ask().proxy({ initial_url: "https://shop.example.com/account?tab=profile&___upscope_unique_id=alice-1001#top" })]);
});

test("/view asks the on-premise API too", async () => {
  const secrets = {
    VISITOR_LINK_SECRET: "visitor-link-secret-for-on-premise-0001",
    VIEWER_LINK_SECRET: "viewer-link-secret-for-on-premise-00001",
    AUDIT_ID_SECRET: "audit-id-secret-for-on-premise-0000001",
  };
  await withGateway({ vars: baseVars(suite.up.apiBase, { ...ON_PREMISE, ...secrets }) }, async (gw) => {
    const link = signLink(`${ORIGIN}/view?uniqueid=alice-1001&viewer_id=cust-1&viewer_name=Pat`, secrets.VIEWER_LINK_SECRET);
    await expectWatch(gw, pathOf(link), "sAlice01");
  });
  const viewOnly = Object.fromEntries(
    ["console", "click", "draw", "scroll", "audio", "type", "agent_redirect"].map((p) => [`allow_${p}`, false]),
  );
  await suite.up.assertAsked([
    ask().search("id:alice-1001"),
    ask().watch("sAlice01", { agent: { id: "viewer:cust-1", name: "Pat" }, permissions: viewOnly }),
  ]);
});

test("/readyz?upstream=1 proves the key with one search for nobody, and names the edition", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase, ON_PREMISE) }, async (gw) => {
    const res = await gw.fetch("/readyz?upstream=1", { headers: { Accept: "application/json" } });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(body.upstream, { endpoint: "search", status: "ok", age_seconds: 0 });
    assert.ok(body.features.includes("upscope:on_premise"), body.features.join(" "));
    for (let i = 0; i < 3; i++) assert.equal((await gw.fetch("/readyz?upstream=1")).status, 200);
    await suite.up.assertAsked([ask().keyCheck()], "asked once, kept 30 s");
  });
  await withGateway({ vars: baseVars(suite.up.apiBase, { ...ON_PREMISE, UPSCOPE_API_KEY: "wrong-key" }) }, async (gw) => {
    const res = await gw.fetch("/readyz?upstream=1", { headers: { Accept: "application/json" } });
    const body = await res.json();
    assert.equal(res.status, 503);
    assert.deepEqual([body.upstream.endpoint, body.upstream.status, body.upstream.reason], ["search", "failed", "invalid_api_key"]);
    assert.ok(!JSON.stringify(body).includes("wrong-key"));
  });
});

test("settings: on_premise without its own server, or with Upscope's cloud as it, is a 500 naming the setting and sends nothing", async () => {
  const cloud = await startSimulator();
  try {
    const cases = [
      [{ ...ON_PREMISE, UPSCOPE_API_BASE: null }, /UPSCOPE_EDITION=on_premise needs UPSCOPE_API_BASE/],
      [{ ...ON_PREMISE, UPSCOPE_API_BASE: "https://api.upscope.io/v1.3" }, /UPSCOPE_API_BASE is Upscope's cloud/],
      [{ UPSCOPE_EDITION: "on-premise" }, /UPSCOPE_EDITION must be cloud or on_premise/],
      [{ UPSCOPE_EDITION: "sk_live_pasted_here" }, /UPSCOPE_EDITION must be cloud or on_premise/],
    ];
    for (const [extra, why] of cases) {
      // (null: the setting is not set at all.)
      const vars = Object.fromEntries(Object.entries(baseVars(cloud.apiBase, extra)).filter(([, v]) => v !== null));
      await withGateway({ vars }, async (gw) => {
        for (const path of [`/agent?uniqueid=alice-1001&${AGENT_QUERY}`, "/visitor"]) {
          const got = await refusal(gw, path);
          assert.deepEqual([got.status, got.code], [500, "gateway_misconfigured"], `${JSON.stringify(extra)} ${path}`);
          assert.match(got.message, why);
          assert.ok(!got.message.includes("sk_live_pasted_here"), "a value is never echoed");
        }
        const ready = await gw.fetch("/readyz?upstream=1", { headers: { Accept: "application/json" } });
        const body = await ready.json();
        assert.equal(ready.status, 503);
        assert.ok(body.problems.some((p) => why.test(p)), JSON.stringify(body.problems));
        assert.equal(body.upstream.status, "not_checked");
      });
    }
    assert.deepEqual(await cloud.requests(), [], "no key went anywhere");
  } finally {
    await cloud.close();
  }
  assert.deepEqual(await suite.up.requests(), []);
});

test("a gateway left on the cloud edition reaches no on-premise API path, and says so", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase) }, async (gw) => {
    const got = await refusal(gw, `/agent?uniqueid=alice-1001&${AGENT_QUERY}`);
    assert.deepEqual([got.status, got.code], [502, "upstream_not_found"], got.message);
  });
  assert.deepEqual(await suite.up.requests(), []);
});

/** Another origin on loopback: whatever reaches it would have left the on-premise server. */
let elsewhere;
before(async () => {
  const received = [];
  const server = http.createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ visitors: [{ short_id: "sAlice01", unique_id: "alice-1001" }], watch_url: "https://elsewhere.example/w/stolen" }));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  elsewhere = { server, received, url: `http://127.0.0.1:${server.address().port}` };
});
after(() => new Promise((resolve) => {
  elsewhere?.server.closeAllConnections();
  elsewhere ? elsewhere.server.close(resolve) : resolve();
}));

test("hostile answers on premise: redirects not followed, session URLs https only, unreadable answers named, trouble retried once", async () => {
  const link = `/agent?uniqueid=alice-1001&${AGENT_QUERY}`;
  const SEARCH = ask().search("id:alice-1001");
  const WATCH = ask().watch("sAlice01");
  const cases = [
    // [fault, gateway path, status, code, the calls the server saw]
    [{ endpoint: "search", status: 307, headers: { Location: `${elsewhere.url}/moved` } }, link, 502, "upstream_redirected", [SEARCH]],
    [{ endpoint: "watch_url", status: 308, headers: { Location: `${elsewhere.url}/moved` } }, link, 502, "upstream_redirected", [SEARCH, WATCH]],
    [{ endpoint: "proxy_sessions", status: 302, headers: { Location: `${elsewhere.url}/moved` } }, "/visitor", 502, "upstream_redirected", [ask().proxy()]],
    [{ endpoint: "watch_url", status: 200, body: { watch_url: "http://support.example.com/w/tok-plain" } }, link, 502, "upstream_bad_response", [SEARCH, WATCH]],
    [{ endpoint: "proxy_sessions", status: 200, body: { url: "javascript:alert('tok-js')" } }, "/visitor", 502, "upstream_bad_response", [ask().proxy()]],
    [{ endpoint: "search", status: 200, body: "<html>sign in</html>" }, link, 502, "upstream_unreadable", [SEARCH]],
    [{ endpoint: "search", status: 200, body: { status: "ok", people: [] } }, link, 502, "upstream_unreadable", [SEARCH]],
    [{ endpoint: "search", status: 503, times: 2 }, link, 503, "upstream_unavailable", [SEARCH, SEARCH]],
    [{ endpoint: "watch_url", status: 503 }, link, 503, "upstream_unavailable", [SEARCH, WATCH]],
  ];
  for (const [fault, path, status, code, calls] of cases) {
    await suite.up.reset();
    elsewhere.received.length = 0;
    await suite.up.fault(fault);
    const got = await refusal(suite.gw, path);
    const label = JSON.stringify(fault);
    assert.deepEqual([got.status, got.code], [status, code], `${label}: ${got.message}`);
    assert.doesNotMatch(got.message, /tok-|elsewhere|prem|test-secret/, label);
    assert.deepEqual(elsewhere.received, [], `${label}: the other origin received a request`);
    await suite.up.assertAsked(calls, label);
  }
  assert.doesNotMatch(suite.gw.logs.join(""), /tok-plain|tok-js|test-secret-key/);
});

test("hostile requests on premise are refused before any call, as in the cloud", async () => {
  for (const [path, status, code] of [
    [`/agent?lookup=1234&${AGENT_QUERY}&pad=${"x".repeat(5000)}`, 400, "query_too_long"],
    [`/agent?uniqueid=alice%20online&${AGENT_QUERY}`, 400, "invalid_parameter"],
    [`/agent?visitorid=..%2Fadmin&${AGENT_QUERY}`, 400, "invalid_parameter"],
    [`/agent?visitorid=sA&lookup=1234&${AGENT_QUERY}`, 400, "conflicting_parameters"],
    [`/visitor?url=${encodeURIComponent("https://evil.example/")}`, 400, "url_not_allowed"],
  ]) {
    await expectRefused(suite.gw, path, status, code);
  }
  assert.deepEqual(await suite.up.requests(), []);
});
