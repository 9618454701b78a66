"""The client's types hold for a type checker: the package and these tests
pass `mypy --strict` against the generated stubs, and an enum of one kind
given where another is expected is an error, not a silent integer."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

HERE = Path(__file__).resolve().parent
CLIENT = HERE.parent


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the module's runs: the stubs are analysed once."""
    return tmp_path_factory.mktemp("mypy-cache")


def mypy(cache: Path, *targets: str) -> tuple[str, int]:
    out, err, status = api.run(
        ["--config-file", str(CLIENT / "pyproject.toml"), "--cache-dir", str(cache), *targets]
    )
    return out + err, status


def test_the_package_and_its_tests_type_check_strictly(mypy_cache: Path) -> None:
    report, status = mypy(mypy_cache, str(CLIENT / "src" / "consent_ledger"), str(HERE))
    assert status == 0, report


def test_a_purpose_given_as_a_channel_is_a_type_error(mypy_cache: Path, tmp_path: Path) -> None:
    misuse = tmp_path / "misuse.py"
    misuse.write_text(
        "from consent_ledger import CheckRequest, Purpose\n"
        "CheckRequest(organisation_id='acme', channel=Purpose.PURPOSE_COMMERCIAL)\n"
    )
    report, status = mypy(mypy_cache, str(misuse))
    assert status == 1, report
    assert 'Argument "channel" to "CheckRequest"' in report, report
