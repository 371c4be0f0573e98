#!/usr/bin/env bash
# Install the Mosquitto broker from the distribution when it is missing, and the openssl tool
# (the README's TLS walkthrough checks the broker's TLS listener with `openssl s_client`).
set -euo pipefail
source "$(dirname "$0")/apt_install.sh"
if ! command -v openssl >/dev/null 2>&1; then
  apt_install openssl "OpenSSL"
fi
if command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; then
  exit 0
fi
apt_install mosquitto "Mosquitto 2.x"
# The distribution starts a system broker on 1883; the local stack runs its own.
$SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || $SUDO service mosquitto stop >/dev/null 2>&1 || true
