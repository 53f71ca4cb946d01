#!/usr/bin/env node
// A stand-in for `wrangler`, for the deploy tests: it answers the commands
// scripts/deploy.mjs runs as the pinned wrangler does (same exit statuses,
// the same lines that matter, the same entries in WRANGLER_OUTPUT_FILE_PATH,
// the same JSON as `deployments status --json`), against a pretend account
// kept in a JSON file. Only what needs Cloudflare's API is stood in: dry runs
// and --help are tested against the real wrangler.
//
//   STANDIN_WRANGLER_STATE  the account: { deployments: [{ id, created_on, versions: [{ version_id, percentage }] }],
//                           versions: { <id>: { tag, message } }, next_versions: [<id>…], fail: [<command>…] }
//   STANDIN_WRANGLER_LOG    each call's argv, one JSON array a line
//
// `fail` makes a command fail as wrangler does when the API refuses: its
// entries are "versions upload", "versions deploy", "deployments status",
// "rollback" or "deploy" (the next such call fails), or "<command>#N" (the
// Nth call of that command fails); the first matching entry is used up.
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";

const argv = process.argv.slice(2);
appendFileSync(process.env.STANDIN_WRANGLER_LOG, `${JSON.stringify(argv)}\n`);
const statePath = process.env.STANDIN_WRANGLER_STATE;
const state = JSON.parse(readFileSync(statePath, "utf8"));
const save = () => writeFileSync(statePath, JSON.stringify(state, null, 2));

const VALUED = new Set(["--env", "-e", "--tag", "--message", "-m", "--secrets-file", "--outdir", "--name"]);
const flags = {};
const positional = [];
for (let i = 0; i < argv.length; i++) {
  if (VALUED.has(argv[i])) flags[argv[i]] = argv[++i];
  else if (argv[i].startsWith("-")) flags[argv[i]] = true;
  else positional.push(argv[i]);
}
const env = flags["--env"] ?? flags["-e"];
const worker = `upscope-gateway-${env}`;
const account = "0123456789abcdef0123456789abcdef";
const banner = () => console.log(" ⛅️ wrangler 4.116.0\n───────────────────");
const output = (entry) => {
  if (process.env.WRANGLER_OUTPUT_FILE_PATH) {
    appendFileSync(process.env.WRANGLER_OUTPUT_FILE_PATH, `${JSON.stringify({ ...entry, timestamp: new Date().toISOString() })}\n`);
  }
};
const error = (text) => {
  console.error(`\n✘ [ERROR] ${text}\n`);
  process.exit(1);
};
const apiError = (resource, note) => error(`A request to the Cloudflare API (/accounts/${account}/workers/scripts/${worker}${resource}) failed.\n\n  ${note}`);

const command = positional.slice(0, positional[0] === "versions" || positional[0] === "deployments" ? 2 : 1).join(" ");
state.counts ??= {};
state.counts[command] = (state.counts[command] ?? 0) + 1;
save();
const failing = (state.fail ?? []).findIndex((f) => f === command || f === `${command}#${state.counts[command]}`);
if (failing >= 0) {
  state.fail.splice(failing, 1);
  save();
  if (command !== "deployments status") banner();
  apiError(command === "versions upload" ? "/versions" : "/deployments", "Authentication error [code: 10000]");
}
if (!env) error("the stand-in wrangler is only ever called with --env");

const latest = () => state.deployments.at(-1);
const newVersion = (tag, message) => {
  const id = state.next_versions?.shift() ?? randomUUID();
  state.versions[id] = { tag, message };
  return id;
};
const addDeployment = (versions) => {
  state.deployments.push({ id: randomUUID(), created_on: new Date(Date.now() + state.deployments.length).toISOString(), versions });
};

switch (command) {
  case "deployments status": {
    if (!latest()) {
      if (!flags["--json"]) banner();
      error(`The Worker ${worker} has no deployments.`);
    }
    const d = latest();
    // The API's deployment object, as `deployments status --json` prints it.
    console.log(JSON.stringify({
      id: d.id,
      source: "wrangler",
      strategy: "percentage",
      author_email: "deployer@example.com",
      created_on: d.created_on,
      annotations: { "workers/triggered_by": "deployment" },
      versions: d.versions,
    }, null, 2));
    break;
  }
  case "versions upload": {
    banner();
    if (!latest()) error("You cannot upload a new version of a Worker that does not yet exist. Please run the `deploy` command first.");
    const id = newVersion(flags["--tag"], flags["--message"]);
    save();
    console.log("Total Upload: 363.51 KiB / gzip: 151.03 KiB");
    console.log(`Uploaded ${worker} (2.31 sec)`);
    console.log(`Worker Version ID: ${id}`);
    console.log("\nTo deploy this version to production traffic use the command wrangler versions deploy\n");
    output({ type: "version-upload", version: 1, worker_name: worker, worker_tag: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", version_id: id, wrangler_environment: env, worker_name_overridden: false });
    break;
  }
  case "versions deploy": {
    banner();
    const traffic = positional.slice(2).map((spec) => {
      const [id, pct] = spec.split("@");
      if (!/^\d+(\.\d+)?%?$/.test(pct ?? "")) error(`the stand-in wants every version spec as <id>@<percentage>%, got ${spec}`);
      return { version_id: id, percentage: Number(pct.replace("%", "")) };
    });
    if (!flags["-y"] && !flags["--yes"]) error("the stand-in cannot prompt: pass -y");
    const total = traffic.reduce((sum, t) => sum + t.percentage, 0);
    if (total !== 100) {
      error(`The specified traffic percentages add up to ${total}%, but must total exactly 100%. Adjust the --percentage values or version-spec percentages so they sum to 100%.`);
    }
    for (const t of traffic) {
      if (!state.versions[t.version_id]) apiError(`/versions/${t.version_id}`, "The requested version does not exist. [code: 10225]");
    }
    addDeployment(traffic);
    save();
    const list = new Intl.ListFormat("en-US").format(traffic.map((t) => `version ${t.version_id} at ${t.percentage}%`));
    console.log(`╰  SUCCESS  Deployed ${worker} ${list} (1.07 sec)`);
    output({ type: "version-deploy", version: 1, worker_name: worker, worker_tag: null, deployment_id: latest().id, version_traffic: {} });
    break;
  }
  case "rollback": {
    banner();
    let id = positional[1];
    if (!id) {
      // wrangler's choice: the 100% version of the most recent deployment before the current one that has one.
      id = [...state.deployments].reverse().slice(1).map((d) => d.versions.find((v) => v.percentage === 100)).find(Boolean)?.version_id;
      if (!id) error("Could not find stable Worker Version to rollback to. Please try again with an explicit Version ID.");
    }
    if (!state.versions[id]) apiError(`/versions/${id}`, "The requested version does not exist. [code: 10225]");
    addDeployment([{ version_id: id, percentage: 100 }]);
    save();
    console.log("Performing rollback...");
    console.log(`╰  SUCCESS  Worker Version ${id} has been deployed to 100% of traffic.`);
    console.log(`\nCurrent Version ID: ${id}`);
    break;
  }
  case "deploy": {
    banner();
    const id = newVersion(flags["--tag"], flags["--message"]);
    addDeployment([{ version_id: id, percentage: 100 }]);
    save();
    console.log(`Uploaded ${worker} (3.12 sec)`);
    console.log(`Deployed ${worker} triggers (0.87 sec)`);
    console.log(`Current Version ID: ${id}`);
    output({ type: "deploy", version: 1, worker_name: worker, worker_tag: null, version_id: id, targets: [], wrangler_environment: env, worker_name_overridden: false });
    break;
  }
  default:
    error(`the stand-in wrangler does not know \`wrangler ${argv.join(" ")}\``);
}
