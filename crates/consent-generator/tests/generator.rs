//! What a user of the generator relies on: a seed gives the same bytes,
//! the sizes asked for, and events the ledger accepts as they are.

use consent_generator::{ndjson_line, CheckSampler, Generator, GeneratorConfig, GeneratorError};
use consent_schema::{check_from_proto, encode_envelope, event_from_proto, event_to_proto, v1};
use std::collections::{BTreeMap, BTreeSet};

fn config(seed: u64, subjects: u64, events: u64) -> GeneratorConfig {
    GeneratorConfig {
        seed,
        subjects,
        events,
        organisations: None,
    }
}

fn bytes_of(config: GeneratorConfig) -> Vec<u8> {
    let mut out = Vec::new();
    for envelope in Generator::new(config).expect("a valid configuration") {
        out.extend(encode_envelope(&envelope));
    }
    out
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let a = bytes_of(config(42, 300, 3_000));
    let b = bytes_of(config(42, 300, 3_000));
    let c = bytes_of(config(43, 300, 3_000));
    assert_eq!(a, b);
    assert_ne!(a, c);
    let mut first = Vec::new();
    consent_generator::write_ndjson(
        Generator::new(config(42, 300, 3_000)).unwrap(),
        &mut first,
        &mut |_| {},
    )
    .unwrap();
    let mut second = Vec::new();
    consent_generator::write_ndjson(
        Generator::new(config(42, 300, 3_000)).unwrap(),
        &mut second,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(first, second);
}

#[test]
fn every_event_is_accepted_as_stored_and_ids_are_unique() {
    let generator = Generator::new(config(7, 2_000, 25_000)).unwrap();
    let mut ids = BTreeSet::new();
    let mut kinds: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut count = 0u64;
    for envelope in generator {
        let event = event_from_proto(&envelope)
            .unwrap_or_else(|error| panic!("refused {}: {error}", ndjson_line(&envelope)));
        // Already canonical: the ledger stores exactly these bytes.
        assert_eq!(event_to_proto(&event), envelope, "not canonical");
        assert!(ids.insert(envelope.event_id.clone()), "duplicate id");
        *kinds.entry(event.fact.kind()).or_default() += 1;
        count += 1;
    }
    assert_eq!(count, 25_000);
    for kind in [
        "organisation_registered",
        "product_categories_defined",
        "sale_recorded",
        "negotiation_recorded",
        "charity_support_recorded",
        "consent_given",
        "consent_withdrawn",
        "opt_out_recorded",
        "objection_recorded",
        "marketing_message_sent",
        "preference_service_listing",
        "subscriber_type_declared",
        "contact_point_recorded",
        "told_not_to_call",
        "does_not_object_to_calls",
    ] {
        assert!(kinds.contains_key(kind), "no {kind} in {kinds:?}");
    }
    let sends = kinds["marketing_message_sent"] as f64 / count as f64;
    assert!((0.4..0.6).contains(&sends), "sends are {sends} of events");
}

#[test]
fn every_kind_of_organisation_is_generated_and_registered() {
    let generator = Generator::new(config(1, 1_000, 5_000)).unwrap();
    let kinds: BTreeSet<i32> = generator
        .organisations()
        .iter()
        .map(|o| o.kind as i32)
        .collect();
    for kind in [
        v1::OrganisationKind::Commercial,
        v1::OrganisationKind::Charity,
        v1::OrganisationKind::PoliticalParty,
        v1::OrganisationKind::OtherNotForProfit,
    ] {
        assert!(kinds.contains(&(kind as i32)), "no {kind:?}");
    }
    let registered: BTreeSet<String> = generator
        .filter(|e| {
            matches!(
                e.payload,
                Some(v1::envelope::Payload::OrganisationRegistered(_))
            )
        })
        .map(|e| e.organisation_id)
        .collect();
    assert_eq!(registered.len(), 10);
}

#[test]
fn too_few_events_for_the_organisations_is_refused_with_the_numbers() {
    let error = Generator::new(GeneratorConfig {
        organisations: Some(50),
        ..config(1, 10, 20)
    })
    .err()
    .expect("refused");
    assert!(matches!(
        error,
        GeneratorError::TooFewEvents { events: 20, .. }
    ));
    assert!(error.to_string().contains("events: 20 is too few"));
}

#[test]
fn sampled_checks_are_valid_and_ask_about_generated_subjects() {
    let config = config(3, 500, 5_000);
    let subjects: BTreeSet<(String, String)> = Generator::new(config)
        .unwrap()
        .filter(|e| !e.subject_id.is_empty())
        .map(|e| (e.organisation_id, e.subject_id))
        .collect();
    let now = consent_schema::timestamp_from_proto(
        "at",
        &consent_schema::pbjson_types::Timestamp {
            seconds: 0,
            nanos: 0,
        },
    )
    .unwrap();
    let mut known = 0;
    for request in CheckSampler::new(config, 1).take(1_000) {
        check_from_proto(&request, now).expect("a valid check");
        if subjects.contains(&(request.organisation_id.clone(), request.subject_id.clone())) {
            known += 1;
        }
    }
    assert!(
        known > 900,
        "only {known} of 1000 checks ask about a known pair"
    );
}
