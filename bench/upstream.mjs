// The bench's stand-in for Upscope's REST API: a worker in the same workerd
// that answers at once, so neither a Node process nor a network hop
// dominates what the bench measures. Both the gateway and the reference
// reach it through Miniflare's outboundService (https://api.bench.invalid/...).
const json = (body, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const path = url.pathname.replace(/^\/v1\.3/, "");
    if (request.method === "GET" && path === "/list") {
      // Exact matches for what was asked: `id:X` is an own ID, four digits a lookup code.
      const search = url.searchParams.get("search") ?? "";
      const unique = search.startsWith("id:") ? search.slice(3) : null;
      const code = /^\d{4}$/.test(search) ? search : "0000";
      const shortId = "s" + (unique ?? code).replace(/[^A-Za-z0-9]/g, "").slice(0, 40);
      return json({
        status: "ok",
        visitors: [{
          short_id: shortId, unique_id: unique, lookup_code: code, is_online: true,
          last_seen_at: "2026-01-01T00:00:00Z", browser_name: "Firefox", device_type: "desktop",
        }],
      });
    }
    const watch = path.match(/^\/visitors\/([A-Za-z0-9_-]+)\/watch_url$/);
    if (request.method === "POST" && watch) {
      return json({ watch_url: `https://watch.bench.invalid/w/${watch[1]}?token=t0k3n` });
    }
    if (request.method === "POST" && path === "/proxy_sessions") {
      return json({ status: "ok", proxy_session: { url: "https://proxy.bench.invalid/s/0001" } });
    }
    return json({ status: "error", error: "not_found" }, 404);
  },
};
