//! R0 Scope: direct marketing (PECR 2003 reg 2 as amended by DUAA s.110;
//! before that DPA 2018 s.122(5)); ICO monetary penalties: American Express
//! (2021), Halfords (2019). And the ledger answers only for a sender and a
//! subject it knows (UK GDPR Art 5(2), fail closed).

use consent_domain::vocabulary::OptOutMethod;
use consent_testkit::scenario::*;

/// R0: a service message with no promotion ("your engineer will call at
/// 10am on Tuesday") is not direct marketing; the marketing rules do not
/// apply, even to someone who unsubscribed.
#[test]
fn r0_a_service_message_without_promotion_is_not_marketing() {
    Scenario::commercial()
        .given("2025-01-10", opt_out(&[Sms]))
        .when(sms().service_message().at("2025-06-01"))
        .allowed(NotDirectMarketing)
        .fired("R0", Satisfied)
        .explains("R0", "not direct marketing")
        .fired("R1", NotApplicable)
        .fired("R2", NotApplicable)
        .fired("R3", NotApplicable)
        .fired("R6", NotApplicable)
        .fired("R9", Satisfied)
        .relies_on(&[]);
}

/// R0, ICO v American Express (2021): "service" emails that promoted the
/// card's offers were marketing, sent to customers who had opted out.
#[test]
fn r0_american_express_service_emails_with_promotion_are_marketing() {
    Scenario::commercial()
        .given("2019-01-10", opt_out(&[Email]))
        .when(email().service_message().with_promotion().at("2020-06-01"))
        .refused()
        .fired("R0", Satisfied)
        .explains("R0", "American Express 2021")
        .because("R1", "opted_out")
        .because("R3", "no_basis_for_electronic_mail")
        .cites("R3", "no_basis_for_electronic_mail", "PECR 2003 reg 22");
}

/// R0, ICO v Halfords (2019): a "service" email about a voucher scheme
/// promoted a service, so it needed consent; with consent it is fine.
#[test]
fn r0_halfords_a_promotional_service_email_needs_a_basis() {
    let customer =
        Scenario::commercial().given("2021-01-10", contact(email_address("a@example.com")));
    customer
        .clone()
        .when(email().service_message().with_promotion().at("2021-06-01"))
        .refused()
        .only_because(&[
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3b", "no_sale_or_negotiation"),
        ]);
    customer
        .given("2021-02-01", consent(&[Email], &[Commercial]))
        .when(email().service_message().with_promotion().at("2021-06-01"))
        .allowed(Consent);
}

/// R0, fail closed: an organisation the ledger has no registration for is
/// refused, even for a service message.
#[test]
fn r0_an_unregistered_organisation_is_refused() {
    let unregistered = Scenario::empty().given("2025-01-10", consent(&[Email], &[Commercial]));
    unregistered
        .when(email().at("2025-06-01"))
        .refused()
        .only_because(&[("R0", "organisation_not_registered")])
        .cites("R0", "organisation_not_registered", "UK GDPR Art 5(2)");
    unregistered
        .when(email().service_message().at("2025-06-01"))
        .refused()
        .only_because(&[("R0", "organisation_not_registered")]);
}

/// R0: with both states empty every reason is given: the unregistered
/// sender (R0) and, for email, no basis (R3). A subject with no fact on
/// record is not by itself a reason.
#[test]
fn r0_an_empty_ledger_gives_every_reason() {
    Scenario::empty()
        .when(email().at("2025-06-01"))
        .refused()
        .only_because(&[
            ("R0", "organisation_not_registered"),
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3b", "no_sale_or_negotiation"),
        ]);
}

/// R0, fail closed: a check that names neither a subject nor an address
/// cannot be answered (the API refuses it before it gets here).
#[test]
fn r0_a_check_must_name_a_subject_or_an_address() {
    Scenario::commercial()
        .when(
            post()
                .only_to(postal("1 High St, Leeds LS1 1AA"))
                .without_contact_point()
                .at("2025-06-01"),
        )
        .refused()
        .only_because(&[("R0", "addressee_unknown")])
        .cites("R0", "addressee_unknown", "UK GDPR Art 5(2)");
}

/// R0: a contact point that cannot receive the channel (an SMS to an email
/// address) is refused.
#[test]
fn r0_a_contact_point_must_fit_the_channel() {
    Scenario::commercial()
        .given("2025-01-10", consent(&[Sms], &[Commercial]))
        .when(
            sms()
                .to(email_address("alice@example.com"))
                .at("2025-06-01"),
        )
        .refused()
        .only_because(&[("R0", "contact_point_not_for_channel")]);
}

/// R0 and R1: an objection does not stop a pure service message, but a
/// promotional one is marketing and is stopped.
#[test]
fn r0_promotion_turns_a_service_message_into_marketing_for_an_objector() {
    let objector = Scenario::commercial().given("2025-01-10", objection(OptOutMethod::Call));
    objector
        .when(email().service_message().at("2025-06-01"))
        .allowed(NotDirectMarketing);
    objector
        .when(email().service_message().with_promotion().at("2025-06-01"))
        .refused()
        .because("R1", "objection_recorded");
}
