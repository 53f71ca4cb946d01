// Bundles the Worker's entry (src/edge/entry.js) into one ES module, for
// scripts/build.sh: the entry, wasm-bindgen's module ("gateway") and
// src/edge/glue.js ("glue"). The .wasm it imports stays a module of its own,
// beside the output. `--minify` for the release build; `--names <file>`
// when wasm-opt has shortened the wasm's import and export names
// (`--minify-imports-and-exports-and-modules`), with the mapping it printed.
//
//   node scripts/lib/bundle-entry.mjs <wasm-bindgen's index.js> <output> [--minify] [--names <file>]
import { build } from "esbuild";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { minify: { type: "boolean" }, names: { type: "string" } },
});
const [generatedPath, output] = positionals;
const generated = path.resolve(generatedPath);

// Two edits to wasm-bindgen's module. workerd imports a .wasm module as a
// compiled WebAssembly.Module already, so its source-phase import is a plain
// import here. And the classes the worker crate exports (R2Range,
// MinifyConfig, stream sources...) are never used by the gateway: without
// the `Symbol.dispose` line each gets and with its FinalizationRegistry
// marked pure, esbuild drops them (about 1 KB of the gzipped bundle). If a
// later wasm-bindgen writes these differently, the classes simply stay.
let source = readFileSync(generated, "utf8")
  .replace(/^import source /m, "import ")
  .replace(/^if \(Symbol\.dispose\) \w+\.prototype\[Symbol\.dispose\] = \w+\.prototype\.free;\n/gm, "")
  .replaceAll(": new FinalizationRegistry(", ": /* @__PURE__ */ new FinalizationRegistry(");
if (values.names) {
  const wasm = readFileSync(path.join(path.dirname(generated), "index_bg.wasm"));
  source = renameWasmNames(source, JSON.parse(readFileSync(values.names, "utf8")), importModules(wasm));
}
writeFileSync(generated, source);

await build({
  entryPoints: [path.join(root, "src/edge/entry.js")],
  outfile: path.resolve(output),
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: Boolean(values.minify),
  alias: { gateway: generated, glue: path.join(root, "src/edge/glue.js") },
  external: ["*.wasm"],
  logLevel: "warning",
  legalComments: "none",
});

/**
 * wasm-bindgen's module, speaking the wasm's shortened names: each
 * `wasm.<export>`, and the import object `__wbg_get_imports` builds, whose
 * shims are filed under their short names in the wasm's one short module.
 * The names are about a third of the JS and 1.3 KB of the gzipped wasm, and
 * their hashes do not compress. Anything left unmatched stops the build: a
 * half-renamed module would fail only when the Worker starts.
 */
function renameWasmNames(js, { imports, exports }, shortModules) {
  const exported = new Map(exports);
  js = js.replace(/\bwasm\.(\w+)/g, (whole, name) => (exported.has(name) ? `wasm.${exported.get(name)}` : whole));
  const stale = [...js.matchAll(/\bwasm\.(\w+)/g)].map(([, name]) => name).filter((name) => !exported.has(name) && ![...exported.values()].includes(name));
  if (stale.length) throw new Error(`bundle: exports still named in the JS: ${[...new Set(stale)].join(", ")}`);

  // The object `__wbg_get_imports` returns: `"<module>": <identifier>,` a line each.
  const returned = /^( {4})return \{\n {8}__proto__: null,\n((?: {8}"[^"]+": \w+,\n)+) {4}\};/m;
  const match = js.match(returned);
  if (!match) throw new Error("bundle: the import object of wasm-bindgen's module was not found");
  const objectOf = new Map([...match[2].matchAll(/"([^"]+)": (\w+),/g)].map(([, module, ident]) => [module, ident]));
  const [literalModule] = [...objectOf].find(([, ident]) => new RegExp(`^ {4}const ${ident} = \\{$`, "m").test(js)) ?? [];
  if (!literalModule) throw new Error("bundle: wasm-bindgen's object of import shims was not found");
  const literal = objectOf.get(literalModule);
  const block = new RegExp(`^( {4}const ${literal} = \\{\\n)([\\s\\S]*?)(^ {4}\\};)`, "m");
  let renamed = 0;
  const others = [];
  js = js.replace(block, (whole, open, body, close) => {
    const keys = new Map(imports.filter(([module]) => module === literalModule).map(([, name, short]) => [name, short]));
    body = body.replace(/^( {8})(\w+):/gm, (key, indent, name) => {
      if (!keys.has(name)) return key;
      renamed += 1;
      return `${indent}${keys.get(name)}:`;
    });
    // Imports of another module (a namespace, `import * as`) join the shims under their short names.
    for (const [module, name, short] of imports) {
      if (module === literalModule) continue;
      const ident = objectOf.get(module);
      if (!ident) throw new Error(`bundle: no import object for wasm module ${module}`);
      others.push(`        ${short}: ${ident}.${name},\n`);
      renamed += 1;
    }
    return open + body + others.join("") + close;
  });
  if (renamed !== imports.length) throw new Error(`bundle: ${imports.length - renamed} of ${imports.length} wasm imports not found in the JS`);
  if (new Set(shortModules).size !== 1) throw new Error(`bundle: expected the wasm to import from one module, not ${[...new Set(shortModules)]}`);
  return js.replace(returned, `$1return {\n        __proto__: null,\n        "${shortModules[0]}": ${literal},\n    };`);
}

/** The module name of each import of a wasm module (its import section, read by hand: Node 20 cannot compile it). */
function importModules(wasm) {
  let at = 8;
  const leb = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = wasm[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  const name = () => {
    const length = leb();
    const text = wasm.subarray(at, at + length).toString("utf8");
    at += length;
    return text;
  };
  const limits = () => {
    const flags = wasm[at++];
    leb();
    if (flags & 1) leb();
  };
  while (at < wasm.length) {
    const id = wasm[at++];
    const size = leb();
    if (id !== 2) {
      at += size;
      continue;
    }
    const modules = [];
    for (let count = leb(); count > 0; count--) {
      modules.push(name());
      name();
      const kind = wasm[at++];
      if (kind === 0) leb(); // function: its type
      else if (kind === 1) (at++, limits()); // table: reference type, limits
      else if (kind === 2) limits(); // memory
      else if (kind === 3) at += 2; // global: value type, mutability
      else if (kind === 4) (at++, leb()); // tag: attribute, type
      else throw new Error(`bundle: unknown import kind ${kind}`);
    }
    return modules;
  }
  return [];
}
