//! Each validation rule refuses with the path of the offending field.

use consent_domain::Timestamp;
use consent_schema::v1::{self, envelope::Payload};
use consent_schema::{check_from_proto, event_from_proto, ValidationError};
use consent_testkit::wire::every_kind::{
    collection, consent_given, email, envelope, every_payload,
};

/// Asserts that `envelope` is refused at `field`, with a reason containing
/// `reason`.
#[track_caller]
fn refused(envelope: v1::Envelope, field: &str, reason: &str) {
    match event_from_proto(&envelope) {
        Ok(event) => panic!("accepted, expected `{field}` to be refused: {event:?}"),
        Err(error) => {
            assert_eq!(error.field, field, "wrong field; error was: {error}");
            assert!(
                error.reason.contains(reason),
                "reason {:?} lacks {reason:?}",
                error.reason
            );
        }
    }
}

fn with(payload: Payload, change: impl FnOnce(&mut v1::Envelope)) -> v1::Envelope {
    let mut e = envelope(payload);
    change(&mut e);
    e
}

fn consent(change: impl FnOnce(&mut v1::ConsentGiven)) -> v1::Envelope {
    let mut c = consent_given();
    change(&mut c);
    envelope(Payload::ConsentGiven(c))
}

fn objection() -> Payload {
    Payload::ObjectionRecorded(v1::ObjectionRecorded {
        contact_point: None,
        received_via: v1::OptOutMethod::Letter.into(),
    })
}

#[test]
fn error_display_names_the_field_and_the_reason() {
    let e = ValidationError::new(
        "consent_given.channels[1]",
        "must not be CHANNEL_UNSPECIFIED",
    );
    assert_eq!(
        e.to_string(),
        "invalid `consent_given.channels[1]`: must not be CHANNEL_UNSPECIFIED"
    );
    assert_eq!(
        e.within("events[3]").field,
        "events[3].consent_given.channels[1]"
    );
}

#[test]
fn envelope_fields() {
    refused(
        with(objection(), |e| e.event_id = "not-a-uuid".into()),
        "event_id",
        "UUID",
    );
    refused(
        with(objection(), |e| e.event_id.clear()),
        "event_id",
        "required",
    );
    refused(
        with(objection(), |e| e.organisation_id.clear()),
        "organisation_id",
        "required",
    );
    refused(
        with(objection(), |e| e.organisation_id = " acme".into()),
        "organisation_id",
        "whitespace",
    );
    refused(
        with(objection(), |e| e.organisation_id = "ac\u{1f}me".into()),
        "organisation_id",
        "control characters",
    );
    refused(
        with(objection(), |e| e.subject_id.clear()),
        "subject_id",
        "required for `objection_recorded`",
    );
    refused(
        with(every_payload().remove(0), |e| e.subject_id = "s-1".into()),
        "subject_id",
        "organisation-level",
    );
    refused(
        with(objection(), |e| e.occurred_at = None),
        "occurred_at",
        "required",
    );
    refused(
        with(objection(), |e| e.recorded_at = None),
        "recorded_at",
        "required",
    );
    refused(
        with(objection(), |e| {
            e.occurred_at = Some(pbjson_types::Timestamp {
                seconds: 0,
                nanos: -1,
            })
        }),
        "occurred_at.nanos",
        "0..=999999999",
    );
    refused(
        with(objection(), |e| {
            e.occurred_at = Some(pbjson_types::Timestamp {
                seconds: i64::MAX,
                nanos: 0,
            })
        }),
        "occurred_at.seconds",
        "9999-12-31",
    );
    refused(
        with(objection(), |e| e.payload = None),
        "payload",
        "required",
    );
    refused(
        with(objection(), |e| e.schema_version = 2),
        "schema_version",
        "version 2 is not supported",
    );
}

#[test]
fn schema_version_zero_reads_as_one() {
    let event = event_from_proto(&with(objection(), |e| e.schema_version = 0));
    assert!(event.is_ok(), "{event:?}");
}

#[test]
fn length_limits() {
    refused(
        with(objection(), |e| e.subject_id = "s".repeat(257)),
        "subject_id",
        "257 bytes long; the limit is 256",
    );
    refused(
        with(objection(), |e| {
            e.source.as_mut().expect("source").url = "u".repeat(4097)
        }),
        "source.url",
        "the limit is 4096",
    );
    refused(
        with(
            Payload::ErasureRequested(v1::ErasureRequested {
                reason: "x".repeat(300_000),
            }),
            |_| {},
        ),
        "envelope",
        "the limit is 262144",
    );
    let many = Payload::ProductCategoriesDefined(v1::ProductCategoriesDefined {
        categories: (0..1001)
            .map(|i| v1::ProductCategory {
                id: format!("c{i}"),
                ..Default::default()
            })
            .collect(),
    });
    refused(
        envelope(many),
        "product_categories_defined.categories",
        "1001 elements",
    );
}

#[test]
fn enums_must_be_specified_and_known() {
    refused(
        consent(|c| c.channels = vec![v1::Channel::Email.into(), 0]),
        "consent_given.channels[1]",
        "must not be CHANNEL_UNSPECIFIED",
    );
    refused(
        consent(|c| c.purposes = vec![99]),
        "consent_given.purposes[0]",
        "99 is not a known consent.v1.Purpose value",
    );
    refused(
        consent(|c| c.channels = vec![v1::Channel::Sms.into(), v1::Channel::Sms.into()]),
        "consent_given.channels[1]",
        "duplicate of `consent_given.channels[0]`",
    );
    refused(
        consent(|c| c.method = 0),
        "consent_given.method",
        "COLLECTION_METHOD_UNSPECIFIED",
    );
    refused(
        consent(|c| c.collector = 7),
        "consent_given.collector",
        "not a known",
    );
    refused(
        with(
            Payload::ObjectionRecorded(v1::ObjectionRecorded {
                contact_point: None,
                received_via: 0,
            }),
            |_| {},
        ),
        "objection_recorded.received_via",
        "OPT_OUT_METHOD_UNSPECIFIED",
    );
}

#[test]
fn organisation_registered() {
    let charity = |number: &str| {
        envelope(Payload::OrganisationRegistered(
            v1::OrganisationRegistered {
                name: "Helping Hands".into(),
                kind: v1::OrganisationKind::Charity.into(),
                charity_register_number: number.into(),
            },
        ))
    };
    refused(
        charity(""),
        "organisation_registered.charity_register_number",
        "ORGANISATION_KIND_CHARITY",
    );
    refused(
        envelope(Payload::OrganisationRegistered(
            v1::OrganisationRegistered::default(),
        )),
        "organisation_registered.kind",
        "ORGANISATION_KIND_UNSPECIFIED",
    );
}

#[test]
fn consent_given_rules() {
    refused(
        consent(|c| c.channels.clear()),
        "consent_given.channels",
        "at least one channel",
    );
    refused(
        consent(|c| c.purposes.clear()),
        "consent_given.purposes",
        "at least one purpose",
    );
    refused(
        consent(|c| c.collector = v1::ConsentCollector::ThirdParty.into()),
        "consent_given.collected_by_organisation_id",
        "CONSENT_COLLECTOR_THIRD_PARTY",
    );
    refused(
        consent(|c| c.collected_by_organisation_id = "broker".into()),
        "consent_given.collected_by_organisation_id",
        "must be empty",
    );
    refused(
        consent(|c| c.wording_sha256 = "abc".into()),
        "consent_given.wording_sha256",
        "64 hex",
    );
    refused(
        consent(|c| c.named_organisation_ids = vec!["acme".into(), String::new()]),
        "consent_given.named_organisation_ids[1]",
        "required",
    );
}

#[test]
fn opt_out_needs_channels_or_all_channels() {
    let opt_out = |channels: Vec<i32>, all_channels| {
        envelope(Payload::OptOutRecorded(v1::OptOutRecorded {
            contact_point: None,
            channels,
            all_channels,
            received_via: v1::OptOutMethod::UnsubscribeLink.into(),
        }))
    };
    refused(
        opt_out(vec![], false),
        "opt_out_recorded.channels",
        "all_channels",
    );
    assert!(event_from_proto(&opt_out(vec![v1::Channel::Email.into()], false)).is_ok());
    assert!(event_from_proto(&opt_out(vec![], true)).is_ok());
}

#[test]
fn commerce_facts_need_a_category_and_how_details_were_collected() {
    let sale = |category: &str, collection: Option<v1::DetailsCollection>| {
        envelope(Payload::SaleRecorded(v1::SaleRecorded {
            product_category_id: category.into(),
            order_ref: "o-1".into(),
            collection,
        }))
    };
    refused(
        sale("", Some(collection())),
        "sale_recorded.product_category_id",
        "required",
    );
    refused(sale("boots", None), "sale_recorded.collection", "required");
    refused(
        sale(
            "boots",
            Some(v1::DetailsCollection {
                route: 0,
                ..collection()
            }),
        ),
        "sale_recorded.collection.route",
        "COLLECTION_ROUTE_UNSPECIFIED",
    );
    refused(
        envelope(Payload::NegotiationRecorded(v1::NegotiationRecorded {
            product_category_id: String::new(),
            kind: v1::NegotiationKind::QuoteRequested.into(),
            collection: Some(collection()),
        })),
        "negotiation_recorded.product_category_id",
        "required",
    );
    refused(
        envelope(Payload::CharitySupportRecorded(
            v1::CharitySupportRecorded {
                kind: v1::SupportKind::Donation.into(),
                collection: None,
            },
        )),
        "charity_support_recorded.collection",
        "required",
    );
}

#[test]
fn product_category_ids_are_required_and_unique() {
    let categories = |ids: &[&str]| {
        envelope(Payload::ProductCategoriesDefined(
            v1::ProductCategoriesDefined {
                categories: ids
                    .iter()
                    .map(|id| v1::ProductCategory {
                        id: (*id).into(),
                        ..Default::default()
                    })
                    .collect(),
            },
        ))
    };
    refused(
        categories(&["a", ""]),
        "product_categories_defined.categories[1].id",
        "required",
    );
    refused(
        categories(&["a", "b", "a"]),
        "product_categories_defined.categories[2].id",
        "duplicate of `product_categories_defined.categories[0].id`",
    );
}

#[test]
fn contact_points_must_be_well_formed() {
    let recorded = |kind: v1::ContactKind, value: &str| {
        envelope(Payload::ContactPointRecorded(v1::ContactPointRecorded {
            contact_point: Some(v1::ContactPoint {
                kind: kind.into(),
                value: value.into(),
                sealed: None,
            }),
        }))
    };
    refused(
        recorded(v1::ContactKind::Email, "ada.example.com"),
        "contact_point_recorded.contact_point.value",
        "`@`",
    );
    refused(
        recorded(v1::ContactKind::Email, "a@b@c"),
        "contact_point_recorded.contact_point.value",
        "`@`",
    );
    refused(
        recorded(v1::ContactKind::Mobile, "07700 900123"),
        "contact_point_recorded.contact_point.value",
        "E.164",
    );
    refused(
        recorded(v1::ContactKind::Postal, "   "),
        "contact_point_recorded.contact_point.value",
        "required",
    );
    refused(
        envelope(Payload::ContactPointRecorded(v1::ContactPointRecorded {
            contact_point: None,
        })),
        "contact_point_recorded.contact_point",
        "required",
    );
    refused(
        consent(|c| {
            c.contact_point = Some(v1::ContactPoint {
                kind: 0,
                value: "x".into(),
                sealed: None,
            })
        }),
        "consent_given.contact_point.kind",
        "CONTACT_KIND_UNSPECIFIED",
    );
    refused(
        envelope(Payload::SaleRecorded(v1::SaleRecorded {
            product_category_id: "boots".into(),
            order_ref: String::new(),
            collection: Some(v1::DetailsCollection {
                contact_point: Some(email("nobody")),
                ..collection()
            }),
        })),
        "sale_recorded.collection.contact_point.value",
        "`@`",
    );
}

#[test]
fn numbers_must_be_e164() {
    refused(
        envelope(Payload::ToldNotToCall(v1::ToldNotToCall {
            number: "01632 960001".into(),
            sealed_number: None,
        })),
        "told_not_to_call.number",
        "E.164",
    );
    refused(
        envelope(Payload::PreferenceServiceListing(
            v1::PreferenceServiceListing {
                snapshot_ref: String::new(),
                service: v1::PreferenceService::Tps.into(),
                number: "+441632960001".into(),
                listed_at: None,
                listed: true,
                sealed_number: None,
            },
        )),
        "preference_service_listing.listed_at",
        "required",
    );
    // Spaces are dropped.
    let event = event_from_proto(&envelope(Payload::DoesNotObjectToCalls(
        v1::DoesNotObjectToCalls {
            number: " +44 1632 960001 ".into(),
            sealed_number: None,
        },
    )))
    .expect("valid");
    assert_eq!(
        event.fact,
        consent_domain::Fact::DoesNotObjectToCalls(consent_domain::event::CallPreference {
            number: consent_domain::vocabulary::ContactValue::clear("+441632960001")
        })
    );
}

#[test]
fn check_requests() {
    let now = Timestamp::from_unix_micros(1_767_225_600_000_000);
    let valid = v1::CheckRequest {
        organisation_id: "acme".into(),
        subject_id: "s-1".into(),
        channel: v1::Channel::LiveCall.into(),
        purpose: v1::Purpose::Commercial.into(),
        message_class: v1::MessageClass::Marketing.into(),
        ..Default::default()
    };
    assert!(check_from_proto(&valid, now).is_ok());
    let refused_check = |change: fn(&mut v1::CheckRequest), field: &str| {
        let mut request = valid.clone();
        change(&mut request);
        match check_from_proto(&request, now) {
            Ok(check) => panic!("accepted {check:?}, expected `{field}` refused"),
            Err(error) => assert_eq!(error.field, field, "{error}"),
        }
    };
    refused_check(|r| r.organisation_id.clear(), "organisation_id");
    refused_check(|r| r.subject_id.clear(), "subject_id");
    refused_check(|r| r.channel = 0, "channel");
    refused_check(|r| r.purpose = 0, "purpose");
    refused_check(|r| r.message_class = 0, "message_class");
    refused_check(|r| r.call_category = 42, "call_category");
    refused_check(
        |r| {
            r.contact_point = Some(v1::ContactPoint {
                kind: v1::ContactKind::Landline.into(),
                value: "123".into(),
                sealed: None,
            })
        },
        "contact_point.value",
    );
    refused_check(
        |r| {
            r.at = Some(pbjson_types::Timestamp {
                seconds: 0,
                nanos: 2_000_000_000,
            })
        },
        "at.nanos",
    );
}
