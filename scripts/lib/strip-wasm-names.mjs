// Drops the `name` and `producers` custom sections from a wasm file, in
// place. worker-build runs wasm-opt with --debuginfo, which keeps a name
// section (wasm-bindgen's shim names only: the Rust names are stripped at
// link time); workerd reads neither section, and they cost the gzipped
// bundle a few hundred bytes. Every other section is copied byte for byte.
import { readFileSync, writeFileSync } from "node:fs";

const DROPPED = new Set(["name", "producers"]);

/** An unsigned LEB128 number at `at`: [value, offset after it]. */
function leb(bytes, at) {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, at];
  }
}

const path = process.argv[2];
const wasm = readFileSync(path);
if (wasm.readUInt32LE(0) !== 0x6d736100) throw new Error(`${path} is not a wasm module`);
const kept = [wasm.subarray(0, 8)];
for (let at = 8; at < wasm.length; ) {
  const start = at;
  const id = wasm[at++];
  const [size, body] = leb(wasm, at);
  at = body + size;
  if (id === 0) {
    const [nameLength, name] = leb(wasm, body);
    if (DROPPED.has(wasm.toString("utf8", name, name + nameLength))) continue;
  }
  kept.push(wasm.subarray(start, at));
}
writeFileSync(path, Buffer.concat(kept));
