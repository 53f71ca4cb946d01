// examples/mint-agent-link.mjs, the server-side minting endpoint a helpdesk
// app calls (docs/helpdesk.md): with its bearer token it gets a signed /agent
// link that the real gateway (signed-link mode, in Miniflare) accepts for the
// agent it names; without it, or with a wrong one, nothing is minted.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { gatewaySuite, baseVars, GATEWAY_ORIGIN, pathOf, ask as upscope } from "../support/harness.mjs";
import { createMintServer, sameToken } from "../../examples/mint-agent-link.mjs";

const SECRET = "agent-link-secret-for-mint-tests-000001";
const TOKEN = "helpdesk-mint-token-for-tests-0000000001";

const suite = gatewaySuite((apiBase) => ({
  vars: baseVars(apiBase, { AGENT_AUTH: "signed-link", ALLOW_UNAUTHENTICATED_AGENTS: "", AGENT_LINK_SECRET: SECRET }),
}));

let mint;
let mintUrl;
before(async () => {
  mint = createMintServer({ gatewayUrl: GATEWAY_ORIGIN, secret: SECRET, token: TOKEN });
  await new Promise((resolve) => mint.listen(0, "127.0.0.1", resolve));
  mintUrl = `http://127.0.0.1:${mint.address().port}/agent-link`;
});
after(() => new Promise((resolve) => mint.close(resolve)));

const ask = (body, { token = TOKEN, method = "POST", url = mintUrl, type = "application/json" } = {}) =>
  fetch(url, {
    method,
    headers: { ...(token === null ? {} : { Authorization: `Bearer ${token}` }), "Content-Type": type },
    body: method === "POST" ? (typeof body === "string" ? body : JSON.stringify(body)) : undefined,
    signal: AbortSignal.timeout(10_000),
  });

test("with its token, a helpdesk gets a short-lived link the gateway accepts for the agent it names", async () => {
  const res = await ask({ uniqueid: "alice-1001", agent_id: "a-7", agent_name: "Ann Lee" });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const { url, expires_at } = await res.json();
  const link = new URL(url);
  assert.equal(link.origin + link.pathname, `${GATEWAY_ORIGIN}/agent`);
  assert.deepEqual([...link.searchParams.keys()], ["uniqueid", "agent_id", "agent_name", "exp", "sig"]);
  assert.equal(Number(link.searchParams.get("exp")), expires_at);
  const ttl = expires_at - Date.now() / 1000;
  assert.ok(ttl > 100 && ttl <= 120, `ttl ${ttl}`);

  const opened = await suite.gw.fetch(pathOf(url));
  assert.equal(opened.status, 302, await opened.clone().text());
  await suite.up.assertAsked([upscope.search("id:alice-1001"), upscope.watch("sAlice01", { agent: { id: "a-7", name: "Ann Lee" } })]);

  // The signature covers the agent: the link cannot be turned into someone else's.
  const forged = new URL(url);
  forged.searchParams.set("agent_id", "someone-else");
  assert.equal((await suite.gw.fetch(pathOf(forged.href))).status, 401);
});

test("a console link (asked for with console: true), a lookup code and narrowed permissions are signed as asked", async () => {
  const console = await (await ask({ console: true, agent_id: "a-7", agent_name: "Ann Lee" })).json();
  assert.deepEqual([...new URL(console.url).searchParams.keys()], ["agent_id", "agent_name", "exp", "sig"]);
  const lookup = await (await ask({ lookup: 4821, agent_id: "a-7", agent_name: "Ann Lee", permissions: "none" })).json();
  const params = new URL(lookup.url).searchParams;
  assert.equal(params.get("lookup"), "4821");
  assert.equal(params.get("permissions"), "none");
  assert.equal((await suite.gw.fetch(pathOf(lookup.url))).status, 302);
});

// Issue 25, item 4: a helpdesk whose ticket has no customer ID sends
// "uniqueid": "" (or null); that must never become a console link, which
// watches anyone. A console link is minted only when asked for by name.
test("an empty or null customer ID is a 400, never a console link; a console link needs console: true", async () => {
  const agent = { agent_id: "a-7", agent_name: "Ann Lee" };
  const cases = [
    [{ uniqueid: "", ...agent }, "uniqueid is empty; name the visitor, or ask for a console link with \"console\": true"],
    [{ uniqueid: null, ...agent }, "uniqueid is empty; name the visitor, or ask for a console link with \"console\": true"],
    [{ uniqueid: "  ", ...agent }, "uniqueid is empty; name the visitor, or ask for a console link with \"console\": true"],
    [{ shortid: "", ...agent }, "shortid is empty; name the visitor, or ask for a console link with \"console\": true"],
    [{ lookup: null, ...agent }, "lookup is empty; name the visitor, or ask for a console link with \"console\": true"],
    [{ uniqueid: "", console: true, ...agent }, "console: true names no visitor; leave out uniqueid"],
    [{ ...agent }, "name the visitor (uniqueid, shortid, lookup or visitorid), or ask for a console link with \"console\": true"],
    [{ console: false, ...agent }, "name the visitor (uniqueid, shortid, lookup or visitorid), or ask for a console link with \"console\": true"],
    [{ console: "true", ...agent }, "console must be true or left out"],
    [{ uniqueid: "alice-1001", console: true, ...agent }, "console: true names no visitor; leave out uniqueid"],
  ];
  for (const [body, message] of cases) {
    const res = await ask(body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.deepEqual(await res.json(), { error: message }, JSON.stringify(body));
  }
  assert.equal((await suite.up.requests()).length, 0, "nothing reached Upscope");
});

test("without the right token nothing is minted: missing, wrong, same length, or another scheme", async () => {
  for (const token of [null, "", "wrong", TOKEN.slice(0, -1) + "2", TOKEN + "x"]) {
    const res = await ask({ uniqueid: "alice-1001", agent_id: "a-7", agent_name: "Ann Lee" }, { token });
    assert.equal(res.status, 401, String(token));
    assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="agent-link"');
    const body = await res.text();
    assert.ok(!body.includes("sig=") && !body.includes(SECRET), body);
  }
  const basic = await fetch(mintUrl, { method: "POST", headers: { Authorization: `Basic ${TOKEN}`, "Content-Type": "application/json" }, body: "{}" });
  assert.equal(basic.status, 401);
  assert.equal(sameToken(TOKEN, TOKEN), true);
  assert.equal(sameToken(TOKEN.toUpperCase(), TOKEN), false);
  assert.equal((await suite.up.requests()).length, 0, "nothing reached Upscope");
});

test("a body it cannot use is a 400 naming why; other paths and methods are refused", async () => {
  const cases = [
    [{ uniqueid: "alice-1001", agent_name: "Ann" }, "agent_id is required"],
    [{ uniqueid: "alice-1001", lookup: "4821", agent_id: "a", agent_name: "A" }, "name at most one of uniqueid, shortid, lookup, visitorid"],
    [{ uniqueid: "x", agent_id: "a", agent_name: "A", agent_email: "a@example.com" }, "unknown member(s): agent_email"],
    [{ uniqueid: { $ne: 1 }, agent_id: "a", agent_name: "A" }, "uniqueid must be a string"],
    [{ uniqueid: "x".repeat(300), agent_id: "a", agent_name: "A" }, "uniqueid is longer than 256 characters"],
    [[1, 2], "the body must be a JSON object"],
    ["{not json", "the body is not JSON"],
  ];
  for (const [body, message] of cases) {
    const res = await ask(body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.deepEqual(await res.json(), { error: message });
  }
  assert.equal((await ask({}, { type: "text/plain" })).status, 400);
  assert.equal((await ask("x".repeat(5000))).status, 413);
  assert.equal((await ask(null, { method: "GET" })).status, 405);
  assert.equal((await ask({}, { url: mintUrl.replace("/agent-link", "/other") })).status, 404);
});

test("it refuses to start without a gateway URL, a long enough secret and token", () => {
  assert.throws(() => createMintServer({ gatewayUrl: "", secret: SECRET, token: TOKEN }), /GATEWAY_URL/);
  assert.throws(() => createMintServer({ gatewayUrl: GATEWAY_ORIGIN, secret: "short", token: TOKEN }), /AGENT_LINK_SECRET/);
  assert.throws(() => createMintServer({ gatewayUrl: GATEWAY_ORIGIN, secret: SECRET, token: "short" }), /MINT_TOKEN/);
});
