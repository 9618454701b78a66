//! Nothing from outside can make the schema layer panic: arbitrary
//! envelopes, arbitrary bytes, arbitrary check requests. And whatever it
//! accepts converts back and forth unchanged.

use consent_domain::Timestamp;
use consent_schema::v1::{self, envelope::Payload};
use consent_schema::{
    check_from_proto, decode_envelope, encode_envelope, event_from_proto, event_to_proto,
    prepare_for_append, EntryRules,
};
use proptest::prelude::*;
use proptest::strategy::Union;

/// Strings that exercise the checks: empty, ids, emails, numbers, control
/// characters, any Unicode, and over-long values.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        Just(String::new()),
        "[a-z0-9-]{1,12}",
        "[ -~]{0,24}",
        ".{0,8}",
        "[ ]?[A-Za-z.]{1,6}@[A-Za-z.]{1,6}[ ]?",
        "\\+?[0-9 ]{0,20}",
        "[a-f0-9]{64}",
        "\\x1f|\\t|\\n",
        "[x]{250,300}",
    ]
    .boxed()
}

/// Mostly well-formed identifiers, sometimes anything.
fn id() -> BoxedStrategy<String> {
    prop_oneof![6 => "[a-z0-9][a-z0-9-]{0,11}", 1 => text()].boxed()
}

/// Mostly E.164 numbers, with or without spaces, some in UK national
/// format, sometimes anything.
fn number() -> BoxedStrategy<String> {
    prop_oneof![
        6 => "[ ]?\\+[1-9][0-9]{6,13}[ ]?",
        1 => "\\+44 [0-9]{4} [0-9]{6}",
        2 => "0[0-9 ()-]{6,14}",
        1 => text(),
    ]
    .boxed()
}

fn optional_id() -> BoxedStrategy<String> {
    prop_oneof![Just(String::new()), id()].boxed()
}

/// Mostly values every enum knows (1 and 2), sometimes unspecified,
/// unknown or negative.
fn enum_value() -> BoxedStrategy<i32> {
    prop_oneof![12 => 1..=2i32, 3 => -1..12i32, 1 => any::<i32>()].boxed()
}

/// Mostly distinct known values, sometimes anything.
fn enum_list() -> BoxedStrategy<Vec<i32>> {
    prop_oneof![
        3 => prop::sample::subsequence(vec![1, 2, 3], 1..=3),
        1 => prop::collection::vec(enum_value(), 0..4),
    ]
    .boxed()
}

fn timestamp() -> BoxedStrategy<Option<pbjson_types::Timestamp>> {
    let seconds = prop_oneof![8 => -70_000_000_000i64..260_000_000_000, 1 => any::<i64>()];
    let nanos = prop_oneof![8 => 0..1_000_000_000i32, 1 => any::<i32>()];
    prop::option::weighted(0.95, (seconds, nanos))
        .prop_map(|t| t.map(|(seconds, nanos)| pbjson_types::Timestamp { seconds, nanos }))
        .boxed()
}

fn contact_point() -> BoxedStrategy<Option<v1::ContactPoint>> {
    let value = prop_oneof!["[ ]?[A-Za-z.]{1,6}@[A-Za-z.]{1,6}[ ]?", number(), text(),];
    prop::option::of(
        (enum_value(), value).prop_map(|(kind, value)| v1::ContactPoint {
            kind,
            value,
            sealed: None,
        }),
    )
    .boxed()
}

fn collection() -> BoxedStrategy<Option<v1::DetailsCollection>> {
    prop::option::weighted(
        0.8,
        (
            enum_value(),
            any::<bool>(),
            any::<bool>(),
            optional_id(),
            contact_point(),
        )
            .prop_map(
                |(route, opt_out_offered, opt_out_taken, form_version, contact_point)| {
                    v1::DetailsCollection {
                        route,
                        opt_out_offered,
                        opt_out_taken,
                        form_version,
                        contact_point,
                    }
                },
            ),
    )
    .boxed()
}

fn payload() -> BoxedStrategy<Payload> {
    let category = (id(), text(), prop::collection::vec(id(), 0..3)).prop_map(
        |(id, name, similar_category_ids)| v1::ProductCategory {
            id,
            name,
            similar_category_ids,
        },
    );
    Union::new(vec![
        (text(), enum_value(), text())
            .prop_map(|(name, kind, charity_register_number)| {
                Payload::OrganisationRegistered(v1::OrganisationRegistered {
                    name,
                    kind,
                    charity_register_number,
                })
            })
            .boxed(),
        prop::collection::vec(category, 0..5)
            .prop_map(|categories| {
                Payload::ProductCategoriesDefined(v1::ProductCategoriesDefined { categories })
            })
            .boxed(),
        (enum_value(), text())
            .prop_map(|(subscriber_type, evidence)| {
                Payload::SubscriberTypeDeclared(v1::SubscriberTypeDeclared {
                    subscriber_type,
                    evidence,
                })
            })
            .boxed(),
        contact_point()
            .prop_map(|contact_point| {
                Payload::ContactPointRecorded(v1::ContactPointRecorded { contact_point })
            })
            .boxed(),
        (
            (
                enum_list(),
                enum_list(),
                optional_id(),
                prop_oneof![Just(String::new()), "[a-fA-F0-9]{64}", text()],
                enum_value(),
            ),
            (
                enum_value(),
                optional_id(),
                prop::collection::vec(id(), 0..3),
                any::<bool>(),
                contact_point(),
            ),
        )
            .prop_map(
                |(
                    (channels, purposes, wording_version, wording_sha256, method),
                    (
                        collector,
                        collected_by_organisation_id,
                        named_organisation_ids,
                        condition_of_service,
                        contact_point,
                    ),
                )| {
                    Payload::ConsentGiven(v1::ConsentGiven {
                        channels,
                        purposes,
                        wording_version,
                        wording_sha256,
                        method,
                        collector,
                        collected_by_organisation_id,
                        named_organisation_ids,
                        condition_of_service,
                        contact_point,
                    })
                },
            )
            .boxed(),
        (enum_list(), enum_list(), enum_value())
            .prop_map(|(channels, purposes, received_via)| {
                Payload::ConsentWithdrawn(v1::ConsentWithdrawn {
                    channels,
                    purposes,
                    received_via,
                })
            })
            .boxed(),
        (id(), text(), collection())
            .prop_map(|(product_category_id, order_ref, collection)| {
                Payload::SaleRecorded(v1::SaleRecorded {
                    product_category_id,
                    order_ref,
                    collection,
                })
            })
            .boxed(),
        (id(), enum_value(), collection())
            .prop_map(|(product_category_id, kind, collection)| {
                Payload::NegotiationRecorded(v1::NegotiationRecorded {
                    product_category_id,
                    kind,
                    collection,
                })
            })
            .boxed(),
        (enum_value(), collection())
            .prop_map(|(kind, collection)| {
                Payload::CharitySupportRecorded(v1::CharitySupportRecorded { kind, collection })
            })
            .boxed(),
        (enum_list(), any::<bool>(), enum_value())
            .prop_map(|(channels, all_channels, received_via)| {
                Payload::OptOutRecorded(v1::OptOutRecorded {
                    contact_point: None,
                    channels,
                    all_channels,
                    received_via,
                })
            })
            .boxed(),
        enum_value()
            .prop_map(|received_via| {
                Payload::ObjectionRecorded(v1::ObjectionRecorded {
                    contact_point: None,
                    received_via,
                })
            })
            .boxed(),
        (
            (enum_value(), enum_value(), optional_id(), enum_value()),
            (any::<[bool; 3]>(), text(), text(), contact_point()),
        )
            .prop_map(
                |(
                    (channel, purpose, product_category_id, message_class),
                    (
                        [promotional_content, opt_out_included, sender_identified],
                        message_id,
                        campaign_id,
                        contact_point,
                    ),
                )| {
                    Payload::MarketingMessageSent(v1::MarketingMessageSent {
                        channel,
                        purpose,
                        product_category_id,
                        message_class,
                        promotional_content,
                        opt_out_included,
                        sender_identified,
                        message_id,
                        campaign_id,
                        contact_point,
                        sole_charitable_purpose: false,
                    })
                },
            )
            .boxed(),
        (enum_value(), number(), timestamp(), any::<bool>())
            .prop_map(|(service, number, listed_at, listed)| {
                Payload::PreferenceServiceListing(v1::PreferenceServiceListing {
                    snapshot_ref: String::new(),
                    service,
                    number,
                    listed_at,
                    listed,
                    sealed_number: None,
                })
            })
            .boxed(),
        number()
            .prop_map(|number| {
                Payload::ToldNotToCall(v1::ToldNotToCall {
                    number,
                    sealed_number: None,
                })
            })
            .boxed(),
        number()
            .prop_map(|number| {
                Payload::DoesNotObjectToCalls(v1::DoesNotObjectToCalls {
                    number,
                    sealed_number: None,
                })
            })
            .boxed(),
        text()
            .prop_map(|reason| Payload::ErasureRequested(v1::ErasureRequested { reason }))
            .boxed(),
    ])
    .boxed()
}

fn event_id() -> BoxedStrategy<String> {
    prop_oneof![
        1 => Just(String::new()),
        6 => any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).to_string()),
        2 => any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).simple().to_string().to_uppercase()),
        1 => text(),
    ]
    .boxed()
}

prop_compose! {
    fn envelope()(
        event_id in event_id(),
        organisation_id in id(),
        subject_id in prop_oneof![1 => Just(String::new()), 4 => id()],
        occurred_at in timestamp(),
        recorded_at in timestamp(),
        source in prop::option::of((text(), text(), text(), text(), text())),
        schema_version in prop_oneof![8 => 0..=1u32, 1 => Just(2), 1 => any::<u32>()],
        payload in prop::option::weighted(0.95, payload()),
    ) -> v1::Envelope {
        v1::Envelope {
            event_id,
            organisation_id,
            subject_id,
            occurred_at,
            recorded_at,
            source: source.map(|(system, actor, evidence_ref, form_id, url)| v1::Source {
                system, actor, evidence_ref, form_id, url,
            }),
            schema_version,
            payload,
        }
    }
}

prop_compose! {
    fn check_request()(
        ids in (id(), id(), optional_id(), optional_id()),
        enums in (enum_value(), enum_value(), enum_value(), enum_value()),
        flags in any::<[bool; 4]>(),
        contact_point in contact_point(),
        at in prop::option::of(timestamp()),
    ) -> v1::CheckRequest {
        let (organisation_id, subject_id, product_category_id, rule_set_id) = ids;
        let (channel, purpose, message_class, call_category) = enums;
        let [promotional_content, sole_charitable_purpose, opt_out_included, sender_identified] = flags;
        v1::CheckRequest {
            organisation_id, subject_id, channel, purpose, product_category_id, message_class,
            promotional_content, sole_charitable_purpose, opt_out_included, sender_identified,
            call_category, contact_point, at: at.flatten(), rule_set_id, wait_for: vec![],
            omit_texts: false,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_envelopes_never_panic_and_what_is_accepted_round_trips(wire in envelope()) {
        if let Ok(event) = event_from_proto(&wire) {
            prop_assert_eq!(event_from_proto(&event_to_proto(&event)), Ok(event));
        }
        // Binary and JSON encodings never panic either.
        prop_assert_eq!(decode_envelope(&encode_envelope(&wire)).ok(), Some(wire.clone()));
        if let Ok(json) = serde_json::to_string(&wire) {
            let _ = serde_json::from_str::<v1::Envelope>(&json);
        }
    }

    #[test]
    fn prepare_for_append_never_panics_and_stores_what_it_validated(wire in envelope(), id in any::<u128>()) {
        let now = Timestamp::from_unix_micros(1_767_225_600_000_000);
        if let Ok((stored, event)) = prepare_for_append(wire, now, || uuid::Uuid::from_u128(id), &EntryRules::default()) {
            let reread = decode_envelope(&encode_envelope(&stored)).expect("own encoding decodes");
            prop_assert_eq!(event_from_proto(&reread), Ok(event));
            // A stored event always has a JSON form (timestamps in range).
            prop_assert!(serde_json::to_string(&stored).is_ok());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(wire) = decode_envelope(&bytes) {
            let _ = event_from_proto(&wire);
        }
    }

    #[test]
    fn corrupted_stored_events_never_panic(wire in envelope(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = encode_envelope(&wire);
        if !bytes.is_empty() {
            for (index, value) in flips {
                let i = index.index(bytes.len());
                bytes[i] ^= value;
            }
        }
        if let Ok(wire) = decode_envelope(&bytes) {
            let _ = event_from_proto(&wire);
        }
    }

    #[test]
    fn arbitrary_check_requests_never_panic(request in check_request()) {
        let now = Timestamp::from_unix_micros(0);
        if let Ok(check) = check_from_proto(&request, now) {
            prop_assert_eq!(check_from_proto(&consent_schema::check_to_proto(&check), now), Ok(check));
        }
    }

    #[test]
    fn arbitrary_numbers_never_panic_and_what_is_accepted_is_stable(
        written in prop_oneof![number(), "[0-9 +()./-]{0,24}", "\\PC{0,24}"],
    ) {
        let region = consent_schema::PhoneRegion::GB;
        if let Ok(e164) = consent_schema::number_to_e164("n", &written, region) {
            prop_assert!(e164.starts_with('+'));
            prop_assert_eq!(consent_schema::number_to_e164("n", &e164, region), Ok(e164.clone()));
        }
    }

    #[test]
    fn arbitrary_checks_entering_never_panic(request in check_request()) {
        let now = Timestamp::from_unix_micros(1_767_225_600_000_000);
        let _ = consent_schema::check_for_entry(&request, now, &EntryRules::default());
    }

    #[test]
    fn arbitrary_json_never_panics(text in "\\PC{0,200}") {
        let _ = serde_json::from_str::<v1::Envelope>(&text);
    }
}
