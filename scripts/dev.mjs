// `make dev`: the Upscope simulator on :8788 and the gateway under
// `wrangler dev --env dev` on :8787, until Ctrl-C. (GATEWAY_PORT and
// SIMULATOR_PORT move them, e.g. for a test.) `UPSCOPE_EDITION=on_premise
// make dev` runs both as Upscope on premise: the simulator serves the
// on-premise API and the gateway is told UPSCOPE_EDITION and its base.
//
// Offline-safe: Miniflare would fetch the `Request.cf` object from
// workers.cloudflare.com on start (a network error offline, and a wait of up
// to 3 s); CLOUDFLARE_CF_FETCH_ENABLED=false makes it use its built-in
// placeholder at once. The gateway reads nothing from `request.cf`.
import { spawn } from "node:child_process";
import { createSimulator, DEV_API_KEY, EDITIONS } from "../tests/simulator/server.mjs";

const gatewayPort = Number(process.env.GATEWAY_PORT || 8787);
const simulatorPort = Number(process.env.SIMULATOR_PORT || 8788);
const edition = process.env.UPSCOPE_EDITION || "cloud";
if (!EDITIONS.includes(edition)) {
  console.error(`make dev: UPSCOPE_EDITION must be ${EDITIONS.join(" or ")}`);
  process.exit(2);
}
const GATEWAY = `http://127.0.0.1:${gatewayPort}`;
const sim = createSimulator({ apiKey: DEV_API_KEY, gatewayUrl: GATEWAY, edition });
await sim.listen(simulatorPort);

const args = ["dev", "--env", "dev", "--ip", "127.0.0.1", "--port", String(gatewayPort)];
if (simulatorPort !== 8788 || edition !== "cloud") args.push("--var", `UPSCOPE_API_BASE:${sim.apiBase}`);
if (edition !== "cloud") args.push("--var", `UPSCOPE_EDITION:${edition}`);
const wrangler = spawn("wrangler", args, {
  stdio: ["inherit", "inherit", "inherit"],
  env: { CLOUDFLARE_CF_FETCH_ENABLED: "false", ...process.env },
});
const stop = () => {
  wrangler.kill("SIGTERM");
  sim.close().finally(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
wrangler.on("exit", (code) => {
  sim.close().finally(() => process.exit(code ?? 1));
});

// Tell the person where to go once the gateway answers (bounded wait: 5 minutes, for a first build).
const deadline = Date.now() + 5 * 60_000;
while (Date.now() < deadline) {
  const up = await fetch(`${GATEWAY}/healthz`).then((r) => r.ok, () => false);
  if (up) {
    console.log(`
  Gateway:    ${GATEWAY}   (upstream: Upscope simulator${edition === "cloud" ? "" : ", on premise,"} at ${sim.url})
  Simulator:  ${sim.url}/   (demo visitors, lookup codes, links)

  As a customer:  ${sim.url}/sim/shop?uniqueid=alice-1001   (a demo shop page with /visitor in an iframe)
                  ${GATEWAY}/visitor?uniqueid=alice-1001
  As an agent:    ${GATEWAY}/agent?agent_id=demo-agent&agent_name=Demo%20Agent   (console: type 4821)
                  ${GATEWAY}/agent?lookup=4821&agent_id=demo-agent&agent_name=Demo%20Agent
                  ${GATEWAY}/agent?uniqueid=carol-3003&agent_id=demo-agent&agent_name=Demo%20Agent   (two devices: chooser)
`);
    break;
  }
  await new Promise((r) => setTimeout(r, 1000));
}
