#!/usr/bin/env bash
# System packages the build needs (bundled librdkafka builds with these).
# Skips what is already installed.
set -euo pipefail
needed=()
for pkg in build-essential pkg-config zlib1g-dev libssl-dev perl python3; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || needed+=("$pkg")
done
if [ "${#needed[@]}" -gt 0 ]; then
  echo "installing system packages: ${needed[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${needed[@]}"
fi
