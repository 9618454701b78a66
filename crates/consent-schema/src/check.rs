//! `consent.v1.CheckRequest` <-> [`consent_domain::rules::CheckRequest`].
//!
//! `wait_for` (read-your-writes) and `omit_texts` are not part of the
//! domain question; the server reads them from the wire message itself
//! (`omit_texts` through [`check_texts`]).

use crate::contact::{contact_point_to_proto, optional_contact_point};
use crate::entry::{plausible, point, EntryRules};
use crate::error::ValidationError;
use crate::fields::{identifier, optional_identifier};
use crate::timestamp::{timestamp_from_proto, timestamp_to_proto};
use crate::v1;
use crate::vocabulary::{decode, Vocabulary};
use consent_domain::rules::{CheckRequest, DecisionTexts, RuleSetId};
use consent_domain::vocabulary::CallCategory;
use consent_domain::{OrganisationId, ProductCategoryId, SubjectId, Timestamp};

/// Validates a check. Required: `organisation_id`, `subject_id`, `channel`,
/// `purpose`, `message_class`. Defaults: `at` is `now`;
/// `call_category` CALL_CATEGORY_UNSPECIFIED is general; an empty
/// `product_category_id` or `rule_set_id` is none. A contact point is
/// normalised like one in an event.
pub fn check_from_proto(
    request: &v1::CheckRequest,
    now: Timestamp,
) -> Result<CheckRequest, ValidationError> {
    let call_category = if request.call_category == i32::from(v1::CallCategory::Unspecified) {
        CallCategory::General
    } else {
        decode("call_category", request.call_category)?
    };
    let contact_point = optional_contact_point("contact_point", request.contact_point.as_ref())?;
    // A sender that knows only the address (an ESP) names no subject.
    let subject = optional_identifier("subject_id", &request.subject_id)?.map(SubjectId::new);
    if subject.is_none() && contact_point.is_none() {
        return Err(ValidationError::new(
            "subject_id",
            "required when no `contact_point` is given: name the subject, the address, or both",
        ));
    }
    Ok(CheckRequest {
        organisation: OrganisationId::new(identifier("organisation_id", &request.organisation_id)?),
        subject,
        channel: decode("channel", request.channel)?,
        purpose: decode("purpose", request.purpose)?,
        product_category: optional_identifier("product_category_id", &request.product_category_id)?
            .map(ProductCategoryId::new),
        message_class: decode("message_class", request.message_class)?,
        promotional_content: request.promotional_content,
        sole_charitable_purpose: request.sole_charitable_purpose,
        opt_out_included: request.opt_out_included,
        sender_identified: request.sender_identified,
        call_category,
        contact_point,
        at: match &request.at {
            Some(at) => timestamp_from_proto("at", at)?,
            None => now,
        },
        rule_set: optional_identifier("rule_set_id", &request.rule_set_id)?.map(RuleSetId),
    })
}

/// Validates a check as it enters the ledger: [`check_from_proto`], with
/// a telephone contact point in the national format of
/// `rules.phone_region` read as E.164, and `at` refused outside
/// [`crate::EARLIEST`]..[`crate::LATEST`].
pub fn check_for_entry(
    request: &v1::CheckRequest,
    now: Timestamp,
    rules: &EntryRules,
) -> Result<CheckRequest, ValidationError> {
    let mut contact = request.contact_point.clone();
    point("contact_point", contact.as_mut(), rules.phone_region)?;
    let check = if contact == request.contact_point {
        check_from_proto(request, now)?
    } else {
        check_from_proto(
            &v1::CheckRequest {
                contact_point: contact,
                ..request.clone()
            },
            now,
        )?
    };
    plausible("at", check.at)?;
    Ok(check)
}

/// Which texts the decision on `request` carries (`omit_texts`).
pub fn check_texts(request: &v1::CheckRequest) -> DecisionTexts {
    if request.omit_texts {
        DecisionTexts::Omitted
    } else {
        DecisionTexts::Included
    }
}

/// The wire form of a check, with `at` and `call_category` explicit, no
/// `wait_for`, and the full decision asked for.
pub fn check_to_proto(request: &CheckRequest) -> v1::CheckRequest {
    v1::CheckRequest {
        organisation_id: request.organisation.as_str().to_owned(),
        subject_id: request
            .subject
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        channel: request.channel.to_wire(),
        purpose: request.purpose.to_wire(),
        product_category_id: request
            .product_category
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        message_class: request.message_class.to_wire(),
        promotional_content: request.promotional_content,
        sole_charitable_purpose: request.sole_charitable_purpose,
        opt_out_included: request.opt_out_included,
        sender_identified: request.sender_identified,
        call_category: request.call_category.to_wire(),
        contact_point: request.contact_point.as_ref().map(contact_point_to_proto),
        at: Some(timestamp_to_proto(request.at)),
        rule_set_id: request
            .rule_set
            .as_ref()
            .map(|r| r.0.clone())
            .unwrap_or_default(),
        wait_for: Vec::new(),
        omit_texts: false,
    }
}
