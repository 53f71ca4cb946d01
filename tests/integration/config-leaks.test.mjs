// A wrong setting is named, never echoed: /readyz is public, and every page
// of a misconfigured route carries the problem. A URL setting holding a user
// name and password, or a token in its query, must not hand them out.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSimulator, baseVars, withGateway, AGENT_QUERY } from "../support/harness.mjs";

const LEAKY_URL = "https://user:hunter2@shop.example.com/a?token=s3cret";
const LEAKS = ["hunter2", "s3cret", "user:"];

let up;
before(async () => {
  up = await startSimulator();
});
after(() => up?.close());

/** Asserts `text` names `setting` and holds none of the leaky URL's credentials. */
function namesWithoutLeaking(text, setting, where) {
  assert.ok(text.includes(setting), `${where} does not name ${setting}: ${text.slice(0, 400)}`);
  for (const leak of LEAKS) assert.ok(!text.includes(leak), `${where} leaks "${leak}": ${text.slice(0, 400)}`);
}

// [setting, value, a route that loads it]
const CASES = [
  ["PROXY_ALLOWED_URLS", LEAKY_URL, "/visitor"],
  ["PROXY_ALLOWED_URLS", `https://shop.example.com/help ${LEAKY_URL.replace("https://user:hunter2@", "https://")}#frag`, "/visitor"],
  ["UPSCOPE_API_BASE", LEAKY_URL, "/visitor"],
  ["PROXY_INITIAL_URL", LEAKY_URL, "/visitor"],
  ["PROXY_ALLOWED_DOMAINS", LEAKY_URL, "/visitor"],
  ["EMBED_ORIGINS", LEAKY_URL, "/visitor"],
  ["AGENT_EMBED_ORIGINS", LEAKY_URL, `/agent?visitorid=sAlice01&${AGENT_QUERY}`],
  ["WATCH_RETRY_URL", LEAKY_URL, `/agent?visitorid=sAlice01&${AGENT_QUERY}`],
  ["WATCH_ON_END_URL", "javascript:fetch('//x/?token=s3cret')", `/agent?visitorid=sAlice01&${AGENT_QUERY}`],
];

test("a URL setting with a password or a token in it is named in /readyz and on the route's 500 pages, never echoed", async () => {
  for (const [setting, value, route] of CASES) {
    await withGateway({ vars: baseVars(up.apiBase, { [setting]: value }) }, async (gw) => {
      const ready = await gw.fetch("/readyz");
      const readyText = await ready.text();
      assert.equal(ready.status, 503, `${setting}: ${readyText}`);
      namesWithoutLeaking(readyText, setting, `/readyz with ${setting}`);

      const json = await gw.fetch(route, { headers: { Accept: "application/json" } });
      const jsonText = await json.text();
      assert.equal(json.status, 500, `${setting}: ${jsonText}`);
      assert.equal(JSON.parse(jsonText).error.code, "gateway_misconfigured");
      namesWithoutLeaking(jsonText, setting, `${route} (JSON) with ${setting}`);

      const html = await gw.fetch(route);
      const htmlText = await html.text();
      assert.equal(html.status, 500);
      namesWithoutLeaking(htmlText, setting, `${route} (HTML) with ${setting}`);

      for (const leak of LEAKS) assert.ok(!gw.logs.join("").includes(leak), `the log leaks "${leak}"`);
    });
  }
  assert.deepEqual(await up.requests(), [], "nothing was sent upstream");
});
