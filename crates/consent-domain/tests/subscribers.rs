//! R3 Electronic mail to an individual subscriber needs consent or a soft
//! opt-in (PECR 2003 reg 22(1), 22(2)); corporate subscribers need neither,
//! but R1 objection and R6 (reg 23) still apply.

use consent_domain::vocabulary::{OptOutMethod, SubscriberType};
use consent_testkit::scenario::*;

/// R3, reg 22(1): a limited company (corporate subscriber) may be emailed
/// without consent; the decision rests on the declaration.
#[test]
fn r3_a_corporate_subscriber_needs_no_consent() {
    Scenario::commercial()
        .given("2025-01-10", subscriber(SubscriberType::Corporate))
        .labelled("declaration")
        .when(email().at("2025-06-01"))
        .allowed(CorporateSubscriber)
        .fired("R3", Satisfied)
        .fired("R3a", NotApplicable)
        .fired("R3b", NotApplicable)
        .relies_on(&["declaration"]);
}

/// R3 and R6, reg 23: a corporate subscriber still gets the sender's name
/// and an opt-out in every message.
#[test]
fn r3_corporate_messages_still_need_reg_23() {
    Scenario::commercial()
        .given("2025-01-10", subscriber(SubscriberType::Corporate))
        .when(
            email()
                .without_opt_out()
                .without_sender_identified()
                .at("2025-06-01"),
        )
        .refused()
        .only_because(&[
            ("R6", "no_opt_out_in_message"),
            ("R6", "sender_not_identified"),
        ]);
}

/// R3 and R1: a corporate subscriber's objection still wins.
#[test]
fn r3_a_corporate_subscribers_objection_still_wins() {
    Scenario::commercial()
        .given("2025-01-10", subscriber(SubscriberType::Corporate))
        .given("2025-02-01", objection(OptOutMethod::EmailReply))
        .when(email().at("2025-06-01"))
        .refused()
        .only_because(&[("R1", "objection_recorded")]);
}

/// R3, reg 22 and ICO: sole traders and ordinary partnerships are
/// individual subscribers and need consent or a soft opt-in.
#[test]
fn r3_sole_traders_and_partnerships_are_individuals() {
    for (kind, words) in [
        (SubscriberType::SoleTrader, "a sole trader"),
        (SubscriberType::Partnership, "an ordinary partnership"),
        (SubscriberType::Individual, "an individual subscriber"),
    ] {
        Scenario::commercial()
            .given("2025-01-10", subscriber(kind))
            .labelled("declaration")
            .when(sms().at("2025-06-01"))
            .refused()
            .because("R3", "no_basis_for_electronic_mail")
            .reason_says("no_basis_for_electronic_mail", words)
            .reason_names("no_basis_for_electronic_mail", &["declaration"]);
    }
}

/// R3, fail closed: with no declaration the subscriber is individual.
#[test]
fn r3_an_undeclared_subscriber_is_individual() {
    Scenario::commercial()
        .given("2025-01-10", contact(email_address("info@example.co.uk")))
        .when(email().at("2025-06-01"))
        .refused()
        .because("R3", "no_basis_for_electronic_mail")
        .reason_says(
            "no_basis_for_electronic_mail",
            "no subscriber type declared",
        );
}

/// R3: the latest declaration as of the check wins; a later one is not yet
/// known.
#[test]
fn r3_the_latest_declaration_as_of_the_check_wins() {
    let scenario = Scenario::commercial()
        .given("2025-01-10", subscriber(SubscriberType::Corporate))
        .given("2025-03-01", subscriber(SubscriberType::SoleTrader))
        .given("2025-09-01", subscriber(SubscriberType::Corporate));
    scenario
        .when(email().at("2025-02-01"))
        .allowed(CorporateSubscriber);
    scenario
        .when(email().at("2025-06-01"))
        .refused()
        .reason_says("no_basis_for_electronic_mail", "a sole trader");
    scenario
        .when(email().at("2025-10-01"))
        .allowed(CorporateSubscriber);
}
