// Running the pinned wrangler for `make deploy`, `make rollback` and
// `make secret`, and reading what it reports about a Worker. Every value
// that comes from a person (a commit subject, a version id, a file name, an
// environment) goes to wrangler as `--flag=value`, never as two arguments:
// a value starting with `-` would otherwise be read as a flag.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./wrangler-config.mjs";

/**
 * Runs `wrangler args` from the project's root, its output shown through
 * `show` (unless quiet) and kept. `input` goes to its stdin (a secret for
 * `versions secret put`). Returns { ok, status, stdout, stderr, outputs }:
 * `outputs` are the entries wrangler wrote to WRANGLER_OUTPUT_FILE_PATH,
 * its machine-readable record of what it did.
 */
export function wrangler(args, { quiet = false, input, show = console.log } = {}) {
  if (!quiet) show(`wrangler ${args.join(" ")}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), "wrangler-output-"));
  const outputFile = path.join(dir, "output.ndjson");
  try {
    const run = spawnSync("wrangler", args, {
      cwd: ROOT,
      encoding: "utf8",
      input: input ?? "",
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_OUTPUT_FILE_PATH: outputFile },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 10 * 60_000,
    });
    if (!quiet) {
      process.stdout.write(run.stdout ?? "");
      process.stderr.write(run.stderr ?? "");
    }
    const outputs = existsSync(outputFile)
      ? readFileSync(outputFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
      : [];
    if (run.error) return { ok: false, status: run.error.code, stdout: "", stderr: String(run.error.message), outputs };
    return { ok: run.status === 0, status: run.status, stdout: run.stdout ?? "", stderr: run.stderr ?? "", outputs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The commit being deployed, for a version's tag and message. */
export function commit() {
  const git = (...args) => spawnSync("git", args, { cwd: ROOT, encoding: "utf8" });
  const sha = git("rev-parse", "--short=12", "HEAD").stdout?.trim();
  if (!sha) return { tag: "no-git", message: "deployed from a tree outside git" };
  const dirty = git("status", "--porcelain", "--untracked-files=no").stdout?.trim() ? "-dirty" : "";
  const subject = git("log", "-1", "--format=%s").stdout.trim();
  // Cloudflare keeps a version's message short; the commit names the rest.
  const message = subject.length > 100 ? `${subject.slice(0, 99)}…` : subject;
  return { tag: `${sha}${dirty}`, message };
}

/** Whether the checkout's tracked files are exactly commit `sha`'s tree. */
export function checkoutIs(sha) {
  const git = (...args) => spawnSync("git", args, { cwd: ROOT, encoding: "utf8" });
  if (!/^[0-9a-f]{7,40}$/.test(sha)) return false;
  const theirs = git("rev-parse", "--verify", "--quiet", `${sha}^{tree}`).stdout?.trim();
  const ours = git("rev-parse", "--verify", "--quiet", "HEAD^{tree}").stdout?.trim();
  const clean = !git("status", "--porcelain", "--untracked-files=no").stdout?.trim();
  return Boolean(theirs) && theirs === ours && clean;
}

/**
 * Which versions serve `env` now: { versions: [{ version_id, percentage }] },
 * { none: true } when the Worker does not exist or has no deployment, or { error }.
 */
export function currentDeployment(env) {
  const run = wrangler(["deployments", "status", "--json", `--env=${env}`], { quiet: true });
  if (run.ok) {
    try {
      const deployment = JSON.parse(run.stdout);
      if (Array.isArray(deployment.versions) && deployment.versions.length) return { versions: deployment.versions };
    } catch {
      // not JSON: reported below
    }
    return { error: `wrangler deployments status --json printed no deployment:\n${run.stdout}` };
  }
  const said = `${run.stdout}\n${run.stderr}`;
  // A Worker that exists without a deployment, or does not exist yet (API error 10007 or 10090).
  if (/has no deployments|\[code: 100(07|90)\]/.test(said)) return { none: true };
  return { error: said.trim() || `exit ${run.status}` };
}

/** One version as the API describes it (`wrangler versions view --json`): bindings, annotations; or { error }. */
export function viewVersion(env, id, configArgs = []) {
  const run = wrangler(["versions", "view", id, "--json", `--env=${env}`, ...configArgs], { quiet: true });
  if (!run.ok) return { error: `${run.stdout}\n${run.stderr}`.trim() };
  try {
    return JSON.parse(run.stdout);
  } catch {
    return { error: "wrangler versions view --json printed no JSON" };
  }
}

/** The most recently uploaded version (`wrangler versions list --json`, oldest first), or { error }. */
export function latestVersion(env) {
  const run = wrangler(["versions", "list", "--json", `--env=${env}`], { quiet: true });
  if (!run.ok) return { error: `${run.stdout}\n${run.stderr}`.trim() };
  try {
    const versions = JSON.parse(run.stdout);
    return versions.at(-1) ?? { error: "the Worker has no versions" };
  } catch {
    return { error: "wrangler versions list --json printed no JSON" };
  }
}

/**
 * Whether a version is a deploy of this gateway: it binds CF_VERSION_METADATA,
 * as every environment of wrangler.toml does. The Worker `wrangler secret put`
 * creates when none exists (`export default { fetch() {} }`) binds nothing
 * but its secrets; neither does one deployed by hand from elsewhere.
 */
export const isGatewayVersion = (version) =>
  (version.resources?.bindings ?? []).some((b) => b.type === "version_metadata" && b.name === "CF_VERSION_METADATA");

/** The secrets files not yet removed, each as its `remove()`. */
const secretsFiles = new Set();

/**
 * `secrets` written to a JSON file only this user can read, in a folder of
 * its own, for `--secrets-file`; `remove()` deletes both. They are also
 * deleted when the process ends: at exit, and on Ctrl-C, a closed terminal
 * or a kill (SIGINT, SIGHUP, SIGTERM), which would otherwise end Node without
 * its exit handlers and leave the secrets on disk, say mid-rollout.
 */
export function secretsFileFor(secrets) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gateway-secrets-"));
  const file = path.join(dir, "secrets.json");
  const remove = () => {
    secretsFiles.delete(remove);
    rmSync(dir, { recursive: true, force: true });
  };
  secretsFiles.add(remove);
  removeSecretsFilesAtTheEnd();
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  return { file, remove };
}

/** Deletes every secrets file still on disk: once wrangler has read them, they have served. */
export function removeSecretsFiles() {
  for (const remove of [...secretsFiles]) remove();
}

let endHandled = false;
function removeSecretsFilesAtTheEnd() {
  if (endHandled) return;
  endHandled = true;
  process.on("exit", removeSecretsFiles);
  // The shell's convention: 128 + the signal's number.
  for (const [signal, number] of [["SIGHUP", 1], ["SIGINT", 2], ["SIGTERM", 15]]) {
    process.once(signal, () => {
      removeSecretsFiles();
      process.exit(128 + number);
    });
  }
}

/** A version id as wrangler prints them; a VERSION= from a person is checked against it before use. */
export const VERSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
