//! R6 Every electronic marketing message identifies the sender and offers
//! an opt-out (PECR 2003 reg 23; reg 22(3)(c)).

use consent_testkit::scenario::*;

fn consenting() -> Scenario {
    Scenario::commercial().given("2025-01-10", consent(&[Email, Sms, Post], &[Commercial]))
}

/// R6, reg 23: a message that conceals the sender is refused, consent or
/// not.
#[test]
fn r6_the_sender_must_be_identified() {
    consenting()
        .when(email().without_sender_identified().at("2025-06-01"))
        .refused()
        .fired("R6", Blocked)
        .fired("R3", Satisfied)
        .only_because(&[("R6", "sender_not_identified")])
        .cites("R6", "sender_not_identified", "PECR 2003 reg 23");
}

/// R6, reg 23: both defects are reported.
#[test]
fn r6_every_missing_element_is_a_reason() {
    consenting()
        .when(
            sms()
                .without_sender_identified()
                .without_opt_out()
                .at("2025-06-01"),
        )
        .refused()
        .only_because(&[
            ("R6", "sender_not_identified"),
            ("R6", "no_opt_out_in_message"),
        ]);
}

/// R6 applies to electronic mail only: a letter without an opt-out is not
/// refused by it.
#[test]
fn r6_does_not_apply_to_post() {
    consenting()
        .when(
            post()
                .without_opt_out()
                .without_sender_identified()
                .at("2025-06-01"),
        )
        .allowed(Consent)
        .fired("R6", NotApplicable);
}
