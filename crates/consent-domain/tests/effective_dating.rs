//! R8 Effective dating: a decision names its rule set; "as of T" counts
//! only facts with occurred_at <= T; by default the rule set in force at T
//! (PECR 2003 (SI 2003/2426); DUAA 2025 commencement SI 2026/82).

use consent_domain::rules::{RuleCatalogue, RuleSetId};
use consent_testkit::scenario::*;

/// R8: a consent that occurs after T is not known at T.
#[test]
fn r8_a_fact_after_the_check_is_ignored() {
    let scenario = Scenario::commercial()
        .given("2025-01-01", contact(email_address("alice@example.com")))
        .given("2025-06-02", consent(&[Email], &[Commercial]))
        .labelled("consent");
    scenario
        .when(email().at("2025-06-01"))
        .refused()
        .because("R3a", "no_consent")
        .relies_on(&[]);
    scenario
        .when(email().at("2025-06-02"))
        .allowed(Consent)
        .relies_on(&["consent"]);
}

/// R8 and R1: an opt-out recorded after T does not refuse a check at T.
#[test]
fn r8_an_opt_out_after_the_check_does_not_count_yet() {
    let scenario = Scenario::commercial()
        .given("2025-01-01", consent(&[Email], &[Commercial]))
        .given("2025-07-01", opt_out(&[Email]));
    scenario.when(email().at("2025-06-30")).allowed(Consent);
    scenario
        .when(email().at("2025-07-01"))
        .refused()
        .because("R1", "opted_out");
}

/// R8 and R3b: the organisation's category map as of T decides similarity;
/// a redefinition after T is not yet known.
#[test]
fn r8_the_category_map_as_of_the_check_decides() {
    let scenario = Scenario::commercial()
        .given_org("2020-01-01", categories(&[("cars", &["servicing"])]))
        .given_org("2025-07-01", categories(&[("cars", &[])]))
        .given("2025-01-10", sale("cars"));
    scenario
        .when(email().category("servicing").at("2025-06-01"))
        .allowed(SoftOptIn);
    scenario
        .when(email().category("servicing").at("2025-08-01"))
        .refused()
        .because("R3b", "category_not_similar");
}

/// R8: an organisation registered after T is unknown at T.
#[test]
fn r8_a_registration_after_the_check_is_not_known() {
    Scenario::empty()
        .given_org("2025-07-01", registered_commercial())
        .given("2025-01-01", consent(&[Email], &[Commercial]))
        .when(email().at("2025-06-01"))
        .refused()
        .only_because(&[("R0", "organisation_not_registered")]);
}

fn registered_commercial() -> consent_domain::event::Fact {
    registered(consent_domain::vocabulary::OrganisationKind::Commercial)
}

/// R8: by default the rule set in force at T decides, and the decision
/// names it; the DUAA rule set takes over at midnight on 5 February 2026.
#[test]
fn r8_the_rule_set_in_force_at_the_check_is_used_by_default() {
    let scenario = Scenario::commercial().given("2025-01-01", consent(&[Email], &[Commercial]));
    scenario
        .when(email().at("2026-02-04T23:59:59Z"))
        .under_rule_set("uk-pecr-2003")
        .explains("R8", "Decided under uk-pecr-2003");
    scenario
        .when(email().at("2026-02-05"))
        .under_rule_set("uk-pecr-duaa-2026-02-05")
        .explains("R8", "in effect from 2026-02-05T00:00:00Z");
}

/// R8: an explicitly requested older rule set is honoured after a newer one
/// took effect.
#[test]
fn r8_a_requested_rule_set_is_honoured() {
    Scenario::commercial()
        .given("2025-01-01", consent(&[Email], &[Commercial]))
        .when(email().at("2027-01-01").under("uk-pecr-2003"))
        .allowed(Consent)
        .under_rule_set("uk-pecr-2003")
        .explains("R8", "as requested");
}

/// R8: asking for a rule set the catalogue does not have is an error that
/// names it, not a silent default.
#[test]
fn r8_an_unknown_rule_set_is_an_error_naming_it() {
    let uk = RuleCatalogue::uk();
    let error = uk
        .select(Some(&RuleSetId::from("uk-pecr-2099")), day("2026-03-01"))
        .err()
        .map(|e| e.to_string());
    assert_eq!(error.as_deref(), Some("unknown rule set `uk-pecr-2099`"));
    assert!(uk.select(None, day("2003-12-10")).is_err());
    assert_eq!(
        uk.in_force_at(day("2003-12-11")).map(|r| r.id.as_str()),
        Some("uk-pecr-2003")
    );
}
