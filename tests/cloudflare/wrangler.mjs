// Runs the project's real pinned wrangler (node_modules/.bin/wrangler, on the
// Node the Makefile uses: node_modules/.node-bin/node) against a stand-in,
// asynchronously: the stand-in answers from this same process, so a
// synchronous spawn would wait for itself forever.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const WRANGLER_BIN = path.join(ROOT, "node_modules/.bin/wrangler");
const NODE_BIN_DIR = path.join(ROOT, "node_modules/.node-bin");

/**
 * Environment variables that change wrangler's behaviour and must not leak
 * in from the machine running the tests: CI markers (wrangler reads
 * ci-info) and AI-agent markers (wrangler's agent detection registers a
 * workers.dev subdomain by itself when it thinks an agent runs it).
 */
const UNSTABLE = /^(CI|CONTINUOUS_INTEGRATION|BUILD_NUMBER|RUN_ID|GITHUB_ACTIONS|GITLAB_CI|CIRCLECI|TRAVIS|BUILDKITE|CLAUDECODE|CLAUDE_CODE_.*|CURSOR_.*|AI_AGENT|CODEX_.*|GEMINI_CLI|AIDER_.*|REPL_ID|CLOUDFLARE_.*|WRANGLER_.*)$/;

/**
 * `wrangler <args>` in `cwd` with the stand-in's env (and `env` on top),
 * `input` on stdin (wrangler reads secrets from a non-TTY stdin). Resolves to
 * `{ status, stdout, stderr, output }` (output: both, for messages wrangler
 * prints on either); rejects only when wrangler cannot be started. Killed
 * after `timeoutMs`.
 */
export function runWrangler(cf, args, { cwd, input = "", env = {}, timeoutMs = 180_000 } = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !UNSTABLE.test(name)));
  return new Promise((resolve, reject) => {
    const child = spawn(WRANGLER_BIN, args, {
      cwd,
      env: { ...base, PATH: `${NODE_BIN_DIR}${path.delimiter}${process.env.PATH}`, ...cf.env, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status: signal ? `killed by ${signal} after ${timeoutMs} ms` : status, stdout, stderr, output: `${stdout}\n${stderr}` });
    });
    child.stdin.end(input);
  });
}
