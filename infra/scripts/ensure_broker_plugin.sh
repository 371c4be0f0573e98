#!/usr/bin/env bash
# Build the broker's claim plugin (infra/local/broker_plugin) when it is missing or older than its
# source; install what it compiles against (gcc, Mosquitto's plugin headers, OpenSSL's) when missing.
set -euo pipefail
source "$(dirname "$0")/apt_install.sh"
dir="$(cd "$(dirname "$0")/../local/broker_plugin" && pwd)"
src="$dir/fleet_claims.c"
lib="$dir/build/fleet_claims.so"
if [ -f "$lib" ] && [ "$lib" -nt "$src" ]; then
  exit 0
fi
command -v gcc >/dev/null 2>&1 || apt_install gcc "a C compiler (gcc)"
[ -f /usr/include/mosquitto_broker.h ] || apt_install mosquitto-dev "Mosquitto's plugin headers"
[ -f /usr/include/mosquitto.h ] || apt_install libmosquitto-dev "Mosquitto's client headers"
[ -f /usr/include/openssl/x509.h ] || apt_install libssl-dev "OpenSSL's headers"
mkdir -p "$dir/build"
gcc -std=c11 -D_POSIX_C_SOURCE=200809L -shared -fPIC -O2 -Wall -Wextra -Werror \
  -o "$lib.tmp" "$src" -lcrypto
mv "$lib.tmp" "$lib"
echo "built the broker's claim plugin" >&2
