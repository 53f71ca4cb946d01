// docs/deploy.md cannot drift: every command in its ```sh blocks is checked.
// - make targets exist, and each runs: check with the example secrets and
//   placeholders allowed, deploy as a dry run, smoke against a host that does
//   not resolve; login, init, secret and rollback with the real wrangler
//   against the Cloudflare API stand-in, on a copy of the checkout (init and
//   secret write files);
// - wrangler subcommands and their flags are known to the pinned wrangler;
// - files it copies and routes it curls exist.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../../scripts/lib/wrangler-config.mjs";
import { startCloudflareApi } from "../cloudflare/index.mjs";
import { cleanEnvironment, makeCheckout } from "../support/checkout.mjs";
import { parseSecrets } from "../../scripts/lib/secrets-file.mjs";

const runbook = readFileSync(path.join(ROOT, "docs/deploy.md"), "utf8");
const commands = [...runbook.matchAll(/```sh\n([\s\S]*?)```/g)]
  .flatMap((m) => m[1].split("\n"))
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));
const makeTargets = new Set(
  [...readFileSync(path.join(ROOT, "Makefile"), "utf8").matchAll(/^([a-z][\w-]*):/gm)].map((m) => m[1]),
);

test("the runbook has the steps it promises, the three commands first", () => {
  for (const heading of ["Day one: three commands", "Upscope", "sign in", "KV namespace", "secrets", "Access", "Custom domain", "deploy", "Smoke check", "Logs", "Rollback", "Rotating"]) {
    assert.match(runbook, new RegExp(`^## .*${heading}`, "mi"), heading);
  }
  for (const must of ["wrangler tail --env", "wrangler rollback", "make deploy ENV=production", "make check ENV=production", "WSL",
    "The first deploy", "gradual", "Cloudflare-Workers-Version-Overrides", "STEPS=10,50,100", "make rollback ENV=production", "traffic returned to", "old secret values",
    "Workers Paid plan", "best effort", "wrangler triggers deploy", "wrangler versions secret put", "make secret ENV=production NAME=UPSCOPE_API_KEY", "placeholder"]) {
    assert.ok(runbook.includes(must), must);
  }
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(runbook)[1].trim().split("\n");
  assert.deepEqual(firstBlock, ["make login", "make init ENV=staging", "make deploy ENV=staging"], "the first commands are the three");
  assert.ok(runbook.indexOf("## Day one") < runbook.indexOf("## 0. Once"), "the three commands come before the manual path");
  assert.ok(commands.length >= 20, `${commands.length} commands`);
});

test("every make command names a target, and each one runs", async () => {
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
    else if (["login", "init", "secret", "rollback"].includes(target)) {
      // These need an account, and init and secret write files: the real wrangler against the
      // stand-in, on a copy of the checkout (standIn below); the smoke host does not resolve.
      const outcome = await standIn(target, vars);
      assert.equal(outcome.status, 0, `${line}:\n${outcome.output}`);
      continue;
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
    if (target === "stats") assert.match(run.stderr, /stats: could not reach the Analytics Engine SQL API at 127\.0\.0\.1:47: ECONNREFUSED/);
    if (target === "smoke") assert.match(run.stdout, /fail  gateway answers: no gateway at gateway\.invalid \((ENOTFOUND|EAI_AGAIN)\)/);
  }
});

/** The account, and the copy of the checkout, the stateful lines run against (made on first use). */
let stand;
after(async () => {
  await stand?.cf.close();
  stand?.co.remove();
});

/**
 * Runs `make <target>` of a runbook line against the stand-in, on the copy:
 *   login      signs in (the stand-in's token): wrangler whoami answers;
 *   init       non-interactive, with answers as variables;
 *   secret     before any deploy, only .env.<env> changes; after, a new
 *              version with it serves;
 *   rollback   after two deploys of that environment (a first make deploy,
 *              whose smoke check is skipped as the host does not resolve, and
 *              a wrangler deploy): back to the first, or to VERSION (the
 *              runbook's example id stands for the second).
 * Returns { status, output } after checking what the line must have done.
 */
async function standIn(target, vars) {
  if (!stand) {
    const cf = await startCloudflareApi({ zones: ["example.com"] });
    stand = { cf, co: makeCheckout("gateway-runbook-"), env: { ...cf.env, SMOKE_URL: "https://gateway.invalid" }, deployed: {} };
  }
  const { cf, co, env } = stand;
  const make = (args, extra = {}) => co.make(args, { env: { ...env, ...extra } });
  const init = (e) => make(["init", `ENV=${e}`], {
    GATEWAY_HOST: `cobrowse-${e}.example.com`, VISITOR_PAGES: "https://shop.example.com/account", EMBED_ORIGINS: "https://shop.example.com",
    UPSCOPE_API_KEY: "runbook-upscope-key-0123456789",
    ...(e === "production" ? { AGENT_AUTH: "access", ACCESS_TEAM_DOMAIN: "acme.cloudflareaccess.com", ACCESS_AUD: "0123456789abcdef0123456789abcdef" } : { AGENT_AUTH: "signed-link" }),
  });
  if (target === "login") {
    const run = await make(["login"]);
    assert.match(run.output, /deployer@example\.com|Stand-in account/, run.output);
    return run;
  }
  if (target === "init") {
    const run = await init(vars.ENV);
    if (run.status === 0) assert.deepEqual(Object.keys(parseSecrets(co.file(`.env.${vars.ENV}`))).includes("UPSCOPE_API_KEY"), true);
    return run;
  }
  if (!existsSync(path.join(co.dir, `.env.${vars.ENV}`))) {
    const first = await init(vars.ENV);
    if (first.status !== 0) return first;
  }
  if (target === "secret") {
    const run = await make(["secret", `ENV=${vars.ENV}`, `NAME=${vars.NAME}`], { [vars.NAME]: "a-new-value-from-the-runbook-0123" });
    if (run.status === 0 && !cf.state().scripts[`upscope-gateway-${vars.ENV}`]) {
      assert.match(run.output, /the Worker is not deployed yet: the first make deploy/);
      assert.equal(parseSecrets(co.file(`.env.${vars.ENV}`))[vars.NAME], "a-new-value-from-the-runbook-0123");
    }
    return run;
  }
  // rollback
  const worker = `upscope-gateway-${vars.ENV}`;
  if (!stand.deployed[vars.ENV]) {
    co.commit(`${vars.ENV}'s settings`);
    const first = await make(["deploy", `ENV=${vars.ENV}`]);
    if (first.status !== 0) return first;
    assert.match(first.output, /smoke check skipped/);
    // A second version of the same commit, deployed by hand but tagged as make deploy tags.
    const again = await co.exec(path.join(co.dir, "node_modules/.bin/wrangler"), ["deploy", `--env=${vars.ENV}`, `--tag=${co.git("rev-parse", "--short=12", "HEAD")}`], {
      env: { ...env, PATH: `${path.join(co.dir, "node_modules/.node-bin")}${path.delimiter}${cleanEnvironment().PATH}` },
    });
    if (again.status !== 0) return again;
    stand.deployed[vars.ENV] = cf.state().scripts[worker].versions.map((v) => v.id);
  }
  const [first, second] = stand.deployed[vars.ENV];
  const version = vars.VERSION ? second : undefined;
  const run = await make(["rollback", `ENV=${vars.ENV}`, ...(version ? [`VERSION=${version}`] : [])]);
  if (run.status === 0) {
    const serving = cf.state().scripts[worker].deployments.at(-1).versions;
    assert.deepEqual(serving, [{ version_id: version ?? first, percentage: 100 }]);
    assert.match(run.output, new RegExp(`rolled back to ${version ?? first}; smoke check skipped`));
    assert.match(run.output, /secrets it was deployed with/);
  }
  return run;
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
