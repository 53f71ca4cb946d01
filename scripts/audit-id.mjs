// The pseudonym under which the gateway's audit log names a /view viewer
// (README: "Logs"): who watched can be looked up for a known viewer id,
// while the log never holds a customer's ID in clear.
//
//   node scripts/audit-id.mjs "cust-501"
//
// The key is AUDIT_ID_SECRET, from the environment, else from .dev.vars. It
// signs nothing and is never rotated, so a viewer's pseudonym is the same in
// every record, before and after a rotation of VIEWER_LINK_SECRET.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";

/** First 8 bytes, hex, of HMAC-SHA256(key, "audit:" + viewer id): as the gateway computes it. */
export const viewerPseudonym = (auditKey, viewerId) =>
  createHmac("sha256", auditKey.trim()).update(`audit:${viewerId}`).digest().subarray(0, 8).toString("hex");

if (import.meta.url === `file://${process.argv[1]}`) {
  const [viewerId] = process.argv.slice(2);
  if (!viewerId) {
    console.error('usage: node scripts/audit-id.mjs "<viewer id>"');
    process.exit(2);
  }
  const devVars = (() => {
    try {
      return readFileSync(new URL("../.dev.vars", import.meta.url), "utf8").match(/^\s*AUDIT_ID_SECRET\s*=\s*"?(.*?)"?\s*$/m)?.[1];
    } catch {
      return undefined;
    }
  })();
  const auditKey = process.env.AUDIT_ID_SECRET ?? devVars;
  if (!auditKey) {
    console.error("audit-id: set AUDIT_ID_SECRET (the deployment's audit key) in the environment or in .dev.vars");
    process.exit(2);
  }
  console.log(viewerPseudonym(auditKey, viewerId));
}
