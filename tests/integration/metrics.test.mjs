// Metrics: one Workers Analytics Engine data point per request, in the fixed
// layout of `data_point` (src/observe.rs; docs/operations.md, "Metrics"), written to the
// METRICS binding next to the log line. Each flow's point is asserted whole:
// its ms are the same request's log line's, every other field is a constant
// here. No point names a customer, a visitor, an agent or a viewer, and none
// holds a URL or a secret.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  startSimulator, startGateway, withGateway, baseVars, API_KEY, GATEWAY_ORIGIN as ORIGIN, pathOf, DATA_POINT_PREFIX,
} from "../support/harness.mjs";
import { signLink } from "../../examples/sign-link.mjs";

const VISITOR_SECRET = "visitor-link-secret-for-metric-tests-01";
const VIEWER_SECRET = "viewer-link-secret-for-metric-tests-001";
const AUDIT_SECRET = "audit-id-secret-for-metric-tests-00001";
const VERSION_ID = "4f1c0b2a-9d8e-4c7b-a6f5-0e1d2c3b4a59";
const CRATE_VERSION = /^version = "(.+)"$/m.exec(readFileSync(new URL("../../Cargo.toml", import.meta.url), "utf8"))[1];
/** Upstream calls a point itemises (`POINT_CALLS`). */
const CALLS = 8;
const AGENT = "agent_id=agent-7&agent_name=Ann%20Lee";
const VIEWER = "viewer_id=cust-501&viewer_name=Pat%20Customer";

let up, gw;
before(async () => {
  up = await startSimulator();
  gw = await startGateway({
    vars: baseVars(up.apiBase, {
      VISITOR_LINK_SECRET: VISITOR_SECRET, VIEWER_LINK_SECRET: VIEWER_SECRET, AUDIT_ID_SECRET: AUDIT_SECRET,
      UPSTREAM_TIMEOUT_MS: "1000",
    }),
    kv: true,
    metrics: true,
    versionMetadata: { id: VERSION_ID, tag: "", timestamp: "2026-01-01T00:00:00Z" },
  });
});
after(async () => {
  await gw?.close();
  await up?.close();
});
beforeEach(() => up.reset());

const pad = (list, fill) => [...list, ...Array(CALLS - list.length).fill(fill)];

/**
 * The data point a request with this log line must have written: route,
 * outcome, status, cache and calls (`"endpoint status"` or `"endpoint error"`)
 * as expected here; the milliseconds as its log line says.
 */
function expectedPoint(line, { route, status, outcome, cache, calls }) {
  assert.deepEqual(line.upstream.map((u) => `${u.endpoint} ${u.status ?? u.error}`), calls, "the log line's calls");
  const parsed = calls.map((c) => c.split(" "));
  return {
    indexes: [route],
    blobs: [
      outcome, cache, VERSION_ID, CRATE_VERSION,
      ...pad(parsed.map(([endpoint]) => endpoint), ""),
      ...pad(parsed.map(([, result]) => (/^\d+$/.test(result) ? "" : result)), ""),
    ],
    doubles: [
      status, line.total_ms, calls.length,
      ...pad(parsed.map(([, result]) => (/^\d+$/.test(result) ? Number(result) : 0)), 0),
      ...pad(line.upstream.map((u) => u.ms), 0),
    ],
  };
}

/** Requests `path`; returns its status, the one data point and the one log line it added. */
async function requestWithPoint(path, headers = {}) {
  const points = gw.dataPoints().length;
  const lines = gw.logLines().length;
  const res = await gw.fetch(path, { headers });
  await res.arrayBuffer();
  // The output reaches the harness a moment after the answer.
  for (let i = 0; i < 50 && (gw.dataPoints().length === points || gw.logLines().length === lines); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const added = gw.dataPoints().slice(points);
  const addedLines = gw.logLines().slice(lines);
  assert.equal(added.length, 1, `${path}: one data point`);
  assert.equal(addedLines.length, 1, `${path}: one log line`);
  return { status: res.status, point: added[0], line: addedLines[0] };
}

const seen = [];
async function expectPoint(path, expected, headers) {
  const { status, point, line } = await requestWithPoint(path, headers);
  assert.equal(status, expected.status, path);
  assert.deepEqual(point, expectedPoint(line, expected), path);
  assert.ok(Number.isInteger(line.total_ms) && line.total_ms >= 0);
  seen.push({ path, point, line });
  return { point, line };
}

const visitorLink = (id) => pathOf(signLink(`${ORIGIN}/visitor?uniqueid=${id}`, VISITOR_SECRET));
const viewLink = (query) => pathOf(signLink(`${ORIGIN}/view?${query}`, VIEWER_SECRET));

test("/visitor: route, outcome, status, the proxy session call, no cache", async () => {
  await expectPoint(visitorLink("alice-1001"), {
    route: "/visitor", status: 302, outcome: "redirect", cache: "none", calls: ["proxy_sessions 200"],
  });
});

test("/agent by Short ID, by own ID (a miss, then a hit) and by lookup code", async () => {
  await expectPoint(`/agent?visitorid=sAlice01&${AGENT}`, {
    route: "/agent", status: 302, outcome: "redirect", cache: "none", calls: ["watch_url 200"],
  });
  await expectPoint(`/agent?uniqueid=alice-1001&${AGENT}`, {
    route: "/agent", status: 302, outcome: "redirect", cache: "miss", calls: ["search 200", "watch_url 200"],
  });
  // On a hit the session starts alongside the search: the calls are in the order they ended.
  const hit = await requestWithPoint(`/agent?uniqueid=alice-1001&${AGENT}`);
  const order = hit.line.upstream.map((u) => `${u.endpoint} ${u.status}`);
  assert.deepEqual([...order].sort(), ["search 200", "watch_url 200"]);
  assert.equal(hit.status, 302);
  assert.deepEqual(hit.point, expectedPoint(hit.line, { route: "/agent", status: 302, outcome: "redirect", cache: "hit", calls: order }));
  seen.push({ path: "/agent?uniqueid=alice-1001", ...hit });
  await expectPoint(`/agent?lookup=4821&${AGENT}`, {
    route: "/agent", status: 302, outcome: "redirect", cache: "none", calls: ["search 200", "watch_url 200"],
  });
});

test("/view: the viewer's session, with the viewer named nowhere", async () => {
  const { line } = await expectPoint(viewLink(`visitorid=sAlice01&${VIEWER}`), {
    route: "/view", status: 302, outcome: "redirect", cache: "none", calls: ["watch_url 200"],
  });
  assert.equal(line.audit.role, "viewer");
});

test("a 4xx refusal before any upstream call, and an unknown path", async () => {
  await expectPoint(`/agent?uniqueid=bad%20id&${AGENT}`, {
    route: "/agent", status: 400, outcome: "invalid_parameter", cache: "none", calls: [],
  });
  await expectPoint("/no/such/page?uniqueid=alice-1001", {
    route: "other", status: 404, outcome: "not_found", cache: "none", calls: [],
  });
});

test("upstream failures: a search Upscope refuses twice, and a session call that times out", async () => {
  await up.fault({ method: "GET", path: "/list", status: 503, times: 2 });
  await expectPoint(`/agent?lookup=4821&${AGENT}`, {
    route: "/agent", status: 503, outcome: "upstream_unavailable", cache: "none", calls: ["search 503", "search 503"],
  });
  await up.fault({ method: "POST", path: "/proxy_sessions", delay_ms: 1500, times: 1 });
  await expectPoint(visitorLink("alice-1001"), {
    route: "/visitor", status: 504, outcome: "upstream_timeout", cache: "none", calls: ["proxy_sessions timeout"],
  });
});

test("no data point names a customer, visitor, agent or viewer, or holds a URL or a secret", () => {
  assert.ok(seen.length >= 9, `the flows above ran (${seen.length})`);
  const pseudonym = seen.find((s) => s.line.audit?.role === "viewer").line.audit.viewer;
  const forbidden = [
    "alice-1001", "sAlice01", "4821", "agent-7", "Ann Lee", "Ann%20Lee", "cust-501", "Pat Customer", pseudonym,
    "http", "://", "?", "=", API_KEY, VISITOR_SECRET, VIEWER_SECRET, AUDIT_SECRET,
    ...seen.map((s) => new URL(s.path, ORIGIN).searchParams.get("sig")).filter(Boolean),
  ];
  const written = gw.logs.join("").split("\n").filter((l) => l.startsWith(DATA_POINT_PREFIX));
  assert.equal(written.length, gw.dataPoints().length);
  for (const { point } of seen) {
    const strings = [...point.indexes, ...point.blobs].join("\n");
    for (const secret of forbidden) assert.ok(!strings.includes(secret), `a data point holds ${secret}: ${strings}`);
    assert.equal(point.blobs.length, 20);
    assert.equal(point.doubles.length, 19);
    assert.ok(point.doubles.every((d) => Number.isInteger(d) && d >= 0));
  }
});

test("a dataset that throws costs only the point: the request is answered and the line warns; unbound, nothing is written", async () => {
  await withGateway({ vars: baseVars(up.apiBase), metrics: "broken" }, async (broken) => {
    const res = await broken.fetch(`/agent?visitorid=sAlice01&${AGENT}`);
    assert.equal(res.status, 302);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(broken.logLines().map((l) => [l.status, l.warnings]), [[302, ["metrics_write_failed"]]]);
    assert.deepEqual(broken.dataPoints(), []);
  });
  await withGateway({ vars: baseVars(up.apiBase) }, async (unbound) => {
    const res = await unbound.fetch(`/agent?visitorid=sAlice01&${AGENT}`);
    assert.equal(res.status, 302);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(unbound.logLines().map((l) => [l.status, l.warnings]), [[302, undefined]]);
    assert.deepEqual(unbound.dataPoints(), []);
  });
});

test("an unreachable Upscope: the call's error is `unreachable`; /readyz names the metrics feature", async () => {
  await withGateway({ vars: baseVars("http://127.0.0.1:9/v1.3"), metrics: true }, async (down) => {
    const res = await down.fetch(`/agent?visitorid=sAlice01&${AGENT}`);
    await res.arrayBuffer();
    const ready = await (await down.fetch("/readyz")).json();
    assert.ok(ready.features.includes("metrics"), ready.features.join(" "));
    await new Promise((r) => setTimeout(r, 200));
    const [line] = down.logLines();
    const [point] = down.dataPoints();
    assert.deepEqual(point, {
      indexes: ["/agent"],
      blobs: [
        "upstream_unreachable", "none", "", CRATE_VERSION,
        "watch_url", "", "", "", "", "", "", "",
        "unreachable", "", "", "", "", "", "", "",
      ],
      doubles: [502, line.total_ms, 1, 0, 0, 0, 0, 0, 0, 0, 0, line.upstream[0].ms, 0, 0, 0, 0, 0, 0, 0],
    });
    assert.deepEqual([line.status, line.outcome], [502, "upstream_unreachable"]);
  });
});
