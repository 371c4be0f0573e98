#!/usr/bin/env bash
# Install the distribution's Chromium for the browser tests when it is missing.
# Playwright drives it by path; it never downloads a browser of its own.
set -euo pipefail
if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; then
  exit 0
fi
source "$(dirname "$0")/apt_install.sh"
apt_install chromium Chromium
