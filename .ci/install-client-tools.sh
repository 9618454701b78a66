#!/usr/bin/env bash
# What the client libraries' tests need (crates/consent-cli/tests/clients.rs
# and proto_contract.rs), cached under ~/.cache/consent-ledger/ and skipped
# when already present at the pinned versions:
# * Python: a virtual environment with clients/python/requirements-dev.txt
#   (grpcio-tools and mypy-protobuf generate the types, protobuf and httpx
#   are the client's own dependencies, pytest runs its tests), at
#   ~/.cache/consent-ledger/clients-python (CONSENT_CLIENTS_VENV);
# * TypeScript: clients/typescript's npm packages as its package-lock.json
#   pins them (@bufbuild/buf, which also lints proto/, @bufbuild/protoc-gen-es,
#   @bufbuild/protobuf, typescript), installed once per lock file under
#   ~/.cache/consent-ledger/clients-node/<lock digest>/ and linked as
#   clients/typescript/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="$HOME/.cache/consent-ledger"

# ---------------------------------------------------------------- Python
venv="${CONSENT_CLIENTS_VENV:-$cache/clients-python}"
requirements=clients/python/requirements-dev.txt
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
if [[ -x "$venv/bin/python" && "$(cat "$venv/.requirements.sha256" 2>/dev/null)" == "$wanted" ]]; then
    echo "client Python tools already installed in $venv"
else
    echo "installing the client Python tools ($requirements) into $venv"
    mkdir -p "$(dirname "$venv")"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    "$venv/bin/python" -c "import grpc_tools.protoc, google.protobuf, httpx, pytest"
    [[ -x "$venv/bin/protoc-gen-mypy" ]]
    echo "$wanted" > "$venv/.requirements.sha256"
fi

# ---------------------------------------------------------------- TypeScript
command -v npm >/dev/null || { echo "npm (Node.js 20 or later) is needed for clients/typescript" >&2; exit 1; }
lock=clients/typescript/package-lock.json
# The lock file names every package and version (package.json's
# dependencies included), so its digest names the installation.
digest=$(sha256sum "$lock" | cut -c1-16)
modules="$cache/clients-node/$digest"
if [[ -x "$modules/node_modules/.bin/buf" && -x "$modules/node_modules/.bin/tsc" && -f "$modules/.installed" ]]; then
    echo "client npm packages already installed in $modules"
else
    echo "installing clients/typescript's npm packages into $modules"
    rm -rf "$modules"
    mkdir -p "$modules"
    cp clients/typescript/package.json "$lock" "$modules/"
    (cd "$modules" && npm ci --no-audit --no-fund --loglevel=error)
    "$modules/node_modules/.bin/buf" --version >/dev/null
    touch "$modules/.installed"
fi
# Installations of earlier lock files are not used again.
find "$cache/clients-node" -mindepth 1 -maxdepth 1 ! -name "$digest" -exec rm -rf {} +
link=clients/typescript/node_modules
if [[ "$(readlink "$link" 2>/dev/null)" != "$modules/node_modules" ]]; then
    rm -rf "$link"
    ln -s "$modules/node_modules" "$link"
fi
