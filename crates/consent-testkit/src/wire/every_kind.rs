//! Valid envelopes, one per kind of fact: a complete envelope about
//! subject `s-1` of `acme`, in normalised form, so that each survives a
//! round trip through the stored form unchanged.

use consent_schema::pbjson_types;
use consent_schema::v1::{self, envelope::Payload};

pub const EVENT_ID: &str = "0190f2a4-7b3c-7d2e-9f10-1a2b3c4d5e6f";

pub fn at(seconds: i64) -> Option<pbjson_types::Timestamp> {
    Some(pbjson_types::Timestamp { seconds, nanos: 0 })
}

pub fn email(value: &str) -> v1::ContactPoint {
    v1::ContactPoint {
        kind: v1::ContactKind::Email.into(),
        value: value.to_owned(),
        sealed: None,
    }
}

pub fn collection() -> v1::DetailsCollection {
    v1::DetailsCollection {
        route: v1::CollectionRoute::Direct.into(),
        opt_out_offered: true,
        opt_out_taken: false,
        form_version: "checkout-v3".to_owned(),
        contact_point: Some(email("ada@example.com")),
    }
}

/// A complete, valid envelope about subject `s-1` of organisation `acme`
/// (or about `acme` itself for organisation-level facts).
pub fn envelope(payload: Payload) -> v1::Envelope {
    let organisation_level = matches!(
        payload,
        Payload::OrganisationRegistered(_) | Payload::ProductCategoriesDefined(_)
    );
    v1::Envelope {
        event_id: EVENT_ID.to_owned(),
        organisation_id: "acme".to_owned(),
        subject_id: if organisation_level {
            String::new()
        } else {
            "s-1".to_owned()
        },
        occurred_at: at(1_767_225_600), // 2026-01-01T00:00:00Z
        recorded_at: at(1_767_225_601),
        source: Some(v1::Source {
            system: "crm".to_owned(),
            actor: "agent-7".to_owned(),
            evidence_ref: "doc-42".to_owned(),
            form_id: "signup".to_owned(),
            url: "https://example.com/signup".to_owned(),
        }),
        schema_version: 1,
        payload: Some(payload),
    }
}

pub fn consent_given() -> v1::ConsentGiven {
    v1::ConsentGiven {
        channels: vec![v1::Channel::Email.into(), v1::Channel::Sms.into()],
        purposes: vec![v1::Purpose::Commercial.into()],
        wording_version: "wording-2026-01".to_owned(),
        wording_sha256: "a".repeat(64),
        method: v1::CollectionMethod::DoubleOptIn.into(),
        collector: v1::ConsentCollector::FirstParty.into(),
        collected_by_organisation_id: String::new(),
        named_organisation_ids: vec![],
        condition_of_service: false,
        contact_point: Some(email("ada@example.com")),
    }
}

/// One valid payload of every kind, in `oneof` order. Values are already in
/// normalised form, so they survive a round trip unchanged.
pub fn every_payload() -> Vec<Payload> {
    vec![
        Payload::OrganisationRegistered(v1::OrganisationRegistered {
            name: "Helping Hands".to_owned(),
            kind: v1::OrganisationKind::Charity.into(),
            charity_register_number: "1234567".to_owned(),
        }),
        Payload::ProductCategoriesDefined(v1::ProductCategoriesDefined {
            categories: vec![
                v1::ProductCategory {
                    id: "boots".to_owned(),
                    name: "Boots".to_owned(),
                    similar_category_ids: vec!["socks".to_owned()],
                },
                v1::ProductCategory {
                    id: "socks".to_owned(),
                    name: "Socks".to_owned(),
                    similar_category_ids: vec![],
                },
            ],
        }),
        Payload::SubscriberTypeDeclared(v1::SubscriberTypeDeclared {
            subscriber_type: v1::SubscriberType::Corporate.into(),
            evidence: "Companies House 01234567".to_owned(),
        }),
        Payload::ContactPointRecorded(v1::ContactPointRecorded {
            contact_point: Some(v1::ContactPoint {
                kind: v1::ContactKind::Mobile.into(),
                value: "+447700900123".to_owned(),
                sealed: None,
            }),
        }),
        Payload::ConsentGiven(v1::ConsentGiven {
            collector: v1::ConsentCollector::ThirdParty.into(),
            collected_by_organisation_id: "broker-ltd".to_owned(),
            named_organisation_ids: vec!["acme".to_owned()],
            condition_of_service: true,
            ..consent_given()
        }),
        Payload::ConsentWithdrawn(v1::ConsentWithdrawn {
            channels: vec![v1::Channel::Sms.into()],
            purposes: vec![],
            received_via: v1::OptOutMethod::ReplyStop.into(),
        }),
        Payload::SaleRecorded(v1::SaleRecorded {
            product_category_id: "boots".to_owned(),
            order_ref: "order-991".to_owned(),
            collection: Some(collection()),
        }),
        Payload::NegotiationRecorded(v1::NegotiationRecorded {
            product_category_id: "boots".to_owned(),
            kind: v1::NegotiationKind::QuoteRequested.into(),
            collection: Some(collection()),
        }),
        Payload::CharitySupportRecorded(v1::CharitySupportRecorded {
            kind: v1::SupportKind::Donation.into(),
            collection: Some(v1::DetailsCollection {
                route: v1::CollectionRoute::FundraisingPlatform.into(),
                form_version: String::new(),
                contact_point: None,
                ..collection()
            }),
        }),
        Payload::OptOutRecorded(v1::OptOutRecorded {
            contact_point: None,
            channels: vec![],
            all_channels: true,
            received_via: v1::OptOutMethod::OneClick.into(),
        }),
        Payload::ObjectionRecorded(v1::ObjectionRecorded {
            contact_point: None,
            received_via: v1::OptOutMethod::GpcSignal.into(),
        }),
        Payload::MarketingMessageSent(v1::MarketingMessageSent {
            channel: v1::Channel::Email.into(),
            purpose: v1::Purpose::Commercial.into(),
            product_category_id: "socks".to_owned(),
            message_class: v1::MessageClass::Marketing.into(),
            promotional_content: true,
            opt_out_included: true,
            sender_identified: true,
            message_id: "msg-1".to_owned(),
            campaign_id: "spring".to_owned(),
            contact_point: Some(email("ada@example.com")),
            sole_charitable_purpose: false,
        }),
        Payload::PreferenceServiceListing(v1::PreferenceServiceListing {
            snapshot_ref: String::new(),
            service: v1::PreferenceService::Tps.into(),
            number: "+441632960001".to_owned(),
            listed_at: at(1_700_000_000),
            listed: true,
            sealed_number: None,
        }),
        Payload::ToldNotToCall(v1::ToldNotToCall {
            number: "+441632960001".to_owned(),
            sealed_number: None,
        }),
        Payload::DoesNotObjectToCalls(v1::DoesNotObjectToCalls {
            number: "+441632960001".to_owned(),
            sealed_number: None,
        }),
        Payload::ErasureRequested(v1::ErasureRequested {
            reason: "asked by email".to_owned(),
        }),
    ]
}
