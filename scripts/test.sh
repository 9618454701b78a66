#!/usr/bin/env bash
# The test command of the README: installs the test broker if it is missing
# (tansu, a Kafka-protocol broker, from crates.io; cached in ~/.cargo/bin),
# and the Python tools (kubernetes-validate, in a venv under
# ~/.cache/consent-ledger/venv, put on PATH) and axe-core (npm, under
# ~/.cache/consent-ledger/node, for the console's browser tests), then checks the formatting,
# runs every test of the workspace, and runs clippy with warnings as errors
# (issue 17: the code's own rules are checked, not only its behaviour).
# Kafka integration tests start their own broker on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/install-deps.sh
bash .ci/install-tansu.sh
bash .ci/install-python-tools.sh
bash .ci/install-node-tools.sh
# The venv last: its python3 must not shadow the system one.
export PATH="$HOME/.cargo/bin:$PATH:${CONSENT_PYTHON_VENV:-$HOME/.cache/consent-ledger/venv}/bin"

cargo fmt --all --check
cargo test --workspace --locked "$@"
cargo clippy --workspace --all-targets --locked -- -D warnings
