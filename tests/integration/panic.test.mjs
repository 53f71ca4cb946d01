// A panic is one failed request, never two: the request it cost (and any
// other the dying wasm instance was still serving) gets the gateway's own
// 500 page, JSON when asked, with one log line naming where it happened and
// nothing of the panic's message; the next request finds a fresh instance.
// Runs build-panic/ (scripts/build.sh panic: the `panic-on-purpose`
// feature's /__panic route, never deployed); the release build has no such route.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startGateway, startSimulator, baseVars, AGENT_QUERY } from "../support/harness.mjs";

let up, gw, release;
before(async () => {
  up = await startSimulator();
  gw = await startGateway({ vars: baseVars(up.apiBase), build: "build-panic" });
  release = await startGateway({ vars: baseVars(up.apiBase) });
});
after(async () => {
  await gw?.close();
  await release?.close();
  await up?.close();
});
beforeEach(() => up.reset());

/** The log lines of requests a panic cost. */
const panicLines = () => gw.logLines().filter((line) => line.outcome === "panic");

/** Everything the isolate printed, as one text. */
const output = () => gw.logs.join("");

async function expectGatewayError(res, { json }) {
  assert.equal(res.status, 500);
  // The gateway's own answer carries its request id and security headers; the runtime's own 500 does not.
  assert.match(res.headers.get("x-request-id") ?? "", /\S/, "the gateway's own 500, with its request id");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  if (json) {
    assert.match(res.headers.get("content-type"), /^application\/json/);
    const { error } = await res.json();
    assert.equal(error.code, "internal_error");
    assert.match(error.message, /Try again/);
  } else {
    assert.match(res.headers.get("content-type"), /^text\/html/);
    assert.match(await res.text(), /failed unexpectedly/);
  }
}

async function expectAnsweredNormally() {
  const res = await gw.fetch(`/agent?shortid=sAlice01&${AGENT_QUERY}`);
  assert.equal(res.status, 302, "the next request is answered normally, by a fresh instance");
  assert.match(res.headers.get("location"), /\/watch\//);
}

test("a panic in a request's first poll: the gateway's own 500 page, one log line naming where, then normal answers", async () => {
  const before = panicLines().length;
  await expectGatewayError(await gw.fetch("/__panic?now"), { json: false });
  const lines = panicLines().slice(before);
  assert.equal(lines.length, 1, "one log line for the one request it cost");
  assert.equal(lines[0].level, "error");
  assert.equal(lines[0].status, 500);
  assert.equal(lines[0].route, "other");
  assert.match(lines[0].panic, /^src\/routes\/mod\.rs:\d+$/);
  assert.doesNotMatch(output(), /a panic on purpose|__panic|Rust panic/, "neither the panic's message nor the URL is printed");
  assert.equal((await gw.fetch("/healthz")).status, 200);
  await expectAnsweredNormally();
});

test("asked for JSON, the 500 is JSON", async () => {
  await expectGatewayError(await gw.fetch("/__panic?now", { headers: { Accept: "application/json" } }), { json: true });
  await expectAnsweredNormally();
});

test("a panic after an await (inside a promise's reaction) is answered too, not left hanging", async () => {
  const before = panicLines().length;
  await expectGatewayError(await gw.fetch("/__panic?later"), { json: false });
  assert.equal(panicLines().length - before, 1);
  await expectAnsweredNormally();
});

test("the requests in flight on the instance that panicked are answered at once with the same 500, never left hanging", async () => {
  // Two requests wait on a slow Upscope; a third panics meanwhile.
  await up.fault({ endpoint: "watch_url", delay_ms: 4000, times: 2 });
  const before = panicLines().length;
  const started = Date.now();
  const waiting = [1, 2].map(() => gw.fetch(`/agent?shortid=sAlice01&${AGENT_QUERY}`));
  await new Promise((resolve) => setTimeout(resolve, 300));
  await expectGatewayError(await gw.fetch("/__panic?now"), { json: false });
  for (const res of await Promise.all(waiting)) await expectGatewayError(res, { json: false });
  assert.ok(Date.now() - started < 3500, "answered when the instance died, not when Upscope answered");
  assert.equal(panicLines().length - before, 3, "a line for each request the panic cost");
  await expectAnsweredNormally();
});

test("the release build has no panic route", async () => {
  const res = await release.fetch("/__panic?now");
  assert.equal(res.status, 404);
  await res.arrayBuffer();
});

// Traps that are no panic: the panic hook never runs, so no file:line is
// known, but wasm-bindgen's abort handler still tells the entry the instance died.
for (const [trap, what] of [
  ["overflow", "a stack overflow"],
  ["oom", "running out of memory"],
]) {
  test(`${what} (a trap, no panic) costs the same: the gateway's own 500, a log line, then normal answers`, async () => {
    await up.fault({ endpoint: "watch_url", delay_ms: 4000, times: 1 });
    const before = panicLines().length;
    const waiting = gw.fetch(`/agent?shortid=sAlice01&${AGENT_QUERY}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expectGatewayError(await gw.fetch(`/__panic?${trap}`), { json: false });
    await expectGatewayError(await waiting, { json: false });
    const lines = panicLines().slice(before);
    assert.equal(lines.length, 2, "a line for each request the trap cost");
    assert.ok(lines.every((line) => line.panic === "unknown"), JSON.stringify(lines));
    await expectAnsweredNormally();
  });
}
