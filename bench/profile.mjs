// Where the gateway's CPU goes: runs one bench flow against the gateway (as
// bench.mjs sets it up) while V8's sampling profiler, reached through
// workerd's inspector, records the gateway's isolate; prints the functions
// with the most self time and writes the .cpuprofile (open it in Chrome
// DevTools). Build with names kept for readable wasm frames:
//   CARGO_PROFILE_RELEASE_STRIP=false KEEP_WASM_NAMES=1 scripts/build.sh
//   node bench/profile.mjs --flow "Short ID" --seconds 5 [--side reference] [--out x.cpuprofile]
import { Miniflare } from "miniflare";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { FLOWS, workers, wrk } from "./bench.mjs";

const { values } = parseArgs({
  options: {
    flow: { type: "string", default: "404" },
    side: { type: "string", default: "gateway" },
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "16" },
    top: { type: "string", default: "40" },
    out: { type: "string" },
    build: { type: "string" },
  },
});
const flow = FLOWS.find((f) => f.name === values.flow);
if (!flow) throw new Error(`no flow ${values.flow}; one of ${FLOWS.map((f) => f.name).join(", ")}`);
const seconds = Math.min(Math.max(1, Number(values.seconds)), 30);
const inspectorPort = 9300 + Math.floor(Math.random() * 500);
const scratch = await mkdtemp(path.join(tmpdir(), "gateway-profile-"));
const mf = new Miniflare({
  workers: workers(values.build ? path.resolve(values.build) : undefined),
  inspectorPort,
  handleRuntimeStdio(stdout, stderr) {
    stdout.resume();
    stderr.resume();
  },
});
try {
  await mf.ready;
  const origin = (await mf.unsafeGetDirectURL(values.side)).origin;
  await (await mf.getKVNamespace("SHORT_ID_CACHE", "gateway")).put("short-id:v1:cached-1", "scached1");
  await (await mf.getKVNamespace("SHORT_ID_CACHE", "reference")).put("cached-1", "scached1");
  await wrk(origin, flow, { seconds: 1, connections: 4, tag: "warm", scratch });
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  const target = targets.find((t) => (t.title ?? "").includes(values.side) || (t.url ?? "").includes(values.side)) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.id && pending.has(msg.id)) pending.get(msg.id)(msg);
  };
  const send = (method, params = {}) => new Promise((resolve) => {
    const n = ++id;
    pending.set(n, resolve);
    ws.send(JSON.stringify({ id: n, method, params }));
  });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 50 });
  await send("Profiler.start");
  const load = await wrk(origin, flow, { seconds, connections: Number(values.connections), tag: "prof", scratch });
  const { result } = await send("Profiler.stop");
  ws.close();
  const profile = result.profile;
  if (values.out) await writeFile(values.out, JSON.stringify(profile));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  profile.samples.forEach((nodeId, i) => {
    const { callFrame } = byId.get(nodeId);
    const dt = profile.timeDeltas[i] ?? 0;
    const key = `${callFrame.functionName || "(anonymous)"}  ${callFrame.url ? path.basename(callFrame.url) : ""}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  const idle = self.get("(idle)  ") ?? 0;
  console.log(`${values.side} ${flow.name}: ${load.requests} requests, ${load.rps.toFixed(0)} req/s; sampled ${(total / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms`);
  console.log(`busy µs per request: ${((total - idle) / load.requests).toFixed(1)}`);
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
  for (const [name, us] of rows) {
    console.log(`${(us / load.requests).toFixed(2).padStart(8)} µs/req ${((100 * us) / (total - idle)).toFixed(1).padStart(5)}%  ${name}`);
  }
} finally {
  await mf.dispose();
  await rm(scratch, { recursive: true, force: true });
}
