#!/usr/bin/env bash
# Python tools the tests need that Debian does not package: kubernetes-validate
# (schema validation of deploy/k8s, crates/consent-cli/tests/deploy_validation.rs),
# pinned, in a virtual environment under ~/.cache/consent-ledger/venv.
# Skips what is already installed at the pinned version. Put the venv's bin
# directory on PATH to use it: scripts/test.sh does.
set -euo pipefail
KUBERNETES_VALIDATE_VERSION=1.37.0
venv="${CONSENT_PYTHON_VENV:-$HOME/.cache/consent-ledger/venv}"

installed() {
  [ -x "$venv/bin/kubernetes-validate" ] \
    && [ "$("$venv/bin/python" -m pip show kubernetes-validate 2>/dev/null | sed -n 's/^Version: //p')" \
         = "$KUBERNETES_VALIDATE_VERSION" ]
}

if installed; then
  exit 0
fi
echo "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION into $venv"
mkdir -p "$(dirname "$venv")"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
installed
