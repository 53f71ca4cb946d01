// The pseudonym under which the gateway's audit log names a /view viewer
// (README: "Logs"): who watched can be looked up for a known viewer id,
// while the log never holds a customer's ID in clear.
//
//   node scripts/audit-id.mjs "cust-501"
//
// The secret comes from $VIEWER_LINK_SECRET, else from .dev.vars.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";

/** First 8 bytes, hex, of HMAC-SHA256(secret, "audit:" + viewer id): as the gateway computes it. */
export const viewerPseudonym = (secret, viewerId) =>
  createHmac("sha256", secret.trim()).update(`audit:${viewerId}`).digest().subarray(0, 8).toString("hex");

if (import.meta.url === `file://${process.argv[1]}`) {
  const [viewerId] = process.argv.slice(2);
  if (!viewerId) {
    console.error('usage: node scripts/audit-id.mjs "<viewer id>"');
    process.exit(2);
  }
  const devVars = (() => {
    try {
      return readFileSync(new URL("../.dev.vars", import.meta.url), "utf8").match(/^\s*VIEWER_LINK_SECRET\s*=\s*"?(.*?)"?\s*$/m)?.[1];
    } catch {
      return undefined;
    }
  })();
  const secret = process.env.VIEWER_LINK_SECRET ?? devVars;
  if (!secret) {
    console.error("audit-id: set VIEWER_LINK_SECRET in the environment or in .dev.vars");
    process.exit(2);
  }
  console.log(viewerPseudonym(secret, viewerId));
}
