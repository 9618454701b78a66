"""The README's send pipeline, run as it is written."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import consent_ledger
from consent_ledger import Ledger

from conftest import Shop

README = Path(__file__).resolve().parent.parent / "README.md"


def send_pipeline_block() -> str:
    section = README.read_text().split("## The send pipeline", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the README's send pipeline has a python block"
    return match.group(1)


def test_the_readmes_send_pipeline_sends_to_the_allowed_with_their_unsubscribe_urls(
    ledger: Ledger, shop: Shop, base_url: str
) -> None:
    block = send_pipeline_block()
    assert len(block.strip().splitlines()) <= 10, block
    ledger.check(shop.campaign_check("cust-consented"))  # the view has the shop
    outbox: list[tuple[str, dict[str, str]]] = []
    namespace = {
        **{name: getattr(consent_ledger, name) for name in consent_ledger.__all__},
        "datetime": datetime,
        "UTC": UTC,
        "API_KEY": None,
        "ORG": shop.organisation_id,
        "recipients": [
            (subject, shop.customers[subject]) for subject in ("cust-consented", "cust-unknown")
        ],
        "send_email": lambda address, headers: outbox.append((address, headers)),
    }
    exec(block.replace('"https://consent.example.org"', repr(base_url)), namespace)

    assert [address for address, _ in outbox] == [shop.customers["cust-consented"]]
    headers = outbox[0][1]
    assert re.fullmatch(rf"<{re.escape(base_url)}/u/[A-Za-z0-9_-]+>", headers["List-Unsubscribe"])
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
