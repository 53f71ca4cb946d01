// `make dev` offline: starts with no network error (no Request.cf fetch) and
// answers its first request fast. Runs scripts/dev.mjs on free ports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startDev } from "../support/dev.mjs";

test("make dev starts offline without a network error, and its first request is fast", async () => {
  const dev = await startDev();
  try {
    const t0 = Date.now();
    const res = await fetch(`http://127.0.0.1:${dev.gatewayPort}/agent?lookup=4821&agent_id=demo-agent&agent_name=Demo%20Agent`, { redirect: "manual" });
    const firstMs = Date.now() - t0;
    assert.equal(res.status, 302, "the demo agent link reaches the simulator's watch page");
    assert.ok(firstMs < 1500, `first request took ${firstMs} ms`);
    console.log(`# make dev: ready in ${dev.readyMs} ms, first request ${firstMs} ms`);
    for (const sign of ["Request.cf", "workers.cloudflare.com", "ENOTFOUND", "EAI_AGAIN", "Error:"]) {
      assert.ok(!dev.output.includes(sign), `output mentions ${sign}:\n${dev.output}`);
    }
  } finally {
    await dev.stop();
  }
});
