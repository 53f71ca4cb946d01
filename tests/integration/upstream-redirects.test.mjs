// Upscope's answers are taken only as far as they go: a redirect is never
// followed (the API key and the request body stay with the API host; any 3xx
// is a 502 of its own, never retried), and a watch_url or proxy URL that is
// not https (loopback excepted) is never handed on, shown or logged.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { gatewaySuite, API_KEY, AGENT_QUERY, ask } from "../support/harness.mjs";

const suite = gatewaySuite();

/** Another origin on loopback: whatever reaches it would have left Upscope's API host. */
let elsewhere;
before(async () => {
  const received = [];
  const server = http.createServer((req, res) => {
    received.push(`${req.method} ${req.url} key=${req.headers["x-api-key"] ?? "-"}`);
    req.resume();
    // What a hostile host would answer: a session of its own choosing.
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({
      status: "ok", visitors: [{ short_id: "sAlice01", unique_id: "alice-1001", is_online: true }],
      watch_url: "https://elsewhere.example/w/stolen", proxy_session: { url: "https://elsewhere.example/p/stolen" },
    }));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  elsewhere = { server, received, url: `http://127.0.0.1:${server.address().port}` };
});
after(() => new Promise((resolve) => {
  elsewhere?.server.closeAllConnections();
  elsewhere ? elsewhere.server.close(resolve) : resolve();
}));
beforeEach(() => {
  elsewhere.received.length = 0;
});

const AGENT_LINK = `/agent?uniqueid=alice-1001&${AGENT_QUERY}`;
const SEARCH = ask.search("id:alice-1001");
const WATCH = ask.watch("sAlice01");
const PROXY = ask.proxy();

/** The gateway's last log line, waiting a bounded while for the `n`th. */
async function lastLogLine(n) {
  for (let waited = 0; suite.gw.logLines().length < n && waited < 2000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  return suite.gw.logLines().at(-1);
}

test("a 3xx from the API is never followed: 502 upstream_redirected, the other origin gets nothing, and it is not retried", async () => {
  const cases = [
    // [what redirects, status, gateway path, the calls Upscope saw, the redirected endpoint]
    ["search", 307, AGENT_LINK, [SEARCH], "search"],
    ["search", 301, AGENT_LINK, [SEARCH], "search"],
    ["search", 302, AGENT_LINK, [SEARCH], "search"],
    ["search", 303, AGENT_LINK, [SEARCH], "search"],
    ["search", 308, AGENT_LINK, [SEARCH], "search"],
    ["watch_url", 307, AGENT_LINK, [SEARCH, WATCH], "watch_url"],
    ["proxy_sessions", 307, "/visitor", [PROXY], "proxy_sessions"],
  ];
  for (const [endpoint, status, path, calls, logged] of cases) {
    await suite.up.reset();
    elsewhere.received.length = 0;
    const location = `${elsewhere.url}/moved/${endpoint}?from=redirect`;
    await suite.up.fault({ endpoint, status, headers: { Location: location } });
    const lines = suite.gw.logLines().length;
    const res = await suite.gw.fetch(path, { headers: { Accept: "application/json" } });
    const label = `${endpoint} answering ${status}`;
    assert.deepEqual(elsewhere.received, [], `${label}: the other origin received a request (gateway answered ${res.status})`);
    const got = { status: res.status, ...(await res.json()).error };
    assert.deepEqual([got.status, got.code], [502, "upstream_redirected"], `${label}: ${got.message}`);
    assert.match(got.message, /redirect/);
    assert.ok(!got.message.includes(elsewhere.url) && !got.message.includes(API_KEY), `${label}: ${got.message}`);
    await suite.up.assertAsked(calls, `${label}: never retried`);
    const line = await lastLogLine(lines + 1);
    assert.deepEqual([line.status, line.outcome], [502, "upstream_redirected"]);
    assert.deepEqual(line.upstream.at(-1).endpoint, logged);
    assert.equal(line.upstream.at(-1).status, status, `${label}: the log line records the status`);
  }
  const page = await (async () => {
    await suite.up.fault({ endpoint: "proxy_sessions", status: 307, headers: { Location: `${elsewhere.url}/x` } });
    return suite.gw.fetch("/visitor");
  })();
  assert.equal(page.status, 502);
  const html = await page.text();
  assert.match(html, /upstream_redirected/);
  assert.doesNotMatch(html, /id="retry"/, "a redirect is not trouble that passes by itself");
  assert.deepEqual(elsewhere.received, []);
});

/** Session URLs no browser should be sent to, each carrying a token that must go nowhere. */
const UNSAFE_URLS = [
  "http://watch.example.com/w/tok-plain-http",
  "javascript:alert('tok-javascript')",
  "data:text/html,tok-data",
  "ftp://watch.example.com/tok-ftp",
  "http://10.0.0.7/w/tok-private-http",
];
const TOKEN = /tok-[a-z-]+/;

test("a watch_url that is not https (loopback excepted) is a 502 upstream_bad_response; the URL reaches no page, header or log", async () => {
  for (const url of UNSAFE_URLS) {
    for (const accept of ["application/json", "text/html"]) {
      await suite.up.reset();
      await suite.up.fault({ endpoint: "watch_url", status: 200, body: { watch_url: url } });
      const res = await suite.gw.fetch(AGENT_LINK, { headers: { Accept: accept } });
      const body = await res.text();
      assert.equal(res.status, 502, `${url} (${accept}): ${body.slice(0, 200)}`);
      assert.equal(res.headers.get("location"), null);
      assert.match(body, /upstream_bad_response/);
      assert.match(body, /https/);
      assert.doesNotMatch(body, TOKEN, `${url} (${accept})`);
      await suite.up.assertAsked([SEARCH, WATCH]);
    }
  }
  assert.doesNotMatch(suite.gw.logs.join(""), TOKEN);
});

test("a proxy session URL that is not https (loopback excepted) is a 502 upstream_bad_response; the URL reaches no page, header or log", async () => {
  for (const url of UNSAFE_URLS) {
    for (const accept of ["application/json", "text/html"]) {
      await suite.up.reset();
      await suite.up.fault({ endpoint: "proxy_sessions", status: 200, body: { status: "ok", proxy_session: { id: "p1", url } } });
      const res = await suite.gw.fetch("/visitor", { headers: { Accept: accept } });
      const body = await res.text();
      assert.equal(res.status, 502, `${url} (${accept}): ${body.slice(0, 200)}`);
      assert.equal(res.headers.get("location"), null);
      assert.match(body, /upstream_bad_response/);
      assert.doesNotMatch(body, TOKEN, `${url} (${accept})`);
      await suite.up.assertAsked([PROXY]);
    }
  }
  assert.doesNotMatch(suite.gw.logs.join(""), TOKEN);
});

test("https session URLs, and http ones on loopback (the simulator's), are still handed on", async () => {
  for (const url of ["https://watch.example.com/w/ok", "http://127.0.0.1:9/w/ok", "http://localhost:9/w/ok", "http://[::1]:9/w/ok"]) {
    await suite.up.reset();
    await suite.up.fault({ endpoint: "watch_url", status: 200, body: { watch_url: url } });
    const res = await suite.gw.fetch(AGENT_LINK);
    assert.equal(res.status, 302, url);
    assert.equal(res.headers.get("location"), url);
  }
});
