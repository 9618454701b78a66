#!/usr/bin/env bash
# System packages the build and tests need: bundled librdkafka builds with
# the first seven (OpenSSL for TLS and SASL, libcurl for OAUTHBEARER/OIDC);
# the HTML report's browser test (crates/consent-report) opens the report in
# chromium and reads its screenshot with tesseract (English data and DejaVu
# fonts named explicitly, so OCR sees the same glyphs on every machine).
# The production tests (tests/) start a TLS terminator (stunnel4) in front of
# the test broker, a PostgreSQL server for the shared subject-key store,
# inject faults with fiu-utils, and check deploy/ with promtool (prometheus)
# and yamllint. The console's browser tests (crates/consent-cli/tests/
# console_browser.rs) drive chromium through chromium-driver (WebDriver) and
# inject axe-core, installed from npm by .ci/install-node-tools.sh. Skips
# what is already installed.
set -euo pipefail
needed=()
for pkg in build-essential pkg-config zlib1g-dev libssl-dev libcurl4-openssl-dev perl python3 \
           chromium tesseract-ocr tesseract-ocr-eng fonts-dejavu-core \
           stunnel4 postgresql fiu-utils prometheus yamllint \
           chromium-driver; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || needed+=("$pkg")
done
if [ "${#needed[@]}" -gt 0 ]; then
  echo "installing system packages: ${needed[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${needed[@]}"
fi
