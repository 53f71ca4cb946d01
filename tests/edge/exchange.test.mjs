// `exchange`, the one JS function every upstream call goes through, run in
// workerd on its own (not through the wasm): a 3xx from the API host comes
// back as the answer and is never followed, so the API key and the request
// body never reach the host a Location names. The gateway-level behaviour
// (a 502 naming the redirect, no retry) is tests/integration/upstream-redirects.test.mjs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { COMPATIBILITY_DATE, COMPATIBILITY_FLAGS } from "../support/harness.mjs";

/** Where `exchange` lives, from the repository root: the one place to change if it moves. */
const GLUE_MODULE = "src/edge/glue.js";

const GLUE_SOURCE = readFileSync(fileURLToPath(new URL(`../../${GLUE_MODULE}`, import.meta.url)), "utf8");
const API_KEY = "exchange-test-key-4f9a";

/** A loopback server that records each request and answers with `answer(req)`. */
async function server(answer) {
  const received = [];
  const srv = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ method: req.method, url: req.url, key: req.headers["x-api-key"] ?? null, body });
      const { status, headers = {}, text = "" } = answer(req);
      res.writeHead(status, headers);
      res.end(text);
    });
  });
  await new Promise((resolve) => srv.listen(0, "127.0.0.1", resolve));
  return { received, url: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((r) => { srv.closeAllConnections(); srv.close(r); }) };
}

let mf, elsewhere, api;
before(async () => {
  elsewhere = await server(() => ({ status: 200, headers: { "Content-Type": "application/json" }, text: '{"watch_url":"https://elsewhere.example/w/stolen"}' }));
  // The API host answers `/r/<status>` with that redirect to the other host, anything else with 200.
  api = await server((req) => {
    const redirect = req.url.match(/^\/r\/(\d{3})$/);
    if (redirect) return { status: Number(redirect[1]), headers: { Location: `${elsewhere.url}/stolen` }, text: "moved" };
    const status = Number(req.url.match(/^\/status\/(\d{3})$/)?.[1] ?? 200);
    return { status, headers: { "Content-Type": "application/json", "Retry-After": "7" }, text: '{"status":"ok"}' };
  });
  mf = new Miniflare({
    modules: [
      {
        type: "ESModule",
        path: "worker.mjs",
        contents: `
          import { exchange } from "./glue.js";
          export default {
            async fetch(request) {
              const { url, method, head, body } = await request.json();
              return new Response(await exchange(url, method, head, body, undefined));
            },
          };`,
      },
      { type: "ESModule", path: "glue.js", contents: GLUE_SOURCE },
    ],
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: COMPATIBILITY_FLAGS,
  });
  await mf.ready;
});
after(async () => {
  await mf?.dispose();
  await api?.close();
  await elsewhere?.close();
});

/** `exchange(url, method, head, body)` inside workerd; its answer split into status, Retry-After line, body. */
async function exchange(url, method, body = null) {
  const head = `x-api-key:${API_KEY}\ncontent-type:application/json`;
  const res = await mf.dispatchFetch("http://test/", { method: "POST", body: JSON.stringify({ url, method, head, body }) });
  const [status, retryAfter, ...rest] = (await res.text()).split("\n");
  return { status: Number(status), retryAfter, body: rest.join("\n") };
}

test('exchange never follows a redirect (redirect: "manual"): the 3xx is the answer and the other host gets nothing', async () => {
  for (const status of [301, 302, 303, 307, 308]) {
    for (const method of ["GET", "POST"]) {
      api.received.length = 0;
      const body = method === "POST" ? '{"secret":"body-4f9a"}' : null;
      const answer = await exchange(`${api.url}/r/${status}`, method, body);
      assert.equal(answer.status, status, `${method} ${status}: the redirect itself comes back`);
      assert.equal(answer.body, "moved");
      assert.deepEqual(elsewhere.received, [], `${method} ${status}: nothing reached the Location's host`);
      assert.deepEqual(api.received, [{ method, url: `/r/${status}`, key: API_KEY, body: body ?? "" }], "one request, to the API host");
    }
  }
});

test("exchange hands back the status, Retry-After of a refusal, and the body as lines", async () => {
  elsewhere.received.length = 0;
  const ok = await exchange(`${api.url}/usage`, "GET");
  assert.deepEqual(ok, { status: 200, retryAfter: "-", body: '{"status":"ok"}' }, "a success's Retry-After is not read");
  const limited = await exchange(`${api.url}/status/429`, "GET");
  assert.deepEqual(limited, { status: 429, retryAfter: "+7", body: '{"status":"ok"}' });
  assert.deepEqual(elsewhere.received, []);
});
