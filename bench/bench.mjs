// A/B benchmark: the built gateway (build/index.js + build/index_bg.wasm)
// against bench/reference.mjs, the Worker a user would write by hand.
//
// One Miniflare workerd runs three workers: the gateway, the reference, and
// bench/upstream.mjs, which answers Upscope's endpoints at once; both
// workers' outbound fetches (https://api.bench.invalid/v1.3/...) are routed
// to it by Miniflare's outboundService. Each of the two workers under test
// listens on its own loopback socket (no Miniflare entry worker in front).
// Load comes from wrk (1 thread, keep-alive connections), bounded in time;
// rounds alternate which side goes first. Only ratios are meaningful: the
// machines are shared and absolute numbers drift.
//
//   node bench/bench.mjs                 # 5 rounds of 3 s per flow and side
//   node bench/bench.mjs --quick         # 1 round of 1 s: proves it works
//   node bench/bench.mjs --rounds 9 --seconds 4 --connections 16 --json out.json
//   node bench/bench.mjs --build /tmp/other-build   # another build of the gateway
//   node bench/bench.mjs --flows "404,Short ID" --startup-runs 0
//   node bench/bench.mjs --reference-logs   # the reference logs a line a request too
//   node bench/bench.mjs --baseline /tmp/old-build   # before and after in one run
import { Miniflare } from "miniflare";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile, cp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs, promisify } from "node:util";
import { gzipSync } from "node:zlib";

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const COMPATIBILITY_DATE = "2025-09-01";
const API_BASE = "https://api.bench.invalid/v1.3";
const API_KEY = "bench-key";
const INITIAL_URL = "https://shop.example.com/account";
/** Hard caps, whatever the arguments say. */
const MAX_ROUNDS = 50;
const MAX_SECONDS = 30;
const MAX_CONNECTIONS = 64;
const AGENT = "agent_id=bench&agent_name=Bench%20Agent";

/** The flows: path (or path prefix + counter for unique IDs), expected status and Location prefix. */
export const FLOWS = [
  { name: "Short ID", path: `/agent?visitorid=sBench01&${AGENT}`, status: 302, location: "https://watch.bench.invalid/" },
  { name: "own ID uncached", unique: "/agent?uniqueid=", suffix: `&${AGENT}`, status: 302, location: "https://watch.bench.invalid/" },
  { name: "own ID cached", path: `/agent?uniqueid=cached-1&${AGENT}`, status: 302, location: "https://watch.bench.invalid/" },
  { name: "lookup", path: `/agent?lookup=4821&${AGENT}`, status: 302, location: "https://watch.bench.invalid/" },
  { name: "/visitor", path: "/visitor?uniqueid=alice-1001", status: 302, location: "https://proxy.bench.invalid/" },
  { name: "404", path: "/no-such-page", status: 404 },
];

const SIDES = ["gateway", "reference"];
/** The sides of a run: with a baseline build, it is measured as a third side. */
const sidesOf = (baseline) => (baseline ? ["gateway", "baseline", "reference"] : SIDES);
/** Sides built by scripts/build.sh (a directory with index.js and the wasm), as opposed to the reference. */
const isBuild = (side) => side !== "reference";

export function workers(build = path.join(root, "build"), { referenceLogs = false, baseline = null } = {}) {
  const upstreamRouted = { outboundService: "upstream", unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] };
  const gatewayAt = (name, dir) => ({
      name,
      rootPath: root,
      modulesRoot: dir,
      scriptPath: path.join(dir, "index.js"),
      modules: true,
      modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
      compatibilityDate: COMPATIBILITY_DATE,
      bindings: {
        UPSCOPE_API_BASE: API_BASE,
        UPSCOPE_API_KEY: API_KEY,
        PROXY_INITIAL_URL: INITIAL_URL,
        // Every flow must work without a signature: agents are named by the link.
        AGENT_AUTH: "none",
        ALLOW_UNAUTHENTICATED_AGENTS: "true",
      },
      kvNamespaces: { SHORT_ID_CACHE: `bench-${name}-kv` },
      // Miniflare's own Analytics Engine dataset (it keeps nothing), so each
      // request's data point is built and written as when deployed.
      analyticsEngineDatasets: { METRICS: { dataset: `bench_${name}` } },
      ...upstreamRouted,
  });
  return [
    gatewayAt("gateway", build),
    ...(baseline ? [gatewayAt("baseline", baseline)] : []),
    {
      name: "reference",
      modules: true,
      scriptPath: path.join(here, "reference.mjs"),
      compatibilityDate: COMPATIBILITY_DATE,
      bindings: { UPSCOPE_API_BASE: API_BASE, UPSCOPE_API_KEY: API_KEY, PROXY_INITIAL_URL: INITIAL_URL, ...(referenceLogs ? { LOG_LINES: "1" } : {}) },
      kvNamespaces: { SHORT_ID_CACHE: "bench-reference-kv" },
      ...upstreamRouted,
    },
    { name: "upstream", modules: true, scriptPath: path.join(here, "upstream.mjs"), compatibilityDate: COMPATIBILITY_DATE },
  ];
}

/** wrk's Lua script for one flow: fixed request, or a fresh own ID per request; prints a JSON summary. */
function wrkScript(flow, tag) {
  const request = flow.unique
    ? `local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", ${JSON.stringify(flow.unique + tag + "-")} .. n .. ${JSON.stringify(flow.suffix)})
end`
    : `local req
init = function() req = wrk.format("GET", ${JSON.stringify(flow.path)}) end
request = function() return req end`;
  return `${request}
done = function(s, latency, requests)
  io.write(string.format('BENCH {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\\n',
    s.requests, s.duration, s.errors.connect, s.errors.read, s.errors.write, s.errors.status, s.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
}

export async function wrk(origin, flow, { seconds, connections, tag, scratch }) {
  const script = path.join(scratch, `${tag}.lua`);
  await writeFile(script, wrkScript(flow, tag));
  const { stdout } = await run(
    "wrk",
    ["-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "10s", "-s", script, origin],
    { timeout: (seconds + 20) * 1000 },
  );
  const line = stdout.split("\n").find((l) => l.startsWith("BENCH "));
  if (!line) throw new Error(`wrk printed no summary:\n${stdout}`);
  const r = JSON.parse(line.slice(6));
  const failed = r.connect + r.read + r.write + r.timeout + (flow.status < 400 ? r.status : 0);
  return { rps: r.requests / (r.duration_us / 1e6), p50: r.p50_us / 1000, p99: r.p99_us / 1000, requests: r.requests, errors: failed };
}

/**
 * CPU seconds used so far by the workerd processes this Node process
 * started (Linux /proc; USER_HZ is 100), or null where that cannot be read.
 * Per-request CPU is steadier than req/s on a shared machine: another
 * process's load slows both, but does not add to workerd's own CPU time.
 */
async function workerdCpuSeconds() {
  if (process.platform !== "linux") return null;
  let ticks = 0;
  let found = false;
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let stat;
    try {
      stat = await readFile(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(")");
    const command = stat.slice(stat.indexOf("(") + 1, close);
    // After the command: state, ppid, ... utime and stime are fields 14 and 15.
    const fields = stat.slice(close + 2).split(" ");
    if (!command.includes("workerd") || Number(fields[1]) !== process.pid) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
    found = true;
  }
  return found ? ticks / 100 : null;
}

/** wrk against one side, with workerd's CPU per request over the run (µs, or null). */
async function measure(origin, flow, options) {
  const before = await workerdCpuSeconds();
  const r = await wrk(origin, flow, options);
  const after = await workerdCpuSeconds();
  return { ...r, cpuUs: before === null || after === null || !r.requests ? null : ((after - before) * 1e6) / r.requests };
}

/** One request per flow and side before measuring: the right status and Location, or the bench stops. */
async function checkFlows(origins, flows) {
  for (const flow of flows) {
    for (const side of Object.keys(origins)) {
      const p = flow.path ?? `${flow.unique}check-${side}${flow.suffix}`;
      const res = await fetch(origins[side] + p, { redirect: "manual", signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      const location = res.headers.get("location") ?? "";
      if (res.status !== flow.status || (flow.location && !location.startsWith(flow.location))) {
        throw new Error(`${side} ${flow.name}: expected ${flow.status} ${flow.location ?? ""}, got ${res.status} ${location}`);
      }
    }
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Gzipped bytes of the gateway's bundle (every file scripts/build.sh leaves in build/) and of the reference. */
export async function bundleSizes(build = path.join(root, "build")) {
  const files = (await readdir(build, { recursive: true, withFileTypes: true }))
    .filter((f) => f.isFile() && /\.(m?js|wasm)$/.test(f.name))
    .map((f) => path.join(f.parentPath ?? f.path, f.name));
  let wasm = 0;
  let js = 0;
  for (const file of files) {
    const gz = gzipSync(await readFile(file), { level: 9 }).length;
    if (file.endsWith(".wasm")) wasm += gz;
    else js += gz;
  }
  const reference = gzipSync(await readFile(path.join(here, "reference.mjs")), { level: 9 }).length;
  return { gateway: { wasm, js, total: wasm + js }, reference: { total: reference } };
}

/**
 * Startup CPU with `wrangler check startup` (workerd, offline): the profile's
 * sampled non-idle time while the Worker's script is loaded. Samples are about
 * 1 ms apart, so each side is profiled `runs` times, alternating, and the
 * median is reported.
 */
export async function startupCpu({ runs = 5, scratch, build = path.join(root, "build"), baseline = null }) {
  const wrangler = path.join(root, "node_modules/.bin/wrangler");
  const sides = sidesOf(baseline);
  const builds = { gateway: build, baseline };
  const dirs = {};
  for (const side of sides) {
    const dir = path.join(scratch, `startup-${side}`);
    await cp(isBuild(side) ? builds[side] : here, dir, { recursive: true });
    const main = isBuild(side) ? "index.js" : "reference.mjs";
    await writeFile(path.join(dir, "wrangler.toml"),
      `name = "bench-${side}"\nmain = "${main}"\ncompatibility_date = "${COMPATIBILITY_DATE}"\n` +
      (isBuild(side) ? `[[rules]]\ntype = "CompiledWasm"\nglobs = ["**/*.wasm"]\n` : ""));
    dirs[side] = dir;
  }
  const samples = Object.fromEntries(sides.map((side) => [side, []]));
  for (let i = 0; i < runs; i++) {
    for (const side of rotated(sides, i)) {
      const outfile = path.join(dirs[side], "startup.cpuprofile");
      await run(wrangler, ["check", "startup", "--outfile", outfile], {
        cwd: dirs[side], timeout: 120_000, env: {
          ...process.env,
          PATH: `${path.join(root, "node_modules/.bin")}${path.delimiter}${process.env.PATH}`,
          WRANGLER_SEND_METRICS: "false",
          CI: "true",
        },
      });
      samples[side].push(activeMs(JSON.parse(await readFile(outfile, "utf8"))));
    }
  }
  return Object.fromEntries(sides.map((s) => [s, { ms: median(samples[s]), samples: samples[s] }]));
}

/**
 * Startup CPU at a finer grain than the profiler's samples: bench/startup.mjs
 * compiles and evaluates each side's module in a fresh Node (V8) process and
 * reports the CPU it took; `runs` per side, alternating, median in ms.
 */
export async function startupV8({ runs = 10, build = path.join(root, "build"), baseline = null }) {
  const sides = sidesOf(baseline);
  const targets = { gateway: build, baseline, reference: path.join(here, "reference.mjs") };
  const samples = Object.fromEntries(sides.map((side) => [side, []]));
  for (let i = 0; i < runs; i++) {
    for (const side of rotated(sides, i)) {
      const kind = isBuild(side) ? "gateway" : "reference";
      const { stdout } = await run(process.execPath, ["--experimental-vm-modules", "--no-warnings", path.join(here, "startup.mjs"), kind, targets[side]], { timeout: 60_000 });
      samples[side].push(Number(stdout.trim()) / 1000);
    }
  }
  return Object.fromEntries(sides.map((s) => [s, { ms: median(samples[s]), samples: samples[s] }]));
}

/** `sides` starting at a different one each round, so none always goes first. */
function rotated(sides, round) {
  const k = round % sides.length;
  return [...sides.slice(k), ...sides.slice(0, k)];
}

/** Non-idle sampled time of a V8 CPU profile, in ms. */
function activeMs(profile) {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  let us = 0;
  profile.samples.forEach((node, i) => {
    if (!idle.has(node)) us += profile.timeDeltas[i] ?? 0;
  });
  return us / 1000;
}

export async function runBench({ build = path.join(root, "build"), baseline = null, only = null, rounds = 5, seconds = 3, connections = 16, warmupSeconds = 1, startupRuns = 5, referenceLogs = false, log = console.log } = {}) {
  rounds = Math.min(Math.max(1, Math.floor(rounds)), MAX_ROUNDS);
  seconds = Math.min(Math.max(1, Math.floor(seconds)), MAX_SECONDS);
  connections = Math.min(Math.max(1, Math.floor(connections)), MAX_CONNECTIONS);
  const scratch = await mkdtemp(path.join(tmpdir(), "gateway-bench-"));
  const mf = new Miniflare({
    workers: workers(build, { referenceLogs, baseline }),
    // The gateway's log lines are part of its cost; they are read and dropped.
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume();
      stderr.resume();
    },
  });
  const flows = only ? FLOWS.filter((f) => only.includes(f.name)) : FLOWS;
  const sides = sidesOf(baseline);
  const results = Object.fromEntries(flows.map((f) => [f.name, Object.fromEntries(sides.map((side) => [side, []]))]));
  try {
    await mf.ready;
    const origins = {};
    for (const side of sides) origins[side] = (await mf.unsafeGetDirectURL(side)).origin;
    for (const side of sides) {
      const key = isBuild(side) ? "short-id:v1:cached-1" : "cached-1";
      await (await mf.getKVNamespace("SHORT_ID_CACHE", side)).put(key, "scached1");
    }
    await checkFlows(origins, flows);
    if (warmupSeconds > 0) {
      for (const flow of flows) {
        for (const side of sides) await wrk(origins[side], flow, { seconds: warmupSeconds, connections, tag: `w${side[0]}`, scratch });
      }
    }
    for (let round = 0; round < rounds; round++) {
      for (const flow of flows) {
        for (const side of rotated(sides, round)) {
          const r = await measure(origins[side], flow, { seconds, connections, tag: `r${round}${side[0]}`, scratch });
          results[flow.name][side].push(r);
        }
      }
      log(`bench: round ${round + 1}/${rounds} done`);
    }
  } finally {
    await mf.dispose();
  }
  const table = flows.map((flow) => {
    const byRound = results[flow.name];
    const side = (s) => ({
      rps: median(byRound[s].map((r) => r.rps)),
      p50: median(byRound[s].map((r) => r.p50)),
      p99: median(byRound[s].map((r) => r.p99)),
      errors: byRound[s].reduce((n, r) => n + r.errors, 0),
      cpuUs: byRound[s].some((r) => r.cpuUs === null) ? null : median(byRound[s].map((r) => r.cpuUs)),
    });
    // The ratio of each round's pair (measured back to back), then the median.
    const rpsRatio = (a, b) => median(byRound[a].map((r, i) => r.rps / byRound[b][i].rps));
    // CPU the other way up (b ÷ a), so that above 1 is better for `a` here too.
    const cpuRatio = (a, b) => (byRound[a].every((r, i) => r.cpuUs && byRound[b][i].cpuUs)
      ? median(byRound[a].map((r, i) => byRound[b][i].cpuUs / r.cpuUs))
      : null);
    const row = {
      name: flow.name,
      gateway: side("gateway"),
      reference: side("reference"),
      ratio: rpsRatio("gateway", "reference"),
      ratios: byRound.gateway.map((g, i) => g.rps / byRound.reference[i].rps),
      cpuRatio: cpuRatio("gateway", "reference"),
    };
    if (baseline) {
      row.baseline = {
        ...side("baseline"),
        ratio: rpsRatio("baseline", "reference"),
        cpuRatio: cpuRatio("baseline", "reference"),
        // After ÷ before (above 1: the gateway is faster now).
        speedup: rpsRatio("gateway", "baseline"),
        cpuSpeedup: cpuRatio("gateway", "baseline"),
      };
    }
    return row;
  });
  const size = await bundleSizes(build);
  if (baseline) size.baseline = (await bundleSizes(baseline)).gateway;
  const startup = startupRuns > 0 ? await startupCpu({ runs: startupRuns, scratch, build, baseline }) : null;
  const startupCompile = startupRuns > 0 ? await startupV8({ runs: startupRuns * 2, build, baseline }) : null;
  await rm(scratch, { recursive: true, force: true });
  return { rounds, seconds, connections, referenceLogs, baseline, flows: table, size, startup, startupCompile };
}

export function formatReport(report) {
  const pad = (s, n) => String(s).padStart(n);
  const lines = [
    `${report.rounds} round(s) x ${report.seconds} s per flow and side, wrk -t1 -c${report.connections}; medians; ratio = gateway req/s / reference req/s (median of per-round ratios)`,
    ...(report.referenceLogs ? ["the reference writes one log line a request, as the gateway does (--reference-logs)"] : []),
    "cpu µs = workerd CPU per request (both workers' and the in-workerd upstream's); cpu ratio = reference cpu µs / gateway cpu µs (above 1: the gateway is cheaper)",
    "",
    `${"flow".padEnd(16)} | ${pad("gateway req/s", 13)} ${pad("p50 ms", 7)} ${pad("p99 ms", 7)} ${pad("cpu µs", 7)} | ${pad("reference req/s", 15)} ${pad("p50 ms", 7)} ${pad("p99 ms", 7)} ${pad("cpu µs", 7)} | ${pad("ratio", 6)} | ${pad("cpu ratio", 9)} | errors`,
    `${"-".repeat(16)}-+-${"-".repeat(37)}-+-${"-".repeat(39)}-+-${"-".repeat(6)}-+-${"-".repeat(9)}-+-------`,
  ];
  const cpu = (us) => pad(us === null ? "n/a" : us.toFixed(0), 7);
  for (const f of report.flows) {
    const g = f.gateway;
    const r = f.reference;
    lines.push(
      `${f.name.padEnd(16)} | ${pad(g.rps.toFixed(0), 13)} ${pad(g.p50.toFixed(2), 7)} ${pad(g.p99.toFixed(2), 7)} ${cpu(g.cpuUs)} | ${pad(r.rps.toFixed(0), 15)} ${pad(r.p50.toFixed(2), 7)} ${pad(r.p99.toFixed(2), 7)} ${cpu(r.cpuUs)} | ${pad(f.ratio.toFixed(2) + "x", 6)} | ${pad(f.cpuRatio === null ? "n/a" : f.cpuRatio.toFixed(2) + "x", 9)} | ${g.errors}/${r.errors}`,
    );
  }
  if (report.baseline) {
    lines.push(
      "",
      `before (baseline: ${report.baseline}) and after (this build), measured in the same rounds; ratio and cpu ratio against the reference as above;`,
      "after ÷ before = req/s after ÷ req/s before, cpu before ÷ cpu after (above 1: faster now)",
      "",
      `${"flow".padEnd(16)} | ${pad("before req/s", 12)} ${pad("cpu µs", 7)} ${pad("ratio", 6)} ${pad("cpu ratio", 9)} | ${pad("after req/s", 11)} ${pad("cpu µs", 7)} ${pad("ratio", 6)} ${pad("cpu ratio", 9)} | ${pad("after ÷ before", 14)} ${pad("cpu", 6)}`,
      `${"-".repeat(16)}-+-${"-".repeat(38)}-+-${"-".repeat(37)}-+-${"-".repeat(21)}`,
    );
    const x = (v) => (v === null ? "n/a" : v.toFixed(2) + "x");
    for (const f of report.flows) {
      const b = f.baseline;
      const g = f.gateway;
      lines.push(
        `${f.name.padEnd(16)} | ${pad(b.rps.toFixed(0), 12)} ${cpu(b.cpuUs)} ${pad(x(b.ratio), 6)} ${pad(x(b.cpuRatio), 9)} | ${pad(g.rps.toFixed(0), 11)} ${cpu(g.cpuUs)} ${pad(x(f.ratio), 6)} ${pad(x(f.cpuRatio), 9)} | ${pad(x(b.speedup), 14)} ${pad(x(b.cpuSpeedup), 6)}`,
      );
    }
  }
  const s = report.size;
  lines.push("", `bundle, gzipped: gateway ${s.gateway.total} B (wasm ${s.gateway.wasm} B + JS ${s.gateway.js} B); reference ${s.reference.total} B`);
  if (s.baseline) lines.push(`bundle, gzipped, before: ${s.baseline.total} B (wasm ${s.baseline.wasm} B + JS ${s.baseline.js} B)`);
  if (report.startup) {
    const { gateway: g, reference: r, baseline: b } = report.startup;
    const before = b ? `; before ${b.ms.toFixed(1)} ms [${b.samples.map((x) => x.toFixed(1)).join(" ")}]` : "";
    lines.push(`startup CPU (wrangler check startup, median sampled active ms): gateway ${g.ms.toFixed(1)} ms [${g.samples.map((x) => x.toFixed(1)).join(" ")}]; reference ${r.ms.toFixed(1)} ms [${r.samples.map((x) => x.toFixed(1)).join(" ")}]${before}`);
  }
  if (report.startupCompile) {
    const { gateway: g, reference: r, baseline: b } = report.startupCompile;
    const before = b ? `; before ${b.ms.toFixed(2)} ms, ratio ${(b.ms / r.ms).toFixed(1)}x` : "";
    lines.push(`startup CPU (fresh V8: compile + evaluate the module, median of ${g.samples.length}): gateway ${g.ms.toFixed(2)} ms; reference ${r.ms.toFixed(2)} ms; ratio ${(g.ms / r.ms).toFixed(1)}x${before}`);
  }
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      seconds: { type: "string" },
      connections: { type: "string", default: "16" },
      "startup-runs": { type: "string" },
      json: { type: "string" },
      build: { type: "string" },
      flows: { type: "string" },
      "reference-logs": { type: "boolean", default: false },
      baseline: { type: "string" },
    },
  });
  const quick = values.quick;
  const report = await runBench({
    build: path.resolve(values.build ?? path.join(root, "build")),
    baseline: values.baseline ? path.resolve(values.baseline) : null,
    only: values.flows ? values.flows.split(",") : null,
    rounds: Number(values.rounds ?? (quick ? 1 : 5)),
    seconds: Number(values.seconds ?? (quick ? 1 : 3)),
    connections: Number(values.connections),
    warmupSeconds: quick ? 0 : 1,
    startupRuns: Number(values["startup-runs"] ?? (quick ? 1 : 5)),
    referenceLogs: values["reference-logs"],
  });
  console.log(formatReport(report));
  if (values.json) await writeFile(values.json, JSON.stringify(report, null, 2));
}
