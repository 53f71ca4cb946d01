// A Node preload (`node --import=<this file>`, set by `edge.nodeEnv(hosts)`)
// for processes that must reach Custom Domains served by the stand-in's edge,
// as a browser given --host-resolver-rules does:
//
//   CF_STANDIN_EDGE        127.0.0.1:<port> of the edge
//   CF_STANDIN_EDGE_HOSTS  comma-separated host names, or *.zone for every name under a zone
//
// Those names resolve to 127.0.0.1 (dns.lookup, dns/promises lookup), and a
// TLS connection to one of them on port 443 goes to the edge's port instead
// (tls.connect, which fetch and https use). Every other name is untouched.
// NODE_EXTRA_CA_CERTS (set beside) makes the edge's certificates trusted.
import dns from "node:dns";
import tls from "node:tls";
import { syncBuiltinESMExports } from "node:module";

const edge = process.env.CF_STANDIN_EDGE ?? "";
const patterns = (process.env.CF_STANDIN_EDGE_HOSTS ?? "").split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
const [edgeHost, edgePort] = edge.split(":");

const mapped = (name) => {
  const host = String(name ?? "").toLowerCase().replace(/\.$/, "");
  return patterns.some((p) => (p.startsWith("*.") ? host.endsWith(p.slice(1)) : host === p));
};

if (edgeHost && edgePort && patterns.length) {
  const { lookup } = dns;
  dns.lookup = function (hostname, options, callback) {
    if (!mapped(hostname)) return lookup.apply(this, arguments);
    const cb = typeof options === "function" ? options : callback;
    const all = typeof options === "object" && options?.all;
    process.nextTick(() => (all ? cb(null, [{ address: edgeHost, family: 4 }]) : cb(null, edgeHost, 4)));
  };
  const promiseLookup = dns.promises.lookup;
  dns.promises.lookup = async function (hostname, options) {
    if (!mapped(hostname)) return promiseLookup.apply(this, arguments);
    return typeof options === "object" && options?.all ? [{ address: edgeHost, family: 4 }] : { address: edgeHost, family: 4 };
  };
  const connect = tls.connect;
  tls.connect = function (...args) {
    const options = args.find((a) => a && typeof a === "object") ?? {};
    const port = typeof args[0] === "number" ? args[0] : options.port;
    const host = typeof args[1] === "string" ? args[1] : options.host;
    if (mapped(host) && (port === undefined || Number(port) === 443)) {
      const rest = args.filter((a) => typeof a === "function");
      return connect.call(this, { ...options, host: edgeHost, port: Number(edgePort), servername: options.servername ?? host }, ...rest);
    }
    return connect.apply(this, args);
  };
  syncBuiltinESMExports();
}
