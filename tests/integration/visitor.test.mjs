// /visitor: Universal-proxy sessions, page choice and the visitor's own ID.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gatewaySuite, baseVars, INITIAL_URL, withGateway, expectRefused as expectRefusedBy, ask } from "../support/harness.mjs";

const suite = gatewaySuite((apiBase) => ({ vars: baseVars(apiBase, { PROXY_ALLOWED_DOMAINS: "shop.example.com, cdn.example.com" }) }));

const expectRefused = (path, status, code) => expectRefusedBy(suite.gw, path, status, code);

test("opens the default page and redirects to the URL Upscope returns", async () => {
  const res = await suite.gw.fetch("/visitor");
  assert.equal(res.status, 302);
  assert.match(res.headers.get("location"), new RegExp(`^${suite.up.sim.url}/sim/proxy/[A-Za-z0-9_-]+$`));
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.headers.get("referrer-policy"), "no-referrer");
  await suite.up.assertAsked([ask.proxy({ initial_url: INITIAL_URL, allowed_domains: ["shop.example.com", "cdn.example.com"] })]);
});

test("uniqueid travels as ___upscope_unique_id, encoded, keeping the page's query and fragment", async () => {
  const res = await suite.gw.fetch("/visitor?uniqueid=alice%2Bx%40example.com");
  assert.equal(res.status, 302);
  const [request] = await suite.up.requests();
  assert.equal(request.body.initial_url,
    "https://shop.example.com/account?tab=profile&___upscope_unique_id=alice%2Bx%40example.com#top");
  assert.equal(new URL(request.body.initial_url).searchParams.get("___upscope_unique_id"), "alice+x@example.com");

  // Following the redirect reaches the simulator's proxy page, which saw the same ID.
  const page = await fetch(res.headers.get("location"));
  assert.equal(page.status, 200);
  assert.match(await page.text(), /id="proxy-unique-id">alice\+x@example\.com</);
});

test("?url= may pick a page under PROXY_ALLOWED_URLS", async () => {
  const res = await suite.gw.fetch(`/visitor?url=${encodeURIComponent("https://shop.example.com/orders/42?x=1#item")}&uniqueid=bob-2002`);
  assert.equal(res.status, 302);
  const [request] = await suite.up.requests();
  assert.equal(request.body.initial_url, "https://shop.example.com/orders/42?x=1&___upscope_unique_id=bob-2002#item");
});

test("?url= outside the allowlist is 400 with no upstream call", async () => {
  for (const url of [
    "https://shop.example.com/admin",
    "https://shop.example.com/helpdesk",
    "https://shop.example.com/help/../admin",
    "http://shop.example.com/help",
    "https://evil.example/help",
    "https://shop.example.com@evil.example/help",
    "javascript:alert(1)",
    "/help",
  ]) {
    const message = await expectRefused(`/visitor?url=${encodeURIComponent(url)}`, 400, "url_not_allowed");
    assert.match(message, /PROXY_ALLOWED_URLS/);
  }
  assert.deepEqual(await suite.up.requests(), []);
});

test("a ?url= page that names ___upscope_unique_id itself is refused: only the gateway names the visitor", async () => {
  const page = "https://shop.example.com/help?___upscope_unique_id=victim&a=1";
  for (const q of [`url=${encodeURIComponent(page)}&uniqueid=me`, `url=${encodeURIComponent(page)}`]) {
    const message = await expectRefused(`/visitor?${q}`, 400, "url_not_allowed");
    assert.match(message, /may not mention upscope, .*: the gateway sets the visitor's ID \(___upscope_unique_id\) itself \(use uniqueid=\)/);
  }
  assert.deepEqual(await suite.up.requests(), []);
});

test("a ?url= whose query or fragment spells upscope in any disguise is refused, with no upstream call", async () => {
  const help = "https://shop.example.com/help";
  const disguised = [
    ["IIS %u escapes for '_'", `${help}?___upscope%u005Funique%u005Fid=victim`],
    ["long s (U+017F) for 's'", `${help}?___up\u017Fcope_unique_id=victim`],
    ["long s in upper case", `${help}?___UP\u017FCOPE_UNIQUE_ID=victim`],
    ["full-width low line (U+FF3F) for '_'", `${help}?___upscope\uFF3Funique\uFF3Fid=victim`],
    ["IIS %u escape for a letter", `${help}?___%u0075pscope_unique_id=victim`],
    ["IIS %u surrogate pair (mathematical bold u)", `${help}?___%uD835%uDC2Epscope_unique_id=victim`],
    ["full-width letters", `${help}?___\uFF55\uFF50\uFF53\uFF43\uFF4F\uFF50\uFF45_unique_id=victim`],
    ["mathematical bold letters", `${help}?___\u{1D42E}\u{1D429}\u{1D42C}\u{1D41C}\u{1D428}\u{1D429}\u{1D41E}_unique_id=victim`],
    ["modifier letter small u", `${help}?___\u1D58pscope_unique_id=victim`],
    ["a soft hyphen inside the word", `${help}?___up\u00ADscope_unique_id=victim`],
    ["a full-width '%' escape", `${help}?___\uFF0575pscope_unique_id=victim`],
    ["an overlong UTF-8 'u'", `${help}?___%C1%B5pscope_unique_id=victim`],
    ["long s in the fragment", `${help}#/route?___up\u017Fcope_unique_id=victim`],
  ];
  for (const [name, page] of disguised) {
    const message = await expectRefused(`/visitor?url=${encodeURIComponent(page)}&uniqueid=me`, 400, "url_not_allowed");
    assert.match(message, /may not mention upscope/, name);
  }
  assert.equal((await suite.up.requests()).length, 0, "no disguised page reached Upscope");

  // Pages that only come near: still accepted.
  const fine = [
    `${help}/faq?q=caf%C3%A9&mark=%E2%9C%93#section-2`,
    `${help}/upscope-guide`,
    `${help}?topic=setup%20scope`,
    `${help}?q=scope#up`,
    `${help}?ref=\uFF21\uFF22\uFF23`,
    "https://shop.example.com/orders/42?x=1#item",
  ];
  for (const page of fine) {
    const res = await suite.gw.fetch(`/visitor?url=${encodeURIComponent(page)}`);
    assert.equal(res.status, 302, `${page}: ${await res.clone().text()}`);
  }
  assert.equal((await suite.up.requests()).length, fine.length);
});

test("a ___upscope_unique_id in PROXY_INITIAL_URL itself is replaced by the visitor's, or dropped", async () => {
  const vars = baseVars(suite.up.apiBase, { PROXY_INITIAL_URL: "https://shop.example.com/account?___upscope_unique_id=stale&a=1" });
  await withGateway({ vars }, async (gw) => {
    assert.equal((await gw.fetch("/visitor?uniqueid=me")).status, 302);
    assert.equal((await gw.fetch("/visitor")).status, 302);
  });
  const [withId, withoutId] = await suite.up.requests();
  assert.equal(withId.body.initial_url, "https://shop.example.com/account?a=1&___upscope_unique_id=me");
  assert.equal(withoutId.body.initial_url, "https://shop.example.com/account?a=1");
});

test("a bad or repeated uniqueid is 400 with no upstream call", async () => {
  for (const q of ["uniqueid=alice%20online", "uniqueid=a%2Fb", "uniqueid=", "uniqueid=%2A", `uniqueid=${"x".repeat(129)}`]) {
    const message = await expectRefused(`/visitor?${q}`, 400, "invalid_parameter");
    assert.match(message, /^uniqueid: visitor ID is not valid: use 1 to 128 characters/);
  }
  await expectRefused("/visitor?uniqueid=a&uniqueid=b", 400, "repeated_parameter");
  assert.deepEqual(await suite.up.requests(), []);
});

test("without PROXY_ALLOWED_URLS any ?url= is refused", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase, { PROXY_ALLOWED_URLS: "" }) }, async (strict) => {
    const res = await strict.fetch(`/visitor?url=${encodeURIComponent(INITIAL_URL)}`);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /remove the url parameter/);
    assert.deepEqual(await suite.up.requests(), []);
  });
});

test("missing PROXY_INITIAL_URL or UPSCOPE_API_KEY is a 500 naming it, with no upstream call", async () => {
  for (const [name, vars] of [
    ["PROXY_INITIAL_URL", baseVars(suite.up.apiBase, { PROXY_INITIAL_URL: undefined })],
    ["UPSCOPE_API_KEY", baseVars(suite.up.apiBase, { UPSCOPE_API_KEY: undefined })],
  ]) {
    delete vars[name];
    await withGateway({ vars }, async (broken) => {
      const res = await broken.fetch("/visitor", { headers: { Accept: "application/json" } });
      assert.equal(res.status, 500, name);
      const { error } = await res.json();
      assert.equal(error.code, "gateway_misconfigured");
      assert.match(error.message, new RegExp(`^gateway misconfigured: .*${name}`));
    });
  }
  assert.deepEqual(await suite.up.requests(), []);
});

test("a proxy answer without a usable URL is a 502, not a redirect", async () => {
  await suite.up.fault({ method: "POST", path: "/proxy_sessions", status: 200, body: { status: "ok", link: "https://x.example/" } });
  const message = await expectRefused("/visitor", 502, "upstream_unreadable");
  assert.match(message, /the gateway needs a session URL under url, proxy_url, redirect_url or session_url .* and it had the members link, status/);
  await suite.up.fault({ method: "POST", path: "/proxy_sessions", status: 200, body: { status: "ok", url: "http://x.example/" } });
  assert.match(await expectRefused("/visitor", 502, "upstream_bad_response"), /without an https session URL/);
});

test("a list setting given as a TOML array of strings reads like the spaced text form", async () => {
  await withGateway({ vars: baseVars(suite.up.apiBase, { PROXY_ALLOWED_DOMAINS: ["shop.example.com", "cdn.example.com"] }) }, async (gw) => {
    assert.equal((await gw.fetch("/visitor")).status, 302);
    const [request] = await suite.up.requests();
    assert.deepEqual(request.body.allowed_domains, ["shop.example.com", "cdn.example.com"]);
  });
});
