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
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { readEnv, AUDIT_CONFIG_PATH, DEPLOY_ENVS, PLACEHOLDER, ROOT } from "./lib/wrangler-config.mjs";
import { environmentSecretsFile, readSecretsFile } from "./lib/secrets-file.mjs";

let secretNames;
/**
 * Every secret the gateway reads, from its own list (`settings::names::SECRETS`,
 * printed by `check-config --secret-names`): none may be a var, and only
 * these are uploaded from a secrets file.
 */
export function gatewaySecretNames() {
  if (secretNames) return secretNames;
  const run = spawnSync("cargo", ["run", "--quiet", "--bin", "check-config", "--", "--secret-names"], { cwd: ROOT, encoding: "utf8" });
  if (run.error || run.status !== 0) throw new Error(`the native settings check could not run: ${run.error?.message ?? run.stderr.trim()}`);
  secretNames = run.stdout.split("\n").map((l) => l.trim()).filter(Boolean);
  if (!secretNames.includes("UPSCOPE_API_KEY")) throw new Error("check-config --secret-names printed no UPSCOPE_API_KEY");
  return secretNames;
}

/**
 * The problems of environment `env` that its config shows by itself (a
 * placeholder left, Workers Logs off, invocation logs on, a secret written
 * into [vars]), then
 * the problems `readiness` finds in its vars and secrets. Returns
 * `{ problems, notes, features }`.
 */
export async function checkEnvironment(env, { secrets, secretNames, allowPlaceholders = false, configPath, auditConfigPath = AUDIT_CONFIG_PATH } = {}) {
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
  problems.push(...(await auditProblems(env, config, auditConfigPath)));
  // An unbound limiter is no limit, and the routes for outsiders would go unlimited.
  const limiters = new Set((config.ratelimits ?? []).map((r) => r.name));
  for (const [name, unlimited] of [
    ["VISITOR_RATE_LIMITER", "/visitor would be unlimited: anyone on the internet could spend your account's proxy sessions"],
    ["AGENT_RATE_LIMITER", "/agent and /view would be unlimited: a replayed viewer link could start sessions without end"],
  ]) {
    if (!limiters.has(name)) problems.push(`${section} binds no ${name} ([[env.${env}.ratelimits]]): ${unlimited}`);
  }
  if (!(config.analytics_engine_datasets ?? []).some((d) => d.binding === "METRICS")) {
    notes.push(`${section} binds no METRICS Analytics Engine dataset: the gateway writes no metrics there`);
  }
  for (const name of gatewaySecretNames()) {
    if (Object.hasOwn(vars, name)) problems.push(`${name} is a secret but ${section} sets it in [vars]: remove it there and keep it in .env.${env} (make secret ENV=${env} NAME=${name})`);
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
    problems.push(`the secret ${name} is not set for ${env}: make secret ENV=${env} NAME=${name} (or make init ENV=${env})`);
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

/**
 * The problems of the audit trail's Tail Worker for `env` (audit/wrangler.toml),
 * which the first deploy deploys before the gateway: it must exist, be the
 * Worker the gateway's tail_consumers names, bind its D1 database by name
 * (an id, if any, must be real: the first deploy creates the database and
 * needs none), have its migrations, and keep invocation logs off.
 */
export async function auditProblems(env, gateway, auditConfigPath = AUDIT_CONFIG_PATH) {
  const where = `${path.relative(ROOT, auditConfigPath) || auditConfigPath} [env.${env}]`;
  let audit;
  try {
    audit = await readEnv(env, auditConfigPath);
  } catch (err) {
    return [`${where}: ${err.message}`];
  }
  const problems = [];
  const consumers = (gateway.tail_consumers ?? []).map((c) => c.service);
  if (!consumers.includes(audit.name)) {
    problems.push(`[env.${env}] tail_consumers does not name the audit Worker ${audit.name} of ${where}: the audit trail would receive nothing`);
  }
  const db = (audit.d1_databases ?? []).find((d) => d.binding === "AUDIT_DB");
  if (!db) problems.push(`${where} binds no AUDIT_DB D1 database`);
  else {
    if (!db.database_name) problems.push(`${where}: the AUDIT_DB database needs a database_name (the first deploy creates it by that name)`);
    if (String(db.database_id ?? "").includes(PLACEHOLDER)) {
      problems.push(`${where}: the AUDIT_DB database_id is still a placeholder (${PLACEHOLDER}): delete the line (the first deploy creates the database by name) or paste the real id`);
    }
    const migrations = path.resolve(path.dirname(auditConfigPath), db.migrations_dir ?? "migrations");
    if (!existsSync(migrations) || !readdirSync(migrations).some((f) => f.endsWith(".sql"))) {
      problems.push(`${where}: no migrations in ${path.relative(ROOT, migrations)}: the audit table would never be created`);
    }
  }
  if (audit.observability?.logs?.invocation_logs !== false) {
    problems.push(`${where} keeps Workers Logs' invocation logs on: add invocation_logs = false under its [env.${env}.observability.logs]`);
  }
  const retention = audit.vars?.AUDIT_RETENTION_DAYS;
  if (retention !== undefined && !/^\d+$/.test(String(retention).trim())) {
    problems.push(`${where}: AUDIT_RETENTION_DAYS must be a whole number of days (0 keeps records for good)`);
  }
  return problems;
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
  const run = spawnSync("wrangler", ["secret", "list", `--env=${env}`, "--format=json"], { cwd: ROOT, encoding: "utf8" });
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
  const secretsFile = values.secrets || (DEPLOY_ENVS.includes(env) ? environmentSecretsFile(env) : undefined);
  if (secretsFile) {
    secrets = readSecretsFile(secretsFile);
    if (!values.secrets) console.log(`check ${env}: note: secrets from ${path.relative(ROOT, secretsFile)}`);
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
