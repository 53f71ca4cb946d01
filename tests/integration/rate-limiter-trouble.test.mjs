// A rate limiter in trouble (one that hangs, one that fails) is bounded and
// handled per route: /visitor, public and anonymous, and /view, whose callers
// are outsiders holding replayable links, fail closed (503, no upstream
// call); /agent, whose callers are the company's verified staff, fails open
// with a warning. The limiter's time is never charged to Upscope's
// deadline, and no upstream call that was not sent is ever logged.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startSimulator, baseVars, refusal, withGateway, AGENT_QUERY, GATEWAY_ORIGIN as ORIGIN, pathOf, ask } from "../support/harness.mjs";
import { signLink } from "../../examples/sign-link.mjs";
import { startAccess, newKey, token, TEAM_DOMAIN, AUDIENCE } from "../support/access-idp.mjs";

/** The limiter of the review: it answers (allowing) only after 4 s. */
const HANG_MS = 4000;
/** Well under the hang: the limiter is given at most 500 ms. */
const PROMPT_MS = 2000;
const VISITOR_SECRET = "visitor-link-secret-for-limiter-tests-01";
const VIEWER_SECRET = "viewer-link-secret-for-limiter-tests-001";

let up;
before(async () => {
  up = await startSimulator();
});
after(() => up?.close());
beforeEach(() => up.reset());

const SEARCH = ask.search("id:alice-1001");
const WATCH = ask.watch("sAlice01");
const HELP_PAGE = encodeURIComponent("https://shop.example.com/help");
const AGENT_LINK = `/agent?uniqueid=alice-1001&${AGENT_QUERY}`;
const viewLink = () => pathOf(signLink(`${ORIGIN}/view?uniqueid=alice-1001&viewer_id=cust-501&viewer_name=Pat`, VIEWER_SECRET));

/** A gateway whose two limiters are both `trouble` (see `rateLimits` in the harness). */
const withTroubledLimiters = (trouble, run, extra = {}, options = {}) =>
  withGateway({
    ...options,
    vars: baseVars(up.apiBase, {
      UPSTREAM_TIMEOUT_MS: "1000", VISITOR_LINK_SECRET: VISITOR_SECRET, VIEWER_LINK_SECRET: VIEWER_SECRET,
      AUDIT_ID_SECRET: "audit-id-secret-for-limiter-tests-00001", ...extra,
    }),
    rateLimits: { VISITOR_RATE_LIMITER: trouble, AGENT_RATE_LIMITER: trouble },
  }, run);

async function timed(run) {
  const started = performance.now();
  const result = await run();
  return { result, ms: performance.now() - started };
}

/** The gateway's log line for its `n`th request (from 1), waiting a bounded while for it. */
async function logLine(gw, n) {
  for (let waited = 0; gw.logLines().length < n && waited < 2000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  const line = gw.logLines()[n - 1];
  assert.ok(line, `no log line for request ${n}`);
  return line;
}

const upstreamOf = (line) => line.upstream.map(({ ms, ...call }) => call);

const TROUBLES = [
  ["hangs for 4 s", { delayMs: HANG_MS }, "rate_limiter_timeout"],
  ["fails", "broken", "rate_limiter_failed"],
];

for (const [what, trouble, warning] of TROUBLES) {
  test(`a limiter that ${what}: /agent fails open with its normal 302, promptly, logging only the calls made`, async () => {
    await withTroubledLimiters(trouble, async (gw) => {
      const { result: res, ms } = await timed(() => gw.fetch(AGENT_LINK));
      assert.equal(res.status, 302, `${res.status} after ${Math.round(ms)} ms: ${await res.text()}`);
      assert.ok(ms < PROMPT_MS, `answered after ${Math.round(ms)} ms`);
      await up.assertAsked([SEARCH, WATCH]);
      const line = await logLine(gw, 1);
      assert.deepEqual(upstreamOf(line), [{ endpoint: "search", status: 200 }, { endpoint: "watch_url", status: 200 }]);
      assert.deepEqual(line.warnings, [warning]);
      assert.equal(line.outcome, "redirect");
    });
  });

  // Issue 25, item 9(d): /view's callers are outsiders holding links they
  // can replay until they expire; while the limiter cannot say, nothing else
  // bounds how many sessions such a link opens.
  test(`a limiter that ${what}: /view fails closed, 503 rate_limiter_unavailable, promptly, no upstream call`, async () => {
    await withTroubledLimiters(trouble, async (gw) => {
      const { result: got, ms } = await timed(() => refusal(gw, viewLink()));
      assert.deepEqual([got.status, got.code], [503, "rate_limiter_unavailable"], `after ${Math.round(ms)} ms: ${got.message}`);
      assert.ok(ms < PROMPT_MS, `answered after ${Math.round(ms)} ms`);
      assert.match(got.message, /try again/i);
      assert.deepEqual(await up.calls(), [], "Upscope is never called");
      const line = await logLine(gw, 1);
      assert.deepEqual([line.route, line.status, line.outcome, line.upstream, line.warnings], ["/view", 503, "rate_limiter_unavailable", [], [warning]]);
      assert.equal(line.audit, undefined, "no session, no audit record");
    });
  });

  test(`a limiter that ${what}: /visitor fails closed, 503 rate_limiter_unavailable with "Try again", no upstream call`, async () => {
    await withTroubledLimiters(trouble, async (gw) => {
      const { result: got, ms } = await timed(() => refusal(gw, "/visitor"));
      assert.deepEqual([got.status, got.code], [503, "rate_limiter_unavailable"], `after ${Math.round(ms)} ms: ${got.message}`);
      assert.ok(ms < PROMPT_MS, `answered after ${Math.round(ms)} ms`);
      assert.match(got.message, /try again/i);
      const page = await gw.fetch(`/visitor?url=${HELP_PAGE}`);
      assert.equal(page.status, 503);
      assert.ok((await page.text()).includes(`id="retry" href="/visitor?url=${HELP_PAGE}"`), "the visitor's frame offers Try again");
      assert.deepEqual(await up.calls(), [], "Upscope is never called");
      for (const n of [1, 2]) {
        const line = await logLine(gw, n);
        assert.deepEqual([line.status, line.outcome, line.upstream, line.warnings], [503, "rate_limiter_unavailable", [], [warning]]);
      }
    });
  });
}

test("the limiter's time is not charged to the upstream deadline: a 400 ms limiter with a 300 ms deadline still opens sessions", async () => {
  await withTroubledLimiters({ delayMs: 400 }, async (gw) => {
    const res = await gw.fetch(AGENT_LINK);
    const line = await logLine(gw, 1);
    assert.deepEqual(line.upstream.filter((call) => call.error), [], "the log line holds upstream calls that were never sent");
    assert.equal(res.status, 302, await res.text());
    await up.assertAsked([SEARCH, WATCH]);
    assert.deepEqual(upstreamOf(line), [{ endpoint: "search", status: 200 }, { endpoint: "watch_url", status: 200 }]);
    assert.equal(line.warnings, undefined, "a limiter that answers within its bound is no trouble");
    await up.reset();
    assert.equal((await gw.fetch("/visitor")).status, 302);
    await up.assertAsked([ask.proxy()]);
  }, { UPSTREAM_TIMEOUT_MS: "300" });
});

test("the same with Access, whose key fetch starts the deadline's timer before the limiter runs", async () => {
  const access = await startAccess();
  try {
    const key = newKey("kid-limiter");
    access.publish(key);
    const vars = { AGENT_AUTH: "access", ACCESS_TEAM_DOMAIN: TEAM_DOMAIN, ACCESS_AUD: AUDIENCE, UPSTREAM_TIMEOUT_MS: "300" };
    await withTroubledLimiters({ delayMs: 400 }, async (gw) => {
      const res = await gw.fetch("/agent?uniqueid=alice-1001", { headers: { "Cf-Access-Jwt-Assertion": token(key) } });
      const line = await logLine(gw, 1);
      assert.equal(res.status, 302, `${res.status}: ${JSON.stringify(line.upstream)}`);
      assert.deepEqual(upstreamOf(line), [
        { endpoint: "access_keys", status: 200 }, { endpoint: "search", status: 200 }, { endpoint: "watch_url", status: 200 },
      ]);
      await up.assertAsked([SEARCH, WATCH]);
    }, vars, { hosts: { [TEAM_DOMAIN]: access.url } });
  } finally {
    await access.close();
  }
});
