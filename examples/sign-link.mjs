// Signing gateway links from a Node.js backend (helpdesk, CRM, your app).
// No dependencies: node:crypto only. The scheme is in docs/routes.md, "Signed links".
//
//   import { signLink } from "./sign-link.mjs";
//   const link = signLink(
//     "https://cobrowse.example.com/agent?lookup=4821&agent_id=a-7&agent_name=Ann%20Lee",
//     process.env.AGENT_LINK_SECRET,
//   );
//   // A customer watching an employee's page, view-only (reversed roles):
//   const view = signLink(
//     "https://cobrowse.example.com/view?uniqueid=emp-42&viewer_id=cust-9&viewer_name=Pat&permissions=none",
//     process.env.VIEWER_LINK_SECRET,
//   );
import { createHmac } from "node:crypto";

/** Which secret signs a link to each of the gateway's routes. */
export const SECRET_FOR_ROUTE = {
  "/agent": "AGENT_LINK_SECRET",
  "/visitor": "VISITOR_LINK_SECRET",
  "/view": "VIEWER_LINK_SECRET",
};

/** RFC 3986: unreserved characters as they are, every other UTF-8 byte as %XX. */
export const rfc3986 = (text) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

/** Every parameter but sig, encoded, sorted by encoded name, joined as name=value with &. */
export function canonicalString(searchParams) {
  return [...searchParams]
    .filter(([name]) => name !== "sig")
    .map(([name, value]) => [rfc3986(name), rfc3986(value)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

/** Returns `url` with `exp` (now + ttlSeconds) and `sig` set. */
export function signLink(url, secret, { ttlSeconds = 120, now = Date.now() / 1000 } = {}) {
  const signed = new URL(url);
  signed.searchParams.delete("sig");
  signed.searchParams.set("exp", String(Math.floor(now) + ttlSeconds));
  const sig = createHmac("sha256", secret).update(canonicalString(signed.searchParams)).digest("base64url");
  signed.searchParams.set("sig", sig);
  return signed.href;
}
