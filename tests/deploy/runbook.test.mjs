// docs/deploy.md cannot drift: every command in its ```sh blocks is checked.
// - make targets exist; the offline-safe ones run (check with the example
//   secrets and placeholders allowed, deploy as a dry run, smoke against a
//   host that does not resolve);
// - wrangler subcommands and their flags are known to the pinned wrangler;
// - files it copies and routes it curls exist.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../../scripts/lib/wrangler-config.mjs";

const runbook = readFileSync(path.join(ROOT, "docs/deploy.md"), "utf8");
const commands = [...runbook.matchAll(/```sh\n([\s\S]*?)```/g)]
  .flatMap((m) => m[1].split("\n"))
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));
const makeTargets = new Set(
  [...readFileSync(path.join(ROOT, "Makefile"), "utf8").matchAll(/^([a-z][\w-]*):/gm)].map((m) => m[1]),
);

test("the runbook has the steps it promises", () => {
  for (const heading of ["Upscope", "sign in", "KV namespace", "secrets", "Access", "Custom domain", "deploy", "Smoke check", "Logs", "Rollback", "Rotating"]) {
    assert.match(runbook, new RegExp(`^## .*${heading}`, "mi"), heading);
  }
  for (const must of ["wrangler tail --env", "wrangler rollback", "make deploy ENV=production", "make check ENV=production", "WSL",
    "The first deploy", "gradual", "Cloudflare-Workers-Version-Overrides", "STEPS=10,50,100", "make rollback ENV=production", "traffic returned to", "old secret values"]) {
    assert.ok(runbook.includes(must), must);
  }
  assert.ok(commands.length >= 20, `${commands.length} commands`);
});

test("every make command names a target, and the offline-safe ones run", () => {
  const makeLines = commands.filter((c) => c.startsWith("make "));
  assert.ok(makeLines.length >= 6);
  const ran = new Set();
  for (const line of makeLines) {
    const [, target, ...rest] = line.split(/\s+/);
    assert.ok(makeTargets.has(target), `${line}: no make target ${target}`);
    const vars = Object.fromEntries(rest.map((a) => a.split("=")));
    let args;
    let env = { ...process.env };
    if (target === "check") args = ["check", `ENV=${vars.ENV}`, "SECRETS=.env.example", "ALLOW_PLACEHOLDERS=1"];
    else if (target === "deploy") args = ["deploy", `ENV=${vars.ENV}`, ...(vars.STEPS ? [`STEPS=${vars.STEPS}`] : []), "SECRETS=.env.example", "ALLOW_PLACEHOLDERS=1", "DRY_RUN=1"];
    else if (target === "rollback") {
      // Rolling back needs Cloudflare: the stand-in wrangler answers for it (tests/deploy/rollout.test.mjs
      // drives it further), and the smoke host does not resolve, so the smoke check is skipped.
      args = ["rollback", `ENV=${vars.ENV}`, ...(vars.VERSION ? [`VERSION=${vars.VERSION}`] : [])];
      Object.assign(env, standInAccount(vars.ENV, vars.VERSION), { SMOKE_URL: "https://gateway.invalid" });
    }
    else if (target === "smoke") {
      // Whatever the line targets, offline it is a host that does not resolve.
      args = ["smoke", ...(vars.ENV ? [`ENV=${vars.ENV}`] : []), ...(vars.URL || !vars.ENV ? ["URL=https://gateway.invalid"] : [])];
      env.SMOKE_URL = "https://gateway.invalid";
    } else if (target === "setup") args = ["setup"];
    else if (target === "stats") {
      // Offline, the SQL API is a closed loopback port: it must say so.
      args = ["stats", `ENV=${vars.ENV}`, ...(vars.SINCE ? [`SINCE=${vars.SINCE}`] : [])];
      env = { ...env, CLOUDFLARE_API_TOKEN: "offline-token", CLOUDFLARE_ACCOUNT_ID: "offline", STATS_API_BASE: "http://127.0.0.1:47/client/v4" };
    }
    else assert.fail(`${line}: the runbook test does not know how to run make ${target} offline`);
    if (ran.has(args.join(" "))) continue; // the same offline run as an earlier line
    ran.add(args.join(" "));
    const run = spawnSync("make", ["--no-print-directory", ...args], { cwd: ROOT, encoding: "utf8", env, timeout: 180_000 });
    // Offline, a smoke check can only fail, and must say why.
    const expected = target === "smoke" || target === "stats" ? 2 : 0;
    assert.equal(run.status, expected, `${line} (as make ${args.join(" ")}):\n${run.stdout}\n${run.stderr}`);
    if (target === "deploy") assert.match(run.stdout, /dry run: nothing was uploaded/);
    if (target === "rollback") {
      const calls = readFileSync(env.STANDIN_WRANGLER_LOG, "utf8").trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(calls, [
        ["rollback", ...(vars.VERSION ? [vars.VERSION] : []), "--env", vars.ENV, "-y", "--message", "make rollback"],
        ["deployments", "status", "--json", "--env", vars.ENV],
      ]);
      const back = vars.VERSION ?? PREVIOUS;
      assert.match(run.stdout, new RegExp(`rolled back to ${back}; smoke check skipped`));
      assert.match(run.stdout, /secrets it was deployed with/);
    }
    if (target === "stats") assert.match(run.stderr, /stats: could not reach the Analytics Engine SQL API at 127\.0\.0\.1:47: ECONNREFUSED/);
    if (target === "smoke") assert.match(run.stdout, /fail  gateway answers: no gateway at gateway\.invalid \((ENOTFOUND|EAI_AGAIN)\)/);
  }
});

const PREVIOUS = "0a0a0a0a-0000-4000-8000-000000000001";
const CURRENT = "0b0b0b0b-0000-4000-8000-000000000002";
/** A stand-in wrangler (tests/support/wrangler-stand-in.mjs) whose account had PREVIOUS, then CURRENT, and knows `extra`. */
function standInAccount(env, extra) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "runbook-rollback-"));
  const state = path.join(dir, "state.json");
  const versions = Object.fromEntries([PREVIOUS, CURRENT, extra].filter(Boolean).map((id) => [id, { tag: "t", message: "m" }]));
  writeFileSync(state, JSON.stringify({
    deployments: [
      { id: "d1", created_on: "2026-01-01T00:00:00Z", versions: [{ version_id: PREVIOUS, percentage: 100 }] },
      { id: "d2", created_on: "2026-01-02T00:00:00Z", versions: [{ version_id: CURRENT, percentage: 100 }] },
    ],
    versions,
  }));
  return {
    WRANGLER: path.join(ROOT, "tests/support/wrangler-stand-in.mjs"),
    STANDIN_WRANGLER_STATE: state,
    STANDIN_WRANGLER_LOG: path.join(dir, "argv.log"),
  };
}

test("every wrangler command and flag is known to the pinned wrangler", () => {
  const byPath = new Map();
  for (const line of commands.filter((c) => c.startsWith("wrangler "))) {
    const words = line.split(/\s+/).slice(1);
    const sub = [];
    for (const w of words) {
      if (!/^[a-z][a-z0-9]*$/.test(w)) break;
      sub.push(w);
    }
    const flags = words.filter((w) => w.startsWith("--")).map((w) => w.split("=")[0]);
    const key = sub.join(" ");
    byPath.set(key, new Set([...(byPath.get(key) ?? []), ...flags]));
  }
  assert.ok(byPath.size >= 8, [...byPath.keys()].join(", "));
  for (const [sub, flags] of byPath) {
    const run = spawnSync("wrangler", [...sub.split(" "), "--help"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    assert.equal(run.status, 0, `wrangler ${sub} --help:\n${run.stderr}`);
    assert.match(run.stdout, new RegExp(`^wrangler ${sub}\\b`, "m"), `wrangler ${sub} is not a command`);
    for (const flag of flags) assert.match(run.stdout, new RegExp(`${flag}\\b`), `wrangler ${sub} has no ${flag}`);
  }
});

test("files the runbook copies and routes it curls exist", () => {
  const routes = readFileSync(path.join(ROOT, "src/routes/mod.rs"), "utf8");
  for (const line of commands) {
    if (line.startsWith("cp ")) {
      const [, from] = line.split(/\s+/);
      assert.ok(existsSync(path.join(ROOT, from)), `${line}: ${from} is missing`);
    } else if (line.startsWith("curl ")) {
      const route = new URL(line.split(/\s+/).at(-1)).pathname;
      assert.ok(routes.includes(`"${route}"`), `${line}: the gateway has no route ${route}`);
    } else if (line.startsWith("export ")) {
      for (const dir of line.match(/node_modules\/[.\w-]+/g) ?? []) {
        assert.ok(existsSync(path.join(ROOT, dir)), `${line}: ${dir} does not exist after make setup`);
      }
    } else {
      assert.match(line, /^(make|wrangler) /, `the runbook test does not check: ${line}`);
    }
  }
});
