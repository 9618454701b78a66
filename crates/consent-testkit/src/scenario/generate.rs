//! Generated ledgers and questions, for properties over every decision
//! (and the decision micro-benchmark, `examples/decide_bench.rs`).
//!
//! A [`Case`] is an organisation (of any kind, or unregistered), its
//! category map and TPS/CTPS screening, facts about alice, about bob and
//! about addresses with no subject, and a question on any channel, for any
//! purpose, at a time before or after the DUAA rule set took effect, with
//! or without a subject, a contact point (fitting the channel or not), a
//! product category and a requested rule set.

use super::*;
use consent_domain::vocabulary::{
    CallCategory, Channel, CollectionMethod, CollectionRoute, ContactPoint, NegotiationKind,
    OptOutMethod, PreferenceService, Purpose, SubscriberType, SupportKind,
};
use proptest::prelude::*;

/// alice's email address, the number and the postal address the palette
/// and the questions share, so that address facts bear on the questions.
/// The email address and the number as the ledger stores them, sealed
/// (their digests), so that an erasure's suppression (which names digests
/// only) can bear on them too.
pub const EMAIL: &str = "digest:a11cea11cea11cea11cea11cea11cea11cea11cea11cea11cea11cea11cea11c";
pub const NUMBER: &str = "digest:0770090000107700900001077009000010770090000107700900001077009000";
pub const LETTERBOX: &str = "1 High St, Leeds LS1 1AA";

/// The day facts start from: 2026-01-01, so that facts and questions fall
/// on both sides of the DUAA rule set (2026-02-05).
pub fn start() -> Timestamp {
    day("2026-01-01")
}

/// One generated ledger and one question about it.
#[derive(Clone)]
pub struct Case {
    pub scenario: Scenario,
    pub check: Check,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.check.request())
    }
}

/// Who a generated fact is recorded under.
fn whom(i: u8) -> Option<&'static str> {
    match i % 4 {
        0 | 1 => Some(SUBJECT),
        2 => Some("bob"),
        _ => None,
    }
}

/// A fact from the palette cases draw from: every kind of fact the rules
/// read, lawful and not.
pub fn palette(i: u8) -> Fact {
    let email = || email_address(EMAIL);
    let number = || mobile(NUMBER);
    let letterbox = || postal(LETTERBOX);
    let all = Channel::ALL;
    match i % 48 {
        0 => consent(&[Email, Sms], &[Commercial]).into(),
        1 => consent(&[LiveCall, AutomatedCall, Post], &[Commercial]).into(),
        2 => consent(&all, &Purpose::ALL).into(),
        3 => consent(&[Email], &[Commercial]).pre_ticked().into(),
        4 => consent(&[Sms], &[Charitable, Campaigning])
            .condition_of_service()
            .into(),
        5 => consent(&[Email, Post], &[Commercial])
            .without_wording()
            .into(),
        6 => consent(&all, &[Commercial])
            .collected_by("lists-r-us", &[ORG])
            .into(),
        7 => consent(&[Email], &[Commercial])
            .collected_by("lists-r-us", &[])
            .into(),
        8 => consent(&[Email], &[Commercial]).for_address(email()).into(),
        9 => consent(&[AutomatedCall], &[Commercial, Charitable])
            .method(CollectionMethod::Inferred)
            .into(),
        10 => withdrawal(&[Email], &[]),
        11 => withdrawal(&[], &[Commercial]),
        12 => sale("cars").into(),
        13 => sale("cars").no_opt_out_offered().into(),
        14 => sale("boats").via(CollectionRoute::ThirdParty).into(),
        15 => sale("cars").opt_out_taken().into(),
        16 => sale("cars").at_address(email()).into(),
        17 => negotiation("cars", NegotiationKind::QuoteRequested).into(),
        18 => negotiation("cars", NegotiationKind::GeneralEnquiry).into(),
        19 => opt_out(&[Email]),
        20 => opt_out(&[LiveCall, Post]),
        21 => opt_out_of_everything(),
        22 => objection(OptOutMethod::GpcSignal),
        23 => opt_out_for(email(), &[Email, Sms]),
        24 => objection_for(number(), OptOutMethod::Call),
        25 => subscriber(SubscriberType::Corporate),
        26 => subscriber(SubscriberType::SoleTrader),
        27 => tps(NUMBER, day("2025-10-01")),
        28 => ctps(NUMBER, start()),
        29 => delisted(PreferenceService::Tps, NUMBER, day("2025-11-01")),
        30 => told_not_to_call(NUMBER),
        31 => does_not_object(NUMBER),
        32 => support(SupportKind::Donation).into(),
        33 => support(SupportKind::Membership)
            .via(CollectionRoute::FundraisingPlatform)
            .into(),
        34 => support(SupportKind::ExpressedInterest)
            .no_opt_out_offered()
            .into(),
        35 => erasure(),
        36 => contact(number()),
        37 => contact(email()),
        38 => contact(letterbox()),
        39 => consent(&[Post], &[Charitable])
            .for_address(letterbox())
            .into(),
        // The facts a basis rests on, again, so that many ledgers have one.
        40 | 41 => sale("cars").into(),
        42 => negotiation("cars", NegotiationKind::DetailsRequested).into(),
        43 | 44 => support(SupportKind::Donation).into(),
        45 => subscriber(SubscriberType::Corporate),
        46 => consent(&all, &[Commercial, Charitable]).into(),
        _ => support(SupportKind::Volunteering).into(),
    }
}

/// The organisation: commercial (four in ten), a charity (two), a
/// charity with no register number, a political party, another
/// not-for-profit, or not registered.
fn organisation(kind: u8) -> Scenario {
    use consent_domain::vocabulary::OrganisationKind;
    match kind % 10 {
        0..=3 => Scenario::commercial(),
        4 | 5 => Scenario::charity(),
        6 => Scenario::empty().given_org("2020-01-01", charity_registered(" ")),
        7 => Scenario::political_party(),
        8 => Scenario::empty().given_org(
            "2020-01-01",
            registered(OrganisationKind::OtherNotForProfit),
        ),
        _ => Scenario::empty(),
    }
}

/// The organisation's own records: its category map, its TPS and CTPS
/// screening (none, current, out of date, with a change file listing the
/// number), and a suppression list after another subject's erasure.
fn organisation_records(mut scenario: Scenario, records: u8, at: Timestamp) -> Scenario {
    if records % 4 != 0 {
        scenario = scenario.given_org("2020-01-01", categories(&[("cars", &["servicing"])]));
    }
    match (records >> 2) % 4 {
        0 => {}
        1 => scenario = scenario.tps_screened_before_time(at),
        2 => scenario = scenario.screened_full(PreferenceService::Tps, "2025-06-01", &[NUMBER]),
        _ => {
            scenario = scenario
                .screened_full(PreferenceService::Ctps, "2025-11-20", &[])
                .screened_changes(PreferenceService::Ctps, "2025-11-25", &[(NUMBER, true)])
        }
    }
    if (records >> 4) % 4 == 0 {
        scenario = scenario.given_org("2025-12-10", contacts_suppressed(&[EMAIL, NUMBER], "carol"));
    }
    scenario
}

/// The question's contact point: 0 none, 1 the one for the channel, 2 one
/// that cannot receive it (or, for post, an email address).
fn contact_point(channel: Channel, i: u8) -> Option<ContactPoint> {
    let fitting = match channel {
        Email => email_address(EMAIL),
        Sms | LiveCall | AutomatedCall => mobile(NUMBER),
        Post => postal(LETTERBOX),
    };
    let unfitting = match channel {
        Post => email_address(EMAIL),
        _ => postal(LETTERBOX),
    };
    match i % 4 {
        0 => None,
        1 | 2 => Some(fitting),
        _ => Some(unfitting),
    }
}

/// The question: every channel, purpose, message class, call category,
/// with and without a subject, a contact point, a category, a rule set.
fn question(
    (channel, purpose, class, flags, call, point): (usize, usize, u8, u16, u8, u8),
    (addressee, category, rule_set, at): (u8, u8, u8, i64),
) -> Check {
    let channel = Channel::ALL[channel % Channel::ALL.len()];
    let mut check = match channel {
        Email => email(),
        Sms => sms(),
        LiveCall => live_call(NUMBER),
        AutomatedCall => automated_call(NUMBER),
        Post => post(),
    }
    .without_contact_point()
    .purpose(match purpose % 5 {
        0 | 1 => Commercial,
        2 | 3 => Charitable,
        _ => Campaigning,
    })
    .at_time(start().plus_days(at));
    if let Some(point) = contact_point(channel, point) {
        check = check.to(point);
    }
    check = match class % 3 {
        0 => check,
        1 => check.service_message(),
        _ => check.service_message().with_promotion(),
    };
    // Each flaw in one question of eight or so, so that many questions
    // have none.
    if flags % 8 == 0 {
        check = check.without_opt_out();
    }
    if (flags >> 3) % 8 == 0 {
        check = check.without_sender_identified();
    }
    if (flags >> 6) % 4 != 0 && check.request().purpose == Purpose::Charitable {
        check = check.charitable();
    }
    if (flags >> 8) % 8 == 0 {
        check = check.from("globex");
    }
    check = check.call_category(match call % 3 {
        0 => CallCategory::General,
        1 => CallCategory::ClaimsManagement,
        _ => CallCategory::PensionScheme,
    });
    check = match addressee % 4 {
        0 | 1 => check,
        2 => check.about("bob"),
        _ => match check.request().contact_point {
            Some(point) => check.only_to(point),
            // Neither a subject nor an address: R0 refuses.
            None => {
                let mut check = check;
                check.request.subject = None;
                check
            }
        },
    };
    check = match category % 4 {
        0 => check,
        1 => check.category("cars"),
        2 => check.category("servicing"),
        _ => check.category("boats"),
    };
    match rule_set % 3 {
        0 => check,
        1 => check.under("uk-pecr-2003"),
        _ => check.under("uk-pecr-duaa-2026-02-05"),
    }
}

/// Any [`Case`].
pub fn case() -> impl Strategy<Value = Case> {
    (
        any::<u8>(),
        any::<u8>(),
        prop::collection::vec((0i64..120, any::<u8>(), any::<u8>()), 0..12),
        (
            0usize..5,
            0usize..5,
            any::<u8>(),
            any::<u16>(),
            any::<u8>(),
            any::<u8>(),
        ),
        (any::<u8>(), any::<u8>(), any::<u8>(), 0i64..150),
    )
        .prop_map(|(kind, records, facts, shape, about)| {
            let check = question(shape, about);
            let at = check.request().at;
            let mut scenario = organisation_records(organisation(kind), records, at);
            for (offset, fact, who) in facts {
                let when = start().plus_days(offset).to_string();
                scenario = scenario.given_elsewhere(ORG, whom(who), &when, palette(fact));
            }
            Case { scenario, check }
        })
}
