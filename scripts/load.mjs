// A bounded load run against the gateway on loopback only: the built wasm in
// Miniflare (workerd) with the Upscope simulator as upstream. N clients send
// a mix of visitor and agent requests for T seconds, then it stops by itself
// and reports requests/s, p50/p99 latency, errors and hung requests.
//
//   node scripts/load.mjs --clients 32 --seconds 30
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { startSimulator, startGateway, baseVars } from "../tests/support/harness.mjs";

/** A request is "hung" if it has not answered after this long. */
const HUNG_AFTER_MS = 10_000;
/** Hard caps, whatever the arguments say. */
const MAX_CLIENTS = 256;
const MAX_SECONDS = 600;

const MIX = [
  ["/visitor?uniqueid=alice-1001", 302],
  ["/agent?lookup=4821&agent_id=load&agent_name=Load", 302],
  ["/agent?uniqueid=alice-1001&agent_id=load&agent_name=Load", 302],
  ["/agent?uniqueid=carol-3003&agent_id=load&agent_name=Load", 200], // online on two devices: the chooser
  ["/agent?uniqueid=nobody-0&agent_id=load&agent_name=Load", 404],
  ["/agent?uniqueid=a%20online&agent_id=load&agent_name=Load", 400],
  ["/healthz", 200],
];

export async function runLoad({ clients = 8, seconds = 5 } = {}) {
  clients = Math.min(Math.max(1, clients), MAX_CLIENTS);
  seconds = Math.min(Math.max(0.5, seconds), MAX_SECONDS);
  const up = await startSimulator();
  const gw = await startGateway({ vars: baseVars(up.apiBase), kv: true });
  const latencies = [];
  let errors = 0;
  let hung = 0;
  const errorSamples = [];
  const started = performance.now();
  const end = started + seconds * 1000;
  try {
    await Promise.all(Array.from({ length: clients }, async (_, client) => {
      for (let i = client; performance.now() < end; i++) {
        const [path, expected] = MIX[i % MIX.length];
        const t0 = performance.now();
        try {
          const res = await gw.fetch(path, { signal: AbortSignal.timeout(HUNG_AFTER_MS) });
          await res.arrayBuffer();
          if (res.status !== expected) {
            errors += 1;
            if (errorSamples.length < 5) errorSamples.push(`${path}: ${res.status}`);
          }
        } catch (e) {
          if (e.name === "TimeoutError") hung += 1;
          else errors += 1;
          if (errorSamples.length < 5) errorSamples.push(`${path}: ${e.name}`);
        }
        latencies.push(performance.now() - t0);
      }
    }));
  } finally {
    await gw.close();
    await up.close();
  }
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return {
    clients,
    seconds: Number(elapsed.toFixed(2)),
    requests: latencies.length,
    requestsPerSecond: Math.round(latencies.length / elapsed),
    p50Ms: Number(pct(50).toFixed(1)),
    p99Ms: Number(pct(99).toFixed(1)),
    errors,
    hung,
    errorSamples,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { clients: { type: "string", default: "16" }, seconds: { type: "string", default: "10" } } });
  const report = await runLoad({ clients: Number(values.clients), seconds: Number(values.seconds) });
  console.log(JSON.stringify(report, null, 2));
  process.exit(report.errors || report.hung ? 1 : 0);
}
