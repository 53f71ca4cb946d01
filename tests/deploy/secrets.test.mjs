// Secrets in the deploy tooling: never a var, and never printed.
// - `make check` refuses every secret the gateway reads when it is written
//   into [vars] (the list comes from the Rust settings, not a hand list),
//   naming it and [vars], never its value;
// - a malformed secrets file, read by the one reader every script shares
//   (scripts/lib/secrets-file.mjs), is reported by its line number only:
//   never a value, and never Node's excerpt of the line, by check, smoke and
//   deploy alike.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, CONFIG_PATH } from "../../scripts/lib/wrangler-config.mjs";
import { gatewaySecretNames } from "../../scripts/check-config.mjs";
import { parseSecrets, formatSecrets } from "../../scripts/lib/secrets-file.mjs";

const SECRET = "sk-live-9f8e7d6c5b4a39281706";
const node = (args) => spawnSync("node", args, { cwd: ROOT, encoding: "utf8", timeout: 180_000 });

test("the secret names are the Rust settings' own: every link secret, its _PREVIOUS partner and the audit key", () => {
  assert.deepEqual(gatewaySecretNames().sort(), [
    "AGENT_LINK_SECRET", "AGENT_LINK_SECRET_PREVIOUS", "AUDIT_ID_SECRET", "UPSCOPE_API_KEY",
    "VIEWER_LINK_SECRET", "VIEWER_LINK_SECRET_PREVIOUS", "VISITOR_LINK_SECRET", "VISITOR_LINK_SECRET_PREVIOUS",
  ]);
});

test("make check refuses each secret written into [vars], one line naming it and [vars], never its value", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "vars-secrets-"));
  try {
    const names = ["VIEWER_LINK_SECRET", "AUDIT_ID_SECRET", "AGENT_LINK_SECRET_PREVIOUS", "VISITOR_LINK_SECRET_PREVIOUS"];
    const lines = names.map((name, i) => `${name} = "${SECRET}-${i}"`).join("\n");
    const config = path.join(dir, "wrangler.toml");
    writeFileSync(config, readFileSync(CONFIG_PATH, "utf8").replace(/^(AGENT_AUTH = "signed-link")$/m, `$1\n${lines}`));
    const run = spawnSync("make", ["--no-print-directory", "check", "ENV=staging", `CONFIG=${config}`, "SECRETS=.env.example", "ALLOW_PLACEHOLDERS=1"], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
    assert.notEqual(run.status, 0, run.stdout);
    for (const name of names) {
      const refused = run.stdout.split("\n").filter((l) => l.startsWith(`check staging: problem: ${name} is a secret but [env.staging] sets it in [vars]`));
      assert.equal(refused.length, 1, `${name}:\n${run.stdout}`);
    }
    assert.ok(!(run.stdout + run.stderr).includes(SECRET), run.stdout + run.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the reader refuses what wrangler would read differently, naming the line only", () => {
  const cases = [
    [`{"UPSCOPE_API_KEY": ${SECRET}}`, 1, /must be a "quoted" string/],
    [`{\n  "AGENT_LINK_SECRET": "ok-value",\n  "UPSCOPE_API_KEY": "${SECRET}\n}`, 3, /line break/],
    [`{\n  "UPSCOPE_API_KEY": "${SECRET}"\n  "B": "x"\n}`, 3, /expected , or \}/],
    [`# staging\nUPSCOPE_API_KEY ${SECRET}\n`, 2, /not NAME=value/],
    [`A=1\nUPSCOPE_API_KEY=${SECRET} # rotated\n`, 2, /cannot contain #/],
    [`UPSCOPE_API_KEY="${SECRET}\n`, 1, /must end with it/],
    [`UPSCOPE_API_KEY="${SECRET}\\n"\n`, 1, /backslash/],
    [`UPSCOPE_API_KEY=${SECRET}\nUPSCOPE_API_KEY=${SECRET}x\n`, 2, /set twice/],
  ];
  for (const [text, line, why] of cases) {
    assert.throws(() => parseSecrets(text), (err) => {
      assert.equal(err.line, line, text);
      assert.match(err.message, why, text);
      assert.ok(!err.message.includes(SECRET.slice(0, 12)), err.message);
      return true;
    });
  }
  // What init and make secret write reads back as it was.
  const secrets = { UPSCOPE_API_KEY: SECRET, AGENT_LINK_SECRET: "a+b/c=d-e_f#g~" };
  assert.deepEqual(parseSecrets(formatSecrets(secrets)), secrets);
});

test("check, smoke and deploy report a malformed secrets file by line number, never a value or Node's excerpt", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bad-secrets-"));
  try {
    const file = path.join(dir, "bad.json");
    writeFileSync(file, `{\n  "AGENT_LINK_SECRET": "fine-0123456789abcdef0123456789abcdef",\n  "UPSCOPE_API_KEY": ${SECRET}\n}\n`);
    const runs = {
      check: node(["scripts/check-config.mjs", "--env", "staging", "--secrets", file]),
      smoke: node(["scripts/smoke.mjs", "--url", "http://127.0.0.1:9", "--secrets", file]),
      deploy: node(["scripts/deploy.mjs", "--env", "staging", "--secrets", file, "--dry-run"]),
    };
    for (const [script, run] of Object.entries(runs)) {
      const said = run.stdout + run.stderr;
      assert.equal(run.status, 2, `${script}:\n${said}`);
      assert.match(said, new RegExp(`the secrets file ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is malformed at line 3: the value of UPSCOPE_API_KEY must be a "quoted" string; no value is shown`), `${script}:\n${said}`);
      for (const leak of [SECRET, "sk-live", "SyntaxError", "Unexpected token", "fine-0123"]) assert.ok(!said.includes(leak), `${script} printed ${leak}:\n${said}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the secrets file handed to wrangler is deleted at exit, and on Ctrl-C, a closed terminal or a kill", async () => {
  const { spawn } = await import("node:child_process");
  const { existsSync, statSync } = await import("node:fs");
  // A deploy or make secret stand-in: writes the file, then waits (a rollout) until signalled.
  const script = `
    import { secretsFileFor } from ${JSON.stringify(path.join(ROOT, "scripts/lib/wrangler-run.mjs"))};
    const { file } = secretsFileFor({ UPSCOPE_API_KEY: ${JSON.stringify(SECRET)} });
    console.log(file);
    if (process.argv[1] === "exit") process.exit(0);
    setTimeout(() => process.exit(9), 60_000);
  `;
  for (const [how, signal, status] of [["exit", null, 0], ["wait", "SIGINT", 130], ["wait", "SIGHUP", 129], ["wait", "SIGTERM", 143]]) {
    const child = spawn("node", ["--input-type=module", "-e", script, how], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    const file = await new Promise((resolve, reject) => {
      child.stdout.on("data", (chunk) => {
        out += chunk;
        if (out.includes("\n")) resolve(out.trim());
      });
      child.on("error", reject);
      setTimeout(() => reject(new Error(`no file named within 20 s: ${out}`)), 20_000).unref();
    });
    const ended = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
    if (signal) {
      assert.ok(existsSync(file), `${how}: the file exists while wrangler would read it`);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(readFileSync(file, "utf8"), JSON.stringify({ UPSCOPE_API_KEY: SECRET }));
      child.kill(signal);
    }
    assert.equal(await ended, status, `${signal ?? how}: exit status`);
    assert.ok(!existsSync(path.dirname(file)), `${signal ?? how}: ${path.dirname(file)} is left with the secrets`);
  }
});
