#!/usr/bin/env bash
# Node tools the tests need: axe-core, the accessibility checker the
# console's browser tests inject into each page (crates/consent-cli/tests/
# console_browser.rs), pinned, under ~/.cache/consent-ledger/node (its
# axe.min.js is what the tests read; CONSENT_AXE_JS names another copy).
# Skips what is already installed at the pinned version.
set -euo pipefail
AXE_CORE_VERSION=4.10.3
prefix="${CONSENT_NODE_TOOLS:-$HOME/.cache/consent-ledger/node}"
package="$prefix/node_modules/axe-core/package.json"

installed() {
  [ -f "$prefix/node_modules/axe-core/axe.min.js" ] \
    && grep -q "\"version\": \"$AXE_CORE_VERSION\"" "$package"
}

if installed; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "installing npm (Debian) to install axe-core"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm
fi
echo "installing axe-core $AXE_CORE_VERSION into $prefix"
mkdir -p "$prefix"
npm install --silent --no-audit --no-fund --prefix "$prefix" "axe-core@$AXE_CORE_VERSION"
installed
