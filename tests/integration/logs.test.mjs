// One structured line per request, and never a secret in it: the worker's
// whole output through every flow is searched for the API key, link
// secrets, signatures, Access tokens, watch URLs and proxy URLs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSimulator, baseVars, API_KEY, withGateway, GATEWAY_ORIGIN as ORIGIN, pathOf } from "../support/harness.mjs";
import { signLink } from "../../examples/sign-link.mjs";
import { startAccess, newKey, token, TEAM_DOMAIN, AUDIENCE } from "../support/access-idp.mjs";

const AGENT_SECRET = "agent-link-secret-for-log-tests-0000001";
const VISITOR_SECRET = "visitor-link-secret-for-log-tests-000001";
let up, access;
before(async () => {
  up = await startSimulator();
  access = await startAccess();
});
after(async () => {
  await access?.close();
  await up?.close();
});

/** Runs requests through a gateway; returns what the responses revealed and the worker's output. */
async function run(options, requests) {
  return withGateway(options, async (gw) => {
    const seen = [];
    for (const [path, headers = {}] of requests) {
      const res = await gw.fetch(path, { headers });
      const body = await res.text();
      seen.push({ path, status: res.status, requestId: res.headers.get("x-request-id"), location: res.headers.get("location"), body });
    }
    await new Promise((r) => setTimeout(r, 200));
    return { seen, output: gw.logs.join(""), lines: gw.logLines() };
  });
}

const sigOf = (href) => new URL(href).searchParams.get("sig");

test("every request logs one JSON line, and no secret, signature, token or session URL ever appears", async () => {
  const signed = {
    visitor: signLink(`${ORIGIN}/visitor?uniqueid=alice-1001`, VISITOR_SECRET),
    byOwnId: signLink(`${ORIGIN}/agent?uniqueid=alice-1001&agent_id=a-7&agent_name=Ann`, AGENT_SECRET),
    byCode: signLink(`${ORIGIN}/agent?lookup=4821&agent_id=a-7&agent_name=Ann`, AGENT_SECRET),
    forged: signLink(`${ORIGIN}/agent?lookup=4821&agent_id=a-7&agent_name=Ann`, "not-the-secret-but-long-enough-0000000"),
  };
  // Upscope's search is slower than a KV read; on loopback make it so, for the hit's head start.
  await up.fault({ method: "GET", path: "/list", delay_ms: 200, times: 3 });
  const links = await run(
    {
      vars: baseVars(up.apiBase, {
        AGENT_AUTH: "signed-link", AGENT_LINK_SECRET: AGENT_SECRET, VISITOR_LINK_SECRET: VISITOR_SECRET,
      }),
      kv: true,
    },
    [
      [pathOf(signed.visitor)],
      [pathOf(signed.byOwnId), { "cf-ray": "8c2d7e1f0a9b3c4d-LHR" }],
      [pathOf(signed.byOwnId)],
      [pathOf(signed.byCode), { Accept: "application/json" }],
      [pathOf(signed.forged)],
      ["/visitor?uniqueid=alice-1001&exp=1&sig=c2VjcmV0LXNpZ25hdHVyZQ"],
      ["/healthz"],
      ["/no/such/page?token=abc"],
    ],
  );
  const wrongKey = await run({ vars: baseVars(up.apiBase, { UPSCOPE_API_KEY: "wrong-upscope-key-9f8e" }) }, [["/visitor"]]);
  const key = newKey("kid-log");
  access.publish(key);
  const jwt = token(key);
  const accessRun = await run(
    {
      vars: baseVars(up.apiBase, { AGENT_AUTH: "access", ACCESS_TEAM_DOMAIN: TEAM_DOMAIN, ACCESS_AUD: AUDIENCE }),
      hosts: { [TEAM_DOMAIN]: access.url },
    },
    [["/agent?visitorid=sAlice01", { "Cf-Access-Jwt-Assertion": jwt }]],
  );

  // The flows really ran: sessions were handed out, refusals refused.
  assert.deepEqual(links.seen.map((s) => s.status), [302, 302, 302, 302, 401, 401, 200, 404]);
  assert.equal(wrongKey.seen[0].status, 502);
  assert.equal(accessRun.seen[0].status, 302);

  const sessionUrls = [...links.seen, ...accessRun.seen].map((s) => s.location).filter(Boolean);
  assert.equal(sessionUrls.length, 5);
  const forbidden = [
    API_KEY, "wrong-upscope-key-9f8e", AGENT_SECRET, VISITOR_SECRET,
    ...Object.values(signed).map(sigOf), "c2VjcmV0LXNpZ25hdHVyZQ",
    jwt, ...jwt.split("."),
    ...sessionUrls, ...sessionUrls.map((u) => u.split("/").pop()),
    // The customer's own ID can be an e-mail address: never logged in clear.
    "alice-1001",
  ];
  for (const { output } of [links, wrongKey, accessRun]) {
    for (const secret of forbidden) assert.ok(!output.includes(secret), `log output contains ${secret.slice(0, 24)}…`);
    for (const line of output.split("\n").filter(Boolean)) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
  }

  // One line per request, matched by the X-Request-Id the response carried.
  assert.equal(links.lines.length, links.seen.length);
  assert.deepEqual(links.lines.map((l) => l.request_id), links.seen.map((s) => s.requestId));
  assert.equal(links.lines[1].request_id, "8c2d7e1f0a9b3c4d-LHR", "cf-ray is the request id");
  assert.match(links.lines[0].request_id, /^[0-9a-f]{16}$/);
  assert.deepEqual(
    links.lines.map((l) => [l.route, l.status, l.outcome, l.cache, l.upstream.map((u) => `${u.endpoint} ${u.status}`).sort()]),
    [
      ["/visitor", 302, "redirect", "none", ["proxy_sessions 200"]],
      ["/agent", 302, "redirect", "miss", ["search 200", "watch_url 200"]],
      ["/agent", 302, "redirect", "hit", ["search 200", "watch_url 200"]],
      ["/agent", 302, "redirect", "none", ["search 200", "watch_url 200"]],
      ["/agent", 401, "link_invalid", "none", []],
      ["/visitor", 401, "link_invalid", "none", []],
      ["/healthz", 200, "ok", "none", []],
      ["other", 404, "not_found", "none", []],
    ],
  );
  for (const line of links.lines) {
    assert.ok(Number.isInteger(line.total_ms) && line.total_ms >= 0);
    for (const call of line.upstream) assert.ok(Number.isInteger(call.ms) && call.ms >= 0);
  }
  assert.deepEqual(wrongKey.lines.map((l) => [l.status, l.outcome, l.level]), [[502, "upstream_unauthorized", "error"]]);
  assert.deepEqual(links.lines.map((l) => l.level), ["info", "info", "info", "info", "warn", "warn", "info", "warn"]);

  // Every watch_url handed out is audited: who, which visitor, named how; nothing else.
  const agentAudit = (shortId, namedBy) => ({ role: "agent", agent_id: "a-7", short_id: shortId, named_by: namedBy });
  assert.deepEqual(links.lines.map((l) => l.audit ?? null), [
    null, agentAudit("sAlice01", "unique"), agentAudit("sAlice01", "unique"), agentAudit("sAlice01", "lookup"),
    null, null, null, null,
  ]);
  assert.deepEqual(accessRun.lines[0].audit, {
    role: "agent", agent_id: "7335d417-61da-459d-899c-0a01c76a2f94", short_id: "sAlice01", named_by: "short",
  });
  assert.deepEqual(accessRun.lines[0].upstream.map((u) => u.endpoint), ["access_keys", "watch_url"]);
});

test("a session started from the device chooser is audited as named by the chooser; the chooser page itself is not", async () => {
  const { seen, lines } = await run({ vars: baseVars(up.apiBase) }, [
    ["/agent?uniqueid=carol-3003&agent_id=a-9&agent_name=Bo"],
    ["/agent?shortid=sCarolPhone&agent_id=a-9&agent_name=Bo"],
  ]);
  assert.deepEqual(seen.map((s) => s.status), [200, 302]);
  assert.equal(lines[0].audit, undefined, "no watch_url was handed out for the chooser page");
  assert.deepEqual(lines[1].audit, { role: "agent", agent_id: "a-9", short_id: "sCarolPhone", named_by: "chooser" });
  assert.equal(lines[1].level, "info");
});
