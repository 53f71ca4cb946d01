// AGENT_AUTH=signed-link and VISITOR_LINK_SECRET: links signed by the
// company's backend with HMAC-SHA256, checked with real WebCrypto in workerd.
// docs/routes.md's test vector and both signing examples are checked here, so
// the scheme cannot drift from its documentation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createHmac } from "node:crypto";
import { gatewaySuite, baseVars, refusal, withGateway, GATEWAY_ORIGIN as ORIGIN, pathOf, ask } from "../support/harness.mjs";
import { signLink, canonicalString } from "../../examples/sign-link.mjs";

const AGENT_SECRET = "agent-link-secret-for-tests-000000001";
const VISITOR_SECRET = "visitor-link-secret-for-tests-00000001";
const AGENT_LINK = `${ORIGIN}/agent?visitorid=sAlice01&agent_id=agent-7&agent_name=Ann%20Lee`;
const now = () => Date.now() / 1000;

const suite = gatewaySuite((apiBase) => ({
    vars: baseVars(apiBase, {
      AGENT_AUTH: "signed-link",
      ALLOW_UNAUTHENTICATED_AGENTS: "",
      AGENT_LINK_SECRET: AGENT_SECRET,
      VISITOR_LINK_SECRET: VISITOR_SECRET,
    }),
  }));

test("a signed agent link starts a session under the link's agent", async () => {
  const res = await suite.gw.fetch(pathOf(signLink(AGENT_LINK, AGENT_SECRET)));
  assert.equal(res.status, 302, await res.clone().text());
  const page = await (await fetch(res.headers.get("location"))).text();
  assert.match(page, /id="watch-agent-name">Ann Lee</);
  await suite.up.assertAsked([ask.watch("sAlice01", { agent: { id: "agent-7", name: "Ann Lee" } })]);
});

test("two agents with their own signed links each get their own watch_url", async () => {
  const links = [["a-1", "First"], ["a-2", "Second"]].map(([id, name]) =>
    signLink(`${ORIGIN}/agent?lookup=4821&agent_id=${id}&agent_name=${name}`, AGENT_SECRET));
  const [first, second] = await Promise.all(links.map((l) => suite.gw.fetch(pathOf(l))));
  assert.equal(first.status, 302);
  assert.equal(second.status, 302);
  assert.notEqual(first.headers.get("location"), second.headers.get("location"));
  const agents = (await suite.up.requests()).filter((r) => r.endpoint === "watch_url").map((r) => r.body.agent.id).sort();
  assert.deepEqual(agents, ["a-1", "a-2"]);
});

test("every bad agent link is refused with 401 or 403 and no upstream call", async () => {
  const good = new URL(signLink(AGENT_LINK, AGENT_SECRET));
  const edit = (change) => {
    const url = new URL(good);
    change(url.searchParams);
    return pathOf(url.href);
  };
  const cases = [
    ["unsigned", pathOf(AGENT_LINK), 401, "link_invalid"],
    ["signature removed", edit((p) => p.delete("sig")), 401, "link_invalid"],
    ["forged signature", edit((p) => p.set("sig", "A".repeat(43))), 401, "link_invalid"],
    ["signed with another secret", pathOf(signLink(AGENT_LINK, "another-secret-of-the-same-length-0001")), 401, "link_invalid"],
    ["signed with the visitor secret", pathOf(signLink(AGENT_LINK, VISITOR_SECRET)), 401, "link_invalid"],
    ["visitor changed after signing", edit((p) => p.set("visitorid", "sBob0002")), 401, "link_invalid"],
    ["agent changed after signing", edit((p) => p.set("agent_name", "Mallory")), 401, "link_invalid"],
    ["parameter added after signing", edit((p) => p.append("uniqueid", "bob-2002")), 401, "link_invalid"],
    ["exp pushed back after signing", edit((p) => p.set("exp", String(Number(p.get("exp")) + 60))), 401, "link_invalid"],
    ["expired", pathOf(signLink(AGENT_LINK, AGENT_SECRET, { now: now() - 600 })), 403, "link_expired"],
    ["exp too far ahead", pathOf(signLink(AGENT_LINK, AGENT_SECRET, { ttlSeconds: 3600 })), 403, "link_invalid"],
  ];
  for (const [name, path, status, code] of cases) {
    const got = await refusal(suite.gw, path);
    assert.deepEqual([got.status, got.code], [status, code], name);
    assert.equal(got.message, code === "link_expired" ? "This link has expired." : "This link is invalid.", name);
  }
  // A repeated parameter is ambiguous before it is unsigned.
  const repeated = `${pathOf(good.href)}&agent_id=agent-7`;
  const twice = await refusal(suite.gw, repeated);
  assert.deepEqual([twice.status, twice.code], [400, "repeated_parameter"]);
  assert.deepEqual(await suite.up.requests(), []);
});

test("the refusal page says expired or invalid and nothing more", async () => {
  const res = await suite.gw.fetch(pathOf(signLink(AGENT_LINK, AGENT_SECRET, { now: now() - 600 })));
  assert.equal(res.status, 403);
  const html = await res.text();
  assert.match(html, /<p>This link has expired\.<\/p>/);
  assert.doesNotMatch(html, /sig|exp=|HMAC|secret/i);
});

test("docs/routes.md's test vector: canonical string and signature, accepted by the gateway's WebCrypto", async () => {
  const readme = readFileSync(new URL("../../docs/routes.md", import.meta.url), "utf8");
  const field = (name) => readme.match(new RegExp(`^\\| ${name} \\| \`([^\`]*)\` \\|$`, "m"))?.[1];
  const vector = { secret: field("Secret"), link: field("Link to sign"), canonical: field("Canonical string"), sig: field("sig") };
  for (const [k, v] of Object.entries(vector)) assert.ok(v, `docs/routes.md's vector is missing ${k}`);
  const url = new URL(vector.link);
  assert.equal(canonicalString(url.searchParams), vector.canonical);
  assert.equal(createHmac("sha256", vector.secret).update(vector.canonical).digest("base64url"), vector.sig);

  // The vector's exp is in the past: a gateway holding its secret checks the
  // signature first, so "expired" (not "invalid") proves it verified.
  await withGateway({
    vars: baseVars(suite.up.apiBase, { AGENT_AUTH: "signed-link", AGENT_LINK_SECRET: vector.secret }),
  }, async (vectorGateway) => {
    url.searchParams.set("sig", vector.sig);
    assert.equal((await refusal(vectorGateway, url.pathname + url.search)).code, "link_expired");
    url.searchParams.set("sig", vector.sig.replace(/^./, (c) => (c === "A" ? "B" : "A")));
    assert.equal((await refusal(vectorGateway, url.pathname + url.search)).code, "link_invalid");
  });
});

test("the Python example signs exactly like the Node example, and the gateway accepts it", async () => {
  const at = Math.floor(now());
  const link = `${ORIGIN}/agent?lookup=4821&agent_id=a%2B1&agent_name=Zo%C3%AB%20O'Brien%20(support)`;
  const python = execFileSync("python3", ["examples/sign_link.py", link, String(at)], {
    cwd: new URL("../..", import.meta.url),
    env: { ...process.env, AGENT_LINK_SECRET: AGENT_SECRET },
    encoding: "utf8",
  }).trim();
  const node = signLink(link, AGENT_SECRET, { now: at });
  assert.equal(new URL(python).searchParams.get("sig"), new URL(node).searchParams.get("sig"));
  const res = await suite.gw.fetch(pathOf(python));
  assert.equal(res.status, 302, await res.clone().text());
  await suite.up.assertAsked([ask.search("4821"), ask.watch("sAlice01", { agent: { id: "a+1", name: "Zoë O'Brien (support)" } })]);
});

test("with VISITOR_LINK_SECRET, /visitor?uniqueid= must be signed; anonymous visitors need nothing", async () => {
  const link = `${ORIGIN}/visitor?uniqueid=alice-1001`;
  const ok = await suite.gw.fetch(pathOf(signLink(link, VISITOR_SECRET)));
  assert.equal(ok.status, 302);
  const page = await (await fetch(ok.headers.get("location"))).text();
  assert.match(page, /id="proxy-unique-id">alice-1001</);
  await suite.up.assertAsked([ask.proxy()]);
  await suite.up.reset();

  const cases = [
    ["unsigned", pathOf(link), 401, "link_invalid"],
    ["signed with the agent secret", pathOf(signLink(link, AGENT_SECRET)), 401, "link_invalid"],
    ["another customer's ID", pathOf(signLink(link, VISITOR_SECRET)).replace("alice-1001", "bob-2002"), 401, "link_invalid"],
    ["expired", pathOf(signLink(link, VISITOR_SECRET, { now: now() - 900 })), 403, "link_expired"],
  ];
  for (const [name, path, status, code] of cases) {
    const got = await refusal(suite.gw, path);
    assert.deepEqual([got.status, got.code], [status, code], name);
  }
  assert.deepEqual(await suite.up.requests(), []);
  assert.equal((await suite.gw.fetch("/visitor")).status, 302, "no uniqueid, no signature needed");
});

test("scripts/mint-link.mjs mints a link the gateway accepts", async () => {
  const minted = execFileSync(process.execPath, ["scripts/mint-link.mjs", "/agent?lookup=4821&agent_id=demo&agent_name=Demo"], {
    cwd: new URL("../..", import.meta.url),
    env: { ...process.env, AGENT_LINK_SECRET: AGENT_SECRET },
    encoding: "utf8",
  }).trim();
  assert.match(minted, /^http:\/\/127\.0\.0\.1:8787\/agent\?/);
  const url = new URL(minted);
  assert.equal((await suite.gw.fetch(url.pathname + url.search)).status, 302);
});

test("secrets stored with a trailing newline (echo … | wrangler secret put) still verify links signed with the secret", async () => {
  const vars = baseVars(suite.up.apiBase, {
    AGENT_AUTH: "signed-link",
    ALLOW_UNAUTHENTICATED_AGENTS: "",
    AGENT_LINK_SECRET: `${AGENT_SECRET}\n`,
    VISITOR_LINK_SECRET: ` ${VISITOR_SECRET}\r\n`,
  });
  await withGateway({ vars }, async (gw) => {
    const agent = await gw.fetch(pathOf(signLink(AGENT_LINK, AGENT_SECRET)));
    assert.equal(agent.status, 302, await agent.clone().text());
    const visitor = await gw.fetch(pathOf(signLink(`${ORIGIN}/visitor?uniqueid=alice-1001`, VISITOR_SECRET)));
    assert.equal(visitor.status, 302, await visitor.clone().text());
    // The whitespace is not part of the key: a link signed with it is refused.
    assert.equal((await refusal(gw, pathOf(signLink(AGENT_LINK, `${AGENT_SECRET}\n`)))).code, "link_invalid");
  });
});

test("secret rotation: links signed with the _PREVIOUS secret still work; only the current secret signs", async () => {
  const [OLD_AGENT, NEW_AGENT] = ["old-agent-secret-being-rotated-0000001", "new-agent-secret-after-rotation-000001"];
  const [OLD_VISITOR, NEW_VISITOR] = ["old-visitor-secret-being-rotated-00001", "new-visitor-secret-after-rotation-0001"];
  const rotating = baseVars(suite.up.apiBase, {
    AGENT_AUTH: "signed-link", ALLOW_UNAUTHENTICATED_AGENTS: "",
    AGENT_LINK_SECRET: NEW_AGENT, AGENT_LINK_SECRET_PREVIOUS: OLD_AGENT,
    VISITOR_LINK_SECRET: NEW_VISITOR, VISITOR_LINK_SECRET_PREVIOUS: OLD_VISITOR,
  });
  const carol = `${ORIGIN}/agent?uniqueid=carol-3003&agent_id=agent-7&agent_name=Ann`;
  let chooserLink;
  await withGateway({ vars: rotating }, async (gw) => {
    for (const secret of [OLD_AGENT, NEW_AGENT]) {
      assert.equal((await gw.fetch(pathOf(signLink(AGENT_LINK, secret)))).status, 302, "agent link");
    }
    for (const secret of [OLD_VISITOR, NEW_VISITOR]) {
      assert.equal((await gw.fetch(pathOf(signLink(`${ORIGIN}/visitor?uniqueid=alice-1001`, secret)))).status, 302, "visitor link");
    }
    assert.equal((await refusal(gw, pathOf(signLink(AGENT_LINK, OLD_VISITOR)))).code, "link_invalid", "routes keep their own secrets");
    // The chooser's links are signed by the gateway itself: with the current secret only.
    const chooser = await gw.fetch(pathOf(signLink(carol, OLD_AGENT)));
    assert.equal(chooser.status, 200);
    chooserLink = (await chooser.text()).match(/href="(\/agent\?shortid=sCarolPhone[^"]+)"/)[1].replaceAll("&amp;", "&");
  });
  // Rotation finished: the previous secret is deleted.
  const rotated = { ...rotating, AGENT_LINK_SECRET_PREVIOUS: "", VISITOR_LINK_SECRET_PREVIOUS: "" };
  await withGateway({ vars: rotated }, async (gw) => {
    assert.equal((await gw.fetch(chooserLink)).status, 302, "a link the gateway signed verifies without the old secret");
    assert.equal((await refusal(gw, pathOf(signLink(AGENT_LINK, OLD_AGENT)))).code, "link_invalid", "the old secret no longer works");
  });
});
