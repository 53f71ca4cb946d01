// Shared set-up for every JavaScript test (integration, browser, deploy and
// load): the real built wasm (build/) in Miniflare's workerd, the Upscope
// simulator on loopback, and the few helpers the suites share.

import { before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { Miniflare } from "miniflare";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { createSimulator, DEV_API_KEY, API_PREFIX, basePathOf } from "../simulator/server.mjs";
import { cachedRuntimeVersion } from "../../scripts/lib/wrangler-config.mjs";
import { assertAsked, assertAskedInAnyOrder, recordedLine, upscopeCalls } from "./upstream.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// The runtime version comes from wrangler.toml, as wrangler reads it: the
// tests run what `make dev` and a deploy run.
const runtime = await cachedRuntimeVersion();
export const COMPATIBILITY_DATE = runtime.compatibilityDate;
export const COMPATIBILITY_FLAGS = runtime.compatibilityFlags;
export const API_KEY = "test-secret-key-4f9a";
export const INITIAL_URL = "https://shop.example.com/account?tab=profile#top";

/** What the gateway asks the simulator's Upscope with the tests' key (`tests/support/upstream.mjs`). */
export const ask = upscopeCalls({ basePath: API_PREFIX, apiKey: API_KEY });

/** The simulator, speaking Upscope's `edition` ("cloud" or "on_premise"). */
export async function startSimulator({ apiKey = API_KEY, edition = "cloud" } = {}) {
  const sim = createSimulator({ apiKey, edition });
  await sim.listen();
  const call = async (method, p, body) => {
    const res = await fetch(sim.url + p, {
      method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    return res.json();
  };
  const requests = async () => (await call("GET", "/__sim/requests")).requests;
  return {
    sim,
    apiBase: sim.apiBase,
    reset: () => call("POST", "/__sim/reset"),
    addVisitors: (visitors) => call("POST", "/__sim/visitors", visitors),
    fault: (faults) => call("POST", "/__sim/faults", faults),
    /** Every request the simulator received: method, path, query, every header, body, endpoint. */
    requests,
    /**
     * The upstream calls as `METHOD path?query`, in the order they arrived:
     * the format of the Rust tests' `FakeTransport::calls()`.
     */
    calls: async () => (await requests()).map(recordedLine),
    /** What the gateway asks this simulator (its key): `ask.search(…)`, `ask.watch(…)`, … */
    ask: upscopeCalls({ edition, basePath: basePathOf(edition), apiKey }),
    /** Asserts the calls received so far are exactly `expected` (`tests/support/upstream.mjs`). */
    assertAsked: async (expected, message) => assertAsked(await requests(), expected, message),
    /** The same, for calls made at once, which may arrive in either order. */
    assertAskedInAnyOrder: async (expected, message) => assertAskedInAnyOrder(await requests(), expected, message),
    close: () => sim.close(),
  };
}

/** The origin the tests' requests to the gateway are addressed to. */
export const GATEWAY_ORIGIN = "https://gateway.example.com";

/**
 * `init` with its `Sec-Fetch-Mode` kept: Node's fetch sets that header to
 * its own mode (`cors`) whatever a test gives, so a browser's navigation is
 * passed as Miniflare's `MF-Sec-Fetch-Mode`, which it restores.
 */
function withFetchMode(init) {
  const headers = new Headers(init.headers);
  const mode = headers.get("Sec-Fetch-Mode");
  if (mode !== null) headers.set("MF-Sec-Fetch-Mode", mode);
  return { ...init, headers };
}

/** The path and query of a link on the gateway (as a signing backend would mint it). */
export const pathOf = (href) => href.slice(GATEWAY_ORIGIN.length);

/** The period of every rate limiter `startGateway` binds. */
export const RATE_LIMIT_PERIOD_SECONDS = 60;

/**
 * Starts the gateway with `vars` as its Worker variables and secrets.
 * `kv: true` binds a local Workers KV namespace as SHORT_ID_CACHE;
 * `kv: "broken"` binds one whose every operation fails, as KV may in production;
 * `kv: "slow"` one whose every operation answers (empty) only after `SLOW_KV_MS`.
 * `rateLimits` binds Workers rate limiters: `{ NAME: limit per minute }`; or, for
 * a limiter in trouble, a stand-in shaped like the runtime's binding:
 * `{ NAME: "broken" }` rejects every call, `{ NAME: { delayMs } }` lets every
 * call through only after `delayMs`.
 * `metrics: true` binds METRICS, a stand-in for a Workers Analytics Engine
 * dataset whose `writeDataPoint` prints each point it is given (a line
 * `datapoint <JSON>`; read them back with `dataPoints()`); `metrics: "broken"`
 * one whose `writeDataPoint` throws. Miniflare's own dataset keeps nothing.
 * `tails` names workers (given in `extraWorkers`) that receive its trace
 * events, as `tail_consumers` does when deployed; `miniflareOptions` are
 * Miniflare's shared options (`d1Persist`, …).
 * `listen: true` also serves it over HTTP on a loopback port (`url`), for browsers.
 * `build` names the folder of the build to run: `build` (the release build
 * every suite runs), or `build-panic` (scripts/build.sh panic, tests only).
 * `versionMetadata` binds it as CF_VERSION_METADATA (`{ id, tag, timestamp }`), as
 * `[version_metadata]` does when deployed.
 * `hosts` maps host names to loopback servers: the Worker's outbound fetches
 * to `https://<host>/...` reach `<base>/...` instead (e.g. Cloudflare Access's
 * key endpoint); every other fetch goes out unchanged.
 */
export async function startGateway({ vars = {}, kv = false, hosts = {}, rateLimits = {}, listen = false, versionMetadata, metrics = false, tails, extraWorkers, miniflareOptions = {}, build = "build" } = {}) {
  const logs = [];
  const isReal = ([, limit]) => typeof limit === "number";
  const realLimiters = Object.fromEntries(Object.entries(rateLimits).filter(isReal));
  const standInLimiters = Object.fromEntries(Object.entries(rateLimits).filter((entry) => !isReal(entry)));
  const gateway = {
    name: "gateway",
    rootPath: root,
    modulesRoot: path.join(root, build),
    scriptPath: path.join(root, build, "index.js"),
    modules: true,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: COMPATIBILITY_FLAGS,
    bindings: versionMetadata ? { ...vars, CF_VERSION_METADATA: versionMetadata } : vars,
    kvNamespaces: kv === true ? ["SHORT_ID_CACHE"] : [],
    wrappedBindings: {
      ...(kv === "broken" ? { SHORT_ID_CACHE: "broken-kv" } : kv === "slow" ? { SHORT_ID_CACHE: "slow-kv" } : {}),
      ...Object.fromEntries(Object.entries(standInLimiters).map(([name, trouble]) =>
        [name, { scriptName: RATE_LIMITER_STAND_IN.name, bindings: trouble === "broken" ? { fail: true } : { delayMs: trouble.delayMs } }])),
      ...(metrics ? { METRICS: { scriptName: METRICS_STAND_IN.name, bindings: { fail: metrics === "broken" } } } : {}),
    },
    ...(tails ? { tails } : {}),
    ratelimits: Object.fromEntries(Object.entries(realLimiters).map(([name, limit], i) =>
      [name, { namespace_id: String(1000 + i), simple: { limit, period: RATE_LIMIT_PERIOD_SECONDS } }])),
    outboundService: Object.keys(hosts).length ? (request) => routeOutbound(request, hosts) : undefined,
  };
  const mf = new Miniflare({
    ...miniflareOptions,
    ...(listen ? { host: "127.0.0.1", port: 0 } : {}),
    workers: [
      gateway,
      ...(kv === "broken" ? [BROKEN_KV] : kv === "slow" ? [SLOW_KV] : []),
      ...(Object.keys(standInLimiters).length ? [RATE_LIMITER_STAND_IN] : []),
      ...(metrics ? [METRICS_STAND_IN] : []),
      ...(extraWorkers ?? []),
    ],
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (d) => logs.push(String(d)));
      stderr.on("data", (d) => logs.push(String(d)));
    },
  });
  const ready = await mf.ready;
  return {
    mf,
    url: listen ? ready.origin : null,
    logs,
    /** The gateway's log lines so far, parsed; other output is skipped. */
    logLines: () => logs.join("").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)),
    /** The data points written to the `metrics: true` stand-in so far, in order. */
    dataPoints: () => logs.join("").split("\n").filter((l) => l.startsWith(DATA_POINT_PREFIX)).map((l) => JSON.parse(l.slice(DATA_POINT_PREFIX.length))),
    kv: kv === true ? await mf.getKVNamespace("SHORT_ID_CACHE", "gateway") : null,
    /** Requests a gateway path; never follows redirects. */
    fetch: (p, init = {}) => mf.dispatchFetch(new URL(p, GATEWAY_ORIGIN).href, { redirect: "manual", ...withFetchMode(init) }),
    close: () => mf.dispose(),
  };
}

/** A KV namespace whose every call rejects (a wrapped binding in the same isolate). */
const BROKEN_KV = {
  name: "broken-kv",
  modules: true,
  script: `
    const fail = async () => { throw new Error("KV is unavailable"); };
    export default function () {
      return { get: fail, getWithMetadata: fail, put: fail, list: fail, delete: fail };
    }`,
};

/** How long every call to the `kv: "slow"` namespace takes. */
export const SLOW_KV_MS = 3000;

/** A KV namespace that answers every call, empty, after SLOW_KV_MS. */
const SLOW_KV = {
  name: "slow-kv",
  modules: true,
  script: `
    const slow = async () => { await new Promise((r) => setTimeout(r, ${SLOW_KV_MS})); return null; };
    export default function () {
      return { get: slow, getWithMetadata: slow, put: slow, list: slow, delete: slow };
    }`,
};

/**
 * A rate limiter in trouble, shaped as the runtime's binding is (and as
 * Miniflare's own is: a wrapped binding returning an instance of a class
 * named `Ratelimit` whose `limit({ key })` resolves to `{ success }`).
 * Its env says how it misbehaves: `fail` rejects every call; `delayMs` lets
 * every call through after that long.
 */
const RATE_LIMITER_STAND_IN = {
  name: "ratelimit-stand-in",
  modules: true,
  script: `
    class Ratelimit {
      constructor({ fail = false, delayMs = 0 }) {
        this.fail = fail;
        this.delayMs = delayMs;
      }
      async limit(options) {
        if (this.fail) throw new Error("the rate limiter is unavailable");
        await new Promise((resolve) => setTimeout(resolve, this.delayMs));
        return { success: true };
      }
    }
    export default function (env) {
      return new Ratelimit(env);
    }`,
};

/** How the METRICS stand-in prints each data point. */
export const DATA_POINT_PREFIX = "datapoint ";

/**
 * A Workers Analytics Engine dataset (a wrapped binding, as Miniflare's own
 * is) that prints each data point it is given, exactly as given; with
 * `fail`, `writeDataPoint` throws instead.
 */
const METRICS_STAND_IN = {
  name: "metrics-stand-in",
  modules: true,
  script: `
    export default function ({ fail = false }) {
      return {
        writeDataPoint(point) {
          if (fail) throw new Error("the dataset is unavailable");
          console.log(${JSON.stringify(DATA_POINT_PREFIX)} + JSON.stringify(point));
        },
      };
    }`,
};

async function routeOutbound(request, hosts) {
  const url = new URL(request.url);
  const target = hosts[url.hostname] ? new URL(url.pathname + url.search, hosts[url.hostname]) : url;
  const body = ["GET", "HEAD"].includes(request.method) ? undefined : await request.arrayBuffer();
  return fetch(target, { method: request.method, headers: request.headers, body, redirect: "manual" });
}

/**
 * The usual suite: one simulator and one gateway for a whole test file,
 * the simulator reset before each test. `options(apiBase)` gives the
 * gateway's options; `edition` is the simulator's. Returns `{ up, gw }`,
 * filled in before the first test.
 */
export function gatewaySuite(options = (apiBase) => ({ vars: baseVars(apiBase) }), { edition = "cloud" } = {}) {
  const suite = { up: null, gw: null };
  before(async () => {
    suite.up = await startSimulator({ edition });
    suite.gw = await startGateway(options(suite.up.apiBase));
  });
  after(async () => {
    await suite.gw?.close();
    await suite.up?.close();
  });
  beforeEach(() => suite.up.reset());
  return suite;
}

/** Starts a gateway for one test, runs `run(gw)`, and always disposes of it. */
export async function withGateway(options, run) {
  const gw = await startGateway(options);
  try {
    return await run(gw);
  } finally {
    await gw.close();
  }
}

/** The usual settings: simulator upstream, a key, a proxy page and an allowlist. */
export function baseVars(apiBase, extra = {}) {
  return {
    UPSCOPE_API_BASE: apiBase,
    UPSCOPE_API_KEY: API_KEY,
    PROXY_INITIAL_URL: INITIAL_URL,
    PROXY_ALLOWED_URLS: "https://shop.example.com/help https://shop.example.com/orders/",
    // The flow suites name agents in the link; the auth-*.test.mjs suites cover the real modes.
    AGENT_AUTH: "none",
    ALLOW_UNAUTHENTICATED_AGENTS: "true",
    ...extra,
  };
}

export { DEV_API_KEY };

/** The agent the flow suites name in their links (AGENT_AUTH=none), and as Upscope is sent it. */
export const AGENT_QUERY = "agent_id=agent-7&agent_name=Ann%20Lee";
export const AGENT = { id: "agent-7", name: "Ann Lee" };

/** Asserts that `p` is refused with `status` and error `code`; returns the message. */
export async function expectRefused(gateway, p, status, code) {
  const got = await refusal(gateway, p);
  assert.equal(got.status, status, p);
  assert.equal(got.code, code, p);
  return got.message;
}

/** Requests `p` asking for JSON and returns the status and the error body's code and message. */
export async function refusal(gateway, p, headers = {}) {
  const res = await gateway.fetch(p, { headers: { Accept: "application/json", ...headers } });
  const body = await res.text();
  let error;
  try {
    ({ error } = JSON.parse(body));
  } catch {
    // The path without its signature: a failing test's output is no place for one.
    const named = p.replace(/([?&]sig=)[^&]*/g, "$1…");
    throw new Error(`${named}: expected a JSON error, got ${res.status} with body ${JSON.stringify(body.slice(0, 200))}`);
  }
  return { status: res.status, code: error?.code, message: error?.message, headers: res.headers };
}
