// The whole life cycle of a deployment, from a blank Cloudflare account, with
// the project's real pinned wrangler talking to the Cloudflare API stand-in
// (tests/cloudflare/) and the deployed gateway served by its edge, Chromium
// and Node resolving the custom domains to it; the Upscope simulator is
// Upscope. Everything runs on a copy of this checkout (tests/support/
// checkout.mjs), as a person would run it, with make:
//
//   make init ENV=staging        (non-interactive: variables)
//   make deploy ENV=staging      first deploy: audit Tail Worker, migrations,
//                                the gateway with its secrets and custom domain
//   make smoke ENV=staging       against the served custom domain
//   make deploy ENV=staging      a second deploy, gradual, smoke at each step,
//                                on a host moved by make init (triggers applied)
//   make deploy ENV=staging      a failing version, returned automatically
//   make secret … UPSCOPE_API_KEY  the key rotated right after that failure
//   make rollback ENV=staging
//
// Each step is a test of its own (one test may take at most 4 minutes), in
// order; a step that fails leaves the later ones failing too. A failing make
// exits 2, whatever the script it ran exited with.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import path from "node:path";
import { startCloudflareApi } from "../cloudflare/index.mjs";
import { startSimulator } from "../support/harness.mjs";
import { makeCheckout } from "../support/checkout.mjs";
import { parseSecrets } from "../../scripts/lib/secrets-file.mjs";
import { createHash } from "node:crypto";

const HOST = "cobrowse-staging.example.com";
const MOVED = "co-browse-staging.example.com";
const WORKER = "upscope-gateway-staging";
const AUDIT = "upscope-gateway-audit-staging";
const KEY1 = "upscope-rest-key-one-0123456789";
const KEY2 = "upscope-rest-key-two-9876543210";
const fingerprint = (value) => createHash("sha256").update(value).digest("hex").slice(0, 12);

let cf;
let up;
let co;
/** The environment every make run gets: the stand-in's, and the edge for *.example.com. */
let env;
const run = (args, extra = {}) => co.make(args, { env: { ...env, ...extra } });
const script = (name = WORKER) => cf.state().scripts[name];
const serving = () => script().deployments.at(-1).versions;
/** Version ids the gateway's deployments went through, after the first `skip`. */
const deployments = (skip = 0) => script().deployments.slice(skip).map((d) => d.versions.map((v) => `${v.version_id}@${v.percentage}`).join(" "));
const versions = {};

before(async () => {
  cf = await startCloudflareApi({ zones: ["example.com"] });
  up = await startSimulator({ apiKey: KEY1 });
  co = makeCheckout("gateway-lifecycle-");
  env = {
    ...cf.env,
    ...cf.edge.nodeEnv("*.example.com"),
    // wrangler, once loaded into a script (its config reader), sends that
    // process's fetch through HTTPS_PROXY, the stand-in's sentinel: the edge's
    // names go direct, as they would to a real edge.
    NO_PROXY: `${cf.env.NO_PROXY},.example.com`,
    // Chromium, too, goes direct, with no update checks of its own through the sentinel.
    SMOKE_CHROMIUM_ARGS: JSON.stringify([...cf.edge.chromiumArgs("*.example.com"), "--no-proxy-server", "--disable-background-networking"]),
    DEPLOY_SETTLE_SECONDS: "10",
  };
});

after(async () => {
  await cf?.close();
  await up?.close();
  co?.remove();
});

test("make init, non-interactive, writes the environment's settings and its secrets, and a second run changes nothing", async () => {
  assert.deepEqual(Object.keys(cf.state().scripts), [], "a blank account");
  const answers = {
    GATEWAY_HOST: HOST,
    VISITOR_PAGES: "https://shop.example.com/account https://help.example.com/faq",
    EMBED_ORIGINS: "https://shop.example.com",
    AGENT_AUTH: "signed-link",
    UPSCOPE_API_KEY: KEY1,
    UPSCOPE_API_BASE: up.apiBase,
  };
  const before = co.file("wrangler.toml");
  const init = await run(["init", "ENV=staging"], answers);
  assert.equal(init.status, 0, init.output);
  assert.match(init.output, /init staging: \.env\.staging \(mode 0600\): UPSCOPE_API_KEY stored, AGENT_LINK_SECRET generated; no value is shown/);
  assert.match(init.output, /init staging: ready \(features: agent_auth:signed-link\)\. Next: make deploy ENV=staging/);
  const secrets = parseSecrets(co.file(".env.staging"));
  assert.deepEqual(Object.keys(secrets).sort(), ["AGENT_LINK_SECRET", "UPSCOPE_API_KEY"]);
  assert.equal(secrets.UPSCOPE_API_KEY, KEY1);
  assert.match(secrets.AGENT_LINK_SECRET, /^[A-Za-z0-9_-]{43}$/, "32 random bytes, base64url");
  assert.equal(statSync(path.join(co.dir, ".env.staging")).mode & 0o777, 0o600);
  for (const value of Object.values(secrets)) assert.ok(!init.output.includes(value), "init printed a secret");

  // Only [env.staging]'s lines changed, each to what was asked.
  const diff = co.git("diff", "--unified=0", "wrangler.toml").split("\n").filter((l) => /^[-+][^-+]/.test(l));
  assert.deepEqual(diff.filter((l) => l.startsWith("+")), [
    `+routes = [{ pattern = "${HOST}", custom_domain = true }]`,
    `+UPSCOPE_API_BASE = "${up.apiBase}"`,
    '+PROXY_INITIAL_URL = "https://shop.example.com/account"',
    '+PROXY_ALLOWED_URLS = "https://help.example.com/faq"',
    '+PROXY_ALLOWED_DOMAINS = "shop.example.com help.example.com"',
    '+EMBED_ORIGINS = "https://shop.example.com"',
  ]);
  assert.equal(diff.filter((l) => l.startsWith("-")).length, 6);
  assert.notEqual(co.file("wrangler.toml"), before);
  assert.equal(co.git("status", "--porcelain", "--", ".env.staging"), "", ".env.staging is git-ignored");

  const settings = co.file("wrangler.toml");
  const again = await run(["init", "ENV=staging"], { UPSCOPE_API_BASE: up.apiBase });
  assert.equal(again.status, 0, again.output);
  assert.match(again.output, /init staging: wrangler\.toml: unchanged/);
  assert.match(again.output, /init staging: \.env\.staging: unchanged/);
  assert.equal(co.file("wrangler.toml"), settings);
  assert.deepEqual(parseSecrets(co.file(".env.staging")), secrets);
  versions.settings = co.commit("staging's settings, from make init");
});

test("the first make deploy: the audit Tail Worker and its migrations, then the gateway with its secrets and custom domain, smoke-checked", async () => {
  const deploy = await run(["deploy", "ENV=staging"]);
  assert.equal(deploy.status, 0, deploy.output);
  const state = cf.state();
  // The audit Worker first, its database created by name and migrated, then the gateway.
  const puts = cf.requests.filter((r) => r.method === "PUT" && /\/workers\/scripts\/[^/]+$/.test(r.path)).map((r) => r.path.split("/").at(-1));
  assert.deepEqual(puts, [AUDIT, WORKER]);
  assert.deepEqual(state.d1.map((d) => d.name), [AUDIT]);
  const tables = await cf.d1Query(state.d1[0].uuid, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'audit'");
  assert.equal(JSON.stringify(tables).includes('"audit"'), true, JSON.stringify(tables));
  assert.deepEqual(state.kv.map((k) => k.title), ["upscope-gateway-staging-short-id-cache"]);
  assert.deepEqual(state.domains.map((d) => [d.hostname, d.service]), [[HOST, WORKER]]);
  // One version, deployed at 100%, with both secrets in the same upload.
  const gateway = script();
  assert.equal(gateway.versions.length, 1);
  assert.deepEqual(gateway.secrets, { UPSCOPE_API_KEY: fingerprint(KEY1), AGENT_LINK_SECRET: fingerprint(parseSecrets(co.file(".env.staging")).AGENT_LINK_SECRET) });
  assert.deepEqual(gateway.settings.tail_consumers.map((t) => t.service), [AUDIT]);
  versions.first = gateway.versions[0].id;
  assert.deepEqual(serving(), [{ version_id: versions.first, percentage: 100 }]);
  assert.equal(gateway.versions[0].annotations["workers/tag"], versions.settings);
  assert.match(deploy.output, /deploy staging: no Worker or no deployment yet: a first deploy/);
  assert.match(deploy.output, new RegExp(`smoke ready: pass, .*upstream ok; version ${versions.first}`));
  assert.match(deploy.output, /smoke visitor opens \/visitor: pass/);
  assert.match(deploy.output, /smoke agent by own ID: pass, 302 to a watch_url/);
  assert.match(deploy.output, new RegExp(`deployed ${versions.first} \\(tag ${versions.settings}\\) and answering`));
  // The checkout is as it was: wrangler wrote no id back into the config.
  assert.equal(co.git("status", "--porcelain", "--untracked-files=no"), "");
  assert.ok(!deploy.output.includes(KEY1));
  assert.deepEqual(cf.internetAttempts, [], "nothing left loopback");
});

test("make smoke against the served custom domain", async () => {
  const smoke = await run(["smoke", "ENV=staging"]);
  assert.equal(smoke.status, 0, smoke.output);
  assert.match(smoke.output, /smoke: every step passed/);
  assert.ok(cf.edge.requests.some((r) => r.host === HOST && r.path === "/visitor" && r.version === versions.first));
});

test("a second make deploy is gradual, smoke-checked at each step, and applies a changed host name (triggers)", async () => {
  const moved = await run(["init", "ENV=staging"], { GATEWAY_HOST: MOVED });
  assert.equal(moved.status, 0, moved.output);
  versions.secondTag = co.commit("move staging to another host name");
  const seen = script().deployments.length;
  const deploy = await run(["deploy", "ENV=staging"]);
  assert.equal(deploy.status, 0, deploy.output);
  const second = script().versions.at(-1).id;
  versions.second = second;
  const old = versions.first;
  assert.deepEqual(deployments(seen), [`${second}@0 ${old}@100`, `${second}@10 ${old}@90`, `${second}@100`]);
  assert.deepEqual(cf.state().domains.map((d) => d.hostname), [MOVED], "wrangler triggers deploy moved the Custom Domain");
  assert.equal(deploy.output.match(new RegExp(`smoke ready: pass, .*; version ${second}`, "g"))?.length, 3, deploy.output);
  assert.match(deploy.output, new RegExp(`smoke check \\(new version at 0%\\): version ${second}, through the version override`));
  assert.ok(cf.edge.requests.some((r) => r.host === MOVED && r.version === second && r.override), "the override reached the new version");
  assert.deepEqual(script().versions.at(-1).annotations["workers/tag"], versions.secondTag);
  assert.match(deploy.output, new RegExp(`deployed ${second} \\(tag ${versions.secondTag}\\) and answering; the previous version was ${old}`));
});

test("a failing version is returned automatically, its secrets untouched", async () => {
  // A setting make check cannot fault: the API root, pointed at a closed port.
  co.write("wrangler.toml", co.file("wrangler.toml").replace(`UPSCOPE_API_BASE = "${up.apiBase}"`, 'UPSCOPE_API_BASE = "http://127.0.0.1:9/v1.3"'));
  versions.failingTag = co.commit("-point staging at the wrong Upscope API");
  const seen = script().deployments.length;
  const deploy = await run(["deploy", "ENV=staging"]);
  assert.equal(deploy.status, 2, deploy.output);
  const failing = script().versions.at(-1);
  versions.failing = failing.id;
  assert.equal(failing.annotations["workers/message"], "-point staging at the wrong Upscope API", "a subject starting with - reaches wrangler whole");
  assert.deepEqual(deployments(seen), [`${failing.id}@0 ${versions.second}@100`, `${versions.second}@100`]);
  assert.match(deploy.output, /smoke ready: fail, .*upstream failed \((unreachable|timeout)\)/);
  assert.match(deploy.output, new RegExp(`smoke check failed at new version at 0%; traffic returned to ${versions.second} \\(100%\\)\\. ${failing.id} stays uploaded, serving nothing`));
});

test("rotating UPSCOPE_API_KEY right after that failure: the serving code gets the new key, never the failed code", async () => {
  up.sim.acceptKeys([KEY1, KEY2]);
  const envBefore = co.file(".env.staging");
  const seen = script().deployments.length;
  // The checkout is still the failed commit: patching the latest version would ship it.
  const refused = await run(["secret", "ENV=staging", "NAME=UPSCOPE_API_KEY"], { UPSCOPE_API_KEY: KEY2 });
  assert.equal(refused.status, 2, refused.output);
  assert.match(refused.output, new RegExp(`the latest uploaded version, ${versions.failing} \\(tag ${versions.failingTag}\\), is not the one serving \\(${versions.second}, tag ${versions.secondTag}\\).*would build on ${versions.failing} and ship its code\\. So nothing was changed: check out the serving code \\(git checkout ${versions.secondTag}\\)`));
  assert.equal(script().deployments.length, seen);
  assert.equal(co.file(".env.staging"), envBefore);

  co.git("revert", "--no-edit", "HEAD");
  const rotated = await run(["secret", "ENV=staging", "NAME=UPSCOPE_API_KEY"], { UPSCOPE_API_KEY: KEY2 });
  assert.equal(rotated.status, 0, rotated.output);
  const fresh = script().versions.at(-1);
  assert.deepEqual(serving(), [{ version_id: fresh.id, percentage: 100 }]);
  assert.equal(fresh.annotations["workers/tag"], versions.secondTag, "the serving code, uploaded again");
  const second = script().versions.find((v) => v.id === versions.second);
  assert.deepEqual(fresh.bindings.filter((b) => b.name === "UPSCOPE_API_BASE"), second.bindings.filter((b) => b.name === "UPSCOPE_API_BASE"));
  assert.equal(script().secrets.UPSCOPE_API_KEY, fingerprint(KEY2));
  assert.equal(parseSecrets(co.file(".env.staging")).UPSCOPE_API_KEY, KEY2);
  assert.match(rotated.output, new RegExp(`smoke ready: pass, .*upstream ok; version ${fresh.id}`));
  assert.ok(!rotated.output.includes(KEY2) && !rotated.output.includes(KEY1));
  const keys = (await up.requests()).slice(-3).map((r) => r.headers["x-api-key"]);
  assert.ok(keys.includes(KEY2), "Upscope now sees the new key");
  versions.rotated = fresh.id;
});

test("make rollback returns to the version before, which still holds the old key", async () => {
  const seen = (await up.requests()).length;
  const back = await run(["rollback", "ENV=staging"]);
  assert.equal(back.status, 0, back.output);
  assert.deepEqual(serving(), [{ version_id: versions.second, percentage: 100 }]);
  assert.match(back.output, /a version from before a secret change runs with the secrets it was deployed with/);
  assert.match(back.output, new RegExp(`rolled back: ${versions.second} serves 100% and answers`));
  const keys = new Set((await up.requests()).slice(seen).map((r) => r.headers["x-api-key"]));
  assert.deepEqual([...keys], [KEY1], "the rolled-back version calls Upscope with the key it was deployed with");
});
