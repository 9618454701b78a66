//! R7 Post: no PECR consent; a UK GDPR basis, usually legitimate interests
//! (UK GDPR Art 6(1)(f), Art 21(3)); R1 applies.

use consent_domain::vocabulary::OptOutMethod;
use consent_testkit::scenario::*;

fn customer() -> Scenario {
    Scenario::commercial().given("2024-01-10", contact(postal("1 High Street, Leeds")))
}

/// R7, Art 6(1)(f): a letter needs no consent; legitimate interests.
#[test]
fn r7_post_relies_on_legitimate_interests() {
    customer()
        .when(post().at("2025-06-01"))
        .allowed(LegitimateInterests)
        .fired("R7", Satisfied)
        .fired("R3", NotApplicable)
        .fired("R6", NotApplicable)
        .only_because(&[]);
}

/// R7: where a consent covers post, the letter rests on it.
#[test]
fn r7_post_with_consent_rests_on_consent() {
    customer()
        .given("2025-01-10", consent(&[Post], &[Commercial]))
        .labelled("consent")
        .when(post().at("2025-06-01"))
        .allowed(Consent)
        .relies_on(&["consent"]);
}

/// R7 and R1, Art 21(3): an objection stops post.
#[test]
fn r7_an_objection_stops_post() {
    customer()
        .given("2025-02-01", objection(OptOutMethod::Letter))
        .when(post().at("2025-06-01"))
        .refused()
        .only_because(&[("R1", "objection_recorded")]);
}

/// R7 and R1: an opt-out of post stops post; an opt-out of email does not.
#[test]
fn r7_only_an_opt_out_covering_post_stops_it() {
    customer()
        .given("2025-02-01", opt_out(&[Post]))
        .when(post().at("2025-06-01"))
        .refused()
        .only_because(&[("R1", "opted_out")]);
    customer()
        .given("2025-02-01", opt_out(&[Email]))
        .when(post().at("2025-06-01"))
        .allowed(LegitimateInterests);
}

/// R7 and R2: an invalid consent does not matter where legitimate
/// interests suffice; R2's failure is not a reason against.
#[test]
fn r7_an_invalid_consent_does_not_stop_post() {
    customer()
        .given("2025-01-10", consent(&[Post], &[Commercial]).pre_ticked())
        .when(post().at("2025-06-01"))
        .allowed(LegitimateInterests)
        .fired("R2", Failed)
        .only_because(&[]);
}
