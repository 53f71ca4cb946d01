#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (playwright-core drives it;
# Playwright's own browser download is not used). Skipped when present.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
. "$(dirname "$0")/lib/apt-install.sh"
apt_install chromium "the browser tests"
