#!/usr/bin/env bash
# Add the local stack's CA to the system's trust store (Debian's ca-certificates), so that device code
# which trusts only the system store (the AWS IoT Device SDK's service-client samples do) accepts
# the broker's certificate. `UNDO=1` takes it out again. Needs root; changes nothing else.
set -euo pipefail
stack_dir="${STACK_DIR:-.devstack}"
ca="$stack_dir/ca/ca.pem"
target=/usr/local/share/ca-certificates/fleet-local-stack-ca.crt
if [ "$(id -u)" != 0 ]; then
  echo "trust-ca changes the system trust store: run it as root (sudo make trust-ca)" >&2
  exit 1
fi
command -v update-ca-certificates >/dev/null 2>&1 || {
  source "$(dirname "$0")/apt_install.sh"
  apt_install ca-certificates "the system trust store's tools"
}
if [ "${UNDO:-}" = 1 ]; then
  rm -f "$target"
  update-ca-certificates --fresh >/dev/null
  echo "the local stack's CA is no longer trusted by the system"
  exit 0
fi
if [ ! -f "$ca" ]; then
  echo "no CA at $ca: start the stack once (make run) to make it" >&2
  exit 1
fi
install -m 0644 "$ca" "$target"
update-ca-certificates >/dev/null
echo "the system now trusts the local stack's CA ($ca); UNDO=1 make trust-ca takes it out"
