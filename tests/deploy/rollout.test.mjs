// `make deploy` as a gradual rollout (scripts/deploy.mjs), driven against a
// stand-in `wrangler` on PATH (tests/support/wrangler-stand-in.mjs: it
// records every argv and answers as the pinned wrangler does) and a pretend
// Cloudflare edge on loopback:
//
//   two real gateways (the built wasm in Miniflare, the simulator upstream),
//   "old" and "new", each with its own CF_VERSION_METADATA id; and a proxy in
//   front of them that routes each request as Cloudflare does, from the
//   stand-in's current deployment: to the version the
//   Cloudflare-Workers-Version-Overrides header names when that version is in
//   the deployment (else the header is ignored), otherwise by the
//   percentages. So a smoke check sees the new version only once the deploy
//   script has put it into the deployment, and only with the override or at
//   100%, and /readyz's version_id tells which one answered.
//
// A failure is injected by the "edge": the new version's /readyz answers 503
// while the deployment gives it a chosen percentage.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../../scripts/lib/wrangler-config.mjs";
import { baseVars, startGateway, startSimulator } from "../support/harness.mjs";
import { runScript } from "../support/dev.mjs";

const WORKER = "upscope-gateway-staging";
const OLD = "11111111-1111-4111-8111-111111111111";
const NEW = "22222222-2222-4222-8222-222222222222";
const STAND_IN = path.join(ROOT, "tests/support/wrangler-stand-in.mjs");

let up;
let gateways;
let proxy;
let proxyUrl;
/** Percentages of NEW at which its /readyz is broken (set per test). */
let brokenAt = [];
/** The state file the current test's stand-in keeps. */
let statePath;

before(async () => {
  up = await startSimulator();
  const start = (id) =>
    startGateway({ vars: baseVars(up.apiBase), listen: true, versionMetadata: { id, tag: "", timestamp: "2026-01-01T00:00:00Z" } });
  gateways = { [OLD]: await start(OLD), [NEW]: await start(NEW) };
  proxy = http.createServer((req, res) => {
    const deployment = JSON.parse(readFileSync(statePath, "utf8")).deployments.at(-1);
    const override = /(?:^|,)\s*([a-z0-9-]+)="([^"]*)"/i.exec(req.headers["cloudflare-workers-version-overrides"] ?? "");
    const inDeployment = (id) => deployment.versions.some((v) => v.version_id === id);
    let id;
    if (override && override[1] === WORKER && inDeployment(override[2])) id = override[2];
    else {
      let roll = Math.random() * 100;
      id = deployment.versions.find((v) => (roll -= v.percentage) < 0)?.version_id ?? deployment.versions[0].version_id;
    }
    const pct = deployment.versions.find((v) => v.version_id === NEW)?.percentage;
    if (id === NEW && brokenAt.includes(pct) && req.url.startsWith("/readyz")) {
      res.writeHead(503, { "Content-Type": "application/json" });
      return res.end(JSON.stringify({ status: "not_ready", problems: ["UPSCOPE_API_BASE: broken on purpose by the test"], version_id: NEW }));
    }
    const target = new URL(gateways[id].url);
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  proxyUrl = `http://127.0.0.1:${proxy.address().port}`;
});

after(async () => {
  proxy?.close();
  for (const gw of Object.values(gateways ?? {})) await gw.close();
  await up?.close();
});

/** A pretend account where OLD serves 100%; `fail` as the stand-in takes it. */
function account({ deployments = [[{ version_id: OLD, percentage: 100 }]], fail = [] } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "rollout-"));
  statePath = path.join(dir, "state.json");
  writeFileSync(statePath, JSON.stringify({
    deployments: deployments.map((versions, i) => ({ id: `d${i}`, created_on: `2026-01-0${i + 1}T00:00:00Z`, versions })),
    versions: { [OLD]: { tag: "old", message: "old" } },
    next_versions: [NEW],
    fail,
  }));
  // `wrangler` on PATH is the stand-in.
  writeFileSync(path.join(dir, "wrangler"), `#!/bin/sh\nexec node ${JSON.stringify(STAND_IN)} "$@"\n`);
  chmodSync(path.join(dir, "wrangler"), 0o755);
  return { dir, log: path.join(dir, "argv.log"), state: () => JSON.parse(readFileSync(statePath, "utf8")) };
}

/** Every argv the deploy script gave the stand-in, for the last test to check against the real wrangler. */
const allCalls = [];

/** Runs scripts/deploy.mjs with the stand-in first on PATH; bounded at 200 s. */
async function deploy(acct, args = []) {
  const { status, stdout } = await runScript("scripts/deploy.mjs", ["--env", "staging", ...args], {
    env: {
      PATH: `${acct.dir}:${process.env.PATH}`,
      STANDIN_WRANGLER_STATE: statePath,
      STANDIN_WRANGLER_LOG: acct.log,
      SMOKE_URL: proxyUrl,
      DEPLOY_SETTLE_SECONDS: "2",
    },
    timeoutMs: 200_000,
  });
  let calls = [];
  try {
    calls = readFileSync(acct.log, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  } catch {}
  allCalls.push(...calls);
  return { status, stdout, calls };
}

/** The commit's tag and message, as the deploy script names the version. */
async function commit() {
  const git = (...args) =>
    new Promise((resolve) => {
      const child = spawn("git", args, { cwd: ROOT });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.on("exit", () => resolve(out.trim()));
    });
  const dirty = (await git("status", "--porcelain", "--untracked-files=no")) ? "-dirty" : "";
  const subject = await git("log", "-1", "--format=%s");
  return { tag: `${await git("rev-parse", "--short=12", "HEAD")}${dirty}`, message: subject.length > 100 ? `${subject.slice(0, 99)}…` : subject };
}

const status = ["deployments", "status", "--json", "--env", "staging"];
const upload = ({ tag, message }) => ["versions", "upload", "--env", "staging", "--tag", tag, "--message", message];
const step = (tag, pct) =>
  ["versions", "deploy", ...(pct === 100 ? [`${NEW}@100%`] : [`${NEW}@${pct}%`, `${OLD}@${100 - pct}%`]), "-y", "--env", "staging", "--message", `make deploy: ${tag} at ${pct}%`];
const back = ["versions", "deploy", `${OLD}@100%`, "-y", "--env", "staging", "--message", `make deploy: back to ${OLD}`];
const serving = (acct) => acct.state().deployments.at(-1).versions;

test("a deploy uploads, smoke-checks the new version through the override at 0%, then at 10% and at 100%", async () => {
  brokenAt = [];
  const c = await commit();
  const acct = account();
  const run = await deploy(acct);
  assert.equal(run.status, 0, run.stdout);
  assert.deepEqual(run.calls, [status, upload(c), step(c.tag, 0), step(c.tag, 10), step(c.tag, 100)]);
  assert.deepEqual(serving(acct), [{ version_id: NEW, percentage: 100 }]);
  assert.deepEqual(acct.state().versions[NEW], c, "the version is tagged with the commit and its subject");
  // Each smoke check required NEW, and it answered: through the override while OLD still had traffic, without it at 100%.
  assert.match(run.stdout, new RegExp(`smoke check \\(new version at 0%\\): version ${NEW}, through the version override`));
  assert.match(run.stdout, new RegExp(`smoke check \\(10%\\): version ${NEW}, through the version override`));
  assert.match(run.stdout, new RegExp(`smoke check \\(100%\\): version ${NEW}\\n`));
  assert.equal(run.stdout.match(new RegExp(`smoke ready: pass, .*; version ${NEW}`, "g"))?.length, 3, run.stdout);
  assert.equal(run.stdout.match(/smoke agent by own ID: pass/g)?.length, 3, run.stdout);
  assert.match(run.stdout, new RegExp(`deployed ${NEW} \\(tag ${c.tag}\\) and answering; the previous version was ${OLD}: make rollback ENV=staging VERSION=${OLD}`));
});

test("STEPS=10,50,100 shifts traffic in those steps", async () => {
  brokenAt = [];
  const c = await commit();
  const acct = account();
  // A failure at 50% keeps this short: the steps before it, then straight back.
  brokenAt = [50];
  const run = await deploy(acct, ["--steps", "10,50,100"]);
  assert.equal(run.status, 1, run.stdout);
  assert.deepEqual(run.calls, [status, upload(c), step(c.tag, 0), step(c.tag, 10), step(c.tag, 50), back]);
  const bad = await deploy(account(), ["--steps", "10,5,100"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stdout, /STEPS must be ascending percentages from 1 to 100 ending at 100/);
  assert.deepEqual(bad.calls, []);
});

for (const [at, label, before] of [
  [0, "new version at 0%", []],
  [10, "10%", [10]],
  [100, "100%", [10, 100]],
]) {
  test(`a smoke check failing at ${label} returns all traffic to the old version, and says so`, async () => {
    const c = await commit();
    const acct = account();
    brokenAt = [at];
    const run = await deploy(acct);
    assert.equal(run.status, 1, run.stdout);
    assert.deepEqual(run.calls, [status, upload(c), step(c.tag, 0), ...before.map((p) => step(c.tag, p)), back]);
    assert.deepEqual(serving(acct), [{ version_id: OLD, percentage: 100 }]);
    assert.match(run.stdout, /smoke ready: fail, UPSCOPE_API_BASE: broken on purpose by the test/);
    assert.match(run.stdout, new RegExp(`smoke check failed at ${label}; traffic returned to ${OLD} \\(100%\\)\\. ${NEW} stays uploaded, serving nothing`));
  });
}

test("a failing upload changes nothing and says so; a failing return to the old version says what to run", async () => {
  brokenAt = [];
  const c = await commit();
  let acct = account({ fail: ["versions upload"] });
  let run = await deploy(acct);
  assert.equal(run.status, 1, run.stdout);
  assert.deepEqual(run.calls, [status, upload(c)]);
  assert.match(run.stdout, /A request to the Cloudflare API \(.*\/versions\) failed/);
  assert.match(run.stdout, new RegExp(`wrangler versions upload failed \\(exit 1\\): nothing was deployed; ${OLD} still serves 100%`));
  assert.deepEqual(serving(acct), [{ version_id: OLD, percentage: 100 }]);

  // Cloudflare refuses the first `versions deploy` (to 0%): nothing moved, nothing to return.
  acct = account({ fail: ["versions deploy"] });
  run = await deploy(acct);
  assert.equal(run.status, 1, run.stdout);
  assert.deepEqual(run.calls, [status, upload(c), step(c.tag, 0)]);
  assert.match(run.stdout, new RegExp(`wrangler versions deploy ${NEW}@0% ${OLD}@100% failed \\(exit 1\\); traffic was never moved: ${OLD} still serves 100%`));

  // The new version fails its smoke check at 0%, and Cloudflare then refuses the way back too.
  brokenAt = [0];
  acct = account({ fail: ["versions deploy#2"] });
  run = await deploy(acct);
  assert.equal(run.status, 1, run.stdout);
  assert.deepEqual(run.calls, [status, upload(c), step(c.tag, 0), back]);
  assert.match(run.stdout, new RegExp(`smoke check failed at new version at 0%, and returning traffic to ${OLD} FAILED: run \`make rollback ENV=staging VERSION=${OLD}\` now`));
});

test("a rollout already under way, or an account wrangler cannot read, changes nothing", async () => {
  brokenAt = [];
  const acct = account({ deployments: [[{ version_id: OLD, percentage: 100 }], [{ version_id: OLD, percentage: 90 }, { version_id: "33333333-3333-4333-8333-333333333333", percentage: 10 }]] });
  const run = await deploy(acct);
  assert.equal(run.status, 1, run.stdout);
  assert.deepEqual(run.calls, [status]);
  assert.match(run.stdout, new RegExp(`a rollout is under way \\(${OLD} at 90%, 33333333-3333-4333-8333-333333333333 at 10%\\): finish it, or \`make rollback ENV=staging\`, first; nothing was changed`));

  const locked = account({ fail: ["deployments status"] });
  const refused = await deploy(locked);
  assert.equal(refused.status, 1, refused.stdout);
  assert.deepEqual(refused.calls, [status]);
  assert.match(refused.stdout, /could not read the current deployment, so nothing was changed:\n.*A request to the Cloudflare API/);
});

test("the first deploy of a Worker is `wrangler deploy`, then the smoke check of the version it names", async () => {
  brokenAt = [];
  const c = await commit();
  const acct = account({ deployments: [] });
  // The only version there will be is NEW (the stand-in hands out next_versions in order).
  const run = await deploy(acct);
  assert.equal(run.status, 0, run.stdout);
  assert.deepEqual(run.calls, [status, ["deploy", "--env", "staging", "--tag", c.tag, "--message", c.message]]);
  assert.match(run.stdout, /no deployment yet: a first deploy/);
  assert.match(run.stdout, new RegExp(`smoke ready: pass, .*; version ${NEW}`));
  assert.match(run.stdout, new RegExp(`deployed ${NEW} \\(tag ${c.tag}\\) and answering`));
});

test("make rollback: wrangler rollback, then the smoke check of the version that serves", async () => {
  brokenAt = [];
  // After a finished rollout: OLD 100%, NEW at 0%, at 10%, at 100%.
  const acct = account({
    deployments: [
      [{ version_id: OLD, percentage: 100 }],
      [{ version_id: NEW, percentage: 0 }, { version_id: OLD, percentage: 100 }],
      [{ version_id: NEW, percentage: 10 }, { version_id: OLD, percentage: 90 }],
      [{ version_id: NEW, percentage: 100 }],
    ],
  });
  const state = acct.state();
  state.versions[NEW] = { tag: "new", message: "new" };
  writeFileSync(statePath, JSON.stringify(state));
  const run = await deploy(acct, ["--rollback"]);
  assert.equal(run.status, 0, run.stdout);
  assert.deepEqual(run.calls, [["rollback", "--env", "staging", "-y", "--message", "make rollback"], status]);
  assert.deepEqual(serving(acct), [{ version_id: OLD, percentage: 100 }], "wrangler's choice: the last version that served 100% before");
  assert.match(run.stdout, /a version from before a secret change runs with the secrets it was deployed with/);
  assert.match(run.stdout, new RegExp(`smoke ready: pass, .*; version ${OLD}`));
  assert.match(run.stdout, new RegExp(`rolled back: ${OLD} serves 100% and answers`));

  // VERSION=… picks one; the smoke check must then see that one answering.
  const again = await deploy(acct, ["--rollback", "--version", NEW]);
  assert.equal(again.status, 0, again.stdout);
  assert.deepEqual(again.calls.slice(2), [["rollback", NEW, "--env", "staging", "-y", "--message", "make rollback"], status]);
  assert.match(again.stdout, new RegExp(`rolled back: ${NEW} serves 100% and answers`));
});

test("the pinned wrangler knows every command and flag the deploy script ran, and writes the version id where the script reads it", () => {
  assert.ok(allCalls.length >= 20, `${allCalls.length} calls`);
  const byCommand = new Map();
  for (const argv of allCalls) {
    const command = argv.slice(0, ["versions", "deployments"].includes(argv[0]) ? 2 : 1).join(" ");
    byCommand.set(command, new Set([...(byCommand.get(command) ?? []), ...argv.filter((a) => a.startsWith("-"))]));
  }
  assert.deepEqual([...byCommand.keys()].sort(), ["deploy", "deployments status", "rollback", "versions deploy", "versions upload"]);
  for (const [command, flags] of byCommand) {
    const help = spawnSync("wrangler", [...command.split(" "), "--help"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    assert.equal(help.status, 0, help.stderr);
    for (const flag of flags) assert.match(help.stdout, new RegExp(`(^|[ ,])${flag}\\b`, "m"), `wrangler ${command} has no ${flag}`);
  }
  // `versions deploy` takes <id>@<pct> specs; `rollback` an optional version id.
  assert.match(spawnSync("wrangler", ["versions", "deploy", "--help"], { cwd: ROOT, encoding: "utf8" }).stdout, /<version-id>@<percentage>/);

  // A real (offline) dry run: the machine-readable record names the version
  // in the member the script reads (null here, as nothing was uploaded).
  const dir = mkdtempSync(path.join(os.tmpdir(), "upload-dry-"));
  const record = path.join(dir, "output.ndjson");
  const dry = spawnSync("wrangler", ["versions", "upload", "--env", "staging", "--tag", "t", "--message", "m", "--dry-run", "--outdir", path.join(dir, "out")], {
    cwd: ROOT, encoding: "utf8", timeout: 180_000, env: { ...process.env, WRANGLER_OUTPUT_FILE_PATH: record },
  });
  assert.equal(dry.status, 0, dry.stdout + dry.stderr);
  const entry = readFileSync(record, "utf8").trim().split("\n").map((l) => JSON.parse(l)).find((e) => e.type === "version-upload");
  assert.ok(entry && "version_id" in entry, readFileSync(record, "utf8"));
  assert.equal(entry.worker_name, WORKER);
});
