#!/usr/bin/env bash
# The test command of the README: installs the test broker if it is missing
# (tansu, a Kafka-protocol broker, from crates.io; cached in ~/.cargo/bin),
# then runs every test of the workspace. Kafka integration tests start their
# own broker on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/install-deps.sh
bash .ci/install-tansu.sh
export PATH="$HOME/.cargo/bin:$PATH"

cargo test --workspace --locked "$@"
