#!/usr/bin/env bash
# Installs wrk, the bench's load generator (Debian's package), through
# apt-get as root or with sudo. Skipped when present.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
  exit 0
fi
echo "setup: installing Debian's wrk for the benchmark (first time only)"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wrk
