#!/usr/bin/env bash
# Installs the tansu Kafka-protocol broker used by the Kafka integration tests
# (crates/consent-kafka/tests) and by scripts/test-broker.sh.
#
# Idempotent: does nothing when the tansu found at $TANSU_INSTALL_ROOT/bin (or
# on PATH) already reports the wanted version. Builds from crates.io with the
# sqlite storage engine only (no Postgres, no S3, no data-lake features).
#
#   TANSU_INSTALL_ROOT  cargo install root; the binary goes to ROOT/bin
#                       (default: $CARGO_HOME, else ~/.cargo)
#   TANSU_VERSION       version to install (default: 0.6.0)
#
# A first install compiles for a while (tens of minutes on 2 cores).
set -euo pipefail

version="${TANSU_VERSION:-0.6.0}"
root="${TANSU_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}"
bin="$root/bin/tansu"

installed_version() {
    # `tansu --version` prints e.g. "tansu 0.6.0".
    "$1" --version 2>/dev/null | awk '{print $NF}' || true
}

for candidate in "$bin" "$(command -v tansu || true)"; do
    if [[ -n "$candidate" && -x "$candidate" && "$(installed_version "$candidate")" == "$version" ]]; then
        echo "tansu $version already installed at $candidate"
        exit 0
    fi
done

echo "installing tansu $version into $root/bin"
cargo install tansu --version "$version" --locked \
    --no-default-features --features libsql \
    --root "$root"

if [[ "$(installed_version "$bin")" != "$version" ]]; then
    echo "tansu at $bin does not report version $version after installing" >&2
    exit 1
fi
echo "installed tansu $version at $bin"
