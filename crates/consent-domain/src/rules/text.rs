//! The words decisions use for the vocabulary, so every rule phrases the
//! same thing the same way.

use crate::event::OptOutRecorded;
use crate::vocabulary::*;

pub(crate) fn channel(channel: Channel) -> &'static str {
    channel.in_words()
}

pub(crate) fn channels(list: &[Channel]) -> String {
    if list.is_empty() {
        return "no channel".to_owned();
    }
    list.iter()
        .map(|c| channel(*c))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn purpose(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Commercial => "commercial products or services",
        Purpose::Campaigning => "promoting aims and ideals (campaigning)",
        Purpose::Charitable => "furthering charitable purposes",
    }
}

pub(crate) fn purposes(list: &[Purpose]) -> String {
    if list.is_empty() {
        return "no purpose".to_owned();
    }
    list.iter()
        .map(|p| purpose(*p))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn opt_out_method(method: OptOutMethod) -> &'static str {
    match method {
        OptOutMethod::UnsubscribeLink => "unsubscribe link",
        OptOutMethod::OneClick => "one-click unsubscribe (RFC 8058)",
        OptOutMethod::ReplyStop => "reply STOP",
        OptOutMethod::Call => "telephone call",
        OptOutMethod::InPerson => "in person",
        OptOutMethod::EmailReply => "email reply",
        OptOutMethod::Letter => "letter",
        OptOutMethod::GpcSignal => "Global Privacy Control signal, UK GDPR Art 21(5)",
        OptOutMethod::PreferenceCentre => "preference centre",
        OptOutMethod::SpamComplaint => "spam complaint",
    }
}

pub(crate) fn opt_out_scope(opt_out: &OptOutRecorded) -> String {
    if opt_out.all_channels {
        "all channels".to_owned()
    } else {
        channels(&opt_out.channels)
    }
}

pub(crate) fn collection_method(method: CollectionMethod) -> &'static str {
    match method {
        CollectionMethod::UntickedCheckbox => "an unticked checkbox the subject ticked",
        CollectionMethod::DoubleOptIn => "double opt-in confirmation",
        CollectionMethod::VerbalRecorded => "recorded verbal agreement",
        CollectionMethod::WrittenSigned => "signed writing",
        CollectionMethod::PreTickedCheckbox => "a pre-ticked box",
        CollectionMethod::Inferred => "inference from conduct",
    }
}

/// "via a third party", "from a group company", ...
pub(crate) fn route(route: CollectionRoute) -> &'static str {
    match route {
        CollectionRoute::Direct => "directly from the subject",
        CollectionRoute::ThirdParty => "from a third party",
        CollectionRoute::GroupCompany => "from a group company",
        CollectionRoute::TradingSubsidiary => "through a trading subsidiary",
        CollectionRoute::FundraisingPlatform => "through a fundraising platform",
    }
}

pub(crate) fn organisation_kind(kind: OrganisationKind) -> &'static str {
    match kind {
        OrganisationKind::Commercial => "a commercial organisation",
        OrganisationKind::Charity => "a charity",
        OrganisationKind::PoliticalParty => "a political party",
        OrganisationKind::OtherNotForProfit => "a not-for-profit body that is not a charity",
    }
}

pub(crate) fn negotiation(kind: NegotiationKind) -> &'static str {
    match kind {
        NegotiationKind::QuoteRequested => "a quote request",
        NegotiationKind::DetailsRequested => "a request for details of what is offered",
        NegotiationKind::GeneralEnquiry => "a general enquiry",
    }
}

pub(crate) fn support(kind: SupportKind) -> &'static str {
    match kind {
        SupportKind::Donation => "a donation",
        SupportKind::Membership => "a membership",
        SupportKind::Volunteering => "volunteering",
        SupportKind::ExpressedInterest => "an expression of interest",
    }
}

pub(crate) fn contact_point(point: &ContactPoint) -> String {
    let kind = match point.kind {
        ContactKind::Email => "email address",
        ContactKind::Mobile => "mobile number",
        ContactKind::Landline => "landline number",
        ContactKind::Postal => "postal address",
    };
    format!("{kind} {}", shown(&point.value))
}

/// A contact value as prose shows it: a sealed value's digest shortened
/// to its first 12 hex digits (enough to tell addresses apart in one
/// decision), anything else as it is.
pub(crate) fn shown(value: &ContactValue) -> String {
    match value {
        ContactValue::Digest(digest) => digest.shortened(),
        ContactValue::Clear(value) => value.clone(),
    }
}

/// The recorded contact point is a different address of the same kind as
/// the one the message goes to. Unknown on either side is not a conflict:
/// the ledger cannot tell.
pub(crate) fn contact_points_conflict(
    recorded: Option<&ContactPoint>,
    requested: Option<&ContactPoint>,
) -> bool {
    match (recorded, requested) {
        (Some(r), Some(q)) => r.kind == q.kind && r.value != q.value,
        _ => false,
    }
}

/// The text with its first letter in upper case.
pub(crate) fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
