// Shared by tests/deploy/cloudflare-api-*.test.mjs: the stand-in each file starts
// (one per file, so the files can run at the same time), small fixture Workers,
// and wrangler run against the stand-in. Each rule the stand-in enforces has its
// test in one of those files, named in tests/cloudflare/README.md.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { startCloudflareApi } from "./index.mjs";
import { runWrangler } from "./wrangler.mjs";

export const COMPAT = "2025-09-01";
export const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
/** The 12-hex fingerprint the stand-in shows for a secret (and the fixture Worker answers with). */
export const fingerprint = (value) => createHash("sha256").update(value).digest("hex").slice(0, 12);

export let cf;
export let work;
/** Every stand-in started, so the last test can check none saw wrangler leave loopback. */
const standIns = [];

before(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "cf-api-test-"));
  cf = await start();
});

after(async () => {
  for (const s of standIns) await s.close();
  rmSync(work, { recursive: true, force: true });
});

export async function start(options) {
  const s = await startCloudflareApi(options);
  standIns.push(s);
  return s;
}

/**
 * A fixture Worker that answers with what identifies it: its code label,
 * its version id (version metadata) and a fingerprint of API_KEY, never the
 * value itself.
 */
export const fixture = (label) => `
const digest = async (value) => value == null ? null
  : [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)))]
      .map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 12);
export default {
  async fetch(request, env) {
    return Response.json({ code: ${JSON.stringify(label)}, version: env.VERSION?.id ?? null, secret: await digest(env.API_KEY) });
  },
};
`;

/** A project folder for Worker `name`: wrangler.toml (`toml` appended) and worker.mjs (`code`). */
export function project(name, { toml = "", code = fixture("v1"), files = {} } = {}) {
  const dir = mkdtempSync(path.join(work, `${name}-`));
  writeFileSync(
    path.join(dir, "wrangler.toml"),
    `name = "${name}"\nmain = "worker.mjs"\ncompatibility_date = "${COMPAT}"\n${toml}\n[version_metadata]\nbinding = "VERSION"\n`,
  );
  writeFileSync(path.join(dir, "worker.mjs"), code);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

/** Runs wrangler in `dir` against stand-in `on` (default: the shared one). */
export const wrangler = (dir, args, { input, on = cf, env } = {}) => runWrangler(on, args, { cwd: dir, input, env });

/** Runs wrangler and requires exit 0; returns the run. */
export async function ok(dir, args, options) {
  const run = await wrangler(dir, args, options);
  assert.equal(run.status, 0, `wrangler ${args.join(" ")} failed:\n${run.output}`);
  return run;
}

/** Runs wrangler and requires it to fail; returns the run. */
export async function refused(dir, args, options) {
  const run = await wrangler(dir, args, options);
  assert.notEqual(run.status, 0, `wrangler ${args.join(" ")} should have failed:\n${run.output}`);
  return run;
}

export const idAfter = (label, output) => {
  const id = new RegExp(`${label}:?\\s+(${UUID})`).exec(output)?.[1];
  assert.ok(id, `no "${label}" in:\n${output}`);
  return id;
};
export const deployedId = (run) => idAfter("Current Version ID", run.output);
export const uploadedId = (run) => idAfter("Worker Version ID", run.output);

/** The edge's answer for https://<host>/ as JSON (the fixture's identity). */
export async function visit(host, headers = {}, on = cf) {
  const res = await on.edge.fetch(`https://${host}/`, { headers });
  const text = await res.text();
  assert.equal(res.status, 200, `https://${host}/ answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

/** The API directly, as a script that bypassed wrangler would call it. */
export async function api(method, resource, body, on = cf) {
  const res = await fetch(`${on.apiBaseUrl}/accounts/${on.accountId}${resource}`, {
    method,
    headers: { Authorization: `Bearer ${on.env.CLOUDFLARE_API_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

export const script = (name, on = cf) => on.state().scripts[name];
export const current = (name, on = cf) => script(name, on).deployments.at(-1).versions;

/** A Chromium on this machine, if any. */
export function chromium() {
  return [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"].find(
    (p) => p && existsSync(p),
  );
}

/**
 * The last test of every file: wrangler never left loopback. Every wrangler run had HTTPS_PROXY/HTTP_PROXY
 * pointing at the stand-in, which records and refuses whatever is not for the API. (The one call known to
 * try: wrangler's npm update check when a command ends in an error it does not recognise, which
 * WRANGLER_HIDE_BANNER does not turn off.)
 */
export function neverLeftLoopback() {
  test("wrangler never left loopback: nothing it sent went anywhere but the stand-in's API", () => {
    assert.deepEqual(standIns.flatMap((s) => s.internetAttempts), []);
    assert.ok(standIns.some((s) => s.requests.length > 0), "the tests above did talk to the API");
  });
}
