// The JS the edge calls: each function is one crossing from wasm, doing in
// the runtime what would otherwise take a crossing per header or field
// (profiled: the crossings, not the work, were the cost). Strings travel
// as lines; none of the values can hold a line break (request headers are
// refused by the runtime, ours by `header_lines` in response.rs).

// In the order of `Header` (src/edge/request.rs).
const NAMES = ["cf-ray", "accept", "cf-access-jwt-assertion", "cf-connecting-ip", "sec-fetch-site", "referer", "origin", "sec-fetch-mode", "sec-fetch-dest", "sec-purpose", "purpose"];

// Method, URL, then each header as "+value" or "-" when absent, a line each.
export function requestHead(request) {
  const headers = request.headers;
  let head = request.method + "\n" + request.url;
  for (const name of NAMES) {
    const value = headers.get(name);
    head += value === null ? "\n-" : "\n+" + value;
  }
  return head;
}

// Sets the "Name:value" lines of `head` on `headers`.
function setHeaderLines(headers, head) {
  for (const line of head === "" ? [] : head.split("\n")) {
    const colon = line.indexOf(":");
    headers.set(line.slice(0, colon), line.slice(colon + 1));
  }
}

// Set on the new Response's own headers: in workerd that costs less than
// any `headers` init (measured: pairs, a record, or a Headers object).
export function respond(status, body, head) {
  const response = new Response(body, { status });
  setHeaderLines(response.headers, head);
  return response;
}

// Resolves to the status, then "+value" or "-" for Retry-After, then the
// body, a line each (`read_answer` in src/edge/fetch.rs splits them).
// Redirects are never followed: fetch would resend the API key and the body
// to wherever a 3xx points; the 3xx itself comes back as the answer.
export async function exchange(url, method, head, body, signal) {
  const headers = new Headers();
  setHeaderLines(headers, head);
  const response = await fetch(url, { method, headers, body, signal, redirect: "manual" });
  const status = response.status;
  // Only a refusal can carry a Retry-After worth reading.
  const retryAfter = status >= 200 && status < 300 ? null : response.headers.get("Retry-After");
  const text = await response.text();
  return status + (retryAfter === null ? "\n-\n" : "\n+" + retryAfter + "\n") + text;
}

// One Workers Analytics Engine data point: `blobs` one a line, as
// `data_point` in src/observe.rs lays them out; `doubles` copied out of
// wasm memory into the plain array the binding takes.
export function writeDataPoint(dataset, index, blobs, doubles) {
  dataset.writeDataPoint({ indexes: [index], blobs: blobs.split("\n"), doubles: Array.from(doubles) });
}

// What the wasm instance tells the entry (entry.js) about its own end
// (src/edge/panic.rs): where a panic happened, then, on any trap, that the
// instance is gone. Both are called from inside the dying instance, so they
// only note it; the entry acts once the trap has unwound.
export const instance = { panicSite: null, died() {} };

export function notePanic(site) {
  instance.panicSite = site;
}

export function instanceDied() {
  instance.died();
}
