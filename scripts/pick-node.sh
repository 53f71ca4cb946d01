#!/usr/bin/env bash
# Prints the Node that wrangler and miniflare (>= 22.12) should run on: the
# system's when new enough, else the Node 22 that npm installed for this
# platform (optionalDependencies: one node-<os>-<cpu> package per platform).
# Fails, saying what to do, when there is neither.
set -euo pipefail
cd "$(dirname "$0")/.."
new_enough='const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) ? 0 : 1)'
# The system's Node: the first on PATH outside this checkout's node_modules.
path_without_ours=$(printf '%s' "$PATH" | tr ':' '\n' | { grep -v "^$PWD/node_modules/" || true; } | paste -sd: -)
system_node=$(PATH="$path_without_ours" command -v node || true)
if [ -n "$system_node" ] && "$system_node" -e "$new_enough" 2>/dev/null; then
  echo "$system_node"
elif [ -x node_modules/.bin/node ] && node_modules/.bin/node -e "$new_enough"; then
  echo "$PWD/node_modules/.bin/node"
else
  echo "setup: no Node 22.12 or newer: the system has ${system_node:-none}, and npm installed no Node package for $(uname -s) $(uname -m). Install Node 22 (https://nodejs.org) and run make again." >&2
  exit 1
fi
