#!/usr/bin/env bash
# Builds the Worker: cargo for wasm32-unknown-unknown, the pinned wasm-bindgen
# CLI, wasm-opt (binaryen's npm package), then esbuild bundles the project's
# own entry (src/edge/entry.js) with wasm-bindgen's module and glue.js into
# one ES module beside the wasm.
#
#   scripts/build.sh          release profile, wasm-opt'd, into build/ (tests, deploys)
#   scripts/build.sh dev      Cargo.toml's dev-wasm profile, no wasm-opt, into
#                             build-dev/ (make dev: quick to rebuild after an edit)
#   scripts/build.sh panic    the dev-wasm build with the test-only `panic-on-purpose`
#                             feature, into build-panic/ (tests only, never deployed)
#
# Each build is written to a staging folder and swapped in whole, so a
# failed build never leaves a half-written bundle for wrangler or the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-release}
case "$kind" in
  release) profile=release out=build features=() optimise=1 ;;
  dev) profile=dev-wasm out=build-dev features=() optimise=0 ;;
  panic) profile=dev-wasm out=build-panic features=(--features panic-on-purpose) optimise=0 ;;
  *) echo "build: unknown build \"$kind\" (release, dev or panic)" >&2; exit 2 ;;
esac

# The source paths the wasm keeps (for panic locations) name no folder of
# the machine that built it: a dependency is `<crate>-<version>/src/...`, the
# gateway's own code `src/...`. Smaller, and the same bundle from any laptop.
remaps=(--remap-path-prefix="$PWD/=")
for index in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  remaps+=(--remap-path-prefix="$index=")
done
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${remaps[*]}"
cargo build --lib --quiet --target wasm32-unknown-unknown --profile "$profile" ${features[@]+"${features[@]}"}
wasm="target/wasm32-unknown-unknown/$profile/upscope_edge_gateway.wasm"

stage="$out.staging"
rm -rf "$stage"
mkdir -p "$stage"
trap 'rm -rf "$stage"' EXIT

# --experimental-reset-state-function exports __wbg_reset_state (a fresh
# instance from the same compiled module), --force-enable-abort-handler runs
# src/edge/panic.rs's abort hook on every trap: src/edge/entry.js needs both.
# wasm-bindgen warns that `strip = true` hides the target features: they are
# the toolchain's defaults, which is what the generated JS assumes.
wasm-bindgen --target module --no-typescript --out-name index --out-dir "$stage/bindgen" \
  --experimental-reset-state-function --force-enable-abort-handler "$wasm" 2> >(grep -v target_features >&2)

if [ "$optimise" = 1 ]; then
  # Optimise until nothing changes (-Oz and -O3 come out larger once
  # gzipped; -O4 aborts on exception-handling code), and drop what
  # workerd does not read: the producers and target-features sections, and
  # the names (kept only with KEEP_WASM_NAMES=1 and
  # CARGO_PROFILE_RELEASE_STRIP=false, for bench/profile.mjs; a shipped
  # build never has them). The features are rustc's wasm32 defaults plus
  # exception handling (wasm-bindgen's catch wrappers), named so that newer
  # encodings are never emitted before workerd reads them.
  # --low-memory-unused lets wasm-opt fold `load(p + k)` into `load offset=k
  # (p)`; the two differ only when p + k wraps past 4 GiB into the first
  # KiB, where the folded form traps instead. Rust's wasm32 layout puts the
  # stack below 1 MiB growing down (an overflow traps below 0) and data
  # above it, so no correct address ever wraps there.
  # -ocimfs=20: a function with one caller is inlined only when small.
  # wasm-opt's default inlines every such function, however large, into its
  # caller, and the request's one big state machine then compresses worse:
  # measured, 144.5 KB gzipped against 148.9 KB (0, 10, 30 and 50 all
  # land between), for 2% more raw bytes.
  node_modules/.bin/wasm-opt -O --converge -ocimfs=20 --low-memory-unused --strip-producers --strip-target-features \
    ${KEEP_WASM_NAMES:+--debuginfo} \
    --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory \
    --enable-multivalue --enable-reference-types --enable-exception-handling \
    "$stage/bindgen/index_bg.wasm" -o "$stage/bindgen/index_bg.wasm"
  # Then the import and export names, which wasm-bindgen makes long and
  # hashed, become a letter or two; the bundler renames them in the JS by
  # the mapping wasm-opt prints (scripts/lib/bundle-entry.mjs --names).
  node_modules/.bin/wasm-opt --minify-imports-and-exports-and-modules \
    --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory \
    --enable-multivalue --enable-reference-types --enable-exception-handling \
    "$stage/bindgen/index_bg.wasm" -o "$stage/bindgen/index_bg.wasm" > "$stage/names.json"
  bundle_options=(--minify --names "$stage/names.json")
else
  bundle_options=()
fi

# One module for wrangler and Miniflare: the entry, wasm-bindgen's JS
# ("gateway") and glue.js ("glue"), which the wasm imports by that bare name
# so that the entry and the wasm share one copy of it. The .wasm stays a
# module of its own (workerd compiles it at upload); workerd's wasm import
# is already a compiled WebAssembly.Module, so `import source` is plain `import`.
node scripts/lib/bundle-entry.mjs "$stage/bindgen/index.js" "$stage/index.js" ${bundle_options[@]+"${bundle_options[@]}"}
mv "$stage/bindgen/index_bg.wasm" "$stage/index_bg.wasm"
rm -rf "$stage/bindgen" "$stage/names.json"

rm -rf "$out"
mv "$stage" "$out"
trap - EXIT
wasm_bytes=$(wc -c < "$out/index_bg.wasm" | tr -d ' ')
if [ "$kind" = release ]; then
  echo "build: $out/index_bg.wasm is $wasm_bytes bytes ($(gzip -9c "$out/index_bg.wasm" | wc -c | tr -d ' ') gzipped), $out/index.js $(wc -c < "$out/index.js" | tr -d ' ') bytes"
else
  echo "build: $out/index_bg.wasm is $wasm_bytes bytes ($kind build, not optimised)"
fi
