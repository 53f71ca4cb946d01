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
        headers: signedIn({ "Sec-Fetch-Site": site, "Sec-Fetch-Mode": "navigate", Referer: "https://evil.example/x" }),
      });
      assert.equal(res.status, 200, site);
      assert.equal(res.headers.get("cache-control"), "no-store");
      // Never framed, not even by AGENT_EMBED_ORIGINS: a frame could click the button for the agent.
      assert.match(res.headers.get("content-security-policy"), /frame-ancestors 'none'$/);
      const page = await res.text();
      assert.match(page, /<h1>Open this co-browsing session\?<\/h1>/);
      assert.match(page, /the visitor with the Short ID <strong id="confirm-visitor">sAlice01<\/strong>/);
      assert.match(page, /Signed in as <strong>Ann Lee<\/strong>/);
      // The button re-sends the same link as a same-origin POST.
      assert.match(page, /<form method="post" action="\/agent\?permissions=scroll&amp;visitorid=sAlice01"><button type="submit" id="confirm-launch">/);
    }
    // Subresource requests (an <img>, a no-cors fetch) are cross-site too.
    const img = await gw.fetch(LINK, { headers: signedIn({ "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "image" }) });
    assert.equal(img.status, 200);
    assert.deepEqual(await suite.up.calls(), [], "nothing reaches Upscope before the agent confirms");
    const line = gw.logLines().at(-1);
    assert.equal(line.outcome, "confirm_launch");
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

    const ok = await post({ "Sec-Fetch-Site": "same-origin", Origin: GATEWAY_ORIGIN });
    assert.equal(ok.status, 302, await ok.clone().text());
    // A browser without Fetch Metadata still sends Origin on a POST.
    const older = await post({ Origin: GATEWAY_ORIGIN });
    assert.equal(older.status, 302);
    await suite.up.assertAsked([ask.watch("sAlice01"), ask.watch("sAlice01")]);
    // Other methods are still refused, naming both.
    const put = await gw.fetch(LINK, { method: "PUT", headers: signedIn() });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("allow"), "GET, POST");
  });
});

test("same-origin, typed or bookmarked, and requests without Fetch Metadata start the session as before", async () => {
  await withHelpdeskGateway(async (gw) => {
    for (const headers of [{ "Sec-Fetch-Site": "same-origin" }, { "Sec-Fetch-Site": "none" }, {}]) {
      const res = await gw.fetch(LINK, { headers: signedIn(headers) });
      assert.equal(res.status, 302, JSON.stringify(headers));
    }
    assert.equal((await suite.up.calls()).length, 3);
  });
});

test("AGENT_LAUNCH_ORIGINS: a listed helpdesk's links go straight through, checked by the Referer's origin", async () => {
  await withHelpdeskGateway(async (gw) => {
    const from = (referer) => gw.fetch(LINK, { headers: signedIn({ "Sec-Fetch-Site": "cross-site", ...(referer ? { Referer: referer } : {}) }) });
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
    const console = await gw.fetch("/agent", { headers: signedIn({ "Sec-Fetch-Site": "cross-site" }) });
    assert.equal(console.status, 200);
    assert.match(await console.text(), /<h1>Start co-browsing<\/h1>/);
  });
  // AGENT_AUTH=none (the harness's default) is local testing only and behaves as before.
  await withGateway({ vars: baseVars(suite.up.apiBase) }, async (gw) => {
    const res = await gw.fetch(`${LINK}&agent_id=a&agent_name=A`, { headers: { "Sec-Fetch-Site": "cross-site" } });
    assert.equal(res.status, 302);
  });
});
