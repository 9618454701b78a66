"""Offline verification of an evidence bundle, by the ledger's own verifier.

A bundle proves itself with nothing but the bundle, the ledger's published
key and the rules built into the ``consent-ledger`` binary
(docs/EVIDENCE.md). This helper runs that binary's
``consent-ledger verify BUNDLE --key KEY --json`` rather than a second
implementation of the checks: the signature on the checkpoint, every
record's Merkle inclusion proof, the consistency with a previous
checkpoint, and every decision decided again under its rule set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .errors import VerificationError

# `consent-ledger verify`'s exit status for a bundle that does not verify.
_EXIT_FAILED_VERIFICATION = 4


@dataclass(frozen=True)
class Verification:
    """What the verifier found: ``passed`` when nothing is wrong."""

    passed: bool
    # Each thing found wrong, as the verifier describes it (empty when passed).
    findings: list[Any] = field(default_factory=list)
    # Records whose inclusion in the signed checkpoint was proven.
    records_proven: int = 0
    # Decisions decided again.
    decisions: int = 0
    # The trusted keys that signed the bundle's checkpoint.
    signed_by: list[str] = field(default_factory=list)
    # The verifier's whole JSON report.
    report: dict[str, Any] = field(default_factory=dict)


def _binary(binary: str | None) -> str:
    name = binary or os.environ.get("CONSENT_LEDGER_BIN") or "consent-ledger"
    found = shutil.which(name)
    if found is None:
        raise VerificationError(
            f"the verifier `{name}` was not found: install the consent-ledger binary, "
            "or give its path as `binary=` or in CONSENT_LEDGER_BIN"
        )
    return found


def verify_bundle(
    bundle: bytes | str | os.PathLike[str],
    keys: str | Iterable[str],
    *,
    binary: str | None = None,
    timeout: float = 120.0,
) -> Verification:
    """Verifies ``bundle`` (its bytes, or the path of its file) against the
    trusted ``keys`` (the key text the ledger publishes, e.g.
    :meth:`Ledger.checkpoint_key`, or files holding it; several for rotated
    keys). Raises :class:`VerificationError` when the verifier cannot run;
    a bundle that does not verify is ``passed=False`` with its findings."""
    trusted = [keys] if isinstance(keys, str) else list(keys)
    if not trusted:
        raise ValueError("verify_bundle: at least one trusted key is needed")
    with tempfile.TemporaryDirectory(prefix="consent-bundle-") as scratch:
        if isinstance(bundle, bytes):
            path = Path(scratch) / "bundle.json"
            path.write_bytes(bundle)
        else:
            path = Path(bundle)
        command = [_binary(binary), "verify", str(path), "--json"]
        for key in trusted:
            command += ["--key", key]
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise VerificationError(f"running {command[0]}: {error}") from error
    if done.returncode not in (0, _EXIT_FAILED_VERIFICATION):
        raise VerificationError(
            f"`consent-ledger verify` could not run (exit {done.returncode}): "
            + done.stderr.decode("utf-8", "replace").strip()
        )
    try:
        report = json.loads(done.stdout)
    except ValueError as error:
        raise VerificationError(f"the verifier's report is not JSON: {error}") from error
    return Verification(
        passed=done.returncode == 0 and not report.get("findings"),
        findings=list(report.get("findings") or []),
        records_proven=int(report.get("records_proven") or 0),
        decisions=int(report.get("decisions") or 0),
        signed_by=list(report.get("checkpoint_signed_by") or []),
        report=report,
    )
