//! Every contact value a fact's wire form carries, wherever its payload
//! keeps it: the one walk that the edge (numbers to E.164, `entry`) and
//! sealing (digest and seal each value, `consent-sealing`) both take, so a
//! fact that gains a contact field gains it in both.

use crate::v1::{self, envelope::Payload};

/// One contact value of an event: a contact point, or a bare telephone
/// number with its sealed form beside it. `path` names it in errors.
pub enum ContactField<'a> {
    Point {
        path: &'static str,
        point: &'a mut v1::ContactPoint,
    },
    Number {
        path: &'static str,
        number: &'a mut String,
        sealed: &'a mut Option<v1::SealedValue>,
    },
}

/// Every contact value a payload carries, in a fixed order.
pub fn contact_fields(payload: Option<&mut Payload>) -> Vec<ContactField<'_>> {
    fn point<'a>(
        path: &'static str,
        point: Option<&'a mut v1::ContactPoint>,
    ) -> Vec<ContactField<'a>> {
        point
            .map(|point| ContactField::Point { path, point })
            .into_iter()
            .collect()
    }
    let Some(payload) = payload else {
        return Vec::new();
    };
    match payload {
        Payload::ContactPointRecorded(p) => point(
            "contact_point_recorded.contact_point",
            p.contact_point.as_mut(),
        ),
        Payload::ConsentGiven(p) => point("consent_given.contact_point", p.contact_point.as_mut()),
        Payload::SaleRecorded(p) => point(
            "sale_recorded.collection.contact_point",
            p.collection.as_mut().and_then(|c| c.contact_point.as_mut()),
        ),
        Payload::NegotiationRecorded(p) => point(
            "negotiation_recorded.collection.contact_point",
            p.collection.as_mut().and_then(|c| c.contact_point.as_mut()),
        ),
        Payload::CharitySupportRecorded(p) => point(
            "charity_support_recorded.collection.contact_point",
            p.collection.as_mut().and_then(|c| c.contact_point.as_mut()),
        ),
        Payload::MarketingMessageSent(p) => point(
            "marketing_message_sent.contact_point",
            p.contact_point.as_mut(),
        ),
        Payload::PreferenceServiceListing(p) => vec![ContactField::Number {
            path: "preference_service_listing",
            number: &mut p.number,
            sealed: &mut p.sealed_number,
        }],
        Payload::ToldNotToCall(p) => vec![ContactField::Number {
            path: "told_not_to_call",
            number: &mut p.number,
            sealed: &mut p.sealed_number,
        }],
        Payload::DoesNotObjectToCalls(p) => vec![ContactField::Number {
            path: "does_not_object_to_calls",
            number: &mut p.number,
            sealed: &mut p.sealed_number,
        }],
        Payload::OptOutRecorded(p) => {
            point("opt_out_recorded.contact_point", p.contact_point.as_mut())
        }
        Payload::ObjectionRecorded(p) => {
            point("objection_recorded.contact_point", p.contact_point.as_mut())
        }
        Payload::OrganisationRegistered(_)
        | Payload::ProductCategoriesDefined(_)
        | Payload::SubscriberTypeDeclared(_)
        | Payload::ConsentWithdrawn(_)
        | Payload::ErasureRequested(_)
        | Payload::ContactsSuppressed(_)
        | Payload::PreferenceServiceScreened(_) => Vec::new(),
    }
}
