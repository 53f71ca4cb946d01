// The Worker a user would write by hand from Upscope's docs: the naive seed
// flow, with no auth, no validation and no log line. The bench's baseline.
// With LOG_LINES set (bench --reference-logs) it also writes one log line a
// request, as the gateway does: what the log line alone costs, measured.
export default {
  async fetch(request, env) {
    if (!env.LOG_LINES) return this.flow(request, env);
    const started = Date.now();
    const response = await this.flow(request, env);
    console.log(JSON.stringify({ method: request.method, path: new URL(request.url).pathname, status: response.status, ms: Date.now() - started }));
    return response;
  },
  async flow(request, env) {
    const url = new URL(request.url);
    const q = url.searchParams;
    const api = (path, init = {}) =>
      fetch(env.UPSCOPE_API_BASE + path, {
        ...init,
        headers: { "X-Api-Key": env.UPSCOPE_API_KEY, "Content-Type": "application/json" },
      });
    const search = async (query) => {
      const res = await api(`/list?search=${encodeURIComponent(query)}&max_results=10`);
      const { visitors } = await res.json();
      return visitors[0]?.short_id;
    };
    const watch = async (shortId) => {
      const agent = { id: q.get("agent_id"), name: q.get("agent_name") };
      const res = await api(`/visitors/${shortId}/watch_url`, { method: "POST", body: JSON.stringify({ agent }) });
      return Response.redirect((await res.json()).watch_url, 302);
    };
    if (url.pathname === "/visitor") {
      const page = new URL(env.PROXY_INITIAL_URL);
      if (q.get("uniqueid")) page.searchParams.set("___upscope_unique_id", q.get("uniqueid"));
      const res = await api("/proxy_sessions", { method: "POST", body: JSON.stringify({ initial_url: page.href }) });
      const body = await res.json();
      return Response.redirect(body.proxy_session?.url ?? body.url, 302);
    }
    if (url.pathname === "/agent") {
      if (q.get("visitorid")) return watch(q.get("visitorid"));
      if (q.get("lookup")) return watch(await search(q.get("lookup")));
      const id = q.get("uniqueid");
      let shortId = await env.SHORT_ID_CACHE.get(id);
      if (!shortId) {
        shortId = await search(`id:${id}`);
        await env.SHORT_ID_CACHE.put(id, shortId, { expirationTtl: 3600 });
      }
      return watch(shortId);
    }
    return new Response("Not found", { status: 404 });
  },
};
