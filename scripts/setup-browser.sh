#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (playwright-core drives it;
# Playwright's own browser download is not used). Skipped when present.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "setup: installing Debian's chromium for the browser tests (first time only)"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium
