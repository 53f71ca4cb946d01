// Upstream trouble becomes a clear 5xx naming the problem, never a secret.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { gatewaySuite, baseVars, API_KEY, withGateway, expectRefused, refusal, AGENT_QUERY } from "../support/harness.mjs";

const suite = gatewaySuite();

const AGENT_LINK = `/agent?uniqueid=alice-1001&${AGENT_QUERY}`;

/** A refusal (the harness's one helper) whose message matches `words` and never holds the API key. */
async function expectUpstreamError(g, path, status, code, words) {
  const message = await expectRefused(g, path, status, code);
  assert.match(message, words);
  assert.ok(!message.includes(API_KEY), "the API key never reaches an error page");
}

test("a rejected API key is a 502 saying so, without echoing the key", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase, { UPSCOPE_API_KEY: "wrong-key-123" }) }, async (wrongKey) => {
    for (const path of [AGENT_LINK, "/visitor"]) {
      await expectUpstreamError(wrongKey, path, 502, "upstream_unauthorized", /Upscope rejected the API key/);
      const html = await (await wrongKey.fetch(path)).text();
      assert.match(html, /Upscope rejected the API key/);
      assert.ok(!html.includes("wrong-key-123"));
    }
  });
});

test("each documented 401 code gets its own explanation", async () => {
  for (const [code, words] of [
    ["no_subscription", /no active subscription/],
    ["subscription_expired", /no active subscription/],
    ["api_not_enabled", /REST API is not enabled/],
    ["please_contact_team", /contact Upscope/],
  ]) {
    await suite.up.fault({ method: "GET", path: "/list", status: 401, body: { status: "error", error: code } });
    await expectUpstreamError(suite.gw, AGENT_LINK, 502, "upstream_unauthorized", words);
  }
});

test("402 over the plan's limits is a 502 naming the plan", async () => {
  await suite.up.fault({ method: "POST", path: "/visitors/sAlice01/watch_url", status: 402, body: { status: "error", error: "over_limits" } });
  await expectUpstreamError(suite.gw, AGENT_LINK, 502, "upstream_over_limits", /over its plan's limits/);
});

test("429 is a 503 that passes Upscope's Retry-After on", async () => {
  await suite.up.fault({ method: "GET", path: "/list", status: 429, headers: { "Retry-After": "7" } });
  const got = await refusal(suite.gw, AGENT_LINK);
  assert.deepEqual([got.status, got.code], [503, "upstream_rate_limited"]);
  assert.match(got.message, /limiting requests/);
  assert.equal(got.headers.get("retry-after"), "7");
});

test("5xx is a 503 and unreadable answers are a 502", async () => {
  await suite.up.fault({ method: "GET", path: "/list", status: 500, body: "<html>oops</html>" });
  await expectUpstreamError(suite.gw, AGENT_LINK, 503, "upstream_unavailable", /HTTP 500/);
  await suite.up.fault({ method: "GET", path: "/list", status: 200, body: "{not json" });
  await expectUpstreamError(suite.gw, AGENT_LINK, 502, "upstream_unreadable", /answer to search \(HTTP 200\) could not be read: the gateway needs a JSON body, and it had a body that is not JSON \(9 bytes\)/);
  await suite.up.fault({ method: "POST", path: "/visitors/sAlice01/watch_url", status: 200, body: { watch_url: "javascript:alert(1)" } });
  await expectUpstreamError(suite.gw, AGENT_LINK, 502, "upstream_bad_response", /without an https watch_url/);
  await suite.up.fault({ method: "POST", path: "/proxy_sessions", status: 503 });
  await expectUpstreamError(suite.gw, "/visitor", 503, "upstream_unavailable", /HTTP 503/);
});

test("an answer of an unknown shape is a 502 upstream_unreadable naming endpoint, status and member names; the log line too; never a value", async () => {
  const answers = [
    ["GET", "/list", AGENT_LINK.replace("visitorid=sAlice01", "uniqueid=alice-1001"), { status: "ok", results: [{ sid: "sAlice01", uid: "alice-1001" }] },
      /answer to search \(HTTP 200\) could not be read: the gateway needs a visitors list, and it had the members results, status \(and 2 other members, not named: they may hold data\)\./],
    ["POST", "/visitors/sAlice01/watch_url", AGENT_LINK, { data: { href: "https://watch.example/w/secret-token" } },
      /answer to watch_url \(HTTP 200\) could not be read: the gateway needs a watch_url member, and it had the members data, data\.href\./],
    ["POST", "/proxy_sessions", "/visitor", { status: "ok", session: { id: "x1", link: "https://elsewhere.example/s/secret-token" } },
      /answer to proxy_sessions \(HTTP 200\) could not be read: .* and it had the members session, session\.id, session\.link, status\./],
  ];
  for (const [method, path, link, body, message] of answers) {
    await suite.up.fault({ method, path, status: 200, body });
    const got = await refusal(suite.gw, link);
    assert.deepEqual([got.status, got.code], [502, "upstream_unreadable"], path);
    assert.match(got.message, message);
    await suite.up.fault({ method, path, status: 200, body });
    const page = await (await suite.gw.fetch(link)).text();
    assert.match(page, /upstream_unreadable/);
    assert.doesNotMatch(page, /id="retry"/, "no Try again: trying again gets the same answer");
  }
  await new Promise((r) => setTimeout(r, 100));
  const logged = suite.gw.logLines().filter((l) => l.unreadable).map((l) => [l.unreadable.endpoint, l.unreadable.status, l.unreadable.got]);
  assert.deepEqual(logged.slice(-2), [
    ["proxy_sessions", 200, "the members session, session.id, session.link, status"],
    ["proxy_sessions", 200, "the members session, session.id, session.link, status"],
  ]);
  assert.ok(logged.some(([endpoint]) => endpoint === "search") && logged.some(([endpoint]) => endpoint === "watch_url"));
  const output = suite.gw.logs.join("");
  for (const value of ["secret-token", "elsewhere.example", "watch.example", "x1"]) assert.ok(!output.includes(value), value);
});

// Issue 25, item 5: an answer may use data as member names (a session id, a
// customer's own ID as a key). Such names reached the public /visitor caller
// and the log line; only names plainly field names of an API answer may.
test("upstream_unreadable names only plain field names of an API answer, to the public caller and in the log; data used as names is counted", async () => {
  const body = {
    status: "ok",
    sessions: { c0ffee00deadbeef0123456789abcdef: { url: "https://x.example/s/secret-token" } },
    by_customer: { cust_1001: 1, alice: 2 },
    deadbeefcafe: true,
  };
  await suite.up.fault({ method: "POST", path: "/proxy_sessions", status: 200, body });
  const got = await refusal(suite.gw, "/visitor");
  assert.deepEqual([got.status, got.code], [502, "upstream_unreadable"]);
  assert.match(got.message, /and it had the members sessions, status \(and 5 other members, not named: they may hold data\)\./);
  await new Promise((r) => setTimeout(r, 100));
  const [line] = suite.gw.logLines().filter((l) => l.unreadable).slice(-1);
  assert.equal(line.unreadable.got, "the members sessions, status (and 5 other members, not named: they may hold data)");
  const output = suite.gw.logs.join("");
  for (const data of ["c0ffee00", "cust_1001", "alice", "by_customer", "deadbeefcafe", "secret-token"]) {
    assert.ok(!got.message.includes(data) && !output.includes(data), data);
  }
});

test("an unreachable Upscope is a 502 saying it could not be reached", async () => {
  // A port that was free a moment ago: nothing listens there.
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, "127.0.0.1", r));
  const port = probe.address().port;
  await new Promise((r) => probe.close(r));
  await withGateway({ vars: baseVars(`http://127.0.0.1:${port}/v1.3`) }, async (nowhere) => {
    await expectUpstreamError(nowhere, AGENT_LINK, 502, "upstream_unreachable", /could not be reached/);
  });
});

test("a bad setting is a 500 that names it and calls nothing upstream", async () => {
  for (const [name, value] of [["VISITOR_ID_KIND", "email"], ["WATCH_PERMISSIONS", "teleport"], ["UPSCOPE_API_BASE", "api.upscope.io"]]) {
    await withGateway({ vars: baseVars(suite.up.apiBase, { [name]: value }) }, async (bad) => {
      await expectUpstreamError(bad, AGENT_LINK, 500, "gateway_misconfigured", new RegExp(name));
    });
  }
  assert.deepEqual(await suite.up.requests(), []);
});
