// `make dev` offline: starts with no network error (no Request.cf fetch) and
// answers its first request fast. Runs scripts/dev.mjs on free ports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import { ROOT } from "../../scripts/lib/wrangler-config.mjs";

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

test("make dev starts offline without a network error, and its first request is fast", async () => {
  const [gatewayPort, simulatorPort] = [await freePort(), await freePort()];
  const started = Date.now();
  const dev = spawn("node", ["scripts/dev.mjs"], {
    cwd: ROOT,
    env: { ...process.env, GATEWAY_PORT: String(gatewayPort), SIMULATOR_PORT: String(simulatorPort) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  dev.stdout.on("data", (d) => (output += d));
  dev.stderr.on("data", (d) => (output += d));
  const exited = new Promise((resolve) => dev.on("exit", resolve));
  try {
    // Ready: dev.mjs prints the links once /healthz answers.
    while (!output.includes("Gateway:")) {
      assert.ok(Date.now() - started < 120_000, `not ready in 120 s:\n${output}`);
      assert.equal(dev.exitCode, null, `make dev exited:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const readyMs = Date.now() - started;
    const t0 = Date.now();
    const res = await fetch(`http://127.0.0.1:${gatewayPort}/agent?lookup=4821&agent_id=demo-agent&agent_name=Demo%20Agent`, { redirect: "manual" });
    const firstMs = Date.now() - t0;
    assert.equal(res.status, 302, "the demo agent link reaches the simulator's watch page");
    assert.ok(firstMs < 1500, `first request took ${firstMs} ms`);
    console.log(`# make dev: ready in ${readyMs} ms, first request ${firstMs} ms`);
    for (const sign of ["Request.cf", "workers.cloudflare.com", "ENOTFOUND", "EAI_AGAIN", "Error:"]) {
      assert.ok(!output.includes(sign), `output mentions ${sign}:\n${output}`);
    }
  } finally {
    dev.kill("SIGTERM");
    await exited;
  }
});
