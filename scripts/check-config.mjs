// `make check ENV=<staging|production> [SECRETS=file]`: before deploying,
// checks that environment's settings with the Worker's own settings code.
//
//   node scripts/check-config.mjs --env production [--secrets FILE] [--allow-placeholders] [--config wrangler.toml]
//
// The config comes from wrangler's own reader; the vars plus the secrets
// are handed to the native `check-config` binary (src/bin/check-config.rs),
// which runs `readiness`, the same function behind GET /readyz. Prints one
// line per problem, naming the setting (never a secret's value), and exits
// 1; exits 0 when the environment is ready.
//
// Secrets: from FILE (KEY=value lines or a JSON object, the formats
// `wrangler deploy --secrets-file` and `wrangler secret bulk` take), else
// the names `wrangler secret list --env <env>` reports (then a stand-in
// value is checked and a secret's length cannot be).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { readEnv, DEPLOY_ENVS, PLACEHOLDER, ROOT } from "./lib/wrangler-config.mjs";

/** Names that must never appear in [vars]: they are secrets. */
export const SECRET_NAMES = ["UPSCOPE_API_KEY", "AGENT_LINK_SECRET", "VISITOR_LINK_SECRET"];

/** KEY=value lines (comments, blank lines, optional quotes) or a JSON object. */
export function parseSecretsFile(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    const json = JSON.parse(trimmed);
    return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, String(v)]));
  }
  const secrets = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`a line in the secrets file is not NAME=value (line ${text.split(/\r?\n/).indexOf(raw) + 1})`);
    let value = m[2];
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    secrets[m[1]] = value;
  }
  return secrets;
}

/**
 * The problems of environment `env` that its config shows by itself (a
 * placeholder left, Workers Logs off, invocation logs on, a secret written
 * into [vars]), then
 * the problems `readiness` finds in its vars and secrets. Returns
 * `{ problems, notes, features }`.
 */
export async function checkEnvironment(env, { secrets, secretNames, allowPlaceholders = false, configPath } = {}) {
  const problems = [];
  const notes = [];
  if (!DEPLOY_ENVS.includes(env)) {
    return { problems: [`ENV must be one of ${DEPLOY_ENVS.join(", ")} (got "${env}")`], notes, features: [] };
  }
  const config = await readEnv(env, configPath);
  const section = `[env.${env}]`;
  const vars = config.vars ?? {};

  const placeholder = (where, value) => {
    if (!String(value).includes(PLACEHOLDER)) return;
    const line = `${where} is still a placeholder (${PLACEHOLDER}): fill it in in wrangler.toml`;
    (allowPlaceholders ? notes : problems).push(line);
  };
  for (const [name, value] of Object.entries(vars)) placeholder(`${name} in ${section.slice(0, -1)}.vars]`, value);
  for (const kv of config.kv_namespaces ?? []) placeholder(`the KV namespace id of ${kv.binding} in ${section}`, kv.id);
  for (const route of config.routes ?? []) placeholder(`the route ${JSON.stringify(route.pattern ?? route)} in ${section}`, route.pattern ?? route);

  if (config.observability?.enabled !== true) {
    problems.push(`${section} has no [observability] enabled = true: Workers Logs would stay off`);
  }
  // Invocation logs are on unless switched off; they record each request's
  // full URL, with the customer IDs, agent names and signatures in it.
  if (config.observability?.logs?.invocation_logs !== false) {
    problems.push(
      `${section} keeps Workers Logs' invocation logs on: they would store every request's full URL (uniqueid=, viewer_id=, agent names, link signatures); add invocation_logs = false under [env.${env}.observability.logs]`,
    );
  }
  if (!(config.analytics_engine_datasets ?? []).some((d) => d.binding === "METRICS")) {
    notes.push(`${section} binds no METRICS Analytics Engine dataset: the gateway writes no metrics there`);
  }
  for (const name of SECRET_NAMES) {
    if (name in vars) problems.push(`${name} is a secret but ${section} sets it in [vars]: remove it and run wrangler secret put ${name} --env ${env}`);
  }
  if (String(vars.AGENT_AUTH ?? "").trim() === "none" || "ALLOW_UNAUTHENTICATED_AGENTS" in vars) {
    problems.push(`${section} lets agents in unauthenticated (AGENT_AUTH=none / ALLOW_UNAUTHENTICATED_AGENTS): local testing only`);
  }

  // Secrets: their values when a file gives them, else stand-ins for the names set.
  const required = config.secrets?.required ?? [];
  let given = {};
  if (secrets) {
    given = { ...secrets };
  } else if (secretNames) {
    for (const name of secretNames) given[name] = "set-but-not-shown-stand-in-value-0123456789";
    notes.push("secrets were checked by name only (wrangler secret list): their lengths were not checked");
  }
  const missing = required.filter((name) => !String(given[name] ?? "").trim());
  for (const name of missing) {
    problems.push(`the secret ${name} is not set for ${env}: wrangler secret put ${name} --env ${env}`);
  }
  const settings = { ...vars };
  for (const [name, value] of Object.entries(given)) settings[name] = value;
  const native = runNativeCheck(settings);
  for (const line of native.problems) {
    // A missing secret named above is not reported twice.
    if (missing.some((name) => line.includes(name))) continue;
    problems.push(line);
  }
  return { problems, notes, features: native.features };
}

/** Runs `readiness` natively (src/bin/check-config.rs) over `settings`. */
export function runNativeCheck(settings) {
  const run = spawnSync("cargo", ["run", "--quiet", "--bin", "check-config"], {
    cwd: ROOT,
    input: JSON.stringify(settings),
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
  });
  if (run.error || (run.status !== 0 && run.status !== 1)) {
    throw new Error(`the native settings check could not run: ${run.error?.message ?? run.stderr.trim()}`);
  }
  const lines = run.stdout.split("\n").filter(Boolean);
  return {
    problems: lines.filter((l) => l.startsWith("problem: ")).map((l) => l.slice("problem: ".length)),
    features: (lines.find((l) => l.startsWith("ready:")) ?? "ready:").slice("ready:".length).trim().split(" ").filter(Boolean),
  };
}

/** The names of the secrets set on the deployed Worker (needs login and network). */
function deployedSecretNames(env) {
  const run = spawnSync("wrangler", ["secret", "list", "--env", env, "--format", "json"], { cwd: ROOT, encoding: "utf8" });
  if (run.status !== 0) return null;
  try {
    return JSON.parse(run.stdout).map((s) => s.name);
  } catch {
    return null;
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      env: { type: "string", default: "" },
      secrets: { type: "string" },
      "allow-placeholders": { type: "boolean" },
      config: { type: "string" },
    },
  });
  const env = values.env;
  let secrets;
  let secretNames;
  if (values.secrets) {
    secrets = parseSecretsFile(readFileSync(values.secrets, "utf8"));
  } else if (DEPLOY_ENVS.includes(env)) {
    secretNames = deployedSecretNames(env);
    if (!secretNames) {
      console.log(`check ${env}: note: no SECRETS file given and \`wrangler secret list --env ${env}\` failed (offline or not logged in): every secret counts as unset`);
      secrets = {};
    }
  }
  const { problems, notes, features } = await checkEnvironment(env, {
    secrets,
    secretNames,
    allowPlaceholders: values["allow-placeholders"],
    configPath: values.config,
  });
  for (const note of notes) console.log(`check ${env}: note: ${note}`);
  for (const problem of problems) console.log(`check ${env}: problem: ${problem}`);
  if (problems.length) {
    console.log(`check ${env}: ${problems.length} problem${problems.length === 1 ? "" : "s"}; not ready to deploy`);
    process.exit(1);
  }
  console.log(`check ${env}: ready (features: ${features.join(", ") || "none"})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(`check: ${err.message}`);
    process.exit(2);
  });
}
