// The deploy, proved offline: every environment of wrangler.toml survives
// `wrangler deploy --dry-run`, the pre-deploy check passes for staging and
// production once their placeholders are filled (secrets from the checked-in
// .env.example), and an environment that would answer 500 fails it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, CONFIG_PATH, DEPLOY_ENVS, environments, readEnv } from "../../scripts/lib/wrangler-config.mjs";
import { checkEnvironment, gatewaySecretNames } from "../../scripts/check-config.mjs";
import { parseSecrets, readSecretsFile } from "../../scripts/lib/secrets-file.mjs";

const EXAMPLE_SECRETS = readSecretsFile(path.join(ROOT, ".env.example"));

function tmp(prefix) {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** wrangler.toml with `edit` applied, in a temp dir next to a link to build/. */
function editedConfig(edit) {
  const dir = tmp("gateway-config-");
  const text = edit(readFileSync(CONFIG_PATH, "utf8"));
  const file = path.join(dir, "wrangler.toml");
  writeFileSync(file, text);
  return { file, dir };
}

function wrangler(args, opts = {}) {
  return spawnSync("wrangler", args, { cwd: ROOT, encoding: "utf8", timeout: 180_000, ...opts });
}

test("every environment deploys in a dry run, offline", async () => {
  const envs = await environments();
  assert.deepEqual(envs.sort(), ["dev", "production", "staging"]);
  for (const env of envs) {
    const outdir = tmp(`gateway-dry-${env}-`);
    const run = wrangler(["deploy", "--dry-run", "--env", env, "--outdir", outdir]);
    assert.equal(run.status, 0, `${env}:\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /--dry-run: exiting now/, env);
    assert.ok(existsSync(path.join(outdir, "index.js")), `${env}: no bundle in ${outdir}`);
    assert.doesNotMatch(run.stdout + run.stderr, /Multiple environments are defined/, env);
    if (DEPLOY_ENVS.includes(env)) {
      assert.match(run.stdout, new RegExp(`env\\.METRICS \\(upscope_gateway_${env}\\) +Analytics Engine Dataset`), env);
      assert.match(run.stdout, new RegExp(`sending Tail events to the following Workers:\\n- upscope-gateway-audit-${env}`), env);
    }
    rmSync(outdir, { recursive: true, force: true });
  }
});

test("the audit trail's Tail Worker deploys in a dry run for staging and production, and the gateway names it", async () => {
  const auditConfig = path.join(ROOT, "audit/wrangler.toml");
  for (const env of DEPLOY_ENVS) {
    const outdir = tmp(`gateway-audit-dry-${env}-`);
    const run = wrangler(["deploy", "--dry-run", "--env", env, "--config", auditConfig, "--outdir", outdir]);
    assert.equal(run.status, 0, `${env}:\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /env\.AUDIT_DB \(upscope-gateway-audit-/, env);
    assert.match(run.stdout, /--dry-run: exiting now/, env);
    rmSync(outdir, { recursive: true, force: true });
    const audit = await readEnv(env, auditConfig);
    assert.equal(audit.name, `upscope-gateway-audit-${env}`);
    assert.equal(audit.observability?.logs?.invocation_logs, false, env);
    assert.deepEqual(audit.d1_databases.map((d) => [d.binding, d.migrations_dir]), [["AUDIT_DB", "migrations"]]);
    const gateway = await readEnv(env);
    assert.deepEqual(gateway.tail_consumers, [{ service: audit.name }], `${env}: the gateway's tail consumer is the audit worker`);
  }
});

test("the top level is no deploy target: a bare wrangler deploy stops", () => {
  const outdir = tmp("gateway-dry-top-");
  const run = wrangler(["deploy", "--dry-run", "--outdir", outdir]);
  assert.notEqual(run.status, 0, "a deploy without --env must not succeed");
  assert.match(run.stdout + run.stderr, /Missing entry-point/);
  rmSync(outdir, { recursive: true, force: true });
});

test("staging and production: complete, with Workers Logs, the metadata binding, KV and rate limits", async () => {
  for (const env of DEPLOY_ENVS) {
    const c = await readEnv(env);
    assert.equal(c.observability?.enabled, true, env);
    assert.equal(typeof c.observability?.head_sampling_rate, "number", env);
    assert.equal(c.observability?.logs?.invocation_logs, false, `${env}: invocation logs would record every request's URL`);
    assert.deepEqual(c.analytics_engine_datasets, [{ binding: "METRICS", dataset: `upscope_gateway_${env}` }], env);
    assert.equal(c.version_metadata?.binding, "CF_VERSION_METADATA", env);
    assert.deepEqual(c.kv_namespaces.map((k) => k.binding), ["SHORT_ID_CACHE"], env);
    assert.deepEqual(c.ratelimits.map((r) => r.name).sort(), ["AGENT_RATE_LIMITER", "VISITOR_RATE_LIMITER"], env);
    assert.ok(c.routes?.length, `${env}: a route or custom domain`);
    assert.ok(c.secrets?.required?.includes("UPSCOPE_API_KEY"), env);
    for (const name of gatewaySecretNames()) assert.ok(!(name in c.vars), `${env}: ${name} is in vars`);
    assert.ok(c.kv_namespaces.every((k) => k.id === undefined), `${env}: the committed config names no KV id (the first deploy provisions it)`);
  }
});

test("check: staging and production pass with placeholders filled from .env.example", async () => {
  for (const env of DEPLOY_ENVS) {
    const { problems, notes, features } = await checkEnvironment(env, { secrets: EXAMPLE_SECRETS, allowPlaceholders: true });
    assert.deepEqual(problems, [], env);
    assert.ok(notes.some((n) => n.includes("REPLACE-ME")), `${env}: placeholders are noted`);
    assert.ok(features.some((f) => f.startsWith("agent_auth:")), `${env}: ${features}`);
  }
});

test("check: placeholders left, a missing secret, each one line; the CLI exits 1 and prints no secret value", () => {
  const dir = tmp("gateway-secrets-");
  const file = path.join(dir, ".env.staging");
  writeFileSync(file, "AGENT_LINK_SECRET=too-short-secret-value\n");
  const run = spawnSync("node", ["scripts/check-config.mjs", "--env", "staging", "--secrets", file], { cwd: ROOT, encoding: "utf8" });
  assert.equal(run.status, 1, run.stdout + run.stderr);
  const lines = run.stdout.trim().split("\n");
  const problems = lines.filter((l) => l.startsWith("check staging: problem: "));
  assert.ok(problems.some((l) => /PROXY_INITIAL_URL .*placeholder/.test(l)), run.stdout);
  assert.equal(problems.filter((l) => l.includes("UPSCOPE_API_KEY")).length, 1, run.stdout);
  assert.ok(problems.some((l) => l.includes("the secret UPSCOPE_API_KEY is not set for staging: make secret ENV=staging NAME=UPSCOPE_API_KEY (or make init ENV=staging)")), run.stdout);
  assert.ok(problems.some((l) => l.includes("AGENT_LINK_SECRET is shorter than 32")), run.stdout);
  assert.ok(!run.stdout.includes("too-short-secret-value") && !run.stderr.includes("too-short-secret-value"));
  assert.match(lines.at(-1), /problems; not ready to deploy/);
  rmSync(dir, { recursive: true, force: true });
});

test("check: an environment that would answer 500 fails (AGENT_AUTH = \"\")", async () => {
  const { file, dir } = editedConfig((t) => t.replace(/^AGENT_AUTH = "access"$/m, 'AGENT_AUTH = ""'));
  try {
    const { problems } = await checkEnvironment("production", { secrets: EXAMPLE_SECRETS, allowPlaceholders: true, configPath: file });
    assert.deepEqual(problems.filter((p) => p.includes("AGENT_AUTH")).length, 1, problems.join("\n"));
    assert.match(problems.join("\n"), /AGENT_AUTH is not set/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("check: more ways to break production are each named", async () => {
  const cases = [
    [(t) => t.replace('[env.production.observability]\nenabled = true', "[env.production.observability]\nenabled = false"), /no \[observability\] enabled = true/],
    [(t) => t.replace('[env.production.observability.logs]\nenabled = true\ninvocation_logs = false', '[env.production.observability.logs]\nenabled = true\ninvocation_logs = true'), /keeps Workers Logs' invocation logs on: .*full URL .*invocation_logs = false under \[env.production.observability.logs\]/],
    [(t) => t.replace('[env.production.observability.logs]\nenabled = true\ninvocation_logs = false\n', ''), /keeps Workers Logs' invocation logs on/],
    [(t) => t.replace(/^AGENT_AUTH = "access"$/m, 'AGENT_AUTH = "none"\nALLOW_UNAUTHENTICATED_AGENTS = "true"'), /unauthenticated .*local testing only/],
    [(t) => t.replace(/^AGENT_AUTH = "access"$/m, 'AGENT_AUTH = "access"\nVISITOR_LINK_SECRET = "oops"'), /VISITOR_LINK_SECRET is a secret but \[env.production\] sets it in \[vars\]/],
    [(t) => t.replace(/(\[env\.production\.vars\][\s\S]*?)UPSTREAM_TIMEOUT_MS = "5000"/, '$1UPSTREAM_TIMEOUT_MS = "50"'), /UPSTREAM_TIMEOUT_MS must be/],
    [(t) => t.replace('[[env.production.ratelimits]]\nname = "VISITOR_RATE_LIMITER"', '[[env.production.ratelimits]]\nname = "SOMETHING_ELSE"'), /^\[env.production\] binds no VISITOR_RATE_LIMITER \(\[\[env.production.ratelimits\]\]\): \/visitor would be unlimited/],
    [(t) => t.replace('[[env.production.ratelimits]]\nname = "AGENT_RATE_LIMITER"', '[[env.production.ratelimits]]\nname = "SOMETHING_ELSE"'), /^\[env.production\] binds no AGENT_RATE_LIMITER .*\/view would be unlimited/],
  ];
  for (const [edit, expected] of cases) {
    const { file, dir } = editedConfig(edit);
    try {
      assert.notEqual(readFileSync(file, "utf8"), readFileSync(CONFIG_PATH, "utf8"), `the edit for ${expected} applied`);
      const { problems } = await checkEnvironment("production", { secrets: EXAMPLE_SECRETS, allowPlaceholders: true, configPath: file });
      assert.ok(problems.some((p) => expected.test(p)), `${expected}:\n${problems.join("\n")}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test("make check refuses a copy of the config whose staging keeps invocation logs on, saying why", () => {
  const { file, dir } = editedConfig((t) =>
    t.replace("[env.staging.observability.logs]\nenabled = true\ninvocation_logs = false", "[env.staging.observability.logs]\nenabled = true\ninvocation_logs = true"));
  try {
    const args = ["--no-print-directory", "check", "ENV=staging", `CONFIG=${file}`, "SECRETS=.env.example", "ALLOW_PLACEHOLDERS=1"];
    const on = spawnSync("make", args, { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
    assert.equal(on.status, 2, on.stdout + on.stderr);
    const problems = on.stdout.split("\n").filter((l) => l.startsWith("check staging: problem: "));
    assert.deepEqual(problems, [
      "check staging: problem: [env.staging] keeps Workers Logs' invocation logs on: they would store every request's full URL (uniqueid=, viewer_id=, agent names, link signatures); add invocation_logs = false under [env.staging.observability.logs]",
    ]);
    // The checked-in config passes the same command.
    const off = spawnSync("make", args.filter((a) => !a.startsWith("CONFIG=")), { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
    assert.equal(off.status, 0, off.stdout + off.stderr);
    assert.match(off.stdout, /check staging: ready/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("check: a required secret also set as a var is refused (by wrangler's own reader)", async () => {
  const { file, dir } = editedConfig((t) => t.replace(/^AGENT_AUTH = "access"$/m, 'AGENT_AUTH = "access"\nUPSCOPE_API_KEY = "oops"'));
  try {
    await assert.rejects(checkEnvironment("production", { secrets: EXAMPLE_SECRETS, configPath: file }), /UPSCOPE_API_KEY assigned to Environment Variable and Secret/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("check refuses an environment that is not a deploy target", async () => {
  const { problems } = await checkEnvironment("dev", {});
  assert.match(problems[0], /ENV must be one of staging, production/);
});

test("secrets files: KEY=value lines or JSON, as wrangler takes them", () => {
  assert.deepEqual(parseSecrets('# c\nA=1\nexport B="two words"\n\nC=\'x=y\'\n'), { A: "1", B: "two words", C: "x=y" });
  assert.deepEqual(parseSecrets('{"A": "1"}'), { A: "1" });
  assert.deepEqual(parseSecrets('{\n  "A": "1",\n  "B": "t\\u00e9\\"x"\n}\n'), { A: "1", B: 'té"x' });
  assert.deepEqual(parseSecrets("{}"), {});
  assert.throws(() => parseSecrets("A=1\nnot a line\n"), /^Error: line 2: not NAME=value$/);
});

test("check reads audit/wrangler.toml too: a placeholder database id, a missing tail consumer, invocation logs on", async () => {
  const audit = readFileSync(path.join(ROOT, "audit/wrangler.toml"), "utf8");
  const dir = tmp("gateway-audit-check-");
  try {
    const edited = audit
      .replace(/(database_name = "upscope-gateway-audit-staging"\n)/, '$1database_id = "REPLACE-ME-staging-d1-database-id"\n')
      .replace(/(\[env\.staging\.observability\.logs\]\n)invocation_logs = false/, "$1invocation_logs = true");
    assert.notEqual(edited, audit);
    const auditFile = path.join(dir, "wrangler.toml");
    writeFileSync(auditFile, edited);
    symlinkSync(path.join(ROOT, "audit/migrations"), path.join(dir, "migrations"));
    const { problems } = await checkEnvironment("staging", { secrets: EXAMPLE_SECRETS, allowPlaceholders: true, auditConfigPath: auditFile });
    assert.ok(problems.some((p) => /AUDIT_DB database_id is still a placeholder .*delete the line/.test(p)), problems.join("\n"));
    assert.ok(problems.some((p) => /\[env\.staging\] keeps Workers Logs' invocation logs on/.test(p) && p.includes("wrangler.toml")), problems.join("\n"));
    // A gateway whose tail consumer is not the audit Worker.
    const gateway = editedConfig((t) => t.replace('service = "upscope-gateway-audit-staging"', 'service = "someone-else"'));
    const { problems: unnamed } = await checkEnvironment("staging", { secrets: EXAMPLE_SECRETS, allowPlaceholders: true, configPath: gateway.file });
    assert.ok(unnamed.some((p) => p.startsWith("[env.staging] tail_consumers does not name the audit Worker upscope-gateway-audit-staging")), unnamed.join("\n"));
    rmSync(gateway.dir, { recursive: true, force: true });
    // The committed audit config has none of these, and names no database id.
    for (const env of DEPLOY_ENVS) {
      const { problems: none } = await checkEnvironment(env, { secrets: EXAMPLE_SECRETS, allowPlaceholders: true });
      assert.deepEqual(none, [], env);
      assert.equal((await readEnv(env, path.join(ROOT, "audit/wrangler.toml"))).d1_databases[0].database_id, undefined, env);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
