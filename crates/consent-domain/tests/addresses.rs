//! Suppression by address: R1 (UK GDPR Art 21(2), 21(3); PECR 2003 reg
//! 22(3)(c)) and R4 (PECR 2003 reg 21(1), 21(4)) read the facts recorded for
//! the address a message goes to, whichever subject they were recorded
//! under, or none (an imported suppression list, a TPS file).

use consent_domain::vocabulary::{ContactPoint, OptOutMethod};
use consent_testkit::scenario::*;
use proptest::prelude::*;

const ADDRESS: &str = "shared@example.com";
const OTHER_ADDRESS: &str = "bob@example.com";
const NUMBER: &str = "+447700900123";

/// Bob, a second CRM record that uses the shared address, consented to
/// email on 2025-01-10 (without naming an address).
fn bob_consenting() -> Scenario {
    Scenario::commercial()
        .given_about("bob", "2025-01-05", contact(email_address(ADDRESS)))
        .given_about("bob", "2025-01-10", consent(&[Email], &[Commercial]))
        .labelled("bob's consent")
}

/// R1: an opt-out received for an address under one subject id suppresses
/// the address for every subject id that uses it, on the channels it
/// names; the address is named in the reason, with the opt-out.
#[test]
fn r1_an_opt_out_for_an_address_holds_whichever_subject_it_came_under() {
    let opted_out = bob_consenting()
        .given("2025-02-01", opt_out_for(email_address(ADDRESS), &[Email]))
        .labelled("alice's unsubscribe");
    opted_out
        .when(
            email()
                .about("bob")
                .to(email_address(ADDRESS))
                .at("2025-06-01"),
        )
        .refused()
        .fired("R1", Blocked)
        .only_because(&[
            ("R1", "address_opted_out"),
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3b", "no_sale_or_negotiation"),
        ])
        .reason_names("address_opted_out", &["alice's unsubscribe"])
        .reason_says("address_opted_out", "email address shared@example.com")
        .reason_says("address_opted_out", "2025-02-01")
        .cites("R1", "address_opted_out", "UK GDPR Art 21")
        .relies_on(&["bob's consent", "alice's unsubscribe"]);
    // Bob's own record of the address (no contact point in the check).
    opted_out
        .when(email().about("bob").at("2025-06-01"))
        .refused()
        .because("R1", "address_opted_out");
    // Alice, who unsubscribed: her own opt-out.
    opted_out
        .when(email().to(email_address(ADDRESS)).at("2025-06-01"))
        .refused()
        .because("R1", "opted_out")
        .reason_says(
            "opted_out",
            "received for the email address shared@example.com",
        );
    // Only the channels it names: bob's SMS is untouched.
    opted_out
        .clone()
        .given_about("bob", "2025-01-10", consent(&[Sms], &[Commercial]))
        .when(sms().about("bob").to(mobile(NUMBER)).at("2025-06-01"))
        .allowed(Consent);
    // Another address of bob's is not suppressed.
    opted_out
        .when(
            email()
                .about("bob")
                .to(email_address(OTHER_ADDRESS))
                .at("2025-06-01"),
        )
        .allowed(Consent);
}

/// R1: a suppression list imported from an ESP (opt-outs for addresses,
/// with no subject) suppresses the address for every subject, and for a
/// check that names only the address.
#[test]
fn r1_an_imported_suppression_with_no_subject_suppresses_the_address() {
    let imported = bob_consenting()
        .given_for_address("2025-02-01", opt_out_for(email_address(ADDRESS), &[Email]))
        .labelled("suppression row");
    imported
        .when(
            email()
                .about("bob")
                .to(email_address(ADDRESS))
                .at("2025-06-01"),
        )
        .refused()
        .only_because(&[
            ("R1", "address_opted_out"),
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3b", "no_sale_or_negotiation"),
        ])
        .reason_names("address_opted_out", &["suppression row"]);
    imported
        .when(email().only_to(email_address(ADDRESS)).at("2025-06-01"))
        .refused()
        .because("R1", "address_opted_out")
        .because("R3", "no_basis_for_electronic_mail");
    // Before the row occurred, bob could be mailed there.
    imported
        .when(
            email()
                .about("bob")
                .to(email_address(ADDRESS))
                .at("2025-01-20"),
        )
        .allowed(Consent);
}

/// R1, Art 21(3): an objection received for an address suppresses it on
/// every channel it can receive, whichever subject the message is for; it
/// does not reach the subject's other addresses, which are not its.
#[test]
fn r1_an_objection_for_an_address_suppresses_it_on_every_channel() {
    let objected = Scenario::commercial()
        .given_about(
            "bob",
            "2025-01-10",
            consent(&[Sms, LiveCall, Post], &[Commercial]),
        )
        .given_for_address(
            "2025-02-01",
            objection_for(mobile(NUMBER), OptOutMethod::Call),
        )
        .labelled("objection")
        .tps_screened_before("2025-06-01");
    objected
        .when(sms().about("bob").to(mobile(NUMBER)).at("2025-06-01"))
        .refused()
        .only_because(&[
            ("R1", "address_objected"),
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3b", "no_sale_or_negotiation"),
        ])
        .reason_names("address_objected", &["objection"])
        .reason_says("address_objected", "mobile number +447700900123");
    objected
        .when(live_call(NUMBER).about("bob").at("2025-06-01"))
        .refused()
        .only_because(&[("R1", "address_objected")]);
    objected
        .when(
            post()
                .about("bob")
                .to(postal("1 High St, Leeds LS1 1AA"))
                .at("2025-06-01"),
        )
        .allowed(Consent);
}

/// R1: a later consent lifts a refusal only for what it covers. For a
/// refusal received for an address, that means a consent given for that
/// address: bob's later consent that names no address, or another, does
/// not lift the suppression of the shared address; one naming it does.
#[test]
fn r1_only_a_later_consent_for_that_address_lifts_an_address_opt_out() {
    let suppressed = Scenario::commercial()
        .given_for_address("2025-02-01", opt_out_for(email_address(ADDRESS), &[Email]))
        .labelled("suppression row");
    let to_shared = || {
        email()
            .about("bob")
            .to(email_address(ADDRESS))
            .at("2025-06-01")
    };
    suppressed
        .clone()
        .given_about("bob", "2025-03-01", consent(&[Email], &[Commercial]))
        .when(to_shared())
        .refused()
        .only_because(&[("R1", "address_opted_out")])
        .reason_says(
            "address_opted_out",
            "no later consent given for the email address shared@example.com",
        );
    suppressed
        .clone()
        .given_about(
            "bob",
            "2025-03-01",
            consent(&[Email], &[Commercial]).for_address(email_address(ADDRESS)),
        )
        .labelled("fresh consent")
        .when(to_shared())
        .allowed(Consent)
        .fired("R1", Satisfied)
        .relies_on(&["fresh consent"]);
    // The subject who opted out for the address needs the same.
    let alice = Scenario::commercial()
        .given("2025-02-01", opt_out_for(email_address(ADDRESS), &[Email]))
        .given("2025-03-01", consent(&[Email], &[Commercial]));
    alice
        .clone()
        .when(email().to(email_address(ADDRESS)).at("2025-06-01"))
        .refused()
        .because("R1", "opted_out");
    // ... but her opt-out for that address lifts for her other addresses
    // with her later consent, as any opt-out of hers would.
    alice
        .when(email().to(email_address(OTHER_ADDRESS)).at("2025-06-01"))
        .allowed(Consent);
}

/// R1: a refusal received for an address defeats every consent given
/// before it, whoever gave it: bob's consent for the shared address does
/// not survive an opt-out recorded for the address later.
#[test]
fn r1_an_address_opt_out_defeats_an_earlier_consent_for_that_address() {
    Scenario::commercial()
        .given_about(
            "bob",
            "2025-01-10",
            consent(&[Email], &[Commercial]).for_address(email_address(ADDRESS)),
        )
        .given_for_address("2025-02-01", opt_out_for(email_address(ADDRESS), &[Email]))
        .when(
            email()
                .about("bob")
                .to(email_address(ADDRESS))
                .at("2025-06-01"),
        )
        .refused()
        .only_because(&[
            ("R1", "address_opted_out"),
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3b", "no_sale_or_negotiation"),
        ])
        .reason_says("no_consent", "came after it (R1)");
}

/// R4, reg 21(1)(a) and 21(4): told-not-to-call and does-not-object are
/// about the number: recorded under any subject or none, the latest holds
/// whoever the call is for.
#[test]
fn r4_call_preferences_hold_for_the_number_whoever_the_call_is_for() {
    let told = Scenario::commercial()
        .given("2025-02-01", told_not_to_call(NUMBER))
        .labelled("told")
        .tps_screened_before("2025-06-01");
    told.when(live_call(NUMBER).about("bob").at("2025-06-01"))
        .refused()
        .only_because(&[("R4", "told_not_to_call")])
        .reason_names("told_not_to_call", &["told"])
        .reason_says("told_not_to_call", "recorded for the number");
    told.when(live_call(NUMBER).only_to(mobile(NUMBER)).at("2025-06-01"))
        .refused()
        .only_because(&[("R4", "told_not_to_call")]);
    told.given_for_address("2025-03-01", does_not_object(NUMBER))
        .when(live_call(NUMBER).about("bob").at("2025-06-01"))
        .allowed(LiveCallNotObjected);
}

/// R4, reg 21(1)(b), 21(3): a listing recorded for a number on its own,
/// with no subject, protects it from the 28th day whoever the call is for.
#[test]
fn r4_a_listing_with_no_subject_protects_the_number() {
    let listed_at = day("2025-01-01");
    Scenario::commercial()
        .given_for_address("2025-01-01", tps(NUMBER, listed_at))
        .labelled("listing")
        .tps_screened_before("2025-06-01")
        .when(live_call(NUMBER).about("bob").at("2025-06-01"))
        .refused()
        .only_because(&[("R4", "tps_listed")])
        .reason_names("tps_listed", &["listing"]);
}

/// The address a channel's message goes to.
fn address_for(channel: consent_domain::vocabulary::Channel) -> ContactPoint {
    match channel {
        Email => email_address(ADDRESS),
        Sms | LiveCall | AutomatedCall => mobile(NUMBER),
        Post => postal("1 High St, Leeds LS1 1AA"),
    }
}

fn check_on(channel: consent_domain::vocabulary::Channel) -> Check {
    match channel {
        Email => email(),
        Sms => sms(),
        LiveCall => live_call(NUMBER),
        AutomatedCall => automated_call(NUMBER),
        Post => post(),
    }
}

fn refusal(
    kind: u8,
    point: ContactPoint,
    channels: &[consent_domain::vocabulary::Channel],
) -> consent_domain::event::Fact {
    match kind % 3 {
        0 => opt_out_for(point, channels),
        1 => objection_for(point, OptOutMethod::OneClick),
        _ => {
            let mut fact = opt_out_for(point, &[]);
            if let consent_domain::event::Fact::OptOutRecorded(o) = &mut fact {
                o.all_channels = true;
            }
            fact
        }
    }
}

proptest! {
    /// R1 as a property: an opt-out or objection received for an address
    /// and recorded with no subject, and the same recorded under alice,
    /// decide a check for bob at that address identically, whatever the
    /// channel, the times and bob's own facts.
    #[test]
    fn an_address_refusal_holds_the_same_with_or_without_a_subject(
        channel in 0usize..5,
        named in prop::collection::vec(0usize..5, 0..3),
        kind in any::<u8>(),
        refused_on in 0i64..60,
        checked_on in 0i64..90,
        bob_consents in prop::option::of((0i64..90, any::<bool>())),
        bob_known in any::<bool>(),
        screened in any::<bool>(),
    ) {
        let channels = consent_domain::vocabulary::Channel::ALL;
        let channel = channels[channel];
        let named: Vec<_> = named.into_iter().map(|i| channels[i]).collect();
        let point = address_for(channel);
        let start = day("2025-03-01");
        let at = start.plus_days(checked_on);
        let mut base = Scenario::commercial();
        if screened {
            base = base.tps_screened_before_time(at);
        }
        if bob_known {
            base = base.given_elsewhere(ORG, Some("bob"), "2025-01-01", contact(point.clone()));
        }
        if let Some((offset, for_address)) = bob_consents {
            let mut given = consent(&channels, &[Commercial]);
            if for_address {
                given = given.for_address(point.clone());
            }
            base = base.given_elsewhere(ORG, Some("bob"), &start.plus_days(offset).to_string(), given);
        }
        let fact = refusal(kind, point.clone(), &named);
        let when = start.plus_days(refused_on).to_string();
        let without_subject = base.clone().given_elsewhere(ORG, None, &when, fact.clone());
        let under_alice = base.given_elsewhere(ORG, Some(SUBJECT), &when, fact);
        let check = || check_on(channel).about("bob").to(point.clone()).at_time(at);
        let a = without_subject.when(check());
        let b = under_alice.when(check());
        let codes = |d: &consent_domain::rules::Decision| {
            let mut codes: Vec<String> = d.reasons_against.iter().map(|r| format!("{}/{}", r.rule, r.code)).collect();
            codes.sort();
            (d.allowed, codes)
        };
        prop_assert_eq!(codes(a.decision()), codes(b.decision()));
        // The whole decision, texts and evidence included.
        prop_assert_eq!(a.decision(), b.decision());
    }
}
