// Bundles the Worker's entry (src/edge/entry.js) into one ES module, for
// scripts/build.sh: the entry, wasm-bindgen's module ("gateway") and
// src/edge/glue.js ("glue"). The .wasm it imports stays a module of its own,
// beside the output. `--minify` for the release build.
//
//   node scripts/lib/bundle-entry.mjs <wasm-bindgen's index.js> <output> [--minify]
import { build } from "esbuild";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const [generatedPath, output, flag] = process.argv.slice(2);
const generated = path.resolve(generatedPath);

// Two edits to wasm-bindgen's module. workerd imports a .wasm module as a
// compiled WebAssembly.Module already, so its source-phase import is a plain
// import here. And the classes the worker crate exports (R2Range,
// MinifyConfig, stream sources...) are never used by the gateway: without
// the `Symbol.dispose` line each gets and with its FinalizationRegistry
// marked pure, esbuild drops them (about 1 KB of the gzipped bundle). If a
// later wasm-bindgen writes these differently, the classes simply stay.
const source = readFileSync(generated, "utf8")
  .replace(/^import source /m, "import ")
  .replace(/^if \(Symbol\.dispose\) \w+\.prototype\[Symbol\.dispose\] = \w+\.prototype\.free;\n/gm, "")
  .replaceAll(": new FinalizationRegistry(", ": /* @__PURE__ */ new FinalizationRegistry(");
writeFileSync(generated, source);

await build({
  entryPoints: [path.join(root, "src/edge/entry.js")],
  outfile: path.resolve(output),
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: flag === "--minify",
  alias: { gateway: generated, glue: path.join(root, "src/edge/glue.js") },
  external: ["*.wasm"],
  logLevel: "warning",
  legalComments: "none",
});
