#!/usr/bin/env bash
# Builds the Worker into build/ with worker-build, pointed at the locally
# installed wasm-bindgen, wasm-opt and esbuild (it would otherwise download
# them from GitHub, which these machines cannot reach).
set -euo pipefail
cd "$(dirname "$0")/.."
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/node_modules/.bin/wasm-opt}"
# esbuild through its own package, which picks this platform's binary.
export ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/.bin/esbuild}"
# `scripts/build.sh dev` (make build-dev, for make dev only): the dev-wasm
# profile of Cargo.toml into build-dev/, without wasm-opt: a quick rebuild
# on every edit, never deployed or tested against.
if [ "${1:-}" = dev ]; then
  worker-build --profile dev-wasm --no-opt --out-dir build-dev
  echo "build: build-dev/index_bg.wasm is $(wc -c < build-dev/index_bg.wasm) bytes (dev build, for make dev)"
  exit 0
fi
worker-build --release
# KEEP_WASM_NAMES=1 (with CARGO_PROFILE_RELEASE_STRIP=false) keeps the Rust
# function names, for bench/profile.mjs; a shipped build never has them.
if [ -z "${KEEP_WASM_NAMES:-}" ]; then
  node scripts/lib/strip-wasm-names.mjs build/index_bg.wasm
fi
echo "build: build/index_bg.wasm is $(wc -c < build/index_bg.wasm) bytes ($(gzip -9c build/index_bg.wasm | wc -c) gzipped)"
