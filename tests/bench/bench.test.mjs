// The benchmark in quick mode (1 round, 1 s per flow and side): proves that
// `make bench` works and that every flow is served by both sides. Speed is
// never asserted here; the full run (`make bench`) is where it is measured.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Miniflare } from "miniflare";
import { fileURLToPath } from "node:url";
import { runBench, formatReport, FLOWS, workers } from "../../bench/bench.mjs";

test("make bench, quick: a row for every flow, requests on both sides, ratios computed", async () => {
  const report = await runBench({ rounds: 1, seconds: 1, connections: 4, warmupSeconds: 0, startupRuns: 1, log: () => {} });
  console.log(formatReport(report));
  assert.deepEqual(report.flows.map((f) => f.name), FLOWS.map((f) => f.name));
  for (const flow of report.flows) {
    for (const side of ["gateway", "reference"]) {
      assert.ok(flow[side].rps > 0, `${flow.name}: ${side} served requests`);
      assert.equal(flow[side].errors, 0, `${flow.name}: ${side} had no failed requests`);
    }
    assert.ok(Number.isFinite(flow.ratio) && flow.ratio > 0, `${flow.name}: ratio ${flow.ratio}`);
    if (process.platform === "linux") {
      for (const side of ["gateway", "reference"]) assert.ok(flow[side].cpuUs > 0, `${flow.name}: ${side} CPU per request measured`);
      assert.ok(Number.isFinite(flow.cpuRatio) && flow.cpuRatio > 0, `${flow.name}: CPU ratio ${flow.cpuRatio}`);
    }
  }
  assert.ok(report.size.gateway.wasm > 0 && report.size.gateway.js > 0 && report.size.reference.total > 0);
  assert.ok(report.startup.gateway.samples.length === 1 && report.startup.reference.samples.length === 1);
  for (const side of ["gateway", "reference"]) assert.ok(report.startupCompile[side].ms > 0, `${side}: startup CPU measured`);
});

test("--reference-logs: the reference writes one log line a request, and only then", async () => {
  for (const referenceLogs of [true, false]) {
    let output = "";
    const mf = new Miniflare({
      workers: workers(undefined, { referenceLogs }),
      handleRuntimeStdio(stdout, stderr) {
        stdout.on("data", (chunk) => (output += chunk));
        stderr.resume();
      },
    });
    try {
      const origin = (await mf.unsafeGetDirectURL("reference")).origin;
      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${origin}/no-such-page`)).status, 404);
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      await mf.dispose();
    }
    const lines = output.split("\n").filter((line) => line.includes('"path":"/no-such-page"'));
    assert.equal(lines.length, referenceLogs ? 3 : 0, `referenceLogs ${referenceLogs}: ${output}`);
  }
});

test("--baseline: a second build measured in the same rounds, with after ÷ before", async () => {
  // The same build on both sides: the machinery is what is checked, not a speed.
  const report = await runBench({ baseline: fileURLToPath(new URL("../../build", import.meta.url)), only: ["404"], rounds: 1, seconds: 1, connections: 4, warmupSeconds: 0, startupRuns: 0, log: () => {} });
  const text = formatReport(report);
  console.log(text);
  const [row] = report.flows;
  assert.ok(row.baseline.rps > 0 && row.baseline.errors === 0, "the baseline served the flow");
  assert.ok(Number.isFinite(row.baseline.ratio) && Number.isFinite(row.baseline.speedup) && row.baseline.speedup > 0);
  if (process.platform === "linux") assert.ok(Number.isFinite(row.baseline.cpuSpeedup) && row.baseline.cpuSpeedup > 0);
  assert.ok(report.size.baseline.total > 0);
  assert.match(text, /after ÷ before/);
});
