// Who may frame the gateway's own pages: EMBED_ORIGINS for /visitor,
// AGENT_EMBED_ORIGINS for /agent, nobody by default; the headers every
// response carries.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSimulator, baseVars, withGateway } from "../support/harness.mjs";

let up;
before(async () => {
  up = await startSimulator();
});
after(() => up?.close());

/** A gateway with the usual settings plus `vars`. */
const withSettings = (vars, run) => withGateway({ vars: baseVars(up.apiBase, vars) }, run);

const ancestors = (res) => res.headers.get("content-security-policy")?.match(/frame-ancestors ([^;]*)$/)?.[1];

test("by default no site may frame any gateway page", async () => {
  await withSettings({}, async (gw) => {
    for (const path of ["/visitor?url=https%3A%2F%2Fevil.example%2F", "/visitor", "/agent?lookup=12", "/healthz", "/nowhere"]) {
      const res = await gw.fetch(path);
      assert.equal(ancestors(res), "'none'", path);
      assert.match(res.headers.get("content-security-policy"), /^default-src 'none'; /, path);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
      assert.equal(res.headers.get("referrer-policy"), "no-referrer", path);
      assert.equal(res.headers.get("cache-control"), "no-store", path);
      assert.match(res.headers.get("x-request-id"), /^[0-9a-f]{16}$/, path);
    }
  });
});

test("EMBED_ORIGINS lets the company's site frame /visitor pages, and only those", async () => {
  const vars = { EMBED_ORIGINS: "https://shop.example.com, https://*.example.org" };
  await withSettings(vars, async (gw) => {
    const error = await gw.fetch("/visitor?url=https%3A%2F%2Fevil.example%2F");
    assert.equal(error.status, 400);
    assert.match(error.headers.get("content-type"), /^text\/html/);
    assert.equal(ancestors(error), "https://shop.example.com https://*.example.org");
    assert.equal(ancestors(await gw.fetch("/visitor")), "https://shop.example.com https://*.example.org");
    assert.equal(ancestors(await gw.fetch("/agent?lookup=12")), "'none'", "/agent keeps its own rule");
  });
});

test("AGENT_EMBED_ORIGINS lets a helpdesk frame /agent pages", async () => {
  await withSettings({ AGENT_EMBED_ORIGINS: "https://help.example.com" }, async (gw) => {
    const res = await gw.fetch("/agent?lookup=12&agent_id=a&agent_name=A");
    assert.equal(res.status, 400);
    assert.equal(ancestors(res), "https://help.example.com");
    assert.equal(ancestors(await gw.fetch("/visitor?url=x")), "'none'");
  });
});

test("an EMBED_ORIGINS entry that is not an origin is a 500 naming it, with no upstream call", async () => {
  await up.reset();
  await withSettings({ EMBED_ORIGINS: "https://shop.example.com/help" }, async (gw) => {
    const res = await gw.fetch("/visitor", { headers: { Accept: "application/json" } });
    assert.equal(res.status, 500);
    assert.match((await res.json()).error.message, /EMBED_ORIGINS: entry 1 \(https:\/\/shop\.example\.com\/help\) is not an origin/);
    assert.equal(ancestors(res), "'none'");
  });
  assert.deepEqual(await up.requests(), []);
});
