//! R1 Objection and opt-out win (UK GDPR Art 21(2), 21(3), 21(5); PECR
//! 2003 reg 22(3)(c)) and R9 erasure suppresses the subject (UK GDPR Art
//! 17(1)(c), Art 21(3)).

use consent_domain::vocabulary::{Channel, OptOutMethod};
use consent_testkit::scenario::*;

/// A customer with consent to every channel and a postal address.
fn consenting_customer() -> Scenario {
    Scenario::commercial()
        .given(
            "2025-01-10",
            consent(&[Email, Sms, LiveCall, AutomatedCall, Post], &[Commercial]),
        )
        .labelled("consent")
}

/// R1, Art 21(3): an objection is absolute for this organisation on every
/// channel, post included, whatever consent came before.
#[test]
fn r1_an_objection_blocks_every_channel_including_post() {
    let objected = consenting_customer()
        .given("2025-03-01", objection(OptOutMethod::Letter))
        .labelled("objection");
    for check in [
        email(),
        sms(),
        live_call("+447700900001"),
        automated_call("+447700900001"),
        post(),
    ] {
        objected
            .when(check.at("2025-06-01"))
            .refused()
            .fired("R1", Blocked)
            .because("R1", "objection_recorded")
            .reason_names("objection_recorded", &["objection"])
            .cites(
                "R1",
                "objection_recorded",
                "UK GDPR Art 21(2), 21(3), 21(5)",
            );
    }
}

/// R1, Art 21(5): an objection by automated means (a GPC signal) counts.
#[test]
fn r1_an_objection_by_gpc_signal_counts() {
    Scenario::commercial()
        .given("2025-03-01", objection(OptOutMethod::GpcSignal))
        .when(post().at("2025-06-01"))
        .refused()
        .only_because(&[("R1", "objection_recorded")])
        .reason_says("objection_recorded", "Global Privacy Control");
}

/// R1: an opt-out stops the channels it names and only those.
#[test]
fn r1_an_opt_out_stops_only_the_channels_it_names() {
    let scenario = consenting_customer().given("2025-03-01", opt_out(&[Email]));
    scenario
        .when(email().at("2025-06-01"))
        .refused()
        .only_because(&[
            ("R1", "opted_out"),
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3b", "no_sale_or_negotiation"),
        ]);
    scenario.when(sms().at("2025-06-01")).allowed(Consent);
    scenario.when(post().at("2025-06-01")).allowed(Consent);
}

/// R1: "STOP" to everything stops post as well.
#[test]
fn r1_an_opt_out_of_everything_stops_post() {
    consenting_customer()
        .given("2025-03-01", opt_out_of_everything())
        .when(post().at("2025-06-01"))
        .refused()
        .only_because(&[("R1", "opted_out")]);
}

/// R1: a later fresh consent lifts an objection, but only for its own
/// channels and purposes; post stays blocked.
#[test]
fn r1_a_later_consent_restores_only_its_scope() {
    let scenario = Scenario::commercial()
        .given("2025-01-10", objection(OptOutMethod::InPerson))
        .given("2025-04-01", consent(&[Email], &[Commercial]))
        .labelled("fresh consent");
    scenario
        .when(email().at("2025-06-01"))
        .allowed(Consent)
        .fired("R1", Satisfied)
        .explains("R1", "superseded")
        .relies_on(&["fresh consent"]);
    scenario
        .when(post().at("2025-06-01"))
        .refused()
        .because("R1", "objection_recorded");
    scenario
        .when(email().campaigning().at("2025-06-01"))
        .refused()
        .because("R1", "objection_recorded");
}

/// R1, fail closed: a consent and an opt-out at the same instant - the
/// opt-out wins.
#[test]
fn r1_a_refusal_at_the_same_instant_as_a_consent_wins() {
    Scenario::commercial()
        .given("2025-03-01", consent(&[Email], &[Commercial]))
        .given("2025-03-01", opt_out(&[Email]))
        .when(email().at("2025-06-01"))
        .refused()
        .because("R1", "opted_out");
}

/// R1 and R2: only a consent that counts lifts an opt-out; a pre-ticked one
/// does not.
#[test]
fn r1_an_invalid_later_consent_does_not_lift_an_opt_out() {
    Scenario::commercial()
        .given("2025-03-01", opt_out(&[Email]))
        .given("2025-04-01", consent(&[Email], &[Commercial]).pre_ticked())
        .when(email().at("2025-06-01"))
        .refused()
        .because("R1", "opted_out")
        .because("R2", "consent_not_affirmative");
}

/// R1 and R0: objections concern marketing; a service message without
/// promotion still goes to an objector.
#[test]
fn r1_does_not_apply_to_a_service_message() {
    Scenario::commercial()
        .given("2025-03-01", objection(OptOutMethod::Letter))
        .when(email().service_message().at("2025-06-01"))
        .allowed(NotDirectMarketing)
        .fired("R1", NotApplicable);
}

/// R9, Art 17: after an erasure request the subject is suppressed on every
/// channel, service messages included, whatever consent exists.
#[test]
fn r9_erasure_refuses_every_channel() {
    let erased = consenting_customer()
        .given("2025-03-01", erasure())
        .labelled("erasure")
        .tps_screened_before("2025-06-01");
    for channel in Channel::ALL {
        let check = match channel {
            Channel::Email => email(),
            Channel::Sms => sms(),
            Channel::LiveCall => live_call("+447700900001"),
            Channel::AutomatedCall => automated_call("+447700900001"),
            Channel::Post => post(),
        };
        erased
            .when(check.clone().at("2025-06-01"))
            .refused()
            .fired("R9", Blocked)
            .only_because(&[("R9", "erasure_requested")])
            .reason_names("erasure_requested", &["erasure"])
            .cites("R9", "erasure_requested", "UK GDPR Art 17(1)(c)");
        erased
            .when(check.service_message().at("2025-06-01"))
            .refused()
            .only_because(&[("R9", "erasure_requested")]);
    }
}

/// R9: no later consent lifts an erasure (fail closed).
#[test]
fn r9_a_consent_after_erasure_does_not_lift_it() {
    consenting_customer()
        .given("2025-03-01", erasure())
        .given("2025-04-01", consent(&[Email], &[Commercial]))
        .when(email().at("2025-06-01"))
        .refused()
        .only_because(&[("R9", "erasure_requested")]);
}

/// The digest the ledger stores for an erased address (any sealed value
/// reads as `digest:` and 64 hex digits).
const ERASED_ADDRESS: &str =
    "digest:5b1f2a0c9d3e4f6071829a4b5c6d7e8f90112233445566778899aabbccddeeff";
const OTHER_ADDRESS: &str =
    "digest:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// Bob, a new customer id whose consent names the erased address.
fn erased_address_reimported_as_bob() -> Scenario {
    Scenario::commercial()
        .given_org(
            "2025-03-01",
            contacts_suppressed(&[ERASED_ADDRESS], SUBJECT),
        )
        .labelled("suppression")
        .given_elsewhere(
            ORG,
            Some("bob"),
            "2025-04-01",
            consent(&[Email], &[Commercial]),
        )
}

/// R9, Art 17(1)(c) and Art 21(3): erasure puts the subject's addresses on
/// the organisation's suppression list; a message to one of them is
/// refused whatever subject it is addressed to, consent included.
#[test]
fn r9_an_erased_address_stays_suppressed_under_a_new_customer_id() {
    erased_address_reimported_as_bob()
        .when(
            email()
                .about("bob")
                .to(email_address(ERASED_ADDRESS))
                .at("2025-06-01"),
        )
        .refused()
        .fired("R9", Blocked)
        .only_because(&[("R9", "contact_suppressed")])
        .reason_names("contact_suppressed", &["suppression"])
        .cites("R9", "contact_suppressed", "UK GDPR Art 17(1)(c)")
        .reason_says("contact_suppressed", "suppression list");
}

/// R9: the suppression list holds addresses, not people: Bob's other
/// address is his to consent for, and a check before the erasure is
/// decided on what was known then.
#[test]
fn r9_suppression_covers_only_the_erased_addresses_from_the_erasure_on() {
    let scenario = erased_address_reimported_as_bob();
    scenario
        .when(
            email()
                .about("bob")
                .to(email_address(OTHER_ADDRESS))
                .at("2025-06-01"),
        )
        .allowed(Consent)
        .fired("R9", Satisfied);
    Scenario::commercial()
        .given_elsewhere(
            ORG,
            Some("bob"),
            "2025-01-01",
            consent(&[Email], &[Commercial]),
        )
        .given_org(
            "2025-03-01",
            contacts_suppressed(&[ERASED_ADDRESS], SUBJECT),
        )
        .when(
            email()
                .about("bob")
                .to(email_address(ERASED_ADDRESS))
                .at("2025-02-01"),
        )
        .allowed(Consent)
        .fired("R9", Satisfied);
}
