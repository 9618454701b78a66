//! Checks, decisions, rule sets and log positions on the wire.

use consent_domain::rules::{
    CheckRequest, Decision, EventReference, LawfulBasis, Reason, RuleFiring, RuleId, RuleOutcome,
    RuleSetId,
};
use consent_domain::vocabulary::ContactValue;
use consent_domain::vocabulary::{
    CallCategory, Channel, ContactKind, ContactPoint, MessageClass, Purpose,
};
use consent_domain::{
    EventId, EventPosition, OrganisationId, ProductCategoryId, SubjectId, Timestamp,
};
use consent_schema::{
    check_from_proto, check_to_proto, decision_from_proto, decision_to_proto, event_position,
    log_position, v1, FILE_DESCRIPTOR_SET,
};
use prost::Message;
use serde_json::json;

fn time(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).expect("valid time")
}

fn event_id(n: u128) -> EventId {
    EventId(uuid::Uuid::from_u128(n))
}

#[test]
fn a_check_converts_both_ways_unchanged() {
    let check = CheckRequest {
        organisation: OrganisationId::new("acme"),
        subject: Some(SubjectId::new("s-1")),
        channel: Channel::LiveCall,
        purpose: Purpose::Commercial,
        product_category: Some(ProductCategoryId::new("boots")),
        message_class: MessageClass::Marketing,
        promotional_content: true,
        sole_charitable_purpose: false,
        opt_out_included: true,
        sender_identified: true,
        call_category: CallCategory::PensionScheme,
        contact_point: Some(ContactPoint {
            kind: ContactKind::Landline,
            value: ContactValue::clear("+441632960001"),
        }),
        at: time("2026-03-01T09:00:00Z"),
        rule_set: Some(RuleSetId("uk-pecr-2003".into())),
    };
    let wire = check_to_proto(&check);
    assert_eq!(
        wire.call_category,
        i32::from(v1::CallCategory::PensionScheme)
    );
    assert_eq!(
        check_from_proto(&wire, time("2000-01-01T00:00:00Z")),
        Ok(check)
    );
}

fn decision() -> Decision {
    Decision {
        allowed: false,
        lawful_basis: LawfulBasis::None,
        reasons_against: vec![Reason {
            rule: RuleId("R6".into()),
            code: "objection_recorded".into(),
            message: "The subject objected to direct marketing.".into(),
            citation: "UK GDPR Art 21(3)".into(),
            events: vec![event_id(7)],
        }],
        relied_on: vec![EventReference {
            id: event_id(7),
            position: Some(EventPosition {
                topic: "consent.optouts".into(),
                partition: 3,
                offset: 41,
            }),
            kind: "objection_recorded".into(),
            occurred_at: time("2026-02-10T08:00:00Z"),
        }],
        rule_set: RuleSetId("uk-pecr-duaa-2026-02-05".into()),
        rules: vec![RuleFiring {
            rule: RuleId("R6".into()),
            title: "Objection".into(),
            citation: "UK GDPR Art 21(3)".into(),
            outcome: RuleOutcome::Blocked,
            detail: "objection recorded 2026-02-10".into(),
        }],
        evaluated_at: time("2026-03-01T09:00:00Z"),
    }
}

#[test]
fn a_decision_converts_both_ways_unchanged() {
    let wire = decision_to_proto(&decision());
    assert_eq!(wire.freshness, None, "the server fills freshness");
    assert_eq!(decision_from_proto(&wire), Ok(decision()));
}

#[test]
fn a_decision_reads_as_this_json() {
    let json = serde_json::to_value(decision_to_proto(&decision())).expect("serialises");
    assert_eq!(
        json,
        json!({
            "allowed": false,
            "lawfulBasis": "LAWFUL_BASIS_NONE",
            "reasonsAgainst": [{
                "ruleId": "R6",
                "code": "objection_recorded",
                "message": "The subject objected to direct marketing.",
                "citation": "UK GDPR Art 21(3)",
                "eventIds": ["00000000-0000-0000-0000-000000000007"]
            }],
            "reliedOn": [{
                "eventId": "00000000-0000-0000-0000-000000000007",
                "position": { "topic": "consent.optouts", "partition": 3, "offset": "41" },
                "kind": "objection_recorded",
                "occurredAt": "2026-02-10T08:00:00+00:00"
            }],
            "ruleSetId": "uk-pecr-duaa-2026-02-05",
            "rules": [{
                "ruleId": "R6",
                "title": "Objection",
                "citation": "UK GDPR Art 21(3)",
                "outcome": "RULE_OUTCOME_BLOCKED",
                "detail": "objection recorded 2026-02-10"
            }],
            "evaluatedAt": "2026-03-01T09:00:00+00:00"
        })
    );
}

#[test]
fn a_decision_with_an_unknown_outcome_is_refused() {
    let mut wire = decision_to_proto(&decision());
    wire.rules[0].outcome = 0;
    let error = decision_from_proto(&wire).expect_err("unspecified outcome");
    assert_eq!(error.field, "rules[0].outcome");
    wire = decision_to_proto(&decision());
    wire.reasons_against[0].event_ids[0] = "seven".into();
    let error = decision_from_proto(&wire).expect_err("bad event id");
    assert_eq!(error.field, "reasons_against[0].event_ids[0]");
}

#[test]
fn positions_are_the_same_in_all_three_forms() {
    let domain = EventPosition {
        topic: "consent.grants".into(),
        partition: 5,
        offset: 1_000_000,
    };
    let log = log_position(&domain);
    assert_eq!(
        log,
        consent_log::LogPosition::new("consent.grants", 5, 1_000_000)
    );
    assert_eq!(event_position(&log), domain);

    let wire = v1::LogPosition::from(&domain);
    assert_eq!(
        wire,
        v1::LogPosition {
            topic: "consent.grants".into(),
            partition: 5,
            offset: 1_000_000
        }
    );
    assert_eq!(EventPosition::from(wire.clone()), domain);
    assert_eq!(consent_log::LogPosition::from(wire.clone()), log);
    assert_eq!(v1::LogPosition::from(log), wire);
}

#[test]
fn the_descriptor_set_describes_the_package_and_its_imports() {
    let set = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).expect("decodes");
    let names: Vec<_> = set.file.iter().filter_map(|f| f.name.as_deref()).collect();
    for expected in [
        "google/protobuf/timestamp.proto",
        "consent/v1/events.proto",
        "consent/v1/ledger.proto",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let events = set
        .file
        .iter()
        .find(|f| f.name.as_deref() == Some("consent/v1/events.proto"))
        .expect("events.proto");
    assert_eq!(events.package.as_deref(), Some("consent.v1"));
    assert!(events
        .message_type
        .iter()
        .any(|m| m.name.as_deref() == Some("Envelope")));
}

#[test]
fn rule_sets_are_described_with_their_rules_and_citations() {
    let catalogue = consent_domain::rules::RuleCatalogue::uk();
    assert!(!catalogue.all().is_empty());
    for rule_set in catalogue.all() {
        let wire = consent_schema::rule_set_to_proto(rule_set);
        assert_eq!(wire.id, rule_set.id.as_str());
        assert_eq!(wire.title, rule_set.title);
        assert_eq!(
            wire.effective_from.map(|t| (t.seconds, t.nanos)),
            Some(rule_set.effective_from.unix_parts())
        );
        let described: Vec<_> = wire
            .rules
            .iter()
            .map(|r| (r.rule_id.as_str(), r.title.as_str(), r.citation.as_str()))
            .collect();
        let expected: Vec<_> = rule_set
            .rules
            .iter()
            .map(|r| (r.id.as_str(), r.title.as_str(), r.citation.as_str()))
            .collect();
        assert_eq!(described, expected);
        let json = serde_json::to_value(&wire).expect("serialises");
        assert!(json["effectiveFrom"].is_string(), "{json}");
        assert!(json["rules"][0]["ruleId"].is_string(), "{json}");
    }
}
