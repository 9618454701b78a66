"""The send pipeline as a marketing-ops script runs it, against a real
ledger: pre-flight, check each recipient by address, record the send with
its unsubscribe URL, and what the ledger says when it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from consent_ledger import (
    Channel,
    ConsentGiven,
    Envelope,
    ExportRequest,
    InvalidArgument,
    LawfulBasis,
    Ledger,
    MarketingMessageSent,
    MessageClass,
    Purpose,
    SubjectExport,
    verify_bundle,
)

from conftest import Shop, email

RECIPIENTS = ["cust-consented", "cust-bought", "cust-suppressed", "cust-unknown"]


def now() -> Timestamp:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp


def send_recorded(shop: Shop, subject_id: str, message_id: str) -> Envelope:
    """The fact that the newsletter went to `subject_id` at their address."""
    return Envelope(
        organisation_id=shop.organisation_id,
        subject_id=subject_id,
        occurred_at=now(),
        marketing_message_sent=MarketingMessageSent(
            channel=Channel.CHANNEL_EMAIL,
            purpose=Purpose.PURPOSE_COMMERCIAL,
            product_category_id="bikes",
            message_class=MessageClass.MESSAGE_CLASS_MARKETING,
            promotional_content=True,
            opt_out_included=True,
            sender_identified=True,
            message_id=message_id,
            campaign_id="spring",
            contact_point=email(shop.customers[subject_id]),
        ),
    )


def test_the_send_pipeline_sends_only_to_whom_the_ledger_allows_each_with_its_unsubscribe_url(
    ledger: Ledger, shop: Shop, base_url: str
) -> None:
    # Before the campaign: the pre-flight over the whole list, one call,
    # verdicts only.
    preflight = ledger.check_batch(
        [shop.campaign_check(subject, omit_texts=True) for subject in RECIPIENTS]
    )
    assert [d.allowed for d in preflight] == [True, True, False, False]

    # At send time: each recipient checked again by address, the send
    # recorded, the unsubscribe URL put in the message.
    sent: dict[str, str] = {}
    bases = {}
    for subject in RECIPIENTS:
        decision = ledger.check(shop.campaign_check(subject))
        if not decision.allowed:
            continue
        bases[subject] = decision.lawful_basis
        answer = ledger.append([send_recorded(shop, subject, f"spring-{subject}")])
        sent[subject] = answer.appended[0].unsubscribe_url

    assert sorted(sent) == ["cust-bought", "cust-consented"]
    assert bases == {
        "cust-consented": LawfulBasis.LAWFUL_BASIS_CONSENT,
        "cust-bought": LawfulBasis.LAWFUL_BASIS_SOFT_OPT_IN,
    }
    for url in sent.values():
        assert url.startswith(f"{base_url}/u/"), url

    # After: the recipient presses "unsubscribe" in their mail client
    # (RFC 8058 one-click), and the next check refuses.
    clicked = httpx.post(sent["cust-bought"], data={"List-Unsubscribe": "One-Click"})
    assert clicked.status_code == 200
    assert clicked.headers["consent-opt-out"] == "recorded"
    after = ledger.check(shop.campaign_check("cust-bought"))
    assert not after.allowed
    assert "R1" in [reason.rule_id for reason in after.reasons_against]


def test_a_refused_check_says_why_with_its_citation(ledger: Ledger, shop: Shop) -> None:
    suppressed = ledger.check(shop.campaign_check("cust-suppressed"))
    assert not suppressed.allowed
    assert suppressed.lawful_basis == LawfulBasis.LAWFUL_BASIS_NONE
    opt_out = next(r for r in suppressed.reasons_against if r.rule_id == "R1")
    assert "GDPR" in opt_out.citation or "PECR" in opt_out.citation, opt_out
    assert opt_out.message
    assert opt_out.event_ids, "the reason names the opt-out it rests on"

    unknown = ledger.check(shop.campaign_check("cust-unknown"))
    assert not unknown.allowed
    no_basis = next(r for r in unknown.reasons_against if r.rule_id == "R3")
    assert no_basis.code == "no_basis_for_electronic_mail"
    assert "PECR 2003 reg 22" in no_basis.citation


def test_an_invalid_fact_is_refused_naming_its_field_and_nothing_is_appended(
    ledger: Ledger, shop: Shop
) -> None:
    good = send_recorded(shop, "cust-consented", "never-sent")
    bad = Envelope(
        organisation_id=shop.organisation_id,
        subject_id="cust-new",
        occurred_at=now(),
        consent_given=ConsentGiven(channels=[Channel.CHANNEL_EMAIL]),  # no purpose
    )
    with pytest.raises(InvalidArgument) as refused:
        ledger.append([good, bad])
    assert refused.value.status == 400
    assert refused.value.code == "invalid_argument"
    assert refused.value.field == "events[1].consent_given.purposes"
    assert "purpose" in refused.value.message

    ledger.check(shop.campaign_check("cust-consented"))  # the view has the shop
    history = ledger.history(shop.organisation_id, "cust-new")
    assert list(history.events) == []


def test_one_invalid_check_of_a_batch_is_refused_naming_its_index_and_field(
    ledger: Ledger, shop: Shop
) -> None:
    no_channel = shop.campaign_check("cust-bought")
    no_channel.ClearField("channel")
    with pytest.raises(InvalidArgument) as refused:
        ledger.check_batch([shop.campaign_check("cust-consented"), no_channel])
    assert refused.value.field == "checks[1].channel"


def test_history_gives_the_facts_and_the_decision_they_lead_to(
    ledger: Ledger, shop: Shop
) -> None:
    ledger.check(shop.campaign_check("cust-consented"))  # the view has the shop
    history = ledger.history(
        shop.organisation_id,
        "cust-consented",
        decision_for=shop.campaign_check("cust-consented"),
    )
    kinds = [entry.event.WhichOneof("payload") for entry in history.events]
    assert kinds[0] == "consent_given"
    assert history.events[0].event.consent_given.contact_point.value == (
        shop.customers["cust-consented"]
    )
    assert history.decision.allowed
    assert history.decision.lawful_basis == LawfulBasis.LAWFUL_BASIS_CONSENT


def test_an_exported_bundle_verifies_offline_and_a_tampered_one_does_not(
    ledger: Ledger, shop: Shop, tmp_path: Path
) -> None:
    ledger.check(shop.campaign_check("cust-consented"))  # the view has the shop
    bundle = ledger.export(
        ExportRequest(
            organisation_id=shop.organisation_id,
            subject=SubjectExport(subject_id="cust-consented"),
        )
    )
    key = ledger.checkpoint_key()

    verified = verify_bundle(bundle, key)
    assert verified.passed, verified.findings
    assert verified.records_proven >= 1
    # The key text is `origin+keyid+public key`; a report names `origin+keyid`.
    assert verified.signed_by == ["+".join(key.split("+")[:2])]

    document = json.loads(bundle)
    payload = document["records"][0]["payload"]
    document["records"][0]["payload"] = ("B" if payload[10] == "A" else "A").join(
        [payload[:10], payload[11:]]
    )
    tampered = tmp_path / "tampered.bundle.json"
    tampered.write_text(json.dumps(document))
    refused = verify_bundle(tampered, key)
    assert not refused.passed
    assert refused.findings
