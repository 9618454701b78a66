//! The vocabulary of the domain in the words a reader of the report uses.

use consent_domain::rules::{LawfulBasis, RuleOutcome};
use consent_domain::time::Timestamp;
use consent_domain::vocabulary::*;

/// `2026-03-01 14:30:00 UTC` (with microseconds when there are any).
pub fn when(at: Timestamp) -> String {
    let (seconds, nanos) = at.unix_parts();
    let Ok(utc) = time::OffsetDateTime::from_unix_timestamp(seconds) else {
        return at.to_string();
    };
    let micros = nanos / 1_000;
    let base = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    );
    if micros == 0 {
        format!("{base} UTC")
    } else {
        format!("{base}.{micros:06} UTC")
    }
}

pub fn channel(channel: Channel) -> &'static str {
    channel.in_words()
}

/// A message on a channel, as an adjective: `an email message`, `an SMS
/// message`, `a live call message`...
pub fn channel_message(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email",
        Channel::Sms => "SMS",
        Channel::LiveCall => "live call",
        Channel::AutomatedCall => "automated call",
        Channel::Post => "postal",
    }
}

/// `email, SMS`; an empty list is `every channel` when `empty_is_all`,
/// otherwise `no channel` (never "none", which reads as a channel's name).
pub fn channels(list: &[Channel], empty_is_all: bool) -> String {
    match (list.is_empty(), empty_is_all) {
        (true, true) => "every channel".to_owned(),
        (true, false) => "no channel".to_owned(),
        _ => join(list.iter().map(|c| channel(*c))),
    }
}

pub fn purpose(purpose: Purpose) -> &'static str {
    purpose.as_str()
}

/// `commercial, charitable`; an empty list is `every purpose` when
/// `empty_is_all`, otherwise `no purpose`.
pub fn purposes(list: &[Purpose], empty_is_all: bool) -> String {
    match (list.is_empty(), empty_is_all) {
        (true, true) => "every purpose".to_owned(),
        (true, false) => "no purpose".to_owned(),
        _ => join(list.iter().map(|p| purpose(*p))),
    }
}

pub fn organisation_kind(kind: OrganisationKind) -> &'static str {
    match kind {
        OrganisationKind::Commercial => "commercial organisation",
        OrganisationKind::Charity => "charity",
        OrganisationKind::PoliticalParty => "political party",
        OrganisationKind::OtherNotForProfit => "not-for-profit organisation",
    }
}

pub fn subscriber_type(kind: SubscriberType) -> &'static str {
    match kind {
        SubscriberType::Individual => "individual subscriber",
        SubscriberType::SoleTrader => "sole trader (an individual subscriber)",
        SubscriberType::Partnership => "partnership (an individual subscriber)",
        SubscriberType::Corporate => "corporate subscriber",
    }
}

pub fn contact_point(point: &ContactPoint) -> String {
    let kind = match point.kind {
        ContactKind::Email => "email",
        ContactKind::Mobile => "mobile",
        ContactKind::Landline => "landline",
        ContactKind::Postal => "postal address",
    };
    format!("{kind} {}", contact_value(&point.value))
}

/// A contact value as the report shows it. The ledger stores addresses
/// sealed, so the report has their digest (shortened: enough to tell
/// addresses apart on one page), never the address; docs/ERASURE.md.
pub fn contact_value(value: &ContactValue) -> String {
    match value {
        ContactValue::Digest(digest) => contact_digest(digest),
        ContactValue::Clear(value) => value.clone(),
    }
}

/// A sealed contact value's digest as the report shows it.
pub fn contact_digest(digest: &ContactDigest) -> String {
    format!("(sealed, digest {}…)", digest.first_hex_digits())
}

pub fn collection_method(method: CollectionMethod) -> &'static str {
    match method {
        CollectionMethod::UntickedCheckbox => "an unticked checkbox",
        CollectionMethod::DoubleOptIn => "double opt-in",
        CollectionMethod::VerbalRecorded => "recorded verbal agreement",
        CollectionMethod::WrittenSigned => "a signed written statement",
        CollectionMethod::PreTickedCheckbox => "a pre-ticked checkbox (not an affirmative act)",
        CollectionMethod::Inferred => "inference (not an affirmative act)",
    }
}

pub fn collection_route(route: CollectionRoute) -> &'static str {
    match route {
        CollectionRoute::Direct => "directly from the subject",
        CollectionRoute::ThirdParty => "from a third party",
        CollectionRoute::GroupCompany => "from a group company",
        CollectionRoute::TradingSubsidiary => "from a trading subsidiary",
        CollectionRoute::FundraisingPlatform => "from a fundraising platform",
    }
}

pub fn opt_out_method(method: OptOutMethod) -> &'static str {
    match method {
        OptOutMethod::UnsubscribeLink => "unsubscribe link",
        OptOutMethod::OneClick => "one-click unsubscribe",
        OptOutMethod::ReplyStop => "reply STOP",
        OptOutMethod::Call => "telephone call",
        OptOutMethod::InPerson => "in person",
        OptOutMethod::EmailReply => "email reply",
        OptOutMethod::Letter => "letter",
        OptOutMethod::GpcSignal => "Global Privacy Control signal",
        OptOutMethod::PreferenceCentre => "preference centre",
        OptOutMethod::SpamComplaint => "spam complaint",
    }
}

pub fn negotiation(kind: NegotiationKind) -> &'static str {
    match kind {
        NegotiationKind::QuoteRequested => "quote requested",
        NegotiationKind::DetailsRequested => "details requested",
        NegotiationKind::GeneralEnquiry => "general enquiry (not a negotiation for a sale)",
    }
}

pub fn support(kind: SupportKind) -> &'static str {
    match kind {
        SupportKind::Donation => "donation",
        SupportKind::Membership => "membership",
        SupportKind::Volunteering => "volunteering",
        SupportKind::ExpressedInterest => "expressed interest",
    }
}

pub fn preference_service(service: PreferenceService) -> &'static str {
    match service {
        PreferenceService::Tps => "TPS",
        PreferenceService::Ctps => "CTPS",
    }
}

pub fn message_class(class: MessageClass) -> &'static str {
    match class {
        MessageClass::Service => "service message",
        MessageClass::Marketing => "marketing message",
    }
}

pub fn call_category(category: CallCategory) -> &'static str {
    match category {
        CallCategory::General => "general",
        CallCategory::ClaimsManagement => "claims management (PECR reg 21A)",
        CallCategory::PensionScheme => "pension scheme (PECR reg 21B)",
    }
}

pub fn lawful_basis(basis: LawfulBasis) -> &'static str {
    match basis {
        LawfulBasis::None => "none",
        LawfulBasis::NotDirectMarketing => "not direct marketing (a service message)",
        LawfulBasis::Consent => "consent",
        LawfulBasis::SoftOptIn => "commercial soft opt-in",
        LawfulBasis::CharitySoftOptIn => "charity soft opt-in",
        LawfulBasis::CorporateSubscriber => "corporate subscriber",
        LawfulBasis::LiveCallNotObjected => "live call, not objected to",
        LawfulBasis::LegitimateInterests => "legitimate interests",
    }
}

pub fn outcome(outcome: RuleOutcome) -> &'static str {
    match outcome {
        RuleOutcome::Satisfied => "satisfied",
        RuleOutcome::Failed => "failed",
        RuleOutcome::Blocked => "blocked",
        RuleOutcome::NotApplicable => "not applicable",
    }
}

pub fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

/// `a, b and c`; `none` for an empty list, so a caller whose sentence
/// would then read wrongly ("expect to hear about none") words the empty
/// case itself.
pub fn join<'s>(items: impl IntoIterator<Item = &'s str>) -> String {
    let items: Vec<&str> = items.into_iter().collect();
    match items.as_slice() {
        [] => "none".to_owned(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc_with_microseconds_only_when_present() {
        let at = Timestamp::parse_rfc3339("2026-03-01T14:30:00Z").expect("time");
        assert_eq!(when(at), "2026-03-01 14:30:00 UTC");
        let at = Timestamp::parse_rfc3339("2026-03-01T14:30:00.000250Z").expect("time");
        assert_eq!(when(at), "2026-03-01 14:30:00.000250 UTC");
        let before_epoch = Timestamp::from_unix_micros(-1_500_000);
        assert_eq!(when(before_epoch), "1969-12-31 23:59:58.500000 UTC");
    }

    #[test]
    fn lists_read_as_english() {
        assert_eq!(join([]), "none");
        assert_eq!(join(["email"]), "email");
        assert_eq!(join(["email", "SMS", "post"]), "email, SMS and post");
        assert_eq!(channels(&[], true), "every channel");
        assert_eq!(channels(&[], false), "no channel");
        assert_eq!(purposes(&[], false), "no purpose");
        assert_eq!(purposes(&[Purpose::Commercial], true), "commercial");
    }
}
