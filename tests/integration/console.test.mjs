// The agent console (GET /agent without a visitor), the device chooser, and
// the visitor's retry page: server-rendered pages, protected like /agent.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startSimulator, startGateway, baseVars, refusal, GATEWAY_ORIGIN as ORIGIN, pathOf, ask } from "../support/harness.mjs";
import { signLink } from "../../examples/sign-link.mjs";

const SECRET = "agent-link-secret-for-console-tests-01";
let up, open, signed;
before(async () => {
  up = await startSimulator();
  open = await startGateway({ vars: baseVars(up.apiBase, { AGENT_EMBED_ORIGINS: "https://help.example.com" }) });
  signed = await startGateway({ vars: baseVars(up.apiBase, { AGENT_AUTH: "signed-link", AGENT_LINK_SECRET: SECRET }) });
});
after(async () => {
  await open?.close();
  await signed?.close();
  await up?.close();
});
beforeEach(() => up.reset());

/** The form fields of the console's form for `field` (lookup or uniqueid). */
function formFields(html, field) {
  const form = html.split("<form").find((f) => f.includes(`name="${field}"`));
  return [...form.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [m[1], m[2].replaceAll("&amp;", "&")]);
}

test("without a visitor, /agent shows the console: two GET forms carrying the agent", async () => {
  const res = await open.fetch("/agent?agent_id=a-7&agent_name=Ann%20Lee");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^text\/html/);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.headers.get("referrer-policy"), "no-referrer");
  assert.match(res.headers.get("content-security-policy"), /; frame-ancestors https:\/\/help\.example\.com$/);
  const html = await res.text();
  assert.match(html, /Signed in as <strong id="console-agent">Ann Lee<\/strong>/);
  assert.doesNotMatch(html, /<script/);
  assert.deepEqual(formFields(html, "lookup"), [["agent_id", "a-7"], ["agent_name", "Ann Lee"]]);
  assert.deepEqual(await up.requests(), [], "the console calls nothing");
});

test("the console is protected like /agent", async () => {
  const got = await refusal(signed, "/agent?agent_id=a-7&agent_name=Ann");
  assert.deepEqual([got.status, got.code], [401, "link_invalid"]);
  const bare = await refusal(open, "/agent");
  assert.deepEqual([bare.status, bare.code], [400, "missing_parameter"]);
});

test("a signed console link: the form's submission stays valid for any visitor the agent types", async () => {
  const consoleLink = signLink(`${ORIGIN}/agent?agent_id=a-7&agent_name=Ann`, SECRET);
  const res = await signed.fetch(pathOf(consoleLink));
  assert.equal(res.status, 200);
  const html = await res.text();
  const carried = formFields(html, "lookup");
  assert.deepEqual(carried.map(([n]) => n).sort(), ["agent_id", "agent_name", "exp", "sig"]);
  // What the browser submits: the typed code plus the hidden fields.
  const submit = (extra) => `/agent?${new URLSearchParams([...extra, ...carried])}`;
  const watched = await signed.fetch(submit([["lookup", "4821"]]));
  assert.equal(watched.status, 302, await watched.clone().text());
  await up.assertAsked([ask.search("4821"), ask.watch("sAlice01", { agent: { id: "a-7", name: "Ann" } })]);
  // The identity cannot be edited on the way.
  const edited = carried.map(([n, v]) => [n, n === "agent_name" ? "Boss" : v]);
  assert.equal((await refusal(signed, `/agent?${new URLSearchParams([["lookup", "4821"], ...edited])}`)).code, "link_invalid");
  // A link signed for one visitor is not a console link.
  const forAlice = new URL(signLink(`${ORIGIN}/agent?uniqueid=alice-1001&agent_id=a-7&agent_name=Ann`, SECRET));
  forAlice.searchParams.set("uniqueid", "bob-2002");
  assert.equal((await refusal(signed, forAlice.pathname + forAlice.search)).code, "link_invalid");
});

test("an own ID online on two devices shows a chooser; each link starts that device's session", async () => {
  const link = signLink(`${ORIGIN}/agent?uniqueid=carol-3003&agent_id=a-7&agent_name=Ann`, SECRET);
  const res = await signed.fetch(pathOf(link));
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, /online on 2 devices/);
  const links = [...html.matchAll(/href="\/agent\?([^"]+)" data-short-id="([^"]+)">([^<]+)</g)]
    .map((m) => ({ query: m[1].replaceAll("&amp;", "&"), shortId: m[2], label: m[3] }));
  assert.deepEqual(links.map((l) => l.shortId), ["sCarolDesk", "sCarolPhone"]);
  assert.match(links[1].label, /Pixel, Chrome/);
  await up.assertAsked([ask.search("id:carol-3003")], "no session before the agent picks");

  const picked = await signed.fetch(`/agent?${links[1].query}`);
  assert.equal(picked.status, 302, await picked.clone().text());
  const page = await (await fetch(picked.headers.get("location"))).text();
  assert.match(page, /id="watch-short-id">sCarolPhone</);
  // A chooser link is signed for its own device only.
  const swapped = links[1].query.replace("sCarolPhone", "sAlice01");
  assert.equal((await refusal(signed, `/agent?${swapped}`)).code, "link_invalid");
});

test("when /visitor cannot start a session, the page offers to try again", async () => {
  await up.fault({ method: "POST", path: "/proxy_sessions", status: 503 });
  const res = await open.fetch("/visitor?uniqueid=alice-1001&url=https%3A%2F%2Fshop.example.com%2Fhelp");
  assert.equal(res.status, 503);
  const html = await res.text();
  assert.match(html, /<a class="button" id="retry" href="\/visitor\?uniqueid=alice-1001&amp;url=https%3A%2F%2Fshop\.example\.com%2Fhelp">Try again<\/a>/);
  const retried = await open.fetch("/visitor?uniqueid=alice-1001&url=https%3A%2F%2Fshop.example.com%2Fhelp");
  assert.equal(retried.status, 302);
  // A link that is wrong stays wrong: no retry offered.
  assert.doesNotMatch(await (await open.fetch("/visitor?url=https%3A%2F%2Fevil.example%2F")).text(), /Try again/);
});
