// /view and per-link permissions: people outside the company watch through
// links signed with VIEWER_LINK_SECRET (view-only unless VIEWER_PERMISSIONS
// says otherwise), and `permissions=` on /agent and /view only ever narrows
// what the configuration grants.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gatewaySuite, baseVars, refusal, withGateway, GATEWAY_ORIGIN as ORIGIN, pathOf, ask } from "../support/harness.mjs";
import { signLink } from "../../examples/sign-link.mjs";
import { startAccess, newKey, token, claims, TEAM_DOMAIN, AUDIENCE } from "../support/access-idp.mjs";

const AGENT_SECRET = "agent-link-secret-for-view-tests-000001";
const VISITOR_SECRET = "visitor-link-secret-for-view-tests-0001";
const VIEWER_SECRET = "viewer-link-secret-for-view-tests-00001";
const AUDIT_SECRET = "audit-id-secret-for-view-tests-0000001";
const NONE = {
  allow_console: false, allow_click: false, allow_draw: false, allow_scroll: false,
  allow_audio: false, allow_type: false, allow_agent_redirect: false,
};
const only = (...names) => ({ ...NONE, ...Object.fromEntries(names.map((n) => [`allow_${n}`, true])) });

const linkVars = (extra = {}) => ({
  AGENT_AUTH: "signed-link", ALLOW_UNAUTHENTICATED_AGENTS: "",
  AGENT_LINK_SECRET: AGENT_SECRET, VISITOR_LINK_SECRET: VISITOR_SECRET, VIEWER_LINK_SECRET: VIEWER_SECRET,
  AUDIT_ID_SECRET: AUDIT_SECRET, ...extra,
});
const suite = gatewaySuite((apiBase) => ({ vars: baseVars(apiBase, linkVars({ WATCH_PERMISSIONS: "click scroll draw" })) }));

const viewLink = (query, secret = VIEWER_SECRET, options = {}) => pathOf(signLink(`${ORIGIN}/view?${query}`, secret, options));
const agentLink = (query) => pathOf(signLink(`${ORIGIN}/agent?${query}`, AGENT_SECRET));
const VIEWER = "viewer_id=cust-501&viewer_name=Pat%20Customer";
const watches = async () => (await suite.up.requests()).filter((r) => r.endpoint === "watch_url");

async function expectRedirect(gw, path) {
  const res = await gw.fetch(path);
  assert.equal(res.status, 302, `${path}: ${await res.clone().text()}`);
  return res.headers.get("location");
}

test("a signed /view link starts a view-only session under the viewer's name", async () => {
  const location = await expectRedirect(suite.gw, viewLink(`uniqueid=alice-1001&${VIEWER}`));
  const page = await (await fetch(location)).text();
  assert.match(page, /id="watch-agent-name">Pat Customer</);
  assert.match(page, /id="watch-permissions">view only</);
  await suite.up.assertAsked([
    ask.search("id:alice-1001"),
    ask.watch("sAlice01", { agent: { id: "viewer:cust-501", name: "Pat Customer" }, permissions: NONE }),
  ]);
});

test("every bad /view link is refused with 400, 401 or 403 and no upstream call", async () => {
  const good = new URL(signLink(`${ORIGIN}/view?uniqueid=alice-1001&${VIEWER}`, VIEWER_SECRET));
  const edit = (change) => {
    const url = new URL(good);
    change(url.searchParams);
    return pathOf(url.href);
  };
  const cases = [
    ["unsigned", `/view?uniqueid=alice-1001&${VIEWER}`, 401, "link_invalid"],
    ["signed with the agent secret", viewLink(`uniqueid=alice-1001&${VIEWER}`, AGENT_SECRET), 401, "link_invalid"],
    ["signed with the visitor secret", viewLink(`uniqueid=alice-1001&${VIEWER}`, VISITOR_SECRET), 401, "link_invalid"],
    ["turned to another visitor", edit((p) => p.set("uniqueid", "bob-2002")), 401, "link_invalid"],
    ["permissions added after signing", edit((p) => p.set("permissions", "click")), 401, "link_invalid"],
    ["viewer renamed", edit((p) => p.set("viewer_name", "Boss")), 401, "link_invalid"],
    ["expired", viewLink(`uniqueid=alice-1001&${VIEWER}`, VIEWER_SECRET, { now: Date.now() / 1000 - 900 }), 403, "link_expired"],
    ["no viewer name", viewLink("uniqueid=alice-1001&viewer_id=cust-501"), 400, "missing_parameter"],
    ["no visitor", viewLink(VIEWER), 400, "missing_parameter"],
    ["a lookup code", viewLink(`lookup=4821&${VIEWER}`), 400, "missing_parameter"],
    ["an unknown permission", viewLink(`uniqueid=alice-1001&${VIEWER}&permissions=teleport`), 400, "invalid_parameter"],
    ["an empty permission list", viewLink(`uniqueid=alice-1001&${VIEWER}&permissions=`), 400, "invalid_parameter"],
  ];
  for (const [name, path, status, code] of cases) {
    const got = await refusal(suite.gw, path);
    assert.deepEqual([got.status, got.code], [status, code], `${name}: ${got.message}`);
  }
  assert.deepEqual(await suite.up.requests(), []);
});

test("VIEWER_PERMISSIONS grants viewers more, and a link narrows it but never widens it", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase, linkVars({ VIEWER_PERMISSIONS: "scroll, draw" })) }, async (gw) => {
    const asks = [
      ["", only("scroll", "draw")],
      ["&permissions=scroll", only("scroll")],
      ["&permissions=scroll,console,click", only("scroll")],
      ["&permissions=console", NONE],
      ["&permissions=none", NONE],
    ];
    for (const [ask] of asks) await expectRedirect(gw, viewLink(`visitorid=sBob0002&${VIEWER}${ask}`));
    assert.deepEqual((await watches()).map((w) => w.body.permissions), asks.map(([, want]) => want));
  });
});

test("/agent: permissions= narrows WATCH_PERMISSIONS, is covered by the signature, and cannot widen", async () => {
  const asks = [
    ["", only("click", "scroll", "draw")],
    ["&permissions=scroll", only("scroll")],
    ["&permissions=allow_scroll%20console", only("scroll")],
    ["&permissions=none", NONE],
  ];
  for (const [ask] of asks) await expectRedirect(suite.gw, agentLink(`visitorid=sBob0002&agent_id=a-1&agent_name=Ann${ask}`));
  assert.deepEqual((await watches()).map((w) => w.body.permissions), asks.map(([, want]) => want));
  // Removing the narrowing after signing is tampering.
  const narrowedLink = new URL(signLink(`${ORIGIN}/agent?visitorid=sBob0002&agent_id=a-1&agent_name=Ann&permissions=scroll`, AGENT_SECRET));
  narrowedLink.searchParams.delete("permissions");
  assert.equal((await refusal(suite.gw, pathOf(narrowedLink.href))).code, "link_invalid");
});

test("over Upscope's defaults (WATCH_PERMISSIONS unset) a narrowing only denies", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase) }, async (gw) => {
    await expectRedirect(gw, "/agent?visitorid=sBob0002&agent_id=a&agent_name=A&permissions=scroll,console");
    await expectRedirect(gw, "/agent?visitorid=sBob0002&agent_id=a&agent_name=A");
  });
  const [narrowed, plain] = await watches();
  assert.deepEqual(narrowed.body.permissions, {
    allow_click: false, allow_draw: false, allow_audio: false, allow_type: false, allow_agent_redirect: false,
  }, "scroll and console are left to Upscope's defaults, never switched on");
  assert.equal(plain.body.permissions, undefined);
});

test("WATCH_BRANDING_NO_BOTTOM_BAR is sent as branding.no_bottom_bar on /agent and /view, and only when set", async () => {
  const agentPath = agentLink("visitorid=sBob0002&agent_id=a-1&agent_name=Ann");
  const viewPath = viewLink(`visitorid=sBob0002&${VIEWER}`);
  const sent = async (gw) => {
    await suite.up.reset();
    const pages = [];
    for (const path of [agentPath, viewPath]) pages.push(await (await fetch(await expectRedirect(gw, path))).text());
    return { bodies: (await watches()).map((w) => w.body), pages };
  };
  for (const [value, noBottomBar, shown] of [["true", true, "hidden"], ["false", false, "shown"]]) {
    await withGateway({ vars: baseVars(suite.up.apiBase, linkVars({ WATCH_BRANDING_NO_BOTTOM_BAR: value })) }, async (gw) => {
      const { bodies, pages } = await sent(gw);
      assert.deepEqual(bodies, [
        { agent: { id: "a-1", name: "Ann" }, branding: { no_bottom_bar: noBottomBar } },
        { agent: { id: "viewer:cust-501", name: "Pat Customer" }, branding: { no_bottom_bar: noBottomBar }, permissions: NONE },
      ]);
      for (const page of pages) assert.match(page, new RegExp(`id="watch-bottom-bar">${shown}<`));
    });
  }
  // Unset (this file's usual gateway): no branding at all.
  const { bodies } = await sent(suite.gw);
  assert.deepEqual(bodies, [
    { agent: { id: "a-1", name: "Ann" }, permissions: only("click", "scroll", "draw") },
    { agent: { id: "viewer:cust-501", name: "Pat Customer" }, permissions: NONE },
  ]);
  // Anything but true or false is a 500 naming the setting, on both routes, with no upstream call.
  await suite.up.reset();
  await withGateway({ vars: baseVars(suite.up.apiBase, linkVars({ WATCH_BRANDING_NO_BOTTOM_BAR: "yes" })) }, async (gw) => {
    for (const path of [agentPath, viewPath]) {
      const got = await refusal(gw, path);
      assert.deepEqual([got.status, got.code], [500, "gateway_misconfigured"], path);
      assert.match(got.message, /WATCH_BRANDING_NO_BOTTOM_BAR must be true or false/);
    }
  });
  assert.deepEqual(await suite.up.requests(), []);
});

test("the chooser's links keep the viewer, the narrowing and /view; the device's session is view-only", async () => {
  const res = await suite.gw.fetch(viewLink(`uniqueid=carol-3003&${VIEWER}`));
  assert.equal(res.status, 200);
  const html = await res.text();
  const links = [...html.matchAll(/href="(\/view\?shortid=[^"]+)"/g)].map((m) => m[1].replaceAll("&amp;", "&"));
  assert.equal(links.length, 2);
  await suite.up.assertAsked([ask.search("id:carol-3003")]);
  const location = await expectRedirect(suite.gw, links[1]);
  assert.match(await (await fetch(location)).text(), /id="watch-short-id">sCarolPhone</);
  const [watch] = await watches();
  assert.deepEqual(watch.body, { agent: { id: "viewer:cust-501", name: "Pat Customer" }, permissions: NONE });
  // The chooser's link is signed for that device: it cannot be turned to another.
  assert.equal((await refusal(suite.gw, links[1].replace("sCarolPhone", "sCarolDesk"))).code, "link_invalid");
});

test("in Access mode, the console and the chooser carry a narrowing along, so picking never widens", async () => {
  const access = await startAccess();
  const key = newKey("kid-view");
  access.publish(key);
  try {
    const vars = baseVars(suite.up.apiBase, {
      AGENT_AUTH: "access", ACCESS_TEAM_DOMAIN: TEAM_DOMAIN, ACCESS_AUD: AUDIENCE, WATCH_PERMISSIONS: "click scroll",
      VIEWER_LINK_SECRET: VIEWER_SECRET, VISITOR_LINK_SECRET: VISITOR_SECRET, AUDIT_ID_SECRET: AUDIT_SECRET,
    });
    await withGateway({ vars, hosts: { [TEAM_DOMAIN]: access.url } }, async (gw) => {
      const headers = { "Cf-Access-Jwt-Assertion": token(key) };
      const chooser = await (await gw.fetch("/agent?uniqueid=carol-3003&permissions=scroll", { headers })).text();
      const link = chooser.match(/href="(\/agent\?shortid=sCarolDesk[^"]+)"/)[1].replaceAll("&amp;", "&");
      assert.match(link, /permissions=scroll/);
      assert.equal((await gw.fetch(link, { headers })).status, 302);
      const console = await (await gw.fetch("/agent?permissions=scroll", { headers })).text();
      assert.match(console, /<input type="hidden" name="permissions" value="scroll">/);
      // /view needs no Access token: it is not behind Access.
      assert.equal((await gw.fetch(viewLink(`visitorid=sBob0002&${VIEWER}`))).status, 302);
    });
    assert.deepEqual((await watches()).map((w) => w.body.permissions), [only("scroll"), NONE]);
  } finally {
    await access.close();
  }
});

// What /view sends Upscope for its viewers, in spellings Upscope may read as the same id.
const VIEWER_IDS = [
  "viewer:cust-501", "VIEWER:cust-501", "Viewer:cust-501", " viewer:cust-501", "\u3000viewer:cust-501",
  "\u200Bviewer:cust-501", "\uFF56\uFF49\uFF45\uFF57\uFF45\uFF52\uFF1Acust-501", "v\u0131ewer:cust-501",
  // Colons and numerals whose compatibility form spells the prefix (issue 25, item 2).
  "viewer\uFE55cust-501", "viewer\uFE13cust-501", "\u2175ewer:cust-501",
];
const actingAs = (id, visitor = "uniqueid=alice-1001&") => `${visitor}agent_id=${encodeURIComponent(id)}&agent_name=Mallory`;
const expectViewerIdRefused = (got, what) => {
  assert.deepEqual([got.status, got.code], [400, "invalid_parameter"], `${what}: ${got.message}`);
  assert.match(got.message, /^agent_id may not start with 'viewer:'/, what);
};

test("a signed /agent link cannot take a viewer's identity: agent_id in viewer: is a 400 before any upstream call", async () => {
  for (const id of VIEWER_IDS) {
    expectViewerIdRefused(await refusal(suite.gw, agentLink(actingAs(id))), `signed ${JSON.stringify(id)}`);
    expectViewerIdRefused(await refusal(suite.gw, agentLink(actingAs(id, ""))), `signed console link ${JSON.stringify(id)}`);
  }
  // An unsigned one is refused as unsigned first: a forger learns nothing.
  assert.equal((await refusal(suite.gw, `/agent?${actingAs("viewer:cust-501")}`)).code, "link_invalid");
  assert.deepEqual(await suite.up.requests(), [], "no refused agent reached Upscope");
  // Ids that only come near are staff ids like any other.
  for (const id of ["reviewer:7", "viewers-team", "view:7"]) await expectRedirect(suite.gw, agentLink(actingAs(id)));
  assert.deepEqual((await watches()).map((w) => w.body.agent.id), ["reviewer:7", "viewers-team", "view:7"]);
});

test("a linked agent cannot pose as an Access service token either: agent_id in service: is a 400", async () => {
  for (const id of ["service:e367826f93b8d71185e03fe518aff3b4.access", "SERVICE:x", " \uFF53ervice:x", "service\uFE55x", "service\uFE13x", "ser\u2165ce:x"]) {
    const got = await refusal(suite.gw, agentLink(actingAs(id)));
    assert.deepEqual([got.status, got.code], [400, "invalid_parameter"], id);
    assert.match(got.message, /^agent_id may not start with 'service:'/);
  }
  assert.deepEqual(await suite.up.requests(), []);
  await expectRedirect(suite.gw, agentLink(actingAs("services-desk")));
});

test("with AGENT_AUTH=none, agent_id in viewer: is a 400 before any upstream call", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase) }, async (gw) => {
    for (const id of VIEWER_IDS) expectViewerIdRefused(await refusal(gw, `/agent?${actingAs(id)}`), `none ${JSON.stringify(id)}`);
  });
  assert.deepEqual(await suite.up.requests(), []);
});

test("a Cloudflare Access identity in viewer: is a 403 that says why, before any upstream call", async () => {
  const access = await startAccess();
  const key = newKey("kid-reserved");
  access.publish(key);
  try {
    const vars = baseVars(suite.up.apiBase, { AGENT_AUTH: "access", ACCESS_TEAM_DOMAIN: TEAM_DOMAIN, ACCESS_AUD: AUDIENCE });
    await withGateway({ vars, hosts: { [TEAM_DOMAIN]: access.url } }, async (gw) => {
      const identities = [
        { sub: "viewer:cust-501" }, { sub: " Viewer:cust-501" }, { sub: undefined, email: "VIEWER:cust-501@example.com" },
        { sub: "viewer\uFE55cust-501" }, { sub: "viewer\uFE13cust-501" }, { sub: "\u2175ewer:cust-501" },
      ];
      for (const identity of identities) {
        const got = await refusal(gw, "/agent?uniqueid=alice-1001", { "Cf-Access-Jwt-Assertion": token(key, claims(identity)) });
        assert.deepEqual([got.status, got.code], [403, "agent_id_reserved"], `${JSON.stringify(identity)}: ${got.message}`);
        assert.match(got.message, /Cloudflare Access identity starts with 'viewer:'/);
      }
      assert.deepEqual(await suite.up.requests(), [], "no refused agent reached Upscope");
      // The same gateway still lets a staff identity in.
      assert.equal((await gw.fetch("/agent?uniqueid=alice-1001", { headers: { "Cf-Access-Jwt-Assertion": token(key) } })).status, 302);
    });
  } finally {
    await access.close();
  }
  assert.deepEqual((await watches()).map((w) => w.body.agent.id), ["7335d417-61da-459d-899c-0a01c76a2f94"]);
});

test("/view needs its own secret: missing, short or shared with another route is a 500 naming it", async () => {
  const cases = [
    [{ VIEWER_LINK_SECRET: "" }, /\/view needs the secret VIEWER_LINK_SECRET/],
    [{ VIEWER_LINK_SECRET: "too-short" }, /VIEWER_LINK_SECRET is shorter than 32/],
    [{ VIEWER_LINK_SECRET: AGENT_SECRET }, /AGENT_LINK_SECRET and VIEWER_LINK_SECRET are the same secret/],
    [{ VIEWER_LINK_SECRET_PREVIOUS: VISITOR_SECRET }, /VISITOR_LINK_SECRET and VIEWER_LINK_SECRET_PREVIOUS are the same secret/],
    [{ VIEWER_PERMISSIONS: "look" }, /VIEWER_PERMISSIONS: unknown permission 'look'/],
    [{ VIEWER_PERMISSIONS: "none scroll" }, /VIEWER_PERMISSIONS: none stands alone/],
    // Viewers watch a person named by their own ID: that ID must be signed on /visitor.
    [{ VISITOR_LINK_SECRET: "" }, /\/view needs VISITOR_LINK_SECRET as well/],
    // Viewers' audit pseudonyms have their own key, so a link-secret rotation leaves them alone.
    [{ AUDIT_ID_SECRET: "" }, /\/view needs the secret AUDIT_ID_SECRET/],
    [{ AUDIT_ID_SECRET: "too-short" }, /AUDIT_ID_SECRET is shorter than 32/],
  ];
  for (const [extra, expected] of cases) {
    await withGateway({ vars: baseVars(suite.up.apiBase, linkVars(extra)) }, async (gw) => {
      const got = await refusal(gw, viewLink(`uniqueid=alice-1001&${VIEWER}`));
      assert.deepEqual([got.status, got.code], [500, "gateway_misconfigured"], JSON.stringify(extra));
      assert.match(got.message, expected);
    });
  }
  assert.deepEqual(await suite.up.requests(), []);
});

test("/view pages are framed only by VIEWER_EMBED_ORIGINS, and every session is logged with an audit record", async () => {
  const vars = baseVars(suite.up.apiBase, linkVars({ VIEWER_EMBED_ORIGINS: "https://portal.example.com" }));
  await withGateway({ vars }, async (gw) => {
    const refused = await gw.fetch(`/view?uniqueid=alice-1001&${VIEWER}`);
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get("content-security-policy"), /frame-ancestors https:\/\/portal\.example\.com$/);
    await expectRedirect(gw, viewLink(`uniqueid=alice-1001&${VIEWER}`));
    await new Promise((r) => setTimeout(r, 100));
    const lines = gw.logLines();
    assert.deepEqual(lines.map((l) => [l.route, l.status, l.level]), [["/view", 401, "warn"], ["/view", 302, "info"]]);
    // The viewer's id is a customer's: logged only as its keyed pseudonym, which scripts/audit-id.mjs recomputes.
    const { viewerPseudonym } = await import("../../scripts/audit-id.mjs");
    assert.deepEqual(lines[1].audit, { role: "viewer", viewer: viewerPseudonym(AUDIT_SECRET, "cust-501"), short_id: "sAlice01", named_by: "unique" });
    assert.match(lines[1].audit.viewer, /^[0-9a-f]{16}$/);
    assert.ok(!gw.logs.join("").includes("cust-501"), "the viewer's id never reaches the log");
    const { execFileSync } = await import("node:child_process");
    const printed = execFileSync(process.execPath, ["scripts/audit-id.mjs", "cust-501"], {
      cwd: new URL("../..", import.meta.url), env: { ...process.env, AUDIT_ID_SECRET: AUDIT_SECRET }, encoding: "utf8",
    }).trim();
    assert.equal(printed, lines[1].audit.viewer);
  });
});

test("a viewer keeps one audit pseudonym through a rotation of VIEWER_LINK_SECRET, and audit-id.mjs finds it", async () => {
  const NEXT_SECRET = "viewer-link-secret-after-rotation-0002";
  const pseudonymUnder = (vars, secret) => withGateway({ vars: baseVars(suite.up.apiBase, linkVars(vars)) }, async (gw) => {
    await expectRedirect(gw, viewLink(`uniqueid=alice-1001&${VIEWER}`, secret));
    await new Promise((r) => setTimeout(r, 100));
    return gw.logLines().find((l) => l.audit)?.audit.viewer;
  });
  // Before, during (both secrets verify) and after the rotation (the previous one deleted).
  const before = await pseudonymUnder({}, VIEWER_SECRET);
  const during = await pseudonymUnder({ VIEWER_LINK_SECRET: NEXT_SECRET, VIEWER_LINK_SECRET_PREVIOUS: VIEWER_SECRET }, VIEWER_SECRET);
  const after = await pseudonymUnder({ VIEWER_LINK_SECRET: NEXT_SECRET }, NEXT_SECRET);
  assert.match(before, /^[0-9a-f]{16}$/);
  assert.deepEqual([during, after], [before, before]);
  const { execFileSync } = await import("node:child_process");
  const printed = execFileSync(process.execPath, ["scripts/audit-id.mjs", "cust-501"], {
    cwd: new URL("../..", import.meta.url), env: { ...process.env, AUDIT_ID_SECRET: AUDIT_SECRET, VIEWER_LINK_SECRET: NEXT_SECRET }, encoding: "utf8",
  }).trim();
  assert.equal(printed, before, "audit-id.mjs finds the records from before the rotation too");
});

test("reversed roles: an employee shares a page, two customers watch view-only at once, a staff agent joins with full powers", async () => {
  // The employee opens a signed /visitor link with their own ID.
  const employee = await suite.gw.fetch(pathOf(signLink(`${ORIGIN}/visitor?uniqueid=emp-42`, VISITOR_SECRET)));
  assert.equal(employee.status, 302);
  const proxy = await (await fetch(employee.headers.get("location"))).text();
  const shortId = proxy.match(/id="proxy-short-id">([^<]+)</)[1];
  // Two customers open their /view links at the same time.
  const customers = [["cust-1", "Chris"], ["cust-2", "Dana"]];
  const opened = await Promise.all(customers.map(([id, name]) =>
    suite.gw.fetch(viewLink(`uniqueid=emp-42&viewer_id=${id}&viewer_name=${name}`))));
  assert.deepEqual(opened.map((r) => r.status), [302, 302]);
  const [first, second] = opened.map((r) => r.headers.get("location"));
  assert.notEqual(first, second, "each customer gets their own watch_url");
  for (const [location, [, name]] of [[first, customers[0]], [second, customers[1]]]) {
    const page = await (await fetch(location)).text();
    assert.match(page, new RegExp(`id="watch-agent-name">${name}<`));
    assert.match(page, /id="watch-permissions">view only</);
    assert.match(page, new RegExp(`id="watch-short-id">${shortId}<`));
  }
  // A staff agent still joins, with what WATCH_PERMISSIONS grants.
  const staff = await expectRedirect(suite.gw, agentLink("uniqueid=emp-42&agent_id=staff-1&agent_name=Sam%20Staff"));
  assert.match(await (await fetch(staff)).text(), /id="watch-permissions">may click, draw, scroll</);
  const bodies = (await watches()).map((w) => [w.body.agent.id, w.body.permissions]);
  assert.deepEqual(bodies.sort(), [["staff-1", only("click", "scroll", "draw")], ["viewer:cust-1", NONE], ["viewer:cust-2", NONE]]);
});

test("signing tools: docs/routes.md's /view vector, mint-link.mjs and the Python example mint /view links the gateway accepts", async () => {
  const { readFileSync } = await import("node:fs");
  const { execFileSync } = await import("node:child_process");
  const { createHmac } = await import("node:crypto");
  const { canonicalString } = await import("../../examples/sign-link.mjs");
  const readme = readFileSync(new URL("../../docs/routes.md", import.meta.url), "utf8");
  const field = (name) => readme.match(new RegExp(`^\\| ${name} \\| \`([^\`]*)\` \\|$`, "m"))?.[1];
  const vector = { secret: field("View secret"), link: field("View link to sign"), canonical: field("View canonical string"), sig: field("View sig") };
  for (const [k, v] of Object.entries(vector)) assert.ok(v, `docs/routes.md's /view vector is missing ${k}`);
  const url = new URL(vector.link);
  assert.equal(canonicalString(url.searchParams), vector.canonical);
  assert.equal(createHmac("sha256", vector.secret).update(vector.canonical).digest("base64url"), vector.sig);
  // Its exp is in the past: a gateway with its secret says "expired", so the signature verified.
  await withGateway({ vars: baseVars(suite.up.apiBase, { VIEWER_LINK_SECRET: vector.secret, VISITOR_LINK_SECRET: VISITOR_SECRET, AUDIT_ID_SECRET: AUDIT_SECRET }) }, async (gw) => {
    url.searchParams.set("sig", vector.sig);
    assert.equal((await refusal(gw, url.pathname + url.search)).code, "link_expired");
  });

  const root = new URL("../..", import.meta.url);
  const env = { ...process.env, VIEWER_LINK_SECRET: VIEWER_SECRET, AGENT_LINK_SECRET: "not-this-one-0000000000000000000000" };
  const minted = new URL(execFileSync(process.execPath, ["scripts/mint-link.mjs", `/view?uniqueid=alice-1001&${VIEWER}&permissions=none`], { cwd: root, env, encoding: "utf8" }).trim());
  assert.equal((await suite.gw.fetch(minted.pathname + minted.search)).status, 302, "mint-link signs /view with VIEWER_LINK_SECRET");
  const at = String(Math.floor(Date.now() / 1000));
  const python = execFileSync("python3", ["examples/sign_link.py", `${ORIGIN}/view?visitorid=sBob0002&${VIEWER}`, at], { cwd: root, env, encoding: "utf8" }).trim();
  assert.equal(new URL(python).searchParams.get("sig"), new URL(signLink(`${ORIGIN}/view?visitorid=sBob0002&${VIEWER}`, VIEWER_SECRET, { now: Number(at) })).searchParams.get("sig"));
  assert.equal((await suite.gw.fetch(pathOf(python))).status, 302);
  assert.deepEqual((await watches()).map((w) => w.body.permissions), [NONE, NONE]);
  // A typo in the route is refused, never signed with another route's secret.
  for (const [cmd, args] of [[process.execPath, ["scripts/mint-link.mjs", "/veiw?uniqueid=a"]], ["python3", ["examples/sign_link.py", `${ORIGIN}/veiw?uniqueid=a`]]]) {
    const run = (await import("node:child_process")).spawnSync(cmd, args, { cwd: root, env, encoding: "utf8" });
    assert.notEqual(run.status, 0, `${args[0]} refused /veiw`);
    assert.match(run.stderr, /\/veiw is not a signed route/);
    assert.equal(run.stdout, "");
  }
});
