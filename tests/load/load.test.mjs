// A short, bounded load run inside the test command: any error or hung
// request fails it. The figures are printed; they are not asserted, since
// speed is measured by the longer run in docs/development.md, not by tests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runLoad } from "../../scripts/load.mjs";

test("4 clients for 3 seconds: no errors, no hung requests", async () => {
  const report = await runLoad({ clients: 4, seconds: 3 });
  console.log(`load: ${JSON.stringify(report)}`);
  assert.ok(report.requests > 0);
  assert.deepEqual(report.errorSamples, []);
  assert.equal(report.errors, 0);
  assert.equal(report.hung, 0);
});
