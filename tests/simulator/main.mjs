// Runs the simulator on its own:
//   node tests/simulator/main.mjs [--port 8788] [--gateway http://127.0.0.1:8787] [--edition cloud|on_premise]
import { createSimulator, DEV_API_KEY } from "./server.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const sim = createSimulator({ apiKey: process.env.SIM_API_KEY || DEV_API_KEY, gatewayUrl: arg("gateway", null), edition: arg("edition", "cloud") });
const base = await sim.listen(Number(arg("port", 8788)));
console.log(`Upscope simulator (${sim.edition}) listening on ${base} (UPSCOPE_API_BASE: ${sim.apiBase})`);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => sim.close().then(() => process.exit(0)));
