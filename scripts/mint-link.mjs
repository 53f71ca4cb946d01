// Mints a signed gateway link for local testing:
//
//   node scripts/mint-link.mjs "/agent?lookup=4821&agent_id=demo-agent&agent_name=Demo%20Agent"
//
// The secret comes from $AGENT_LINK_SECRET ($VISITOR_LINK_SECRET for /visitor
// links, $VIEWER_LINK_SECRET for /view links), else from .dev.vars, the file
// `wrangler dev` reads secrets from. For example, a view-only link for a customer:
//
//   node scripts/mint-link.mjs "/view?uniqueid=emp-42&viewer_id=cust-9&viewer_name=Pat"
// Relative links resolve against the local gateway, http://127.0.0.1:8787.
import { readFileSync } from "node:fs";
import { signLink, SECRET_FOR_ROUTE } from "../examples/sign-link.mjs";

const [link, ttl = "300"] = process.argv.slice(2);
if (!link) {
  console.error('usage: node scripts/mint-link.mjs "/agent?lookup=4821&agent_id=a&agent_name=A" [ttl-seconds]');
  process.exit(2);
}
const url = new URL(link, "http://127.0.0.1:8787");
const name = SECRET_FOR_ROUTE[url.pathname];
if (!name) {
  // Never fall back to another route's secret: a typo must not mint an agent link.
  console.error(`mint-link: ${url.pathname} is not a signed route (use ${Object.keys(SECRET_FOR_ROUTE).join(", ")})`);
  process.exit(2);
}
const devVars = (() => {
  try {
    return Object.fromEntries(
      readFileSync(new URL("../.dev.vars", import.meta.url), "utf8")
        .split("\n")
        .map((line) => line.match(/^\s*([A-Z_]+)\s*=\s*"?(.*?)"?\s*$/))
        .filter(Boolean)
        .map((m) => [m[1], m[2]]),
    );
  } catch {
    return {};
  }
})();
const secret = process.env[name] ?? devVars[name];
if (!secret) {
  console.error(`mint-link: set ${name} in the environment or in .dev.vars`);
  process.exit(2);
}
console.log(signLink(url.href, secret, { ttlSeconds: Number(ttl) }));
