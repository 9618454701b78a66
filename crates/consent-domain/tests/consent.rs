//! R2 Demonstrable consent (UK GDPR Art 4(11), 7(1), 7(3), 7(4)) and R3a
//! consent to this sender for this channel and purpose (PECR 2003 reg
//! 22(2); ICO guidance on indirect consent).

use consent_domain::vocabulary::{CollectionMethod, CollectionRoute};
use consent_testkit::scenario::*;

/// R3a, reg 22(2): a first-party consent by an unticked box, wording
/// recorded, covering email for commercial marketing, is relied on.
#[test]
fn r3a_first_party_consent_allows_the_channel_it_covers() {
    Scenario::commercial()
        .given("2025-01-10", consent(&[Email, Sms], &[Commercial]))
        .labelled("consent")
        .when(email().at("2025-06-01"))
        .allowed(Consent)
        .fired("R2", Satisfied)
        .fired("R3a", Satisfied)
        .fired("R3b", Failed)
        .only_because(&[])
        .relies_on(&["consent"]);
}

/// R2, Art 4(11) and ICO: a pre-ticked box is not a clear affirmative act,
/// so it is not consent; every reason is given.
#[test]
fn r2_a_pre_ticked_box_is_not_consent() {
    Scenario::commercial()
        .given("2025-01-10", consent(&[Email], &[Commercial]).pre_ticked())
        .labelled("pre-ticked")
        .when(email().at("2025-06-01"))
        .refused()
        .fired("R2", Failed)
        .only_because(&[
            ("R2", "consent_not_affirmative"),
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3b", "no_sale_or_negotiation"),
        ])
        .reason_says("consent_not_affirmative", "a pre-ticked box")
        .reason_names("consent_not_affirmative", &["pre-ticked"])
        .cites("R2", "consent_not_affirmative", "UK GDPR Art 4(11)");
}

/// R2, Art 4(11): consent inferred from conduct is not consent either.
#[test]
fn r2_inferred_consent_is_not_consent() {
    Scenario::commercial()
        .given(
            "2025-01-10",
            consent(&[Email], &[Commercial]).method(CollectionMethod::Inferred),
        )
        .when(email().at("2025-06-01"))
        .refused()
        .because("R2", "consent_not_affirmative")
        .reason_says("consent_not_affirmative", "inference from conduct");
}

/// R2, Art 4(11) and 7(1): double opt-in, recorded verbal and signed
/// consent are all affirmative acts.
#[test]
fn r2_every_affirmative_method_is_consent() {
    for method in [
        CollectionMethod::UntickedCheckbox,
        CollectionMethod::DoubleOptIn,
        CollectionMethod::VerbalRecorded,
        CollectionMethod::WrittenSigned,
    ] {
        Scenario::commercial()
            .given(
                "2025-01-10",
                consent(&[Email], &[Commercial]).method(method),
            )
            .when(email().at("2025-06-01"))
            .allowed(Consent);
    }
}

/// R2, Art 7(4): consent made a condition of the service is not freely
/// given.
#[test]
fn r2_consent_as_a_condition_of_service_is_not_freely_given() {
    Scenario::commercial()
        .given(
            "2025-01-10",
            consent(&[Email], &[Commercial]).condition_of_service(),
        )
        .when(email().at("2025-06-01"))
        .refused()
        .because("R2", "consent_condition_of_service");
}

/// R2, Art 7(1): the controller must be able to show what was agreed to;
/// without the wording's version and hash the consent is not demonstrable.
#[test]
fn r2_consent_without_its_wording_cannot_be_demonstrated() {
    Scenario::commercial()
        .given(
            "2025-01-10",
            consent(&[Email], &[Commercial]).without_wording(),
        )
        .when(email().at("2025-06-01"))
        .refused()
        .because("R2", "consent_wording_not_recorded");
}

/// R3a, reg 22(2): consent is specific. Consent to email is not consent to
/// SMS, and consent to product news is not consent to campaigning.
#[test]
fn r3a_consent_covers_only_its_channels_and_purposes() {
    let email_only = Scenario::commercial().given("2025-01-10", consent(&[Email], &[Commercial]));
    email_only
        .when(sms().at("2025-06-01"))
        .refused()
        .fired("R2", NotApplicable)
        .because("R3a", "no_consent")
        .reason_says("no_consent", "it covers email, not SMS");
    email_only
        .when(email().campaigning().at("2025-06-01"))
        .refused()
        .because("R3a", "no_consent");
}

/// R3a and ICO guidance on indirect consent: consent collected by a third
/// party counts when it names this sender specifically.
#[test]
fn r3a_third_party_consent_naming_the_sender_counts() {
    Scenario::commercial()
        .given(
            "2025-03-01",
            consent(&[Email], &[Commercial]).collected_by("comparison-site", &["acme", "other"]),
        )
        .when(email().at("2025-06-01"))
        .allowed(Consent);
}

/// R3a, ICO: "selected partners" names no one, so it is not consent to
/// this sender.
#[test]
fn r3a_consent_to_selected_partners_is_not_consent_to_this_sender() {
    Scenario::commercial()
        .given(
            "2025-03-01",
            consent(&[Email], &[Commercial]).collected_by("comparison-site", &[]),
        )
        .when(email().at("2025-06-01"))
        .refused()
        .only_because(&[
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3a", "third_party_consent_not_naming_sender"),
            ("R3b", "no_sale_or_negotiation"),
        ])
        .reason_says(
            "third_party_consent_not_naming_sender",
            "\"selected partners\"",
        );
}

/// R3a, ICO guidance: bought-in consent is not relied on after about six
/// months; the rule set fixes 183 days (day 183 counts, day 184 does not).
#[test]
fn r3a_third_party_consent_older_than_183_days_is_not_relied_on() {
    let given = day("2025-01-01");
    let scenario = Scenario::commercial().given_at(
        given,
        consent(&[Email], &[Commercial]).collected_by("comparison-site", &["acme"]),
    );
    scenario
        .when(email().at_time(days_after(given, 183)))
        .allowed(Consent);
    scenario
        .when(email().at_time(days_after(given, 184)))
        .refused()
        .because("R3a", "third_party_consent_too_old")
        .reason_says("third_party_consent_too_old", "older than 183 days");
}

/// R3a: first-party consent does not age.
#[test]
fn r3a_first_party_consent_does_not_expire() {
    Scenario::commercial()
        .given("2020-02-01", consent(&[Email], &[Commercial]))
        .when(email().at("2025-06-01"))
        .allowed(Consent);
}

/// R3a and R3b, ICO on bought-in lists (and the Saga penalties): a list
/// bought from a broker and mailed under "consent to selected partners" has
/// neither consent to this sender nor a soft opt-in.
#[test]
fn r3a_buying_a_list_and_mailing_it_under_selected_partners() {
    Scenario::commercial()
        .given_org("2020-01-01", categories(&[("holidays", &[])]))
        .given(
            "2025-04-01",
            consent(&[Email, Sms], &[Commercial]).collected_by("list-broker", &[]),
        )
        .given(
            "2025-04-01",
            sale("holidays").via(CollectionRoute::ThirdParty),
        )
        .when(email().category("holidays").at("2025-06-01"))
        .refused()
        .only_because(&[
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3a", "third_party_consent_not_naming_sender"),
            ("R3b", "details_not_collected_directly"),
        ]);
}

/// R2, Art 7(3) and R1: withdrawal removes the earlier consent for its
/// scope; only a later fresh consent restores eligibility, and the decision
/// then rests on the fresh one.
#[test]
fn r2_withdrawal_then_fresh_consent() {
    let withdrawn = Scenario::commercial()
        .given("2025-01-10", consent(&[Email], &[Commercial]))
        .labelled("first consent")
        .given("2025-03-01", withdrawal(&[Email], &[]))
        .labelled("withdrawal");
    withdrawn
        .clone()
        .when(email().at("2025-04-01"))
        .refused()
        .fired("R2", Failed)
        .because("R2", "consent_withdrawn")
        .reason_names("consent_withdrawn", &["first consent", "withdrawal"]);
    withdrawn
        .given("2025-05-01", consent(&[Email], &[Commercial]))
        .labelled("fresh consent")
        .when(email().at("2025-06-01"))
        .allowed(Consent)
        .relies_on(&["fresh consent"]);
}

/// R2, Art 7(3): a withdrawal covers only its scope; the email consent
/// survives withdrawing SMS.
#[test]
fn r2_withdrawal_covers_only_its_scope() {
    let scenario = Scenario::commercial()
        .given("2025-01-10", consent(&[Email, Sms], &[Commercial]))
        .given("2025-03-01", withdrawal(&[Sms], &[Commercial]));
    scenario.when(email().at("2025-06-01")).allowed(Consent);
    scenario
        .when(sms().at("2025-06-01"))
        .refused()
        .because("R2", "consent_withdrawn");
}

/// R3a: consent given for one address is not consent for another.
#[test]
fn r3a_consent_is_for_the_address_it_was_given_for() {
    let scenario = Scenario::commercial().given(
        "2025-01-10",
        consent(&[Email], &[Commercial]).for_address(email_address("alice@example.com")),
    );
    scenario
        .when(
            email()
                .to(email_address("alice@example.com"))
                .at("2025-06-01"),
        )
        .allowed(Consent);
    scenario
        .when(
            email()
                .to(email_address("alice@work.example"))
                .at("2025-06-01"),
        )
        .refused()
        .because("R3a", "consent_contact_point_differs");
}

/// R2 and R3 combine: with valid consent, a failed soft opt-in is no
/// reason against; with a pre-ticked consent, a valid soft opt-in is the
/// basis and R2's failure is no reason against either.
#[test]
fn r2_failures_of_an_alternative_are_not_reasons_when_a_basis_holds() {
    Scenario::commercial()
        .given_org("2020-01-01", categories(&[("cars", &[])]))
        .given("2025-01-10", consent(&[Email], &[Commercial]).pre_ticked())
        .given("2025-01-10", sale("cars"))
        .when(email().category("cars").at("2025-06-01"))
        .allowed(SoftOptIn)
        .fired("R2", Failed)
        .fired("R3a", Failed)
        .fired("R3b", Satisfied)
        .only_because(&[]);
}
