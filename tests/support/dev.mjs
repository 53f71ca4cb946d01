// The project's scripts as a person runs them: `make dev` (scripts/dev.mjs:
// wrangler dev and the simulator) on free loopback ports, and any other
// script with a time limit.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import { ROOT } from "../../scripts/lib/wrangler-config.mjs";

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts scripts/dev.mjs (with `env` over this process's environment, e.g.
 * UPSCOPE_EDITION) and waits (at most 120 s) until it prints its links,
 * which it does once /healthz answers. Returns the ports, its output so far,
 * how long it took, and `stop()`.
 */
export async function startDev({ env = {} } = {}) {
  const [gatewayPort, simulatorPort] = [await freePort(), await freePort()];
  const started = Date.now();
  const dev = spawn("node", ["scripts/dev.mjs"], {
    cwd: ROOT,
    env: { ...process.env, ...env, GATEWAY_PORT: String(gatewayPort), SIMULATOR_PORT: String(simulatorPort) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const state = { output: "" };
  dev.stdout.on("data", (d) => (state.output += d));
  dev.stderr.on("data", (d) => (state.output += d));
  const exited = new Promise((resolve) => dev.on("exit", resolve));
  const stop = async () => {
    dev.kill("SIGTERM");
    await exited;
  };
  try {
    while (!state.output.includes("Gateway:")) {
      assert.ok(Date.now() - started < 120_000, `make dev not ready in 120 s:\n${state.output}`);
      assert.equal(dev.exitCode, null, `make dev exited:\n${state.output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    gatewayPort,
    simulatorPort,
    readyMs: Date.now() - started,
    get output() {
      return state.output;
    },
    stop,
  };
}

/**
 * Runs `node <script> <args>` from the project's root with `env` over this
 * process's environment, killing it after `timeoutMs`; resolves to its exit
 * status, its stdout and stderr together, and how long it ran.
 */
export function runScript(script, args, { env = {}, timeoutMs }) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn("node", [script, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stdout += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, ms: Date.now() - started });
    });
  });
}
