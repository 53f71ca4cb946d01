// `make dev`: the Upscope simulator on :8788 and the gateway under
// `wrangler dev --env dev` on :8787, until Ctrl-C.
import { spawn } from "node:child_process";
import { createSimulator, DEV_API_KEY } from "../tests/simulator/server.mjs";

const GATEWAY = "http://127.0.0.1:8787";
const sim = createSimulator({ apiKey: DEV_API_KEY, gatewayUrl: GATEWAY });
await sim.listen(8788);

const wrangler = spawn("wrangler", ["dev", "--env", "dev", "--ip", "127.0.0.1", "--port", "8787"], {
  stdio: ["inherit", "inherit", "inherit"],
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
  Gateway:    ${GATEWAY}   (upstream: Upscope simulator at ${sim.url})
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
