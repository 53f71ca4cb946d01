// AGENT_AUTH=access: the Access cookie rides along on any request the
// agent's browser makes, so a link on another site must not start a
// session by itself. Fetch Metadata (`Sec-Fetch-Site`) tells the gateway
// where a request came from; a cross-site one gets a confirmation page whose
// button is a same-origin POST, unless it comes from an origin listed in
// AGENT_LAUNCH_ORIGINS (checked by the Referer's origin too).
import { test } from "node:test";
import assert from "node:assert/strict";
import { baseVars, withGateway, GATEWAY_ORIGIN, ask } from "../support/harness.mjs";
import { accessSuite } from "../support/access-idp.mjs";

const { suite, withAccessGateway, signedIn } = accessSuite();
const HELPDESK = "https://acme.zendesk.example";
/** An Access-mode gateway whose /agent pages the helpdesk may frame. */
const withHelpdeskGateway = (run, extra = {}) => withAccessGateway({ AGENT_EMBED_ORIGINS: HELPDESK, ...extra }, run);
const LINK = "/agent?visitorid=sAlice01";

test("a cross-site link to /agent (Access) gets a confirmation page naming the visitor, and no upstream call", async () => {
  await withHelpdeskGateway(async (gw) => {
    for (const site of ["cross-site", "same-site"]) {
      const res = await gw.fetch(`${LINK}&permissions=scroll`, {
        headers: signedIn({ "Sec-Fetch-Site": site, "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", Referer: "https://evil.example/x" }),
      });
      assert.equal(res.status, 200, site);
      assert.equal(res.headers.get("cache-control"), "no-store");
      // Never framed, not even by AGENT_EMBED_ORIGINS: a frame could click the button for the agent.
      assert.match(res.headers.get("content-security-policy"), /frame-ancestors 'none'$/);
      const page = await res.text();
      assert.match(page, /<h1>Open this co-browsing session\?<\/h1>/);
      assert.match(page, /the visitor with the Short ID <strong id="confirm-visitor">sAlice01<\/strong>/);
      assert.match(page, /Signed in as <strong>Ann Lee<\/strong>/);
      // The button re-sends the same link, with the agent's launch token, as a same-origin POST.
      assert.match(page, /<form method="post" action="\/agent\?permissions=scroll&amp;visitorid=sAlice01&amp;launch=[A-Za-z0-9_-]{43}">/);
      assert.match(page, /<button type="submit" id="confirm-launch">/);
    }
    // Subresource requests (an <img>, a no-cors fetch) are refused outright (item 1, below).
    const img = await gw.fetch(LINK, { headers: signedIn({ "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image" }) });
    assert.equal(img.status, 403);
    assert.deepEqual(await suite.up.calls(), [], "nothing reaches Upscope before the agent confirms");
    assert.deepEqual(gw.logLines().map((l) => l.outcome), ["confirm_launch", "confirm_launch", "cross_site_request"]);
  });
});

test("the confirmation's same-origin POST starts the session; a cross-site POST is refused", async () => {
  await withHelpdeskGateway(async (gw) => {
    const post = (headers) => gw.fetch(LINK, { method: "POST", headers: signedIn({ Accept: "application/json", ...headers }) });
    for (const headers of [
      { "Sec-Fetch-Site": "cross-site", Origin: "https://evil.example" },
      { "Sec-Fetch-Site": "same-site", Origin: "https://other.gateway.example.com" },
      { "Sec-Fetch-Site": "none" },
      { Origin: "https://evil.example" },
      {},
    ]) {
      const res = await post(headers);
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.equal((await res.json()).error.code, "cross_site_request");
    }
    assert.deepEqual(await suite.up.calls(), []);

    // The confirmation's own form: the link with the agent's launch token.
    const me = signedIn();
    const confirm = await (await gw.fetch(LINK, { headers: { ...me, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate" } })).text();
    const action = confirm.match(/<form method="post" action="([^"]+)"/)[1].replaceAll("&amp;", "&");
    const confirmed = (headers) => gw.fetch(action, { method: "POST", headers: { ...me, Accept: "application/json", ...headers } });
    const ok = await confirmed({ "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate", Origin: GATEWAY_ORIGIN });
    assert.equal(ok.status, 302, await ok.clone().text());
    // A browser without Fetch Metadata still sends Origin on a POST.
    const older = await confirmed({ Origin: GATEWAY_ORIGIN });
    assert.equal(older.status, 302);
    await suite.up.assertAsked([ask.watch("sAlice01"), ask.watch("sAlice01")]);
    // Other methods are still refused, naming both.
    const put = await gw.fetch(LINK, { method: "PUT", headers: signedIn() });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("allow"), "GET, POST");
  });
});

test("typed or bookmarked, and requests without Fetch Metadata, start the session as before", async () => {
  await withHelpdeskGateway(async (gw) => {
    for (const headers of [{ "Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document" }, { "Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate" }, {}]) {
      const res = await gw.fetch(LINK, { headers: signedIn(headers) });
      assert.equal(res.status, 302, JSON.stringify(headers));
    }
    assert.equal((await suite.up.calls()).length, 3);
  });
});

test("AGENT_LAUNCH_ORIGINS: a listed helpdesk's links go straight through, checked by the Referer's origin", async () => {
  await withHelpdeskGateway(async (gw) => {
    const from = (referer) => gw.fetch(LINK, { headers: signedIn({ "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", ...(referer ? { Referer: referer } : {}) }) });
    assert.equal((await from(`${HELPDESK}/agent/tickets/42`)).status, 302);
    assert.equal((await from(`${HELPDESK}/`)).status, 302);
    assert.equal((await from("https://ACME.zendesk.example:443/x")).status, 302, "origins compare as origins");
    // Anything else is asked: another origin, a look-alike, no Referer at all.
    for (const referer of ["https://evil.example/", "https://acme.zendesk.example.evil.example/", "http://acme.zendesk.example/", null]) {
      const res = await from(referer);
      assert.equal(res.status, 200, String(referer));
      assert.match(await res.text(), /Open this co-browsing session\?/);
    }
    assert.equal((await suite.up.calls()).length, 3);
  }, { AGENT_LAUNCH_ORIGINS: `${HELPDESK}, https://help.example.com` });
});

test("AGENT_LAUNCH_ORIGINS refuses wildcards and non-origins, naming the setting", async () => {
  for (const value of ["https://*.zendesk.example", "acme.zendesk.example", "https://acme.zendesk.example/path", "'self'"]) {
    await withHelpdeskGateway(async (gw) => {
      const res = await gw.fetch(LINK, { headers: signedIn({ Accept: "application/json" }) });
      assert.equal(res.status, 500, value);
      const { error } = await res.json();
      assert.equal(error.code, "gateway_misconfigured");
      assert.match(error.message, /AGENT_LAUNCH_ORIGINS/);
    }, { AGENT_LAUNCH_ORIGINS: value });
  }
  assert.deepEqual(await suite.up.calls(), []);
});

test("the console, and AGENT_AUTH=none, are unaffected by Fetch Metadata", async () => {
  await withHelpdeskGateway(async (gw) => {
    // The console starts nothing: a helpdesk may link to it from anywhere.
    const console = await gw.fetch("/agent", { headers: signedIn({ "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate" }) });
    assert.equal(console.status, 200);
    assert.match(await console.text(), /<h1>Start co-browsing<\/h1>/);
  });
  // AGENT_AUTH=none (the harness's default) is local testing only and behaves as before.
  await withGateway({ vars: baseVars(suite.up.apiBase) }, async (gw) => {
    const res = await gw.fetch(`${LINK}&agent_id=a&agent_name=A`, { headers: { "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image" } });
    assert.equal(res.status, 302);
  });
});

// Issue 25, item 1: only a navigation may start a session by itself. An
// <img>, <script>, <object> or fetch() sends the Access cookie too (SameSite=None
// in a helpdesk's frame), and a listed helpdesk shows whatever a customer puts
// in a ticket: such requests are refused (403) before any upstream call.
test("a listed helpdesk's image, script, object or fetch starts nothing: 403 for non-navigations, no upstream call", async () => {
  await withHelpdeskGateway(async (gw) => {
    const from = (site, mode, dest, referer = `${HELPDESK}/agent/tickets/42`) => gw.fetch(LINK, {
      headers: signedIn({ Accept: "application/json", "Sec-Fetch-Site": site, "Sec-Fetch-Mode": mode, "Sec-Fetch-Dest": dest, Referer: referer }),
    });
    for (const [site, mode, dest] of [
      ["cross-site", "no-cors", "image"],
      ["cross-site", "no-cors", "script"],
      ["cross-site", "cors", "empty"],
      ["cross-site", "navigate", "object"],
      ["cross-site", "navigate", "embed"],
      ["same-site", "no-cors", "image"],
      ["same-origin", "no-cors", "image"],
      ["none", "no-cors", "empty"],
    ]) {
      const res = await from(site, mode, dest);
      assert.equal(res.status, 403, `${site} ${mode} ${dest}`);
      assert.equal((await res.json()).error.code, "cross_site_request");
    }
    // From a site not listed, an image is refused the same way.
    const img = await from("cross-site", "no-cors", "image", "https://evil.example/");
    assert.equal(img.status, 403);
    assert.deepEqual(await suite.up.calls(), [], "nothing reaches Upscope");
    // The listed helpdesk's top-level and framed navigations still go straight through.
    for (const dest of ["document", "iframe"]) {
      const res = await from("cross-site", "navigate", dest);
      assert.equal(res.status, 302, dest);
    }
    assert.equal((await suite.up.calls()).length, 2);
  }, { AGENT_LAUNCH_ORIGINS: HELPDESK });
});

/** The launch token a gateway page carries (hidden input, or in a form's or link's query). */
const launchToken = (html) => html.match(/launch(?:" value="|=)([A-Za-z0-9_-]+)/)?.[1];

// Issue 25, item 9(c): a Cloudflare challenge (or any page Cloudflare serves on
// the gateway's origin) answers the agent's cross-site link; once passed, it
// navigates to the same link again, now `same-origin`. Only the gateway's own
// pages, which carry a launch token bound to the agent's Access session, are
// trusted as same-origin.
test("a same-origin request the gateway's own pages did not make (a challenge's follow-up) gets the confirmation, not a session", async () => {
  await withHelpdeskGateway(async (gw) => {
    const me = signedIn();
    const nav = { "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document" };
    // The follow-up GET of a passed challenge: same-origin, a navigation, the challenge page as Referer.
    const get = await gw.fetch(LINK, { headers: { ...me, ...nav, "Sec-Fetch-Site": "same-origin", Referer: `${GATEWAY_ORIGIN}${LINK}` } });
    assert.equal(get.status, 200);
    const confirm = await get.text();
    assert.match(confirm, /Open this co-browsing session\?/);
    // A challenged cross-site POST, replayed by the challenge page: same-origin now, but no token.
    const post = await gw.fetch(LINK, { method: "POST", headers: { ...me, ...nav, "Sec-Fetch-Site": "same-origin", Origin: GATEWAY_ORIGIN } });
    assert.equal(post.status, 200);
    assert.match(await post.text(), /Open this co-browsing session\?/);
    // A token that is not this session's (another agent's, or made up) is no better.
    const other = launchToken(await (await gw.fetch(LINK, { headers: { ...signedIn({}, { sub: "someone-else", name: "Bob" }), ...nav, "Sec-Fetch-Site": "cross-site" } })).text());
    assert.ok(other);
    for (const forged of [other, "x", ""]) {
      const res = await gw.fetch(`${LINK}&launch=${forged}`, { method: "POST", headers: { ...me, ...nav, "Sec-Fetch-Site": "same-origin", Origin: GATEWAY_ORIGIN } });
      assert.equal(res.status, 200, forged);
    }
    assert.deepEqual(await suite.up.calls(), [], "nothing reaches Upscope before the agent confirms");
    // The confirmation's own button carries the token: that POST starts the session.
    const action = confirm.match(/<form method="post" action="([^"]+)"/)[1].replaceAll("&amp;", "&");
    assert.ok(launchToken(confirm), "the confirmation carries a launch token");
    const ok = await gw.fetch(action, { method: "POST", headers: { ...me, ...nav, "Sec-Fetch-Site": "same-origin", Origin: GATEWAY_ORIGIN } });
    assert.equal(ok.status, 302);
    assert.deepEqual(await suite.up.calls(), ["POST /v1.3/visitors/sAlice01/watch_url"]);
  });
});

test("the console's forms and the chooser's links carry the agent's launch token and go straight through", async () => {
  await withHelpdeskGateway(async (gw) => {
    const me = signedIn();
    const sameOrigin = { ...me, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document" };
    const consolePage = await (await gw.fetch("/agent", { headers: { ...me, "Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate" } })).text();
    const token = launchToken(consolePage);
    assert.ok(token, "the console's forms carry a launch token");
    assert.equal(consolePage.match(/<input type="hidden" name="launch" value="[^"]+">/g).length, 2);
    // The console's form, submitted: the chooser (Carol is online on two devices).
    const chooser = await gw.fetch(`/agent?uniqueid=carol-3003&launch=${token}`, { headers: sameOrigin });
    assert.equal(chooser.status, 200);
    const page = await chooser.text();
    assert.match(page, /Choose a device/);
    const links = [...page.matchAll(/href="(\/agent\?[^"]+)"/g)].map((m) => m[1].replaceAll("&amp;", "&"));
    assert.equal(links.length, 2);
    for (const link of links) assert.equal(new URL(link, GATEWAY_ORIGIN).searchParams.get("launch"), token);
    const watch = await gw.fetch(links[0], { headers: sameOrigin });
    assert.equal(watch.status, 302);
    assert.equal((await suite.up.calls()).filter((c) => c.endsWith("/watch_url")).length, 1);
  });
});

// Issue 25, item 9(c), as an attacker would probe it: the launch token is a
// key to nothing, but it must still go nowhere but the gateway's own pages.
test("the launch token reaches no log line, data point, Upscope request, Location or Referer", async () => {
  await withHelpdeskGateway(async (gw) => {
    const me = signedIn();
    const sameOrigin = { ...me, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document" };
    const consolePage = await (await gw.fetch("/agent", { headers: { ...me, "Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate" } })).text();
    const token = launchToken(consolePage);
    assert.ok(token);
    const chooser = await gw.fetch(`/agent?uniqueid=carol-3003&launch=${token}`, { headers: sameOrigin });
    assert.equal(chooser.status, 200);
    assert.equal(chooser.headers.get("referrer-policy"), "no-referrer");
    const [link] = [...(await chooser.text()).matchAll(/href="(\/agent\?[^"]+)"/g)].map((m) => m[1].replaceAll("&amp;", "&"));
    const watch = await gw.fetch(link, { headers: sameOrigin });
    assert.equal(watch.status, 302);
    // The chooser's URL (which holds the token) is never sent on as a Referer: not to Upscope's watch page either.
    assert.equal(watch.headers.get("referrer-policy"), "no-referrer");
    assert.ok(!watch.headers.get("location").includes(token), "the watch_url carries no token");
    await new Promise((r) => setTimeout(r, 100));
    const lines = gw.logLines();
    assert.ok(lines.length >= 3);
    assert.ok(!JSON.stringify(lines).includes(token), "no log line holds the token");
    assert.ok(!JSON.stringify(gw.dataPoints()).includes(token), "no data point holds it");
    assert.ok(!JSON.stringify(await suite.up.requests()).includes(token), "Upscope is never sent it");
  });
});

// The Access token may be renewed while the agent's console is open (the
// application token expires, Access issues another): the console's token is
// then stale. That costs one confirmation click, never a refused launch.
test("a launch token of an earlier sign-in of the same agent gets the confirmation, whose button then starts the session", async () => {
  await withHelpdeskGateway(async (gw) => {
    const now = Math.floor(Date.now() / 1000);
    const before = signedIn({}, { iat: now - 3600, nbf: now - 3600 });
    const after = signedIn({}, { iat: now });
    assert.notEqual(before["Cf-Access-Jwt-Assertion"], after["Cf-Access-Jwt-Assertion"]);
    const nav = { "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document" };
    const stale = launchToken(await (await gw.fetch("/agent", { headers: { ...before, "Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate" } })).text());
    // The console's form, submitted after the renewal.
    const res = await gw.fetch(`${LINK}&launch=${stale}`, { headers: { ...after, ...nav } });
    assert.equal(res.status, 200);
    const confirm = await res.text();
    assert.match(confirm, /Open this co-browsing session\?/);
    const fresh = launchToken(confirm);
    assert.ok(fresh && fresh !== stale, "the confirmation carries the renewed sign-in's token");
    assert.deepEqual(await suite.up.calls(), []);
    const action = confirm.match(/<form method="post" action="([^"]+)"/)[1].replaceAll("&amp;", "&");
    assert.equal(new URL(action, GATEWAY_ORIGIN).searchParams.getAll("launch").length, 1, "the stale token is replaced, not repeated");
    const ok = await gw.fetch(action, { method: "POST", headers: { ...after, ...nav, Origin: GATEWAY_ORIGIN } });
    assert.equal(ok.status, 302);
  });
});

// A prefetch or prerender is the browser guessing a click (speculation
// rules on a page, or the address bar completing a URL from history): it
// sends the Access cookie and says `navigate`, but no one followed a link.
test("a prefetch or prerender starts no session, in Access mode and with a link's own agent", async () => {
  await withHelpdeskGateway(async (gw) => {
    // Sec-Purpose, or the older Purpose header alone.
    for (const [header, purpose] of [["Sec-Purpose", "prefetch"], ["Sec-Purpose", "prefetch;prerender"], ["Purpose", "prefetch"]]) {
      const res = await gw.fetch(LINK, {
        headers: signedIn({ Accept: "application/json", "Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", [header]: purpose }),
      });
      assert.equal(res.status, 403, `${header}: ${purpose}`);
      assert.equal((await res.json()).error.code, "cross_site_request");
    }
    assert.deepEqual(await suite.up.calls(), [], "nothing reaches Upscope");
    // The same link, followed: the session starts.
    const followed = await gw.fetch(LINK, { headers: signedIn({ "Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document" }) });
    assert.equal(followed.status, 302);
  });
  await withGateway({ vars: baseVars(suite.up.apiBase) }, async (gw) => {
    const res = await gw.fetch(`${LINK}&agent_id=a&agent_name=A`, { headers: { "Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Purpose": "prefetch" } });
    assert.equal(res.status, 403);
  });
});
