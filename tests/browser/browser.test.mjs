// In a real browser (Debian's Chromium, driven by playwright-core): a
// customer's page embeds /visitor in an iframe, an agent uses the console
// and the device chooser, and the gateway's own pages refuse to be framed
// by sites not in EMBED_ORIGINS; with the roles reversed, an employee
// shares a page and customers watch it view-only through /view; behind
// Access, a link on another site asks the agent before it starts a session.
// Screenshots go to test-artifacts/browser/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";
import { startSimulator, startGateway, baseVars, ask } from "../support/harness.mjs";
import { signLink } from "../../examples/sign-link.mjs";
import { startAccess, newKey, token, claims, TEAM_DOMAIN, AUDIENCE } from "../support/access-idp.mjs";

const SECRET = "agent-link-secret-for-browser-tests-1";
const VIEWER_SECRET = "viewer-link-secret-for-browser-tests-1";
const VISITOR_SECRET = "visitor-link-secret-for-browser-tests-1";
const EVERY_PERMISSION = "console click draw scroll audio type agent_redirect";
const SHOTS = new URL("../../test-artifacts/browser/", import.meta.url);
let up, gw, shop, otherShop, browser;

/** A customer's site on loopback: /?frame=<url> embeds that URL in an iframe. */
async function startShop() {
  const server = http.createServer((req, res) => {
    const frame = new URL(req.url, "http://shop.invalid").searchParams.get("frame") ?? "";
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Example Shop: help</title></head>
<body style="font:16px system-ui;margin:2rem"><h1>Example Shop</h1><p>Our support team can see this page with you.</p>
<iframe id="cobrowse" title="Co-browsing" src="${frame.replaceAll('"', "&quot;")}" style="width:100%;height:420px;border:1px solid #999"></iframe>
</body></html>`);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  up = await startSimulator();
  shop = await startShop();
  otherShop = await startShop();
  gw = await startGateway({
    vars: baseVars(up.apiBase, {
      AGENT_AUTH: "signed-link", AGENT_LINK_SECRET: SECRET, EMBED_ORIGINS: shop.url,
      VIEWER_LINK_SECRET: VIEWER_SECRET, VISITOR_LINK_SECRET: VISITOR_SECRET, AUDIT_ID_SECRET: "audit-id-secret-for-browser-tests-0001", WATCH_PERMISSIONS: EVERY_PERMISSION,
    }),
    listen: true,
  });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-default-apps",
    ],
  });
});
after(async () => {
  await browser?.close();
  await gw?.close();
  await shop?.close();
  await otherShop?.close();
  await up?.close();
});

const shot = (page, name) => page.screenshot({ path: new URL(name, SHOTS).pathname, fullPage: true });
const agentLink = (query) => signLink(`${gw.url}/agent?${query}`, SECRET, { ttlSeconds: 300 });
/** The signed /visitor link a company's page renders for a customer it has signed in. */
const visitorLink = (uniqueId) => signLink(`${gw.url}/visitor?uniqueid=${uniqueId}`, VISITOR_SECRET, { ttlSeconds: 300 });

test("a customer's page embeds /visitor; then an agent types the code the customer reads out", async () => {
  const customer = await browser.newPage();
  await customer.goto(`${shop.url}/?frame=${encodeURIComponent(visitorLink("alice-1001"))}`);
  const iframe = customer.frameLocator("#cobrowse");
  await iframe.locator("#proxy-title").waitFor({ timeout: 10_000 });
  assert.equal(await iframe.locator("#proxy-unique-id").textContent(), "alice-1001");
  const code = (await iframe.locator("#proxy-lookup-code").textContent()).trim();
  assert.match(code, /^\d{4}$/);
  await shot(customer, "01-customer-iframe.png");
  const [proxyCall] = (await up.requests()).filter((r) => r.endpoint === "proxy_sessions");
  assert.match(proxyCall.body.initial_url, /[?&]___upscope_unique_id=alice-1001(&|#|$)/);

  const agent = await browser.newPage();
  await agent.goto(agentLink("agent_id=agent-7&agent_name=Ann%20Lee"));
  assert.equal(await agent.locator("#console-agent").textContent(), "Ann Lee");
  await shot(agent, "02-agent-console.png");
  await agent.getByRole("textbox", { name: "Four-digit code the customer reads out" }).fill(code);
  await Promise.all([agent.waitForURL(/\/sim\/watch\//), agent.locator("#lookup ~ button").click()]);
  assert.equal(await agent.locator("#watch-agent-name").textContent(), "Ann Lee");
  assert.equal(await agent.locator("#watch-unique-id").textContent(), "alice-1001");
  await shot(agent, "03-agent-watching.png");
  await customer.close();
  await agent.close();
});

test("an own ID online on two devices: the agent chooses, and the chosen one is watched", async () => {
  const agent = await browser.newPage();
  await agent.goto(agentLink("uniqueid=carol-3003&agent_id=agent-7&agent_name=Ann%20Lee"));
  await agent.locator("#devices").waitFor();
  assert.equal(await agent.locator("#devices a").count(), 2);
  await shot(agent, "04-agent-chooser.png");
  await Promise.all([agent.waitForURL(/\/sim\/watch\//), agent.locator('#devices a[data-short-id="sCarolPhone"]').click()]);
  assert.equal(await agent.locator("#watch-short-id").textContent(), "sCarolPhone");
  await shot(agent, "05-agent-watching-chosen-device.png");
  await agent.close();
});

test("the gateway's own pages show in the allowed site's iframe and refuse any other site", async () => {
  const failing = encodeURIComponent(`${gw.url}/visitor?url=https%3A%2F%2Fevil.example%2F`);
  const allowed = await browser.newPage();
  await allowed.goto(`${shop.url}/?frame=${failing}`);
  await allowed.frameLocator("#cobrowse").locator("h1").waitFor({ timeout: 10_000 });
  assert.equal(await allowed.frameLocator("#cobrowse").locator("h1").textContent(), "Check the link");
  await shot(allowed, "06-error-page-in-allowed-site.png");

  const refused = await browser.newPage();
  const blocked = new Promise((resolve) => refused.on("console", (m) => /frame-ancestors/.test(m.text()) && resolve(m.text())));
  await refused.goto(`${otherShop.url}/?frame=${failing}`);
  const report = await Promise.race([blocked, new Promise((r) => setTimeout(() => r(null), 10_000))]);
  assert.ok(report, "Chromium reported the frame-ancestors refusal");
  const frame = refused.frames().find((f) => f !== refused.mainFrame());
  const text = await frame.evaluate(() => document.body?.innerText ?? "").catch(() => "");
  assert.doesNotMatch(text, /Check the link/);
  await shot(refused, "07-error-page-refused-in-other-site.png");
  await allowed.close();
  await refused.close();
});

test("when a session cannot start, the customer's iframe offers to try again, and trying again works", async () => {
  await up.fault({ method: "POST", path: "/proxy_sessions", status: 503 });
  const customer = await browser.newPage();
  await customer.goto(`${shop.url}/?frame=${encodeURIComponent(visitorLink("bob-2002"))}`);
  const iframe = customer.frameLocator("#cobrowse");
  await iframe.locator("#retry").waitFor({ timeout: 10_000 });
  assert.equal(await iframe.locator("h1").textContent(), "Co-browsing is busy");
  await shot(customer, "08-visitor-failure-in-iframe.png");
  await iframe.locator("#retry").click();
  await iframe.locator("#proxy-title").waitFor({ timeout: 10_000 });
  assert.equal(await iframe.locator("#proxy-unique-id").textContent(), "bob-2002");
  await shot(customer, "09-visitor-retry-succeeded.png");
  await customer.close();
});

test("reversed roles: an employee shares a page, two customers watch it view-only, a staff agent joins with every permission", async () => {
  const employee = await browser.newPage();
  await employee.goto(`${shop.url}/?frame=${encodeURIComponent(visitorLink("emp-42"))}`);
  const frame = employee.frameLocator("#cobrowse");
  await frame.locator("#proxy-title").waitFor({ timeout: 10_000 });
  const shortId = (await frame.locator("#proxy-short-id").textContent()).trim();
  await shot(employee, "10-employee-sharing.png");

  // Two customers open their /view links at the same time, each in their own browser context.
  const customers = await Promise.all([["cust-1", "Chris Customer"], ["cust-2", "Dana Customer"]].map(async ([id, name]) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const link = signLink(`${gw.url}/view?uniqueid=emp-42&viewer_id=${id}&viewer_name=${encodeURIComponent(name)}`, VIEWER_SECRET);
    await page.goto(link);
    return { context, page, name };
  }));
  const urls = new Set();
  for (const [i, { page, name }] of customers.entries()) {
    await page.locator("#watch-title").waitFor({ timeout: 10_000 });
    assert.equal(await page.locator("#watch-agent-name").textContent(), name);
    assert.equal(await page.locator("#watch-short-id").textContent(), shortId);
    assert.equal(await page.locator("#watch-permissions").textContent(), "view only");
    urls.add(page.url());
    await shot(page, `${11 + i}-customer-${i + 1}-viewing.png`);
  }
  assert.equal(urls.size, 2, "each customer has their own watch_url");

  const staff = await browser.newPage();
  await staff.goto(agentLink("uniqueid=emp-42&agent_id=staff-1&agent_name=Sam%20Staff"));
  await staff.locator("#watch-title").waitFor({ timeout: 10_000 });
  assert.equal(await staff.locator("#watch-agent-name").textContent(), "Sam Staff");
  assert.equal(await staff.locator("#watch-permissions").textContent(), `may ${EVERY_PERMISSION.split(" ").join(", ")}`);
  await shot(staff, "13-staff-agent-watching.png");
  for (const { context } of customers) await context.close();
  await staff.close();
  await employee.close();
});

test("Access mode: a link on another site shows a confirmation first; its button starts the session", async () => {
  await up.reset();
  const access = await startAccess();
  const key = newKey("kid-browser");
  access.publish(key);
  const guarded = await startGateway({
    vars: baseVars(up.apiBase, {
      AGENT_AUTH: "access", ALLOW_UNAUTHENTICATED_AGENTS: "", ACCESS_TEAM_DOMAIN: TEAM_DOMAIN, ACCESS_AUD: AUDIENCE,
    }),
    hosts: { [TEAM_DOMAIN]: access.url },
    listen: true,
  });
  // What Cloudflare Access adds in front of the gateway for a signed-in agent.
  const context = await browser.newContext({ extraHTTPHeaders: { "Cf-Access-Jwt-Assertion": token(key, claims({ name: "Ann Lee" })) } });
  try {
    // localhost is another site than 127.0.0.1, as evil.example is than the gateway.
    const evil = `${otherShop.url.replace("127.0.0.1", "localhost")}/?frame=`;
    const link = `${guarded.url}/agent?visitorid=sAlice01`;
    const agent = await context.newPage();
    await agent.goto(evil);
    await agent.evaluate((href) => {
      const a = Object.assign(document.createElement("a"), { href, id: "lure", textContent: "Your invoice" });
      document.body.append(a);
    }, link);
    await Promise.all([agent.waitForURL(/\/agent\?visitorid=sAlice01$/), agent.locator("#lure").click()]);
    assert.equal(await agent.locator("h1").textContent(), "Open this co-browsing session?");
    assert.equal(await agent.locator("#confirm-visitor").textContent(), "sAlice01");
    assert.deepEqual(await up.calls(), [], "nothing reaches Upscope before the agent confirms");
    await shot(agent, "14-access-confirm-cross-site-link.png");
    // The agent moves the pointer to the button; half a second later it is live.
    const box = await agent.locator("#confirm-launch").boundingBox();
    await agent.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await Promise.all([agent.waitForURL(/\/sim\/watch\//), agent.locator("#confirm-launch").click()]);
    assert.equal(await agent.locator("#watch-agent-name").textContent(), "Ann Lee");
    assert.equal(await agent.locator("#watch-short-id").textContent(), "sAlice01");
    await up.assertAsked([ask.watch("sAlice01")]);
    await shot(agent, "15-access-confirmed-watching.png");
    // Typed into the address bar (Sec-Fetch-Site: none): no question asked.
    await agent.goto(link);
    await agent.locator("#watch-title").waitFor({ timeout: 10_000 });
  } finally {
    await context.close();
    await guarded.close();
    await access.close();
  }
});

// Issue 25, items 1 and 9(c), in a real browser: the gateway's own console
// and chooser navigate same-origin with the launch token, so the agent is
// never asked; and the chooser's URL, which holds the token, is never sent to
// Upscope's watch page as a referrer.
test("Access mode: the console's form and the chooser's links go straight through, and the token never leaves as a referrer", async () => {
  await up.reset();
  const access = await startAccess();
  const key = newKey("kid-browser-console");
  access.publish(key);
  const guarded = await startGateway({
    vars: baseVars(up.apiBase, {
      AGENT_AUTH: "access", ALLOW_UNAUTHENTICATED_AGENTS: "", ACCESS_TEAM_DOMAIN: TEAM_DOMAIN, ACCESS_AUD: AUDIENCE,
    }),
    hosts: { [TEAM_DOMAIN]: access.url },
    listen: true,
  });
  const context = await browser.newContext({ extraHTTPHeaders: { "Cf-Access-Jwt-Assertion": token(key, claims({ name: "Ann Lee" })) } });
  try {
    const agent = await context.newPage();
    await agent.goto(`${guarded.url}/agent`);
    await agent.locator("#uniqueid").fill("carol-3003");
    await Promise.all([agent.waitForURL(/\/agent\?uniqueid=carol-3003&launch=/), agent.locator("#uniqueid").press("Enter")]);
    await agent.locator("#devices").waitFor({ timeout: 10_000 });
    const token = new URL(agent.url()).searchParams.get("launch");
    await Promise.all([agent.waitForURL(/\/sim\/watch\//), agent.locator('#devices a[data-short-id="sCarolPhone"]').click()]);
    assert.equal(await agent.locator("#watch-short-id").textContent(), "sCarolPhone");
    assert.equal(await agent.evaluate(() => document.referrer), "", "Upscope's page is told nothing of the gateway's URL");
    assert.ok(!agent.url().includes(token));
    assert.equal((await up.calls()).filter((c) => c.endsWith("/watch_url")).length, 1);
  } finally {
    await context.close();
    await guarded.close();
    await access.close();
  }
});

// Issue 25, item 9(a): double-click hijacking. A page asks for a double-click,
// and between its two clicks the gateway's confirmation appears (or is
// uncovered) under the pointer: the second click must not press the button.
// The button lies under a shield until the pointer has rested on the page for
// half a second. The test stops the page's clock at that first instant (the
// CSS animations that lift the shield are paused at 0), double-clicks, then
// lets the half second pass.
test("Access mode: the confirmation's button is not live the instant it appears under the pointer", async () => {
  await up.reset();
  const access = await startAccess();
  const key = newKey("kid-browser-dbl");
  access.publish(key);
  const guarded = await startGateway({
    vars: baseVars(up.apiBase, {
      AGENT_AUTH: "access", ALLOW_UNAUTHENTICATED_AGENTS: "", ACCESS_TEAM_DOMAIN: TEAM_DOMAIN, ACCESS_AUD: AUDIENCE,
    }),
    hosts: { [TEAM_DOMAIN]: access.url },
    listen: true,
  });
  const context = await browser.newContext({ extraHTTPHeaders: { "Cf-Access-Jwt-Assertion": token(key, claims({ name: "Ann Lee" })) } });
  try {
    const evil = `${otherShop.url.replace("127.0.0.1", "localhost")}/?frame=`;
    const agent = await context.newPage();
    await agent.goto(evil);
    await agent.evaluate((href) => {
      document.body.append(Object.assign(document.createElement("a"), { href, id: "lure", textContent: "Double-click to continue" }));
    }, `${guarded.url}/agent?visitorid=sAlice01`);
    await Promise.all([agent.waitForURL(/\/agent\?visitorid=sAlice01$/), agent.locator("#lure").click()]);
    const box = await agent.locator("#confirm-launch").boundingBox();
    const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
    await agent.mouse.move(x, y);
    // The first instant under the pointer: whatever would arm the button has not run yet.
    await agent.evaluate(() => document.getAnimations().forEach((a) => { a.pause(); a.currentTime = 0; }));
    await agent.mouse.dblclick(x, y);
    await new Promise((r) => setTimeout(r, 500));
    assert.match(agent.url(), /\/agent\?visitorid=sAlice01$/, "the double-click opened nothing");
    assert.deepEqual(await up.calls(), [], "nothing reaches Upscope");
    assert.equal(await agent.evaluate(({ x, y }) => document.elementFromPoint(x, y).id, { x, y }), "confirm-shield");
    await shot(agent, "16-access-confirm-not-yet-armed.png");
    // Half a second of the pointer resting on the page: the button is live.
    await agent.evaluate(() => document.getAnimations().forEach((a) => a.play()));
    await agent.waitForFunction(() => getComputedStyle(document.getElementById("confirm-shield")).visibility === "hidden", null, { timeout: 5_000 });
    await Promise.all([agent.waitForURL(/\/sim\/watch\//), agent.mouse.click(x, y)]);
    assert.deepEqual(await up.calls(), ["POST /v1.3/visitors/sAlice01/watch_url"]);
  } finally {
    await context.close();
    await guarded.close();
    await access.close();
  }
});
