#!/usr/bin/env bash
# Installs wrk, the bench's load generator (Debian's package). Skipped when present.
set -euo pipefail
command -v wrk >/dev/null 2>&1 && exit 0
. "$(dirname "$0")/lib/apt-install.sh"
apt_install wrk "the benchmark"
