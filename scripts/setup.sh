#!/usr/bin/env bash
# Installs what building and testing need, idempotently: the wasm target,
# the wasm-bindgen CLI at the version Cargo.lock pins, and the npm packages
# of package-lock.json (Node 22 for this platform, wrangler, miniflare,
# binaryen's wasm-opt, esbuild), and picks the Node to run. Each step is
# skipped when already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

locked_version() { # version of crate $1 in Cargo.lock
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

bindgen_version=$(locked_version wasm-bindgen)
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $bindgen_version" ]; then
  echo "setup: installing wasm-bindgen-cli $bindgen_version (first time only, a few minutes)"
  # Without its default features the CLI has no TLS stack to compile (it is
  # only for wasm-bindgen-test-runner's downloads), which saves a fresh
  # machine a minute. Not --locked: its lockfile names a webpki-roots release
  # the registry mirror here lacks; its dependencies do not affect the output.
  cargo install wasm-bindgen-cli --version "=$bindgen_version" --no-default-features --force
fi

# sha256sum on Linux, shasum on macOS.
if command -v sha256sum >/dev/null; then
  lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
else
  lock_hash=$(shasum -a 256 package-lock.json | cut -d' ' -f1)
fi
if [ "$(cat node_modules/.setup-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.setup-lock-hash
fi

# Node for wrangler and miniflare: the system's when new enough, else npm's
# (scripts/pick-node.sh). The Makefile puts node_modules/.node-bin first on PATH.
node=$(scripts/pick-node.sh)
mkdir -p node_modules/.node-bin
if [ "$(readlink node_modules/.node-bin/node 2>/dev/null)" != "$node" ]; then
  ln -sfn "$node" node_modules/.node-bin/node
fi
