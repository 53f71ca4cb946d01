// `make init ENV=…` (scripts/init.mjs), on a copy of the checkout: on a
// terminal it asks, and takes the API key without echo; without one it takes
// variables and refuses, naming the variable, what it cannot know; it refuses
// a bad answer, and a secrets file git would commit; every mode writes what
// make check then passes. (lifecycle.test.mjs runs it before a real deploy.)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeCheckout, cleanEnvironment } from "../support/checkout.mjs";
import { parseSecrets } from "../../scripts/lib/secrets-file.mjs";
import { readEnv } from "../../scripts/lib/wrangler-config.mjs";

const KEY = "upscope-rest-key-typed-0123456789";
let co;
before(() => {
  co = makeCheckout("gateway-init-");
});
after(() => co?.remove());

const init = (env, vars = {}) => co.make(["init", `ENV=${env}`], { env: vars });
const config = (env) => readEnv(env, path.join(co.dir, "wrangler.toml"));
const reset = () => {
  co.git("checkout", "--", "wrangler.toml", ".gitignore");
  for (const env of ["staging", "production"]) spawnSync("rm", ["-f", path.join(co.dir, `.env.${env}`)]);
};

/** `script` runs a command on a terminal: util-linux's and BSD's (macOS) take different arguments. */
function onTerminal(command) {
  const which = spawnSync("script", ["--version"], { encoding: "utf8" });
  if (which.error) return null;
  return /util-linux/.test(which.stdout + which.stderr) ? ["script", ["-q", "-e", "-c", command, "/dev/null"]] : ["script", ["-q", "/dev/null", "sh", "-c", command]];
}

test("on a terminal it asks each question, takes the API key without echo, and writes what make check passes", async (t) => {
  reset();
  const node = path.join(co.dir, "node_modules/.node-bin/node");
  const terminal = onTerminal(`${node} scripts/init.mjs --env=staging`);
  if (!terminal) return t.skip("no `script` command to give init a terminal");
  const PATH = [path.join(co.dir, "node_modules/.node-bin"), path.join(co.dir, "node_modules/.bin"), path.join(os.homedir(), ".cargo/bin"), cleanEnvironment().PATH].join(path.delimiter);
  const child = spawn(terminal[0], terminal[1], { cwd: co.dir, env: { ...cleanEnvironment(), PATH, TERM: "dumb" }, stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise((resolve) => child.on("close", resolve));
  const answers = [
    [/host name.*: $/, "cobrowse-staging.example.com"],
    [/page\(s\) \/visitor opens.*: $/, "https://shop.example.com/account https://shop.example.com/help"],
    [/embed \/visitor.*: $/, "https://shop.example.com"],
    [/How agents sign in.*: $/, "signed-link"],
    [/Viewer links.*: $/, ""],
    [/Must \/visitor\?uniqueid= links be signed.*: $/, "no"],
    [/REST API key \(not shown\): $/, KEY],
  ];
  const deadline = Date.now() + 120_000;
  for (const [prompt, reply] of answers) {
    while (!prompt.test(output.trimEnd() + " ")) {
      assert.ok(Date.now() < deadline, `no prompt ${prompt}:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const seen = output.length;
    child.stdin.write(`${reply}\r`);
    // The next prompt comes after this answer; wait until the terminal moved on.
    while (output.length === seen && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }
  const status = await exited;
  assert.equal(status, 0, output);
  assert.ok(!output.includes(KEY), `the key was echoed:\n${output}`);
  assert.match(output, /UPSCOPE_API_KEY stored, AGENT_LINK_SECRET generated; no value is shown/);
  assert.match(output, /init staging: ready \(features: agent_auth:signed-link\)/);
  const secrets = parseSecrets(co.file(".env.staging"));
  assert.equal(secrets.UPSCOPE_API_KEY, KEY);
  assert.equal(statSync(path.join(co.dir, ".env.staging")).mode & 0o777, 0o600);
  const c = await config("staging");
  assert.deepEqual(c.routes, [{ pattern: "cobrowse-staging.example.com", custom_domain: true }]);
  assert.equal(c.vars.PROXY_INITIAL_URL, "https://shop.example.com/account");
  assert.equal(c.vars.PROXY_ALLOWED_URLS, "https://shop.example.com/help");
});

test("without a terminal it names the variables it needs, refuses a bad answer, and writes nothing", async () => {
  reset();
  const before = co.file("wrangler.toml");
  let run = await init("staging", { GATEWAY_HOST: "cobrowse-staging.example.com" });
  assert.equal(run.status, 2, run.output);
  assert.match(run.output, /init staging: VISITOR_PAGES is not set yet: run make init on a terminal, or give it as a variable \(make init ENV=staging VISITOR_PAGES=…\)/);
  for (const [name, value, why] of [
    ["GATEWAY_HOST", "https://cobrowse.example.com/", /GATEWAY_HOST must be a host name such as cobrowse\.example\.com/],
    ["VISITOR_PAGES", "https://shop.example.com/a https://shop.example.com/account?token=s3cret", /VISITOR_PAGES must be URLs with no user name, password, query or fragment: page 2 has one/],
    ["EMBED_ORIGINS", "https://shop.example.com/s3cret", /EMBED_ORIGINS must be origins \(scheme and host only, e\.g\. https:\/\/shop\.example\.com\): entry 1 is not one/],
    ["AGENT_AUTH", "none", /AGENT_AUTH must be signed-link or access/],
    ["UPSCOPE_API_KEY", "has spaces in it 0123456789", /UPSCOPE_API_KEY must be Upscope's REST API key/],
  ]) {
    run = await init("staging", { GATEWAY_HOST: "cobrowse-staging.example.com", VISITOR_PAGES: "https://shop.example.com/account", EMBED_ORIGINS: "https://shop.example.com", AGENT_AUTH: "signed-link", UPSCOPE_API_KEY: KEY, [name]: value });
    assert.equal(run.status, 2, `${name}:\n${run.output}`);
    assert.match(run.output, why, name);
    assert.ok(!run.output.includes("s3cret") && !run.output.includes("has spaces"), run.output);
  }
  assert.equal(co.file("wrangler.toml"), before);
  assert.equal(existsSync(path.join(co.dir, ".env.staging")), false);
});

test("production with Access and a smoke service token; /view with its three secrets; switching back to signed links", async () => {
  reset();
  const access = {
    GATEWAY_HOST: "cobrowse.example.com", VISITOR_PAGES: "https://shop.example.com/account", EMBED_ORIGINS: "https://shop.example.com https://www.example.com",
    AGENT_AUTH: "access", ACCESS_TEAM_DOMAIN: "acme.cloudflareaccess.com", ACCESS_AUD: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    SMOKE_ACCESS_CLIENT_ID: "0123456789abcdef0123456789abcdef.access", SMOKE_ACCESS_CLIENT_SECRET: "service-token-secret-0123456789abcdef",
    VIEWER_LINKS: "yes", UPSCOPE_API_KEY: KEY,
  };
  const run = await init("production", access);
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, /ready \(features: .*agent_auth:access.*viewer_links/);
  const c = await config("production");
  assert.equal(c.vars.ACCESS_TEAM_DOMAIN, "acme.cloudflareaccess.com");
  assert.equal(c.vars.ACCESS_SERVICE_TOKENS, "0123456789abcdef0123456789abcdef.access=Smoke test");
  assert.equal(c.vars.EMBED_ORIGINS, "https://shop.example.com https://www.example.com");
  assert.deepEqual(c.secrets.required, ["UPSCOPE_API_KEY"]);
  const secrets = parseSecrets(co.file(".env.production"));
  assert.deepEqual(Object.keys(secrets).sort(), ["AUDIT_ID_SECRET", "SMOKE_ACCESS_CLIENT_ID", "SMOKE_ACCESS_CLIENT_SECRET", "UPSCOPE_API_KEY", "VIEWER_LINK_SECRET", "VISITOR_LINK_SECRET"]);
  assert.equal(new Set([secrets.AUDIT_ID_SECRET, secrets.VIEWER_LINK_SECRET, secrets.VISITOR_LINK_SECRET]).size, 3, "each generated apart");
  for (const value of Object.values(secrets)) assert.ok(!run.output.includes(value));

  // The same answers again: nothing changes.
  const file = co.file(".env.production");
  const toml = co.file("wrangler.toml");
  const again = await init("production", access);
  assert.equal(again.status, 0, again.output);
  assert.equal(co.file(".env.production"), file);
  assert.equal(co.file("wrangler.toml"), toml);

  // Signed links instead: Access's lines go, AGENT_LINK_SECRET is generated and required; the rest is kept.
  const back = await init("production", { AGENT_AUTH: "signed-link" });
  assert.equal(back.status, 0, back.output);
  const d = await config("production");
  assert.equal(d.vars.AGENT_AUTH, "signed-link");
  for (const name of ["ACCESS_TEAM_DOMAIN", "ACCESS_AUD", "ACCESS_SERVICE_TOKENS"]) assert.ok(!(name in d.vars), name);
  assert.deepEqual(d.secrets.required, ["UPSCOPE_API_KEY", "AGENT_LINK_SECRET"]);
  const now = parseSecrets(co.file(".env.production"));
  assert.ok(now.AGENT_LINK_SECRET);
  assert.equal(now.VIEWER_LINK_SECRET, secrets.VIEWER_LINK_SECRET, "no secret is ever regenerated");
});

test("it refuses to write secrets to a file git would commit", async () => {
  reset();
  co.write(".gitignore", co.file(".gitignore").replace(/^\.env\*$/m, ""));
  const run = await init("staging", { GATEWAY_HOST: "cobrowse-staging.example.com", VISITOR_PAGES: "https://shop.example.com/account", EMBED_ORIGINS: "https://shop.example.com", AGENT_AUTH: "signed-link", UPSCOPE_API_KEY: KEY });
  assert.equal(run.status, 2, run.output);
  assert.match(run.output, /\.env\.staging is not git-ignored: add \.env\* to \.gitignore first; nothing was written/);
  assert.equal(existsSync(path.join(co.dir, ".env.staging")), false);
  reset();
});
