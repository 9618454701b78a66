//! R3c Charity soft opt-in: PECR 2003 reg 22(3A), inserted by Data (Use
//! and Access) Act 2025 s.114; in force 5 February 2026 (SI 2026/82). Only
//! in rule set `uk-pecr-duaa-2026-02-05`.

use consent_domain::vocabulary::{CollectionRoute, OrganisationKind, SupportKind};
use consent_testkit::scenario::*;

const PECR_2003: &str = "uk-pecr-2003";
const DUAA: &str = "uk-pecr-duaa-2026-02-05";

/// R3c: a donation given directly to the charity after 5 February 2026,
/// opt-out offered and not taken, supports a fundraising email.
#[test]
fn r3c_a_donor_after_5_february_2026_may_be_emailed() {
    Scenario::charity()
        .given("2026-02-10", support(SupportKind::Donation))
        .labelled("donation")
        .when(email().charitable().at("2026-03-01"))
        .allowed(CharitySoftOptIn)
        .under_rule_set(DUAA)
        .fired("R3c", Satisfied)
        .fired("R3b", Failed)
        .only_because(&[])
        .relies_on_kinds(&["organisation_registered", "charity_support_recorded"])
        .cites_rule("R3c", "Data (Use and Access) Act 2025 s.114");
}

/// R3c, "on or after": support given on 5 February 2026 itself qualifies.
#[test]
fn r3c_support_on_the_commencement_date_qualifies() {
    Scenario::charity()
        .given("2026-02-05", support(SupportKind::Volunteering))
        .when(sms().charitable().at("2026-02-06"))
        .allowed(CharitySoftOptIn);
}

/// R3c, not retrospective: before 5 February 2026 a charity has no soft
/// opt-in at all; the rule set in force then does not have R3c.
#[test]
fn r3c_before_5_february_2026_a_charity_has_no_soft_opt_in() {
    Scenario::charity()
        .given("2026-01-10", support(SupportKind::Donation))
        .when(email().charitable().at("2026-01-15"))
        .refused()
        .under_rule_set(PECR_2003)
        .not_in_rule_set("R3c")
        .only_because(&[
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3b", "no_sale_or_negotiation"),
            ("R3b", "soft_opt_in_commercial_only"),
        ])
        .reason_says("no_basis_for_electronic_mail", "has no charity soft opt-in");
}

/// R3c, not retrospective: a supporter from before the date does not
/// qualify under the new rule set either, until they give again after it.
#[test]
fn r3c_an_earlier_supporter_qualifies_by_giving_again() {
    let earlier = Scenario::charity()
        .given("2025-06-01", support(SupportKind::Donation))
        .labelled("2025 donation");
    earlier
        .clone()
        .when(email().charitable().at("2026-03-01"))
        .refused()
        .under_rule_set(DUAA)
        .because("R3c", "support_before_charity_soft_opt_in")
        .reason_names("support_before_charity_soft_opt_in", &["2025 donation"]);
    earlier
        .given("2026-02-20", support(SupportKind::Donation))
        .labelled("2026 donation")
        .when(email().charitable().at("2026-03-01"))
        .allowed(CharitySoftOptIn)
        .relies_on(&["2026 donation", "charity registration"]);
}

/// R3c: details obtained through a trading subsidiary, a fundraising
/// platform or a third party are not obtained by the charity itself.
#[test]
fn r3c_details_via_a_trading_subsidiary_or_platform_do_not_count() {
    for route in [
        CollectionRoute::TradingSubsidiary,
        CollectionRoute::FundraisingPlatform,
        CollectionRoute::ThirdParty,
    ] {
        Scenario::charity()
            .given("2026-02-10", support(SupportKind::Donation).via(route))
            .when(email().charitable().at("2026-03-01"))
            .refused()
            .only_because(&[
                ("R3", "no_basis_for_electronic_mail"),
                ("R3a", "no_consent"),
                ("R3b", "no_sale_or_negotiation"),
                ("R3b", "soft_opt_in_commercial_only"),
                ("R3c", "support_not_collected_directly"),
            ]);
    }
}

/// R3c, reg 22(3A)(a): the message's sole purpose must be furthering the
/// charity's charitable purposes.
#[test]
fn r3c_the_message_must_be_solely_charitable() {
    Scenario::charity()
        .given("2026-02-10", support(SupportKind::Donation))
        .when(email().partly_charitable().at("2026-03-01"))
        .refused()
        .because("R3c", "not_sole_charitable_purpose");
}

/// R3c: only charities; a not-for-profit that is not a charity, with the
/// same supporter, has no charity soft opt-in.
#[test]
fn r3c_only_a_registered_charity_with_its_number() {
    Scenario::empty()
        .given_org(
            "2020-01-01",
            registered(OrganisationKind::OtherNotForProfit),
        )
        .given("2026-02-10", support(SupportKind::Membership))
        .when(email().charitable().at("2026-03-01"))
        .refused()
        .because("R3c", "not_a_charity");
    Scenario::empty()
        .given_org("2020-01-01", charity_registered(" "))
        .given("2026-02-10", support(SupportKind::Membership))
        .when(email().charitable().at("2026-03-01"))
        .refused()
        .because("R3c", "charity_register_number_missing");
}

/// R3c, reg 22(3A)(c): an opt-out must have been offered at collection and
/// not taken, and no refusal since.
#[test]
fn r3c_opt_out_at_collection_and_no_refusal_since() {
    Scenario::charity()
        .given(
            "2026-02-10",
            support(SupportKind::Donation).no_opt_out_offered(),
        )
        .when(email().charitable().at("2026-03-01"))
        .refused()
        .because("R3c", "no_opt_out_offered_at_collection");
    Scenario::charity()
        .given("2026-02-10", support(SupportKind::Donation).opt_out_taken())
        .when(email().charitable().at("2026-03-01"))
        .refused()
        .because("R3c", "opt_out_taken_at_collection");
    Scenario::charity()
        .given("2026-02-10", support(SupportKind::Donation))
        .given("2026-02-20", opt_out(&[Email]))
        .when(email().charitable().at("2026-03-01"))
        .refused()
        .because("R1", "opted_out")
        .because("R3c", "refused_marketing");
}

/// R3c and R6: the message must carry an opt-out.
#[test]
fn r3c_every_message_must_carry_an_opt_out() {
    Scenario::charity()
        .given("2026-02-10", support(SupportKind::ExpressedInterest))
        .when(email().charitable().without_opt_out().at("2026-03-01"))
        .refused()
        .because("R3c", "no_opt_out_in_message")
        .because("R6", "no_opt_out_in_message");
}

/// R3c: without recorded support there is nothing to rely on.
#[test]
fn r3c_needs_recorded_support() {
    Scenario::charity()
        .given("2026-02-10", contact(email_address("alice@example.com")))
        .when(email().charitable().at("2026-03-01"))
        .refused()
        .because("R3c", "no_charity_support_recorded");
}

/// R3b for charities: a charity selling goods in its shop may use the
/// commercial soft opt-in, before and after DUAA, for similar goods.
#[test]
fn r3b_a_charity_shop_sale_supports_commercial_marketing() {
    Scenario::charity()
        .given_org("2020-01-01", categories(&[("books", &[])]))
        .given("2025-06-01", sale("books"))
        .when(email().category("books").at("2025-07-01"))
        .allowed(SoftOptIn)
        .under_rule_set(PECR_2003);
}

/// R8 and R3c: the same facts under the two rule sets. Replaying a
/// post-commencement donation under the 2003 rule set refuses; under the
/// DUAA rule set it is allowed; no stored event changes.
#[test]
fn r8_the_same_facts_under_the_two_rule_sets() {
    let donor = Scenario::charity().given("2026-02-10", support(SupportKind::Donation));
    donor
        .when(email().charitable().at("2026-03-01").under(PECR_2003))
        .refused()
        .under_rule_set(PECR_2003)
        .not_in_rule_set("R3c");
    donor
        .when(email().charitable().at("2026-03-01").under(DUAA))
        .allowed(CharitySoftOptIn)
        .under_rule_set(DUAA);
    donor
        .when(email().charitable().at("2026-03-01"))
        .allowed(CharitySoftOptIn)
        .under_rule_set(DUAA);
}

/// R8: replaying 2025 under the DUAA rule set still refuses a 2025
/// supporter (not retrospective), and the decision says it is a replay.
#[test]
fn r8_replaying_history_under_the_later_rule_set() {
    Scenario::charity()
        .given("2025-11-01", support(SupportKind::Donation))
        .when(email().charitable().at("2025-12-01").under(DUAA))
        .refused()
        .under_rule_set(DUAA)
        .fired("R3c", Failed)
        .because("R3c", "support_before_charity_soft_opt_in")
        .explains("R8", "replay under a later rule set");
}
