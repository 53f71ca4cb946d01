// AGENT_AUTH=access: the agent is whoever Cloudflare Access's token names.
// Real RSA keys, real WebCrypto in workerd; the team's key endpoint is a
// loopback server reached through Miniflare's outbound routing.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startSimulator, baseVars, refusal, withGateway, ask } from "../support/harness.mjs";
import {
  startAccess, newKey, token, claims, serviceClaims, unsignedToken, hs256WithPublicKey, TEAM_DOMAIN, AUDIENCE,
  SERVICE_CLIENT_ID,
} from "../support/access-idp.mjs";

const LINK = "/agent?visitorid=sAlice01";
let up, access, key1, key2, stranger;

before(async () => {
  up = await startSimulator();
  access = await startAccess();
  [key1, key2, stranger] = [newKey("kid-one"), newKey("kid-two"), newKey("kid-one")];
});
after(async () => {
  await access?.close();
  await up?.close();
});
beforeEach(async () => {
  await up.reset();
  access.publish(key1, key2);
  access.resetFetches();
  access.fail(false);
  access.delay(0);
});

/** A gateway in access mode; fresh for each test, so its key cache starts empty. */
const withAccessGateway = (run, extra = {}) => withGateway({
  vars: baseVars(up.apiBase, {
    AGENT_AUTH: "access", ALLOW_UNAUTHENTICATED_AGENTS: "", ACCESS_TEAM_DOMAIN: TEAM_DOMAIN, ACCESS_AUD: AUDIENCE, ...extra,
  }),
  hosts: { [TEAM_DOMAIN]: access.url },
}, run);

const withToken = (jwt) => ({ "Cf-Access-Jwt-Assertion": jwt });

test("a valid Access token starts a session under the token's identity; link parameters are ignored", async () => {
  await withAccessGateway(async (gw) => {
    const res = await gw.fetch(`${LINK}&agent_id=mallory&agent_name=Mallory`, {
      headers: withToken(token(key1, claims({ name: "Ann Lee" }))),
    });
    assert.equal(res.status, 302, await res.clone().text());
    assert.equal(res.headers.get("cache-control"), "no-store");
    await up.assertAsked([ask.watch("sAlice01", { agent: { id: "7335d417-61da-459d-899c-0a01c76a2f94", name: "Ann Lee" } })]);
    assert.equal(access.fetches(), 1);

    // The second key of the set verifies too, with no further key fetch; name falls back to the email.
    const again = await gw.fetch(LINK, { headers: withToken(token(key2)) });
    assert.equal(again.status, 302);
    assert.equal((await up.requests())[1].body.agent.name, "ann.lee@example.com");
    assert.equal(access.fetches(), 1);
  });
});

test("several agents on one visitor each get their own watch_url", async () => {
  await withAccessGateway(async (gw) => {
    const ann = await gw.fetch(LINK, { headers: withToken(token(key1, claims({ sub: "u-ann", name: "Ann" }))) });
    const bob = await gw.fetch(LINK, { headers: withToken(token(key1, claims({ sub: "u-bob", name: "Bob" }))) });
    assert.equal(ann.status, 302);
    assert.equal(bob.status, 302);
    assert.notEqual(ann.headers.get("location"), bob.headers.get("location"));
    await up.assertAsked([
      ask.watch("sAlice01", { agent: { id: "u-ann", name: "Ann" } }),
      ask.watch("sAlice01", { agent: { id: "u-bob", name: "Bob" } }),
    ]);
  });
});

test("bad tokens are refused before any upstream call", async () => {
  const now = Math.floor(Date.now() / 1000);
  const cases = [
    ["no token", null, 401, "access_token_missing"],
    ["not a JWT", "definitely-not-a-token", 401, "access_token_invalid"],
    ["wrong aud", token(key1, claims({ aud: ["another-application"] })), 401, "access_token_invalid"],
    ["wrong iss", token(key1, claims({ iss: "https://evil.cloudflareaccess.com" })), 401, "access_token_invalid"],
    ["expired", token(key1, claims({ exp: now - 120, nbf: now - 720 })), 403, "access_token_expired"],
    ["not yet valid", token(key1, claims({ nbf: now + 300 })), 401, "access_token_invalid"],
    ["signed by another key with a known kid", token(stranger), 401, "access_token_invalid"],
    ["alg none", unsignedToken(key1), 401, "access_token_invalid"],
    ["HS256 keyed with the public key", hs256WithPublicKey(key1), 401, "access_token_invalid"],
    ["a person whose sub claims the service namespace", token(key1, claims({ sub: `service:${SERVICE_CLIENT_ID}` })), 401, "access_token_invalid"],
    ["a service token, with none listed", token(key1, serviceClaims()), 403, "access_service_token_unlisted"],
    ["claims changed after signing", (() => {
      const [h, , s] = token(key1).split(".");
      const forged = Buffer.from(JSON.stringify(claims({ sub: "admin" }))).toString("base64url");
      return `${h}.${forged}.${s}`;
    })(), 401, "access_token_invalid"],
  ];
  await withAccessGateway(async (gw) => {
    for (const [name, jwt, status, code] of cases) {
      const got = await refusal(gw, LINK, jwt ? withToken(jwt) : {});
      assert.deepEqual([got.status, got.code], [status, code], name);
    }
  });
  assert.deepEqual(await up.requests(), []);
});

test("an unknown kid refetches the keys once, then refuses; a rotated key is found the same way", async () => {
  await withAccessGateway(async (gw) => {
    assert.equal((await gw.fetch(LINK, { headers: withToken(token(key1)) })).status, 302);
    assert.equal(access.fetches(), 1);
    const unknown = newKey("kid-unknown");
    // Past the refetch cooldown (2 s), an unknown kid costs exactly one more fetch.
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal((await refusal(gw, LINK, withToken(token(unknown)))).code, "access_token_invalid");
    assert.equal(access.fetches(), 2);
    // Within the cooldown, unknown kids cost no fetch at all.
    assert.equal((await refusal(gw, LINK, withToken(token(unknown)))).code, "access_token_invalid");
    assert.equal(access.fetches(), 2);
    // Cloudflare rotates: the new key is published, and found by one refetch.
    access.publish(unknown, key1);
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal((await gw.fetch(LINK, { headers: withToken(token(unknown)) })).status, 302);
    assert.equal(access.fetches(), 3);
  });
  assert.equal((await up.requests()).length, 2, "only the two accepted tokens reached Upscope");
});

test("a failing key endpoint is asked at most once per cooldown: 502s in between, then it recovers", async () => {
  access.fail(true);
  await withAccessGateway(async (gw) => {
    for (let i = 0; i < 3; i++) {
      const got = await refusal(gw, LINK, withToken(token(key1)));
      assert.deepEqual([got.status, got.code], [502, "access_keys_unavailable"], `request ${i + 1}`);
    }
    assert.equal(access.fetches(), 1, "a failed fetch is remembered for the cooldown");
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal((await refusal(gw, LINK, withToken(token(key1)))).status, 502);
    assert.equal(access.fetches(), 2, "one more fetch after the cooldown");
    access.fail(false);
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal((await gw.fetch(LINK, { headers: withToken(token(key1)) })).status, 302);
    assert.equal(access.fetches(), 3);
  });
  assert.equal((await up.requests()).length, 1, "only the request after recovery reached Upscope");
});

test("requests that arrive while a key fetch is under way fetch nothing themselves", async () => {
  access.fail(true);
  access.delay(800);
  await withAccessGateway(async (gw) => {
    const forged = newKey("attacker-kid");
    const answers = await Promise.all(Array.from({ length: 20 }, () => refusal(gw, LINK, withToken(token(forged)))));
    assert.ok(answers.every((a) => a.status === 502), JSON.stringify(answers.map((a) => a.status)));
    assert.equal(access.fetches(), 1, "one fetch for twenty requests");
  });
  assert.deepEqual(await up.requests(), []);
});

test("incomplete access configuration is a 500 naming the setting, with no call anywhere", async () => {
  for (const [missing, expected] of [["ACCESS_AUD", /ACCESS_AUD/], ["ACCESS_TEAM_DOMAIN", /ACCESS_TEAM_DOMAIN/]]) {
    await withAccessGateway(async (gw) => {
      const got = await refusal(gw, LINK, withToken(token(key1)));
      assert.equal(got.status, 500);
      assert.equal(got.code, "gateway_misconfigured");
      assert.match(got.message, expected);
    }, { [missing]: "" });
  }
  assert.equal(access.fetches(), 0);
  assert.deepEqual(await up.requests(), []);
});

test("a listed service token is an agent: id service:<client id>, named by ACCESS_SERVICE_TOKENS", async () => {
  const listed = `${SERVICE_CLIENT_ID}=Smoke test,\n 5c1ee6b5a4e0a3c2d9f8e7d6c5b4a392.access = Helpdesk backend`;
  await withAccessGateway(async (gw) => {
    const res = await gw.fetch(`${LINK}&agent_id=mallory&agent_name=Mallory`, { headers: withToken(token(key1, serviceClaims())) });
    assert.equal(res.status, 302, await res.clone().text());
    const other = await gw.fetch(LINK, {
      headers: withToken(token(key2, serviceClaims("5c1ee6b5a4e0a3c2d9f8e7d6c5b4a392.access", { sub: undefined }))),
    });
    assert.equal(other.status, 302, await other.clone().text());
    await up.assertAsked([
      ask.watch("sAlice01", { agent: { id: `service:${SERVICE_CLIENT_ID}`, name: "Smoke test" } }),
      ask.watch("sAlice01", { agent: { id: "service:5c1ee6b5a4e0a3c2d9f8e7d6c5b4a392.access", name: "Helpdesk backend" } }),
    ]);
    const audits = gw.logLines().filter((l) => l.audit).map((l) => l.audit.agent_id);
    assert.deepEqual(audits, [`service:${SERVICE_CLIENT_ID}`, "service:5c1ee6b5a4e0a3c2d9f8e7d6c5b4a392.access"]);
  }, { ACCESS_SERVICE_TOKENS: listed });
});

test("an unlisted service token is refused before any upstream call; a person still gets in", async () => {
  await withAccessGateway(async (gw) => {
    const stranger = await refusal(gw, LINK, withToken(token(key1, serviceClaims("0a0b0c0d0e0f00112233445566778899.access"))));
    assert.deepEqual([stranger.status, stranger.code], [403, "access_service_token_unlisted"], stranger.message);
    assert.match(stranger.message, /ACCESS_SERVICE_TOKENS/);
    // An expired service token is expired, listed or not; a tampered one is invalid.
    const now = Math.floor(Date.now() / 1000);
    const expired = await refusal(gw, LINK, withToken(token(key1, serviceClaims(SERVICE_CLIENT_ID, { exp: now - 120 }))));
    assert.deepEqual([expired.status, expired.code], [403, "access_token_expired"]);
    const [h, , sig] = token(key1, serviceClaims("0a0b0c0d0e0f00112233445566778899.access")).split(".");
    const swapped = Buffer.from(JSON.stringify(serviceClaims())).toString("base64url");
    assert.equal((await refusal(gw, LINK, withToken(`${h}.${swapped}.${sig}`))).code, "access_token_invalid");
    assert.deepEqual(await up.requests(), []);
    assert.equal((await gw.fetch(LINK, { headers: withToken(token(key1)) })).status, 302, "people are unaffected");
  }, { ACCESS_SERVICE_TOKENS: `${SERVICE_CLIENT_ID}=Smoke test` });
});

test("a malformed ACCESS_SERVICE_TOKENS is a 500 naming it, echoing no value but a client id; /readyz reports it", async () => {
  const pastedSecret = "3f1c9e0d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e";
  const cases = [
    [SERVICE_CLIENT_ID, /ACCESS_SERVICE_TOKENS/],
    [`${pastedSecret}=Smoke test`, /ACCESS_SERVICE_TOKENS/],
    [`${SERVICE_CLIENT_ID}=`, new RegExp(`ACCESS_SERVICE_TOKENS.*${SERVICE_CLIENT_ID.replace(".", "\\.")}`)],
    [`${SERVICE_CLIENT_ID}=Smoke test, ${SERVICE_CLIENT_ID}=Again`, /ACCESS_SERVICE_TOKENS.*twice/],
  ];
  for (const [value, expected] of cases) {
    await withAccessGateway(async (gw) => {
      const got = await refusal(gw, LINK, withToken(token(key1, serviceClaims())));
      assert.deepEqual([got.status, got.code], [500, "gateway_misconfigured"], `${value}: ${got.message}`);
      assert.match(got.message, expected);
      assert.ok(!got.message.includes(pastedSecret), "a pasted secret is never echoed");
      assert.ok(!got.message.includes("Smoke test") && !got.message.includes("Again"), "names are not echoed");
      const ready = await (await gw.fetch("/readyz", { headers: { Accept: "application/json" } })).json();
      assert.ok(ready.problems.some((p) => p.includes("ACCESS_SERVICE_TOKENS")), JSON.stringify(ready));
      assert.ok(!JSON.stringify(ready).includes(pastedSecret));
    }, { ACCESS_SERVICE_TOKENS: value });
  }
  assert.equal(access.fetches(), 0);
  assert.deepEqual(await up.requests(), []);
});
