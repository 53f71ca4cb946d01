// /agent: naming the visitor three ways, choosing among search results,
// starting a session for the agent, and refusing bad links before any call.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  gatewaySuite, baseVars, withGateway, expectRefused as expectRefusedBy, AGENT_QUERY, AGENT as AGENT_BODY, ask,
} from "../support/harness.mjs";

const suite = gatewaySuite();

const AGENT = AGENT_QUERY;
const { search } = ask;
/** A session asked for `agent` (the link's agent unless a test names another), and nothing else. */
const watch = (shortId, agent = AGENT_BODY) => ask.watch(shortId, { agent });
/** Asserts the calls Upscope received: each one's path, query, key and, for sessions, body. */
const asked = (expected) => suite.up.assertAsked(expected);
const minutesAgo = (m) => new Date(Date.now() - m * 60_000).toISOString();

async function expectWatch(path, shortId) {
  const res = await suite.gw.fetch(path);
  assert.equal(res.status, 302, `${path}: ${res.status} ${res.status === 302 ? "" : await res.text()}`);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.headers.get("referrer-policy"), "no-referrer");
  const location = res.headers.get("location");
  assert.match(location, new RegExp(`^${suite.up.sim.url}/sim/watch/[A-Za-z0-9_-]+$`));
  const page = await (await fetch(location)).text();
  assert.match(page, new RegExp(`id="watch-short-id">${shortId}<`));
  return { location, page };
}

const expectRefused = (path, status, code) => expectRefusedBy(suite.gw, path, status, code);

test("visitorid (Short ID) goes straight to watch_url with the agent's id and name", async () => {
  const { page } = await expectWatch(`/agent?visitorid=sBob0002&${AGENT}`, "sBob0002");
  assert.match(page, /id="watch-agent-name">Ann Lee</);
  await asked([watch("sBob0002")]);
});

test("uniqueid searches id:<ID> and uses only the exact match", async () => {
  await expectWatch(`/agent?uniqueid=alice-1001&${AGENT}`, "sAlice01");
  await asked([search("id:alice-1001"), watch("sAlice01")]);
});

test("fuzzy results that are not the asked-for visitor are ignored", async () => {
  const impostor = { short_id: "sImpostor", unique_id: "alice-1001 ", is_online: true, last_seen_at: minutesAgo(0) };
  const caseTwin = { short_id: "sCaseTwin", unique_id: "ALICE-1001", is_online: true, last_seen_at: minutesAgo(0) };
  await suite.up.fault({ endpoint: "search", extra_visitors: [impostor, caseTwin] });
  await expectWatch(`/agent?uniqueid=alice-1001&${AGENT}`, "sAlice01");
});

test("no exact match is a 404 in words an agent understands, and no session is started", async () => {
  await suite.up.fault({ endpoint: "search", extra_visitors: [{ short_id: "sNear", unique_id: "zoe-99", is_online: true }] });
  const message = await expectRefused(`/agent?uniqueid=zoe-9&${AGENT}`, 404, "visitor_not_found");
  assert.match(message, /No visitor with the ID 'zoe-9' was found/);
  await asked([search("id:zoe-9")]);
});

test("several matches: online beats offline, then the most recently seen wins", async () => {
  // (Online on several devices at once is the agent's choice: see console.test.mjs.)
  await suite.up.addVisitors([
    { short_id: "sEveOld", unique_id: "eve-5", is_online: false, last_seen_at: minutesAgo(1) },
    { short_id: "sEveOnline", unique_id: "eve-5", is_online: true, last_seen_at: minutesAgo(30) },
    { short_id: "sFayA", unique_id: "fay-6", is_online: false, last_seen_at: minutesAgo(50) },
    { short_id: "sFayB", unique_id: "fay-6", is_online: null, last_seen_at: minutesAgo(5) },
  ]);
  await expectWatch(`/agent?uniqueid=eve-5&${AGENT}`, "sEveOnline");
  await expectWatch(`/agent?uniqueid=fay-6&${AGENT}`, "sFayB");
});

test("lookup searches the code and uses only a visitor whose lookup_code equals it", async () => {
  await suite.up.fault({ endpoint: "search", extra_visitors: [{ short_id: "sOther", lookup_code: "4822", unique_id: "4821", is_online: true, last_seen_at: minutesAgo(0) }] });
  await expectWatch(`/agent?lookup=4821&${AGENT}`, "sAlice01");
  await asked([search("4821"), watch("sAlice01")]);
  const message = await expectRefused(`/agent?lookup=0000&${AGENT}`, 404, "visitor_not_found");
  assert.match(message, /No visitor online is showing the code 0000/);
});

test("a lookup code names only a visitor who is online now: an offline visitor's code is a 404 after one search", async () => {
  // Bob (code 5930) was last seen 90 minutes ago.
  const message = await expectRefused(`/agent?lookup=5930&${AGENT}`, 404, "visitor_not_found");
  assert.match(message, /No visitor online is showing the code 5930/);
  await asked([search("5930")]);
});

test("a visitor whose identifiers and last-seen time are JSON numbers is found every way", async () => {
  // Erin: short_id 50050, unique_id 5005, lookup_code 3907, last_seen_at in Unix seconds, all numbers.
  await expectWatch(`/agent?uniqueid=5005&${AGENT}`, "50050");
  await expectWatch(`/agent?lookup=3907&${AGENT}`, "50050");
  await expectWatch(`/agent?visitorid=50050&${AGENT}`, "50050");
  await asked([
    search("id:5005"), watch("50050"), search("3907"), watch("50050"), watch("50050"),
  ]);
});

test("numeric last-seen times order devices like ISO ones: the most recently seen offline device wins", async () => {
  const secondsAgo = (m) => Math.floor(Date.now() / 1000) - m * 60;
  await suite.up.addVisitors([
    { short_id: "sOld", unique_id: 7007, is_online: false, last_seen_at: minutesAgo(30) },
    { short_id: "sNew", unique_id: 7007, is_online: false, last_seen_at: secondsAgo(5) },
    { short_id: "sOlder", unique_id: "7007", is_online: false, last_seen_at: secondsAgo(60) * 1000 },
  ]);
  await expectWatch(`/agent?uniqueid=7007&${AGENT}`, "sNew");
});

test("an unknown Short ID is a 404 after one watch_url call", async () => {
  const message = await expectRefused(`/agent?visitorid=sNobody&${AGENT}`, 404, "visitor_not_found");
  assert.match(message, /Short ID 'sNobody'/);
  await asked([watch("sNobody")]);
});

test("VISITOR_ID_KIND=unique makes visitorid the company's own ID", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase, { VISITOR_ID_KIND: "unique" }) }, async (own) => {
    const res = await own.fetch(`/agent?visitorid=alice-1001&${AGENT}`);
    assert.equal(res.status, 302);
    await asked([search("id:alice-1001"), watch("sAlice01")]);
  });
});

test("branding and permissions from settings are sent with the agent", async () => {
  await withGateway({
    vars: baseVars(suite.up.apiBase, {
      WATCH_PERMISSIONS: "click,scroll,draw",
      WATCH_BRANDING_NAKED: "true",
      WATCH_ON_END_URL: "https://help.example.com/done",
      WATCH_RETRY_URL: "https://help.example.com/retry",
    }),
  }, async (branded) => {
    assert.equal((await branded.fetch(`/agent?visitorid=sBob0002&${AGENT}`)).status, 302);
    await asked([ask.watch("sBob0002", {
      agent: AGENT_BODY,
      branding: { naked: true, retry_url: "https://help.example.com/retry", on_end_url: "https://help.example.com/done" },
      permissions: {
        allow_agent_redirect: false, allow_audio: false, allow_click: true, allow_console: false,
        allow_draw: true, allow_scroll: true, allow_type: false,
      },
    })]);
  });
});

test("WATCH_BRANDING_NAKED=page_only is refused: a 500 naming it and saying why, no upstream call, and /readyz reports it", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase, { WATCH_BRANDING_NAKED: "page_only" }) }, async (gw) => {
    const message = await expectRefusedBy(gw, `/agent?visitorid=sBob0002&${AGENT}`, 500, "gateway_misconfigured");
    assert.match(message, /WATCH_BRANDING_NAKED/);
    assert.match(message, /page_only/);
    assert.match(message, /no way to end the session/);
    assert.match(message, /'true'/);
    const ready = await gw.fetch("/readyz", { headers: { Accept: "application/json" } });
    assert.equal(ready.status, 503);
    const { problems } = await ready.json();
    assert.deepEqual(problems.filter((p) => p.includes("WATCH_BRANDING_NAKED")).length, 1, JSON.stringify(problems));
  });
  assert.deepEqual(await suite.up.requests(), []);
});

test("two agents on one visitor each get their own watch_url under their own identity", async () => {
  const first = await expectWatch(`/agent?visitorid=sAlice01&agent_id=a-1&agent_name=First`, "sAlice01");
  const second = await expectWatch(`/agent?visitorid=sAlice01&agent_id=a-2&agent_name=Second`, "sAlice01");
  assert.notEqual(first.location, second.location);
  assert.match(first.page, /id="watch-agent-id">a-1</);
  assert.match(second.page, /id="watch-agent-id">a-2</);
  await asked([watch("sAlice01", { id: "a-1", name: "First" }), watch("sAlice01", { id: "a-2", name: "Second" })]);
});

test("links that name several visitors are 400 with no upstream call", async () => {
  for (const q of ["visitorid=sA&uniqueid=b", "uniqueid=a&lookup=1234", "visitorid=sA&lookup=1234&uniqueid=c"]) {
    const message = await expectRefused(`/agent?${q}&${AGENT}`, 400, "conflicting_parameters");
    assert.match(message, /exactly one of visitorid, uniqueid or lookup/);
  }
  assert.deepEqual(await suite.up.requests(), []);
});

test("a missing agent_id or agent_name is 400 with no upstream call", async () => {
  assert.match(await expectRefused("/agent?visitorid=sBob0002&agent_name=Ann", 400, "missing_parameter"), /agent_id/);
  assert.match(await expectRefused("/agent?visitorid=sBob0002&agent_id=a", 400, "missing_parameter"), /agent_name/);
  await expectRefused("/agent?visitorid=sBob0002&agent_id=a&agent_name=%0D%0A", 400, "invalid_parameter");
  assert.deepEqual(await suite.up.requests(), []);
});

test("IDs that could widen a search or add a path segment are 400 with no upstream call", async () => {
  const cases = [
    ["uniqueid=alice%20online", /visitor ID is not valid/],
    ["uniqueid=a%20id%3Ab", /visitor ID is not valid/],
    ["uniqueid=*", /visitor ID is not valid/],
    ["uniqueid=a%0Ab", /visitor ID is not valid/],
    ["uniqueid=a%00b", /visitor ID is not valid/],
    ["uniqueid=a%252Fb", /visitor ID is not valid/],
    ["visitorid=..%2Fadmin", /Short ID is not valid/],
    ["visitorid=a%2Fwatch_url", /Short ID is not valid/],
    ["visitorid=abc%3Fx%3D1", /Short ID is not valid/],
    ["visitorid=abc%23frag", /Short ID is not valid/],
    ["lookup=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94", /four digits/],
    ["lookup=12345", /four digits/],
    [`uniqueid=${"u".repeat(129)}`, /1 to 128 characters/],
    [`visitorid=${"s".repeat(65)}`, /1 to 64 characters/],
  ];
  for (const [q, why] of cases) {
    const message = await expectRefused(`/agent?${q}&${AGENT}`, 400, "invalid_parameter");
    assert.match(message, why, q);
  }
  assert.deepEqual(await suite.up.requests(), []);
});

test("concurrent requests whose answers arrive in reverse order each reach their own visitor, as their own agent", async () => {
  // Each request is a task on the gateway's executor, continued when its own
  // upstream answer settles: slower answers for the earlier requests make
  // the tasks finish in the reverse of the order they started.
  const visitors = ["sAlice01", "sAlice02", "sBob0002", "sCarolDesk", "sDan0004"];
  await suite.up.fault(visitors.map((shortId, i) => ({
    method: "POST", path: `/visitors/${shortId}/watch_url`, delay_ms: (visitors.length - i) * 120, times: 2,
  })));
  const asked = visitors.flatMap((shortId, i) => [0, 1].map((n) => ({ shortId, agentId: `agent-${i}-${n}` })));
  const done = [];
  const answers = await Promise.all(asked.map(async ({ shortId, agentId }) => {
    const res = await suite.gw.fetch(`/agent?visitorid=${shortId}&agent_id=${agentId}&agent_name=Agent%20${agentId}`);
    done.push(shortId);
    return { shortId, agentId, status: res.status, location: res.headers.get("location") };
  }));
  assert.notDeepEqual(done, asked.map((a) => a.shortId), "the answers did not simply come back in order");
  assert.equal(new Set(answers.map((a) => a.location)).size, asked.length, "every request got a session of its own");
  for (const { shortId, agentId, status, location } of answers) {
    assert.equal(status, 302, `${agentId} → ${shortId}`);
    const page = await (await fetch(location)).text();
    assert.match(page, new RegExp(`id="watch-short-id">${shortId}<`), `${agentId} was sent to ${shortId}`);
    assert.match(page, new RegExp(`id="watch-agent-id">${agentId}<`), `${shortId}'s session is ${agentId}'s`);
  }
  const calls = await suite.up.calls();
  assert.equal(calls.length, asked.length, "one upstream call per request");
});

test("a lookup code shown by two online visitors at once is refused, never decided: 409, one search, no session", async () => {
  // Codes are four digits, so two people can show the same one; neither may be picked silently.
  await suite.up.addVisitors([
    { short_id: "sVictim", lookup_code: "9111", is_online: true, last_seen_at: minutesAgo(3) },
    { short_id: "sMallory", lookup_code: "9111", is_online: true, last_seen_at: minutesAgo(0) },
    { short_id: "sGone", lookup_code: "9112", is_online: false, last_seen_at: minutesAgo(1) },
  ]);
  const message = await expectRefused(`/agent?lookup=9111&${AGENT}`, 409, "lookup_code_ambiguous");
  assert.match(message, /More than one visitor online is showing the code 9111/);
  assert.match(message, /ask .* for the ID/i);
  await asked([search("9111")]);
  // The same person seen twice in one answer is still one visitor.
  await suite.up.reset();
  await suite.up.fault({ endpoint: "search", extra_visitors: [{ short_id: "sAlice01", lookup_code: "4821", is_online: true }] });
  await expectWatch(`/agent?lookup=4821&${AGENT}`, "sAlice01");
});
