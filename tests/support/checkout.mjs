// A throwaway copy of this checkout for the deploy tests: `make init` writes
// wrangler.toml and .env.<env>, and a deploy names the commit, so they run
// on a copy with a git history of its own and never touch the real checkout.
//
// The copy has every file git would see (tracked, and new files not
// ignored) as they are now, committed once; node_modules' packages are
// links to this checkout's (the same toolchain); build/ is copied
// last, so `make build` finds it newer than the sources it was built from
// (the tests run after `make build`, as `make test` does).
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../../scripts/lib/wrangler-config.mjs";

const git = (cwd, ...args) => {
  const run = spawnSync("git", args, { cwd, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`git ${args.join(" ")}: ${run.stderr}`);
  return run.stdout.trim();
};

/** Makes the copy; returns { dir, git(...args), commit(message, edit?), file(rel), write(rel, text), remove() }. */
export function makeCheckout(prefix = "gateway-checkout-") {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const files = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0").filter(Boolean);
  for (const file of files) {
    const from = path.join(ROOT, file);
    const to = path.join(dir, file);
    mkdirSync(path.dirname(to), { recursive: true });
    try {
      cpSync(from, to, { preserveTimestamps: false });
    } catch (err) {
      if (err.code !== "ENOENT") throw err; // a tracked file deleted in the working tree
    }
  }
  // The same npm packages, each linked, but a .node-bin of its own: setup
  // points .node-bin/node at the copy's own path, which must not replace
  // this checkout's link. A Cargo target folder of the copies' own (kept
  // between runs), as Cargo's records name the source files' paths and two
  // trees must never share one.
  mkdirSync(path.join(dir, "node_modules"));
  for (const entry of readdirSync(path.join(ROOT, "node_modules"))) {
    if (entry !== ".node-bin") symlinkSync(path.join(ROOT, "node_modules", entry), path.join(dir, "node_modules", entry));
  }
  mkdirSync(path.join(dir, "node_modules", ".node-bin"));
  symlinkSync(realpathSync(path.join(ROOT, "node_modules", ".node-bin", "node")), path.join(dir, "node_modules", ".node-bin", "node"));
  mkdirSync(path.join(ROOT, "target", "checkouts"), { recursive: true });
  symlinkSync(path.join(ROOT, "target", "checkouts"), path.join(dir, "target"));
  cpSync(path.join(ROOT, "build"), path.join(dir, "build"), { recursive: true, preserveTimestamps: false });
  const run = (...args) => git(dir, ...args);
  run("init", "--quiet", "--initial-branch=main");
  run("config", "user.email", "deployer@example.com");
  run("config", "user.name", "Deployer");
  run("add", "--all");
  run("commit", "--quiet", "--message=the gateway as it is being tested");
  return {
    dir,
    git: run,
    file: (rel) => readFileSync(path.join(dir, rel), "utf8"),
    write: (rel, text) => writeFileSync(path.join(dir, rel), text),
    /** Commits the working tree with `message`; returns the short (12) sha the deploy tags versions with. */
    commit(message) {
      run("commit", "--quiet", "--all", "--allow-empty", `--message=${message}`);
      return run("rev-parse", "--short=12", "HEAD");
    },
    /**
     * `command args` in the copy, with `env` over a clean environment (see
     * cleanEnvironment) and `input` on stdin; resolves to { status, output }
     * (stdout and stderr, interleaved). Killed after `timeoutMs`.
     */
    exec(command, args, { env = {}, input = "", timeoutMs = 230_000 } = {}) {
      return new Promise((resolve) => {
        const child = spawn(command, args, { cwd: dir, env: { ...cleanEnvironment(), ...env }, stdio: ["pipe", "pipe", "pipe"] });
        let output = "";
        child.stdout.on("data", (d) => (output += d));
        child.stderr.on("data", (d) => (output += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("close", (status, signal) => {
          clearTimeout(timer);
          resolve({ status: signal ? `killed by ${signal} after ${timeoutMs} ms` : status, output });
        });
        child.stdin.end(input);
      });
    },
    /**
     * `node script args` in the copy, with the PATH its Makefile sets (its
     * Node, its wrangler, cargo's tools); options as exec's.
     */
    node(script, args, options = {}) {
      const PATH = [path.join(dir, "node_modules/.node-bin"), path.join(dir, "node_modules/.bin"), path.join(os.homedir(), ".cargo/bin"), cleanEnvironment().PATH].join(path.delimiter);
      return this.exec(path.join(dir, "node_modules/.node-bin/node"), [script, ...args], { ...options, env: { PATH, ...options.env } });
    },
    /** `make args` in the copy (a failing make exits 2); options as exec's. */
    make(args, options) {
      return this.exec("make", ["--no-print-directory", ...args], options);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * This process's environment without what would change wrangler's or the
 * scripts' behaviour from outside: CI and AI-agent markers (wrangler reads
 * them), CLOUDFLARE_* and WRANGLER_* settings, a secret of the gateway's, and
 * this checkout's node_modules on PATH (the copy's Makefile puts its own
 * first; setup would otherwise take this checkout's Node link for the
 * system's Node and point the shared link at itself).
 */
export function cleanEnvironment() {
  const unstable = /^(CI|CONTINUOUS_INTEGRATION|BUILD_NUMBER|RUN_ID|GITHUB_ACTIONS|GITLAB_CI|CIRCLECI|TRAVIS|BUILDKITE|CLAUDECODE|CLAUDE_CODE_.*|CURSOR_.*|AI_AGENT|CODEX_.*|GEMINI_CLI|AIDER_.*|REPL_ID|CLOUDFLARE_.*|WRANGLER_.*|NODE_OPTIONS|UPSCOPE_.*|.*_SECRET|SMOKE_.*|SECRETS|ENV|STEPS|VERSION|NAME|CONFIG)$/;
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !unstable.test(name)));
  env.PATH = (process.env.PATH ?? "").split(path.delimiter).filter((p) => !p.startsWith(path.join(ROOT, "node_modules"))).join(path.delimiter);
  return env;
}
