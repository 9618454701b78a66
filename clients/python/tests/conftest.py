"""The ledger under test, and a shop's facts in it.

The suite runs against a running ledger whose base URL is in
CONSENT_LEDGER_URL (crates/consent-cli/tests/clients.rs starts the real
binary and sets it, with CONSENT_LEDGER_BIN for the verifier). Without it
the suite fails: a client test that cannot reach a ledger has checked
nothing.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass, field
from typing import Iterator

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from consent_ledger import (
    Channel,
    CheckRequest,
    CollectionMethod,
    CollectionRoute,
    ConsentCollector,
    ConsentGiven,
    ContactKind,
    ContactPoint,
    DetailsCollection,
    Envelope,
    Ledger,
    LogPosition,
    MessageClass,
    OptOutMethod,
    OptOutRecorded,
    OrganisationKind,
    OrganisationRegistered,
    ProductCategoriesDefined,
    ProductCategory,
    Purpose,
    SaleRecorded,
)

WORDING = "Yes, email me Acme Cycles' offers. Unsubscribe at any time."


def at(text: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromJsonString(text)
    return stamp


def email(address: str) -> ContactPoint:
    return ContactPoint(kind=ContactKind.CONTACT_KIND_EMAIL, value=address)


@dataclass
class Shop:
    """An organisation with its customers, as recorded in the ledger."""

    organisation_id: str
    # subject id -> email address
    customers: dict[str, str]
    # Where the shop's facts were recorded: what a check waits for.
    recorded: list[LogPosition] = field(default_factory=list)

    def campaign_check(self, subject_id: str, **extra: object) -> CheckRequest:
        """The spring newsletter (marketing email, commercial, bikes) to a
        customer at their address, once the shop's facts are in the view."""
        return CheckRequest(
            organisation_id=self.organisation_id,
            subject_id=subject_id,
            channel=Channel.CHANNEL_EMAIL,
            purpose=Purpose.PURPOSE_COMMERCIAL,
            product_category_id="bikes",
            message_class=MessageClass.MESSAGE_CLASS_MARKETING,
            promotional_content=True,
            opt_out_included=True,
            sender_identified=True,
            contact_point=email(self.customers[subject_id]),
            wait_for=self.recorded,
            **extra,  # type: ignore[arg-type]
        )


@pytest.fixture(scope="session")
def base_url() -> str:
    url = os.environ.get("CONSENT_LEDGER_URL")
    if not url:
        pytest.fail(
            "CONSENT_LEDGER_URL is not set: start a ledger (consent-ledger serve) and give its "
            "base URL, e.g. CONSENT_LEDGER_URL=http://127.0.0.1:8080"
        )
    return url


@pytest.fixture(scope="session")
def ledger(base_url: str) -> Iterator[Ledger]:
    with Ledger(base_url, api_key=os.environ.get("CONSENT_LEDGER_API_KEY")) as client:
        yield client


@pytest.fixture(scope="session")
def shop(ledger: Ledger) -> Shop:
    """Acme Cycles (an organisation of its own per run) and four customers:
    one who consented to email, one who bought a bike (the soft opt-in),
    one whose address the shop's ESP reported unsubscribed (an imported
    suppression, no subject), and one the shop knows nothing lawful about."""
    suffix = uuid.uuid4().hex[:8]
    org = f"acme-cycles-py-{suffix}"
    customers = {
        "cust-consented": f"ada-{suffix}@example.com",
        "cust-bought": f"bob-{suffix}@example.com",
        "cust-suppressed": f"carol-{suffix}@example.com",
        "cust-unknown": f"dan-{suffix}@example.com",
    }
    signed_up = "2026-02-01T10:00:00Z"
    events = [
        Envelope(
            organisation_id=org,
            occurred_at=at("2026-01-10T09:00:00Z"),
            organisation_registered=OrganisationRegistered(
                name="Acme Cycles Ltd", kind=OrganisationKind.ORGANISATION_KIND_COMMERCIAL
            ),
        ),
        Envelope(
            organisation_id=org,
            occurred_at=at("2026-01-10T09:00:00Z"),
            product_categories_defined=ProductCategoriesDefined(
                categories=[ProductCategory(id="bikes", name="Bikes")]
            ),
        ),
        Envelope(
            organisation_id=org,
            subject_id="cust-consented",
            occurred_at=at(signed_up),
            consent_given=ConsentGiven(
                channels=[Channel.CHANNEL_EMAIL],
                purposes=[Purpose.PURPOSE_COMMERCIAL],
                wording_version="newsletter-v2",
                wording_sha256=hashlib.sha256(WORDING.encode()).hexdigest(),
                method=CollectionMethod.COLLECTION_METHOD_DOUBLE_OPT_IN,
                collector=ConsentCollector.CONSENT_COLLECTOR_FIRST_PARTY,
                contact_point=email(customers["cust-consented"]),
            ),
        ),
    ]
    for subject in ("cust-bought", "cust-suppressed"):
        events.append(
            Envelope(
                organisation_id=org,
                subject_id=subject,
                occurred_at=at(signed_up),
                sale_recorded=SaleRecorded(
                    product_category_id="bikes",
                    order_ref=f"order-{subject}",
                    collection=DetailsCollection(
                        route=CollectionRoute.COLLECTION_ROUTE_DIRECT,
                        opt_out_offered=True,
                        form_version="checkout-v4",
                        contact_point=email(customers[subject]),
                    ),
                ),
            )
        )
    # The ESP's suppression list: the address alone, no subject.
    events.append(
        Envelope(
            organisation_id=org,
            occurred_at=at("2026-03-01T08:00:00Z"),
            opt_out_recorded=OptOutRecorded(
                channels=[Channel.CHANNEL_EMAIL],
                received_via=OptOutMethod.OPT_OUT_METHOD_UNSUBSCRIBE_LINK,
                contact_point=email(customers["cust-suppressed"]),
            ),
        )
    )
    answer = ledger.append(events)
    return Shop(org, customers, [appended.position for appended in answer.appended])
