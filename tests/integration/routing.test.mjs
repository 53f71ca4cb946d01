// Routes, methods, content negotiation and the headers every answer carries.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { gatewaySuite } from "../support/harness.mjs";

const suite = gatewaySuite();

const cargoVersion = readFileSync(new URL("../../Cargo.toml", import.meta.url), "utf8").match(/^version = "(.+)"/m)[1];

test("GET /healthz answers 200 JSON with the version and calls nothing upstream", async () => {
  const res = await suite.gw.fetch("/healthz");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^application\/json/);
  assert.deepEqual(await res.json(), { status: "ok", version: cargoVersion });
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.deepEqual(await suite.up.requests(), []);
});

test("unknown paths are 404 with an HTML page naming the real routes", async () => {
  for (const path of ["/", "/visitor/", "/agents", "/healthz/x", "/VISITOR"]) {
    const res = await suite.gw.fetch(path);
    assert.equal(res.status, 404, path);
    assert.match(res.headers.get("content-type"), /^text\/html/);
    assert.match(await res.text(), /\/visitor, \/agent, \/view, \/healthz and \/readyz/);
  }
  assert.deepEqual(await suite.up.requests(), []);
});

test("wrong methods are 405 with Allow: GET (GET, POST on /agent) and no upstream call", async () => {
  for (const [method, path] of [["POST", "/visitor"], ["PUT", "/agent?visitorid=abc"], ["DELETE", "/agent"], ["HEAD", "/visitor"], ["POST", "/healthz"],
    // A method the runtime passes through as it is (once read as GET by worker::Method).
    ["PURGE", "/agent?visitorid=abc"]]) {
    const res = await suite.gw.fetch(path, { method });
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get("allow"), path.startsWith("/agent") ? "GET, POST" : "GET");
    await res.arrayBuffer();
  }
  assert.deepEqual(await suite.up.requests(), []);
});

test("errors are JSON when Accept prefers application/json, HTML otherwise", async () => {
  const json = await suite.gw.fetch("/agent?lookup=12&agent_id=a&agent_name=b", { headers: { Accept: "application/json" } });
  assert.equal(json.status, 400);
  assert.match(json.headers.get("content-type"), /^application\/json/);
  const body = await json.json();
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.equal(body.error.code, "invalid_parameter");
  assert.match(body.error.message, /four digits/);

  const html = await suite.gw.fetch("/agent?lookup=12&agent_id=a&agent_name=b", { headers: { Accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
  assert.equal(html.status, 400);
  assert.match(html.headers.get("content-type"), /^text\/html/);
  assert.match(await html.text(), /four digits/);

  const tie = await suite.gw.fetch("/nowhere", { headers: { Accept: "*/*" } });
  assert.match(tie.headers.get("content-type"), /^text\/html/);
  await tie.arrayBuffer();
});

test("error pages are never cached and never sniffed", async () => {
  const res = await suite.gw.fetch("/agent");
  assert.equal(res.status, 400);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  await res.arrayBuffer();
});
