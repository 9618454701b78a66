//! The proto3 JSON mapping, as the HTTP API speaks it: camelCase field
//! names, enum values by name, timestamps as RFC 3339 text, default values
//! left out.

use consent_domain::vocabulary::ContactValue;
use consent_domain::vocabulary::{Channel, CollectionMethod, ContactKind, ContactPoint, Purpose};
use consent_domain::{Fact, Timestamp};
use consent_schema::{event_from_proto, prepare_for_append, v1, EntryRules};
use serde_json::json;

/// What a producer would POST: no event id, no recorded_at, no schema
/// version (the ledger fills them), an email address as typed.
const POSTED: &str = r#"{
  "organisationId": "acme",
  "subjectId": "customer-1842",
  "occurredAt": "2026-01-15T10:30:00Z",
  "source": { "system": "web-shop", "formId": "newsletter-signup" },
  "consentGiven": {
    "channels": ["CHANNEL_EMAIL", "CHANNEL_SMS"],
    "purposes": ["PURPOSE_COMMERCIAL"],
    "wordingVersion": "newsletter-2026-01",
    "wordingSha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "method": "COLLECTION_METHOD_DOUBLE_OPT_IN",
    "collector": "CONSENT_COLLECTOR_FIRST_PARTY",
    "contactPoint": { "kind": "CONTACT_KIND_EMAIL", "value": " Ada@Example.com " }
  }
}"#;

fn ledger_id() -> uuid::Uuid {
    uuid::Uuid::parse_str("0190f2a4-7b3c-7d2e-9f10-1a2b3c4d5e6f").expect("uuid")
}

#[test]
fn a_posted_json_event_becomes_a_domain_fact() {
    let posted: v1::Envelope = serde_json::from_str(POSTED).expect("valid proto3 JSON");
    let now = Timestamp::parse_rfc3339("2026-01-15T10:30:02Z").expect("time");

    let (_, event) =
        prepare_for_append(posted, now, ledger_id, &EntryRules::default()).expect("valid event");

    assert_eq!(event.organisation.as_str(), "acme");
    assert_eq!(
        event.subject.as_ref().map(|s| s.as_str()),
        Some("customer-1842")
    );
    assert_eq!(event.occurred_at.to_string(), "2026-01-15T10:30:00Z");
    assert_eq!(event.recorded_at, now);
    assert_eq!(event.source.form_id, "newsletter-signup");
    let Fact::ConsentGiven(consent) = event.fact else {
        panic!("not consent: {:?}", event.fact)
    };
    assert_eq!(consent.channels, vec![Channel::Email, Channel::Sms]);
    assert_eq!(consent.purposes, vec![Purpose::Commercial]);
    assert_eq!(consent.method, CollectionMethod::DoubleOptIn);
    assert_eq!(
        consent.contact_point,
        Some(ContactPoint {
            kind: ContactKind::Email,
            value: ContactValue::clear("ada@example.com")
        })
    );
}

#[test]
fn the_stored_event_reads_back_as_this_json() {
    let posted: v1::Envelope = serde_json::from_str(POSTED).expect("valid proto3 JSON");
    let now = Timestamp::parse_rfc3339("2026-01-15T10:30:02.250Z").expect("time");
    let (stored, _) =
        prepare_for_append(posted, now, ledger_id, &EntryRules::default()).expect("valid event");

    let json = serde_json::to_value(&stored).expect("serialises");

    assert_eq!(
        json,
        json!({
            "eventId": "0190f2a4-7b3c-7d2e-9f10-1a2b3c4d5e6f",
            "organisationId": "acme",
            "subjectId": "customer-1842",
            "occurredAt": "2026-01-15T10:30:00+00:00",
            "recordedAt": "2026-01-15T10:30:02.250+00:00",
            // Zero values are written out: evidence states every fact.
            "source": {
                "system": "web-shop",
                "actor": "",
                "evidenceRef": "",
                "formId": "newsletter-signup",
                "url": ""
            },
            "schemaVersion": 1,
            "consentGiven": {
                "channels": ["CHANNEL_EMAIL", "CHANNEL_SMS"],
                "purposes": ["PURPOSE_COMMERCIAL"],
                "wordingVersion": "newsletter-2026-01",
                "wordingSha256": consent_testkit::facts::WORDING_SHA256,
                "method": "COLLECTION_METHOD_DOUBLE_OPT_IN",
                "collector": "CONSENT_COLLECTOR_FIRST_PARTY",
                "collectedByOrganisationId": "",
                "namedOrganisationIds": [],
                "conditionOfService": false,
                "contactPoint": { "kind": "CONTACT_KIND_EMAIL", "value": "ada@example.com" }
            }
        })
    );
    // And that JSON parses back to the same envelope.
    let back: v1::Envelope = serde_json::from_value(json).expect("parses");
    assert_eq!(back, stored);
}

#[test]
fn proto_field_names_are_accepted_too() {
    let snake = r#"{
        "event_id": "0190f2a4-7b3c-7d2e-9f10-1a2b3c4d5e6f",
        "organisation_id": "acme",
        "subject_id": "s-1",
        "occurred_at": "2026-01-15T10:30:00+01:00",
        "recorded_at": "2026-01-15T10:30:00Z",
        "objection_recorded": { "received_via": "OPT_OUT_METHOD_LETTER" }
    }"#;
    let envelope: v1::Envelope = serde_json::from_str(snake).expect("proto names parse");
    let event = event_from_proto(&envelope).expect("valid");
    // The offset is applied: 10:30+01:00 is 09:30 UTC.
    assert_eq!(event.occurred_at.to_string(), "2026-01-15T09:30:00Z");
    assert_eq!(event.fact.kind(), "objection_recorded");
}

#[test]
fn misspelt_fields_and_unknown_enum_names_are_refused() {
    let typo = r#"{ "organisationID": "acme" }"#;
    assert!(
        serde_json::from_str::<v1::Envelope>(typo).is_err(),
        "unknown field accepted"
    );

    let bad_enum = r#"{ "objectionRecorded": { "receivedVia": "BY_CARRIER_PIGEON" } }"#;
    assert!(
        serde_json::from_str::<v1::Envelope>(bad_enum).is_err(),
        "unknown enum name accepted"
    );

    let bad_time = r#"{ "occurredAt": "yesterday" }"#;
    assert!(
        serde_json::from_str::<v1::Envelope>(bad_time).is_err(),
        "bad timestamp accepted"
    );
}

#[test]
fn a_check_request_reads_from_json_with_defaults() {
    let json = r#"{
        "organisationId": "acme",
        "subjectId": "customer-1842",
        "channel": "CHANNEL_EMAIL",
        "purpose": "PURPOSE_COMMERCIAL",
        "messageClass": "MESSAGE_CLASS_MARKETING",
        "optOutIncluded": true,
        "senderIdentified": true
    }"#;
    let request: v1::CheckRequest = serde_json::from_str(json).expect("parses");
    let now = Timestamp::parse_rfc3339("2026-03-01T12:00:00Z").expect("time");
    let check = consent_schema::check_from_proto(&request, now).expect("valid");
    assert_eq!(check.at, now);
    assert_eq!(
        check.call_category,
        consent_domain::vocabulary::CallCategory::General
    );
    assert_eq!(check.rule_set, None);
    assert_eq!(check.product_category, None);
    assert!(check.opt_out_included && check.sender_identified);
}
