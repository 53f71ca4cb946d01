// The exact watch_url request each watcher route sends Upscope, in one
// table: branding (the same WATCH_BRANDING_* for /agent and /view) and
// permissions (WATCH_PERMISSIONS for /agent, VIEWER_PERMISSIONS for /view,
// narrowed by a link's `permissions=`). Both routes build the request from
// shared settings, so a route that stopped sending one part would otherwise
// go unnoticed while the other route's tests stay green.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gatewaySuite, baseVars, GATEWAY_ORIGIN as ORIGIN, pathOf, ask } from "../support/harness.mjs";
import { signLink } from "../../examples/sign-link.mjs";

const AGENT_SECRET = "agent-link-secret-for-watch-request-0001";
const VISITOR_SECRET = "visitor-link-secret-for-watch-request-01";
const VIEWER_SECRET = "viewer-link-secret-for-watch-request-001";
const AUDIT_SECRET = "audit-id-secret-for-watch-request-000001";

const BRANDING = {
  naked: true,
  no_bottom_bar: true,
  retry_url: "https://help.example.com/retry",
  on_end_url: "https://help.example.com/done",
};
const suite = gatewaySuite((apiBase) => ({
  vars: baseVars(apiBase, {
    AGENT_AUTH: "signed-link", ALLOW_UNAUTHENTICATED_AGENTS: "",
    AGENT_LINK_SECRET: AGENT_SECRET, VISITOR_LINK_SECRET: VISITOR_SECRET,
    VIEWER_LINK_SECRET: VIEWER_SECRET, AUDIT_ID_SECRET: AUDIT_SECRET,
    WATCH_BRANDING_NAKED: "true",
    WATCH_BRANDING_NO_BOTTOM_BAR: "true",
    WATCH_RETRY_URL: BRANDING.retry_url,
    WATCH_ON_END_URL: BRANDING.on_end_url,
    WATCH_PERMISSIONS: "click scroll draw",
    VIEWER_PERMISSIONS: "scroll draw",
  }),
}));

const NONE = {
  allow_console: false, allow_click: false, allow_draw: false, allow_scroll: false,
  allow_audio: false, allow_type: false, allow_agent_redirect: false,
};
const only = (...names) => ({ ...NONE, ...Object.fromEntries(names.map((n) => [`allow_${n}`, true])) });
const ANN = { id: "a-1", name: "Ann" };
const PAT = { id: "viewer:cust-501", name: "Pat Customer" };
const link = (route, query) =>
  pathOf(signLink(`${ORIGIN}${route}?${query}`, route === "/agent" ? AGENT_SECRET : VIEWER_SECRET));
const watch = (agent, permissions) => ask.watch("sBob0002", { agent, branding: BRANDING, permissions });

// [route, the link's query, the one request Upscope must receive]
const ROWS = [
  ["/agent", "visitorid=sBob0002&agent_id=a-1&agent_name=Ann", watch(ANN, only("click", "scroll", "draw"))],
  ["/agent", "visitorid=sBob0002&agent_id=a-1&agent_name=Ann&permissions=scroll,console", watch(ANN, only("scroll"))],
  ["/view", "visitorid=sBob0002&viewer_id=cust-501&viewer_name=Pat%20Customer", watch(PAT, only("scroll", "draw"))],
  ["/view", "visitorid=sBob0002&viewer_id=cust-501&viewer_name=Pat%20Customer&permissions=draw,click", watch(PAT, only("draw"))],
];

test("watch_url carries the branding and the route's permissions, narrowed by the link, on /agent and /view alike", async () => {
  assert.deepEqual([...new Set(ROWS.map(([route]) => route))], ["/agent", "/view"], "both routes are in the table");
  for (const [route, query, expected] of ROWS) {
    await suite.up.reset();
    const res = await suite.gw.fetch(link(route, query));
    assert.equal(res.status, 302, `${route}?${query}: ${await res.clone().text()}`);
    await suite.up.assertAsked([expected], `${route}?${query}`);
  }
});
