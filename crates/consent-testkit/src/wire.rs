//! Facts as producers send them: `consent.v1` envelopes and check
//! requests, as the HTTP and gRPC APIs and the service take them. The
//! story is a cycle shop's: [`ORG`] registers, defines bikes (with helmets
//! similar) and sells [`SUBJECT`] a bike; then emails about helmets, or
//! receives an objection. [`every_kind`] has one valid payload of every
//! kind of fact.

pub mod every_kind;

use crate::facts::WORDING_SHA256;
use consent_log::LogPosition;
use consent_schema::v1;

/// The shop.
pub const ORG: &str = "acme-cycles";
/// Its customer.
pub const SUBJECT: &str = "customer-1842";

/// An RFC 3339 time as the wire carries it.
pub fn at(text: &str) -> consent_schema::pbjson_types::Timestamp {
    let t = consent_domain::Timestamp::parse_rfc3339(text).expect("RFC 3339 test time");
    consent_schema::timestamp_to_proto(t)
}

fn envelope(subject: &str, occurred_at: &str, payload: v1::envelope::Payload) -> v1::Envelope {
    v1::Envelope {
        organisation_id: ORG.to_owned(),
        subject_id: subject.to_owned(),
        occurred_at: Some(at(occurred_at)),
        source: Some(v1::Source {
            system: "shop".to_owned(),
            ..Default::default()
        }),
        payload: Some(payload),
        ..Default::default()
    }
}

pub fn organisation_registered() -> v1::Envelope {
    envelope(
        "",
        "2024-01-01T00:00:00Z",
        v1::envelope::Payload::OrganisationRegistered(v1::OrganisationRegistered {
            name: "Acme Cycles Ltd".to_owned(),
            kind: v1::OrganisationKind::Commercial.into(),
            charity_register_number: String::new(),
        }),
    )
}

/// Bikes: a bike buyer expects to hear about helmets, not insurance.
pub fn categories_defined() -> v1::Envelope {
    envelope(
        "",
        "2024-01-01T00:00:00Z",
        v1::envelope::Payload::ProductCategoriesDefined(v1::ProductCategoriesDefined {
            categories: vec![
                v1::ProductCategory {
                    id: "bikes".to_owned(),
                    name: "Bicycles".to_owned(),
                    similar_category_ids: vec!["helmets".to_owned()],
                },
                v1::ProductCategory {
                    id: "helmets".to_owned(),
                    name: "Helmets".to_owned(),
                    similar_category_ids: vec![],
                },
                v1::ProductCategory {
                    id: "insurance".to_owned(),
                    name: "Cycle insurance".to_owned(),
                    similar_category_ids: vec![],
                },
            ],
        }),
    )
}

/// A bike sold online, details collected directly with an opt-out offered
/// and not taken.
pub fn sale(subject: &str, occurred_at: &str) -> v1::Envelope {
    envelope(
        subject,
        occurred_at,
        v1::envelope::Payload::SaleRecorded(v1::SaleRecorded {
            product_category_id: "bikes".to_owned(),
            order_ref: "order-77".to_owned(),
            collection: Some(v1::DetailsCollection {
                route: v1::CollectionRoute::Direct.into(),
                opt_out_offered: true,
                opt_out_taken: false,
                form_version: "checkout-v3".to_owned(),
                contact_point: None,
            }),
        }),
    )
}

/// A marketing email about helmets, as sent.
pub fn helmet_email_sent(subject: &str, occurred_at: &str, message_id: &str) -> v1::Envelope {
    envelope(
        subject,
        occurred_at,
        v1::envelope::Payload::MarketingMessageSent(v1::MarketingMessageSent {
            channel: v1::Channel::Email.into(),
            purpose: v1::Purpose::Commercial.into(),
            product_category_id: "helmets".to_owned(),
            message_class: v1::MessageClass::Marketing.into(),
            promotional_content: true,
            opt_out_included: true,
            sender_identified: true,
            message_id: message_id.to_owned(),
            campaign_id: "spring-helmets".to_owned(),
            contact_point: None,
            sole_charitable_purpose: false,
        }),
    )
}

pub fn objection(subject: &str, occurred_at: &str) -> v1::Envelope {
    envelope(
        subject,
        occurred_at,
        v1::envelope::Payload::ObjectionRecorded(v1::ObjectionRecorded {
            contact_point: None,
            received_via: v1::OptOutMethod::OneClick.into(),
        }),
    )
}

/// A consent that names no channel: invalid.
pub fn consent_without_channels(subject: &str) -> v1::Envelope {
    envelope(
        subject,
        "2025-01-01T00:00:00Z",
        v1::envelope::Payload::ConsentGiven(v1::ConsentGiven {
            channels: vec![v1::Channel::Unspecified.into()],
            purposes: vec![v1::Purpose::Commercial.into()],
            wording_version: "w-1".to_owned(),
            wording_sha256: WORDING_SHA256.to_owned(),
            method: v1::CollectionMethod::UntickedCheckbox.into(),
            collector: v1::ConsentCollector::FirstParty.into(),
            ..Default::default()
        }),
    )
}

/// "May we email this subject about helmets?" in a compliant message.
pub fn helmet_email(subject: &str, wait_for: &[LogPosition]) -> v1::CheckRequest {
    v1::CheckRequest {
        organisation_id: ORG.to_owned(),
        subject_id: subject.to_owned(),
        channel: v1::Channel::Email.into(),
        purpose: v1::Purpose::Commercial.into(),
        product_category_id: "helmets".to_owned(),
        message_class: v1::MessageClass::Marketing.into(),
        opt_out_included: true,
        sender_identified: true,
        wait_for: wait_for.iter().map(v1::LogPosition::from).collect(),
        ..Default::default()
    }
}

pub fn lawful_basis(decision: &v1::Decision) -> v1::LawfulBasis {
    v1::LawfulBasis::try_from(decision.lawful_basis).expect("a known lawful basis")
}

pub fn reason_codes(decision: &v1::Decision) -> Vec<&str> {
    decision
        .reasons_against
        .iter()
        .map(|r| r.code.as_str())
        .collect()
}
