// The Cloudflare API stand-in: the account, API and edge a test runs the
// project's real pinned wrangler against. What it models, from which source,
// and every assumption: README.md beside this file.
//
//   const cf = await startCloudflareApi({ accountId, plan, zones, workersDevSubdomain, seed })
//
// Options (all optional):
//   accountId            32 hex digits (default 0123456789abcdef0123456789abcdef)
//   apiToken             the token wrangler must send (default "cf-standin-token")
//   plan                 "paid" (default) or "free": Tail Workers need "paid"
//   zones                zone names the account owns (default ["example.com"]);
//                        Custom Domains and routes must be in one of them
//   workersDevSubdomain  the account's workers.dev subdomain (default "standin");
//                        null: none registered yet, as on an account that never
//                        opened Workers in the dashboard
//   seed                 seed of the edge's traffic split (default 1)
//   validateUploads      refuse uploads whose top-level code throws (default true)
//
// Returns:
//   apiBaseUrl   http://127.0.0.1:<port>/client/v4
//   env          what to add to a wrangler process's environment:
//                CLOUDFLARE_API_BASE_URL, CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID,
//                WRANGLER_SEND_METRICS=false, WRANGLER_SEND_ERROR_REPORTS=false,
//                WRANGLER_HIDE_BANNER=true, WRANGLER_LOG_PATH and TMPDIR (temp folders),
//                HTTPS_PROXY/HTTP_PROXY (the API server itself, which records
//                and refuses anything sent off loopback: see internetAttempts),
//                NO_PROXY=127.0.0.1,localhost,::1
//   edge         Cloudflare's edge for this account (HTTPS on 127.0.0.1):
//     port                  its port
//     caFile                the CA certificate (PEM) every edge certificate chains to
//     spkiHash              base64 SHA-256 of the edge's key (Chromium's SPKI allow-list)
//     hostResolverRules(h)  Chromium --host-resolver-rules value mapping host(s) h to the edge
//                           (h: a name, "*.zone", or a list of them; the same for the two below)
//     chromiumArgs(h)       [--host-resolver-rules=…, --ignore-certificate-errors-spki-list=…]
//     nodeEnv(h)            env for a Node process to reach https://<h>/ at the edge
//                           (NODE_OPTIONS preload, NODE_EXTRA_CA_CERTS, …); h may be "*.zone"
//     fetch(url, init)      a request to https://<host>/… at the edge, from this process
//     seed(n)               restart the traffic split's pseudo-random sequence
//     requests              every request served: { host, path, script, version, status, override }
//   state()      a snapshot for assertions (secret values never appear):
//     { plan, subdomain, zones, scripts: { <name>: { versions: [{ id, number, created_on,
//       annotations, source, compatibility_date, bindings }], deployments: [{ id, created_on,
//       annotations, versions: [{ version_id, percentage }] }], settings, subdomain, routes,
//       schedules, secrets: { NAME: fingerprint } (of the latest version) } },
//       domains: [{ hostname, service, zone_name }], kv: [{ id, title }], d1: [{ uuid, name }] }
//     A secret binding shows as { type: "secret_text", name, fingerprint }: 12 hex
//     digits of the value's SHA-256, so a test can see that a secret changed.
//   kv(id)       the KV namespace id as a Workers KV binding (get, put, list…)
//   d1(uuid)     the D1 database as a D1 binding (prepare, batch…)
//   d1Query(uuid, sql)  the D1 `/query` endpoint's result for sql
//   dataPoints() Analytics Engine data points written: { dataset, script, version, point }
//   workerLogs() lines the deployed Workers printed (console), in order
//   requests     every API call: { method, path, query } (bodies never: they carry secrets)
//   internetAttempts  requests wrangler sent through the proxy: { method, target }
//   close()      stops everything and deletes the temporary folder
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Account, fingerprint, publicBinding } from "./account.mjs";
import { startApiServer, API_PREFIX } from "./api.mjs";
import { Runtime } from "./runtime.mjs";
import { Edge } from "./edge.mjs";
import { makeCertificates } from "./tls.mjs";

export const DEFAULT_ACCOUNT_ID = "0123456789abcdef0123456789abcdef";

export async function startCloudflareApi({
  accountId = DEFAULT_ACCOUNT_ID,
  apiToken = "cf-standin-token",
  plan = "paid",
  zones = ["example.com"],
  workersDevSubdomain = "standin",
  seed = 1,
  validateUploads = true,
} = {}) {
  if (!/^[0-9a-f]{32}$/.test(accountId)) throw new Error("accountId: 32 hex digits");
  if (!["paid", "free"].includes(plan)) throw new Error('plan: "paid" or "free"');
  const dir = mkdtempSync(path.join(os.tmpdir(), "cf-standin-"));
  const account = new Account({ id: accountId, plan, zones, workersDevSubdomain, apiToken });
  const runtime = new Runtime({ account, dir, validateUploads });
  account.onChange = () => runtime.markStale();
  const api = await startApiServer({ account, runtime });
  const certificates = await makeCertificates(dir);
  const edge = new Edge({ account, runtime, certificates, seed });
  await edge.listen();
  const apiBaseUrl = `http://127.0.0.1:${api.port}${API_PREFIX}`;
  const proxy = `http://127.0.0.1:${api.port}`;
  const logDir = path.join(dir, "wrangler-logs");
  // wrangler's temporary files, and the npm update check's cache (update-check keeps it in the
  // temp folder): a cache another process wrote must not decide whether wrangler goes online.
  const tmpDir = path.join(dir, "tmp");
  mkdirSync(tmpDir);

  const state = () => ({
    plan: account.plan,
    subdomain: account.subdomain,
    zones: account.zones.map((z) => ({ id: z.id, name: z.name })),
    scripts: Object.fromEntries([...account.scripts.values()].map((s) => [s.name, {
      created_on: s.created_on,
      versions: s.versions.map((v) => ({
        id: v.id,
        number: v.number,
        created_on: v.created_on,
        annotations: { ...v.annotations },
        source: v.source,
        main_module: v.main_module,
        modules: v.modules.map((m) => m.name),
        compatibility_date: v.compatibility_date,
        compatibility_flags: [...v.compatibility_flags],
        bindings: v.bindings.map((b) => (b.type === "secret_text" ? { ...publicBinding(b), fingerprint: fingerprint(b.text) } : publicBinding(b))),
      })),
      deployments: s.deployments.map((d) => structuredClone(d)),
      settings: structuredClone(s.settings),
      subdomain: { ...s.subdomain },
      routes: s.routes.map(({ pattern, zone_name }) => ({ pattern, zone_name })),
      schedules: s.schedules.map(({ cron }) => cron),
      secrets: Object.fromEntries((s.versions.at(-1)?.bindings ?? []).filter((b) => b.type === "secret_text").map((b) => [b.name, fingerprint(b.text)])),
    }])),
    domains: [...account.domains.values()].map(({ hostname, service, zone_name }) => ({ hostname, service, zone_name })),
    kv: [...account.kv.values()].map(({ id, title }) => ({ id, title })),
    d1: [...account.d1.values()].map(({ uuid, name }) => ({ uuid, name })),
  });

  return {
    accountId,
    apiBaseUrl,
    env: {
      CLOUDFLARE_API_BASE_URL: apiBaseUrl,
      CLOUDFLARE_API_TOKEN: apiToken,
      CLOUDFLARE_ACCOUNT_ID: accountId,
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_SEND_ERROR_REPORTS: "false",
      WRANGLER_HIDE_BANNER: "true",
      WRANGLER_LOG_PATH: logDir,
      TMPDIR: tmpDir,
      HTTPS_PROXY: proxy,
      HTTP_PROXY: proxy,
      NO_PROXY: "127.0.0.1,localhost,::1",
    },
    edge,
    state,
    kv: (id) => runtime.kv(id),
    d1: (uuid) => runtime.d1(uuid),
    d1Query: (uuid, sql) => runtime.d1Query(uuid, sql),
    dataPoints: () => [...runtime.dataPoints],
    workerLogs: () => [...runtime.logs],
    requests: api.requests,
    internetAttempts: api.internetAttempts,
    /** The account's rules and data, for the stand-in's own tests. */
    account,
    async close() {
      await edge.close();
      await api.close();
      await runtime.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
