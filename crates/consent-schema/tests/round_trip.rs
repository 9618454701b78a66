//! Every kind of fact survives wire -> domain -> wire and domain -> wire ->
//! domain unchanged, in binary and in JSON.

use consent_domain::{Fact, Timestamp};
use consent_schema::{
    decode_envelope, encode_envelope, event_from_proto, event_to_proto, family_of,
    prepare_for_append, v1, EntryRules,
};
use consent_testkit::wire::every_kind::{envelope, every_payload};

#[test]
fn every_payload_variant_converts_to_the_domain_and_back_unchanged() {
    let payloads = every_payload();
    assert_eq!(payloads.len(), 16, "one fixture per payload variant");
    for payload in payloads {
        let wire = envelope(payload);
        let event = event_from_proto(&wire)
            .unwrap_or_else(|e| panic!("fixture {:?} refused: {e}", wire.payload));
        assert_eq!(
            event_to_proto(&event),
            wire,
            "{} changed on the way back",
            event.fact.kind()
        );
        assert_eq!(event_from_proto(&event_to_proto(&event)), Ok(event.clone()));
    }
}

#[test]
fn stored_bytes_decode_to_the_same_envelope() {
    for payload in every_payload() {
        let wire = envelope(payload);
        let bytes = encode_envelope(&wire);
        assert_eq!(decode_envelope(&bytes).expect("decodes"), wire);
    }
}

#[test]
fn every_payload_variant_survives_proto3_json() {
    for payload in every_payload() {
        let wire = envelope(payload);
        let json = serde_json::to_string(&wire).expect("serialises");
        let back: v1::Envelope = serde_json::from_str(&json).expect("parses its own output");
        assert_eq!(back, wire, "JSON round trip changed {json}");
    }
}

#[test]
fn each_fact_is_routed_to_its_topic_family() {
    use consent_schema::EventFamily::*;
    let families: Vec<_> = every_payload()
        .into_iter()
        .map(|p| {
            let event = event_from_proto(&envelope(p)).expect("valid fixture");
            (event.fact.kind(), family_of(&event.fact))
        })
        .collect();
    assert_eq!(
        families,
        vec![
            ("organisation_registered", Reference),
            ("product_categories_defined", Reference),
            ("subscriber_type_declared", Reference),
            ("contact_point_recorded", Reference),
            ("consent_given", Grants),
            ("consent_withdrawn", Grants),
            ("sale_recorded", Commerce),
            ("negotiation_recorded", Commerce),
            ("charity_support_recorded", Commerce),
            ("opt_out_recorded", OptOuts),
            ("objection_recorded", OptOuts),
            ("marketing_message_sent", Messages),
            ("preference_service_listing", Reference),
            ("told_not_to_call", Reference),
            ("does_not_object_to_calls", Reference),
            ("erasure_requested", OptOuts),
        ]
    );
}

#[test]
fn prepare_for_append_fills_what_the_ledger_owns() {
    let mut wire = envelope(every_payload().remove(4));
    wire.event_id.clear();
    wire.recorded_at = None;
    wire.schema_version = 0;
    let now = Timestamp::from_unix_micros(1_767_225_700_123_456);
    let id = uuid::Uuid::parse_str("01900000-0000-7000-8000-000000000001").expect("uuid");

    let (stored, event) =
        prepare_for_append(wire, now, || id, &EntryRules::default()).expect("valid");

    assert_eq!(stored.event_id, "01900000-0000-7000-8000-000000000001");
    assert_eq!(event.id.0, id);
    assert_eq!(event.recorded_at, now);
    assert_eq!(stored.schema_version, 1);
    assert!(matches!(event.fact, Fact::ConsentGiven(_)));
    // What is stored decodes to exactly the event that was validated.
    let reread = decode_envelope(&encode_envelope(&stored)).expect("decodes");
    assert_eq!(event_from_proto(&reread), Ok(event));
}

#[test]
fn prepare_for_append_keeps_a_producer_id_and_time() {
    let wire = envelope(every_payload().remove(4));
    // Received a day after the producer recorded it.
    let now = Timestamp::from_unix_micros(1_767_312_001_000_000);
    let (stored, event) = prepare_for_append(
        wire.clone(),
        now,
        || panic!("id generator must not be called"),
        &EntryRules::default(),
    )
    .expect("valid");
    assert_eq!(stored.event_id, wire.event_id);
    assert_eq!(stored.recorded_at, wire.recorded_at);
    assert_eq!(
        event.recorded_at,
        Timestamp::from_unix_micros(1_767_225_601_000_000)
    );
}

#[test]
fn prepare_for_append_stores_the_normalised_form() {
    let mut wire = envelope(v1::envelope::Payload::ContactPointRecorded(
        v1::ContactPointRecorded {
            contact_point: Some(v1::ContactPoint {
                kind: v1::ContactKind::Email.into(),
                value: "  Ada.Lovelace@Example.COM ".to_owned(),
                sealed: None,
            }),
        },
    ));
    wire.event_id = "0190F2A4-7B3C-7D2E-9F10-1A2B3C4D5E6F".to_owned();
    let (stored, _) = prepare_for_append(
        wire,
        Timestamp::from_unix_micros(1_767_225_601_000_000),
        uuid::Uuid::nil,
        &EntryRules::default(),
    )
    .expect("valid");
    assert_eq!(stored.event_id, consent_testkit::wire::every_kind::EVENT_ID);
    match stored.payload {
        Some(v1::envelope::Payload::ContactPointRecorded(c)) => {
            assert_eq!(
                c.contact_point.map(|c| c.value).as_deref(),
                Some("ada.lovelace@example.com")
            )
        }
        other => panic!("unexpected payload {other:?}"),
    }
}
