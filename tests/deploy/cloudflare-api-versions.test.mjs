// The Cloudflare API stand-in (tests/cloudflare/) enforcing each rule it documents, shown by driving the
// project's real pinned wrangler against it: secrets and the placeholder Worker, versions, deployments, the edge's traffic split and rollback.
// (Where wrangler checks a rule itself before asking the API, the API is also asked directly, so the
// stand-in cannot drift into agreeing with whatever a script sends.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { COMPAT, fingerprint, cf, fixture, project, wrangler, ok, refused, deployedId, uploadedId, visit, api, script, current, neverLeftLoopback } from "../cloudflare/api-test-kit.mjs";

// ── secrets and the placeholder Worker ──────────────────────────────────

test("secret put on a Worker that does not exist creates a placeholder deployed at 100 %, then the secret in a new version at 100 %", async () => {
  const dir = project("placeholder", { toml: 'routes = [{ pattern = "placeholder.example.com", custom_domain = true }]' });
  const run = await ok(dir, ["secret", "put", "API_KEY"], { input: "first-key\n" });
  assert.match(run.output, /Creating new Worker "placeholder"/);
  const s = script("placeholder");
  assert.equal(s.versions.length, 2, "the placeholder, then the version with the secret");
  assert.deepEqual(s.versions[0].bindings, [], "the placeholder has no bindings");
  assert.deepEqual(s.versions[0].modules, ["placeholder"], "wrangler's draft Worker: one module named after the Worker");
  assert.deepEqual(s.versions[1].bindings, [{ type: "secret_text", name: "API_KEY", fingerprint: fingerprint("first-key") }]);
  assert.deepEqual(s.deployments.map((d) => d.versions), [
    [{ version_id: s.versions[0].id, percentage: 100 }],
    [{ version_id: s.versions[1].id, percentage: 100 }],
  ]);
  assert.deepEqual(cf.state().domains.filter((d) => d.service === "placeholder"), [], "a secret put attaches no trigger");
  const status = await ok(dir, ["deployments", "status", "--json"]);
  assert.equal(JSON.parse(status.stdout).versions[0].version_id, s.versions[1].id, "wrangler now sees a deployment");
  // A full deploy (not versions upload) of the real code then attaches the Custom Domain, and the secret stays.
  const id = deployedId(await ok(dir, ["deploy"]));
  assert.deepEqual(cf.state().domains.filter((d) => d.service === "placeholder").map((d) => d.hostname), ["placeholder.example.com"]);
  assert.deepEqual(await visit("placeholder.example.com"), { code: "v1", version: id, secret: fingerprint("first-key") });
});

test("secret bulk on a Worker that does not exist: the placeholder, then one version with every secret, at 100 %", async () => {
  const dir = project("bulk");
  const file = path.join(dir, ".env.bulk");
  writeFileSync(file, "API_KEY=bulk-key\nOTHER_SECRET=other\n", { mode: 0o600 });
  await ok(dir, ["secret", "bulk", file]);
  const s = script("bulk");
  assert.equal(s.versions.length, 2);
  assert.deepEqual(s.versions[1].bindings.map((b) => b.name).sort(), ["API_KEY", "OTHER_SECRET"]);
  assert.deepEqual(current("bulk"), [{ version_id: s.versions[1].id, percentage: 100 }]);
});

test("versions upload attaches no trigger and deploys nothing; triggers deploy then attaches the Custom Domain, workers.dev and crons", async () => {
  const toml = [
    "workers_dev = true",
    'routes = [{ pattern = "triggers.example.com", custom_domain = true }, { pattern = "www.example.com/triggers/*", zone_name = "example.com" }]',
    '[triggers]\ncrons = ["17 3 * * *"]',
  ].join("\n");
  const dir = project("triggers", { toml });
  await ok(dir, ["secret", "put", "API_KEY"], { input: "k\n" });
  const before = current("triggers");
  const up = await ok(dir, ["versions", "upload"]);
  const id = uploadedId(up);
  assert.match(up.output, /Changes to triggers \(routes, custom domains, cron schedules, etc\) must be applied with the command/);
  assert.deepEqual(current("triggers"), before, "an upload serves nothing");
  await ok(dir, ["versions", "deploy", `${id}@100%`, "-y"]);
  const s = script("triggers");
  assert.deepEqual(current("triggers"), [{ version_id: id, percentage: 100 }]);
  assert.deepEqual(cf.state().domains.filter((d) => d.service === "triggers"), [], "versions deploy attaches no Custom Domain either");
  assert.equal(s.subdomain.enabled, false);
  assert.deepEqual(s.schedules, []);
  const edge404 = await cf.edge.fetch("https://triggers.example.com/");
  assert.equal(edge404.status, 404, "the host reaches no Worker");
  await ok(dir, ["triggers", "deploy"]);
  assert.deepEqual(cf.state().domains.filter((d) => d.service === "triggers").map((d) => d.hostname), ["triggers.example.com"]);
  assert.equal(script("triggers").subdomain.enabled, true);
  assert.deepEqual(script("triggers").schedules, ["17 3 * * *"]);
  assert.deepEqual(script("triggers").routes, [{ pattern: "www.example.com/triggers/*", zone_name: "example.com" }]);
  assert.equal((await visit("triggers.example.com")).version, id);
  assert.equal((await visit("triggers.standin.workers.dev")).version, id);
  const routed = await cf.edge.fetch("https://www.example.com/triggers/page");
  assert.equal((await routed.json()).version, id, "the route pattern reaches the Worker");
  assert.equal((await cf.edge.fetch("https://www.example.com/elsewhere")).status, 404, "outside the pattern, no Worker");
});

test("secrets.required: versions upload is refused while a required secret is unset, and accepted once versions secret put set it", async () => {
  const dir = project("required");
  await ok(dir, ["deploy"]);
  writeFileSync(path.join(dir, "wrangler.toml"), `${"name = \"required\"\nmain = \"worker.mjs\"\n"}compatibility_date = "${COMPAT}"\n[secrets]\nrequired = ["API_KEY"]\n`);
  const run = await refused(dir, ["versions", "upload"]);
  assert.match(run.output, /The following required secrets have not been set: API_KEY/);
  assert.ok(cf.requests.some((r) => r.method === "POST" && r.path.endsWith("/workers/scripts/required/versions")), "the API refused it, not wrangler");
  assert.equal(script("required").versions.length, 1, "nothing was uploaded");
  await ok(dir, ["versions", "secret", "put", "API_KEY"], { input: "required-key\n" });
  await ok(dir, ["versions", "upload"]);
  const latest = script("required").versions.at(-1);
  assert.deepEqual(latest.bindings.filter((b) => b.type === "secret_text"), [{ type: "secret_text", name: "API_KEY", fingerprint: fingerprint("required-key") }]);
});

test("after a returned rollout secret put is refused (also mid-rollout), and versions secret put builds on the latest uploaded version", async () => {
  const dir = project("rotate", { toml: 'routes = [{ pattern = "rotate.example.com", custom_domain = true }]' });
  const v1 = deployedId(await ok(dir, ["deploy"]));
  writeFileSync(path.join(dir, "worker.mjs"), fixture("v2"));
  const v2 = uploadedId(await ok(dir, ["versions", "upload"]));
  await ok(dir, ["versions", "deploy", `${v2}@10%`, `${v1}@90%`, "-y"]);
  const midRollout = await refused(dir, ["secret", "put", "API_KEY"], { input: "rotated\n" });
  assert.match(midRollout.output, /latest version of your Worker isn't currently deployed/, "assumed: a secret put would end the split");
  await ok(dir, ["versions", "deploy", `${v1}@100%`, "-y"]);
  const run = await refused(dir, ["secret", "put", "API_KEY"], { input: "rotated\n" });
  assert.match(run.output, /latest version of your Worker isn't currently deployed/);
  assert.match(run.output, /wrangler versions secret put/);
  assert.deepEqual(current("rotate"), [{ version_id: v1, percentage: 100 }], "the refusal changed nothing");
  const put = await ok(dir, ["versions", "secret", "put", "API_KEY"], { input: "rotated\n" });
  const v3 = /Created version (\S+) with secret API_KEY/.exec(put.output)?.[1];
  assert.ok(v3, put.output);
  assert.deepEqual(current("rotate"), [{ version_id: v1, percentage: 100 }], "versions secret put deploys nothing");
  await ok(dir, ["versions", "deploy", `${v3}@100%`, "-y"]);
  const answer = await visit("rotate.example.com");
  assert.deepEqual(answer, { code: "v2", version: v3, secret: fingerprint("rotated") }, "the new version carries v2's code: the latest upload, not the code that served");
});

// ── deployments ─────────────────────────────────────────────────────────

test("a deployment has one or two versions, and its percentages add up to 100", async () => {
  const dir = project("split-rules");
  const v1 = deployedId(await ok(dir, ["deploy"]));
  const v2 = uploadedId(await ok(dir, ["versions", "upload"]));
  const v3 = uploadedId(await ok(dir, ["versions", "upload"]));
  // wrangler stops at two versions itself; its hidden --max-versions lifts that, so the API must refuse.
  const three = await refused(dir, ["versions", "deploy", `${v1}@50%`, `${v2}@25%`, `${v3}@25%`, "-y", "--max-versions=3"]);
  assert.match(three.output, /names 3/);
  assert.ok(cf.requests.some((r) => r.method === "POST" && r.path.endsWith("/workers/scripts/split-rules/deployments")), "refused by the API");
  // wrangler checks the sum before asking the API, so the API is asked directly.
  const resource = "/workers/scripts/split-rules/deployments";
  const short = await api("POST", resource, { strategy: "percentage", versions: [{ version_id: v2, percentage: 90 }, { version_id: v1, percentage: 5 }] });
  assert.equal(short.status, 400);
  assert.match(short.body.errors[0].message, /add up to 95/);
  const unknown = await api("POST", resource, { strategy: "percentage", versions: [{ version_id: "00000000-0000-4000-8000-000000000000", percentage: 100 }] });
  assert.equal(unknown.status, 404);
  const wranglerSum = await refused(dir, ["versions", "deploy", `${v2}@90%`, `${v1}@5%`, "-y"]);
  assert.match(wranglerSum.output, /add up to 95%, but must total exactly 100%/, "and wrangler's own check says the same");
  assert.deepEqual(current("split-rules"), [{ version_id: v1, percentage: 100 }], "no refused deployment took effect");
  const fine = await api("POST", resource, { strategy: "percentage", versions: [{ version_id: v3, percentage: 50 }, { version_id: v2, percentage: 50 }] });
  assert.equal(fine.status, 200, JSON.stringify(fine.body));
});

test("the edge splits traffic by the deployment's percentages, repeatably; a version key keeps its version; overrides apply only to versions in the deployment", async () => {
  const dir = project("split", { toml: 'routes = [{ pattern = "split.example.com", custom_domain = true }]' });
  const v1 = deployedId(await ok(dir, ["deploy"]));
  writeFileSync(path.join(dir, "worker.mjs"), fixture("v2"));
  const v2 = uploadedId(await ok(dir, ["versions", "upload"]));
  writeFileSync(path.join(dir, "worker.mjs"), fixture("v3"));
  const v3 = uploadedId(await ok(dir, ["versions", "upload"]));
  await ok(dir, ["versions", "deploy", `${v2}@25%`, `${v1}@75%`, "-y"]);
  const draw = async (n) => {
    const seen = [];
    for (let i = 0; i < n; i++) seen.push((await visit("split.example.com")).version);
    return seen;
  };
  cf.edge.seed(7);
  const first = await draw(80);
  cf.edge.seed(7);
  assert.deepEqual(await draw(80), first, "the same seed, the same versions in the same order");
  const share = first.filter((v) => v === v2).length / first.length;
  assert.ok(share > 0.1 && share < 0.4, `about 25 % to ${v2}, got ${share}`);
  assert.ok(first.every((v) => v === v1 || v === v2), "only the deployment's versions serve");
  const keyed = new Set();
  for (let i = 0; i < 10; i++) keyed.add((await visit("split.example.com", { "Cloudflare-Workers-Version-Key": "visitor-42" })).version);
  assert.equal(keyed.size, 1, "one version key, one version");

  const override = (id) => ({ "Cloudflare-Workers-Version-Overrides": `split="${id}"` });
  await ok(dir, ["versions", "deploy", `${v2}@0%`, `${v1}@100%`, "-y"]);
  assert.equal((await visit("split.example.com", override(v2))).version, v2, "an override reaches a version at 0 % of the deployment");
  assert.equal((await visit("split.example.com", override(v3))).version, v1, "an override for a version outside the deployment is ignored");
  assert.equal((await visit("split.example.com", { "Cloudflare-Workers-Version-Overrides": `other-worker="${v2}"` })).version, v1, "an override for another Worker is ignored");
  assert.equal((await visit("split.example.com", { "Cloudflare-Workers-Version-Overrides": `split=${v2}` })).version, v1, "a value that is not a String is ignored");
  const served = cf.edge.requests.filter((r) => r.host === "split.example.com");
  assert.deepEqual(served.filter((r) => r.override).map((r) => r.version), [v2], "the edge records which requests an override steered");
});

test("rollback goes to the last deployment's 100 % version before the current one, or the version named; changed secrets need wrangler's confirmation", async () => {
  const dir = project("rollback");
  const v1 = deployedId(await ok(dir, ["deploy"]));
  const v2 = uploadedId(await ok(dir, ["versions", "upload"]));
  await ok(dir, ["versions", "deploy", `${v2}@50%`, `${v1}@50%`, "-y"]);
  await ok(dir, ["versions", "deploy", `${v2}@100%`, "-y"]);
  const back = await ok(dir, ["rollback", "-y", "--message", "back"]);
  assert.match(back.output, new RegExp(`Worker Version ${v1} has been deployed to 100% of traffic`));
  assert.deepEqual(current("rollback"), [{ version_id: v1, percentage: 100 }], "the split had no 100 % version, so v1's deployment is the target");
  await ok(dir, ["rollback", v2, "-y"]);
  assert.deepEqual(current("rollback"), [{ version_id: v2, percentage: 100 }]);
  // A secret set after v1: returning to v1 would change it.
  await ok(dir, ["secret", "put", "API_KEY"], { input: "added-later\n" });
  const forced = await ok(dir, ["rollback", v1, "-y"]);
  assert.match(forced.output, new RegExp(`The following secrets have changed since version ${v1} was deployed`));
  assert.match(forced.output, /\* API_KEY/);
  const deploymentCalls = cf.requests.filter((r) => r.method === "POST" && r.path.endsWith("/workers/scripts/rollback/deployments"));
  assert.equal(deploymentCalls.at(-1).query, "?force=true", "wrangler confirmed and forced the rollback after the API refused it");
  assert.deepEqual(current("rollback"), [{ version_id: v1, percentage: 100 }]);
});

neverLeftLoopback();
