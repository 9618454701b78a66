//! R3b Commercial soft opt-in, PECR 2003 reg 22(3); ICO guidance on
//! electronic mail marketing. All five conditions must hold, only for
//! commercial marketing, and any refusal ends it.

use consent_domain::vocabulary::{CollectionRoute, NegotiationKind, OptOutMethod, Purpose};
use consent_testkit::scenario::*;

/// A car dealer: car buyers reasonably expect servicing and MOT offers.
fn car_dealer() -> Scenario {
    Scenario::commercial()
        .given_org(
            "2020-01-01",
            categories(&[
                ("cars", &["servicing", "mot"]),
                ("servicing", &[]),
                ("insurance", &[]),
            ]),
        )
        .labelled("category map")
}

/// R3b, reg 22(3)(a)-(c): a car buyer may be emailed about servicing (ICO's
/// own example), relying on the sale, the category map and the registration.
#[test]
fn r3b_car_buyer_may_be_emailed_about_servicing() {
    car_dealer()
        .given("2025-01-10", sale("cars"))
        .labelled("car sale")
        .when(email().category("servicing").at("2025-06-01"))
        .allowed(SoftOptIn)
        .fired("R3", Satisfied)
        .fired("R3a", Failed)
        .fired("R3b", Satisfied)
        .explains("R3b", "servicing is similar to cars")
        .relies_on_kinds(&[
            "organisation_registered",
            "product_categories_defined",
            "sale_recorded",
        ])
        .only_because(&[]);
}

/// R3b, reg 22(3)(b): MOTs are what a car buyer expects too, by SMS as well.
#[test]
fn r3b_car_buyer_may_be_texted_about_mots() {
    car_dealer()
        .given("2025-01-10", sale("cars"))
        .when(sms().category("mot").at("2025-06-01"))
        .allowed(SoftOptIn);
}

/// R3b, reg 22(3)(b) "similar products and services only": insurance is not
/// in the car buyer's expectations, so the soft opt-in does not reach it.
#[test]
fn r3b_car_buyer_may_not_be_emailed_about_an_unrelated_category() {
    car_dealer()
        .given("2025-01-10", sale("cars"))
        .labelled("car sale")
        .when(email().category("insurance").at("2025-06-01"))
        .refused()
        .fired("R3b", Failed)
        .only_because(&[
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3b", "category_not_similar"),
        ])
        .reason_names("category_not_similar", &["car sale", "category map"])
        .cites("R3b", "category_not_similar", "PECR 2003 reg 22(3)");
}

/// R3b, reg 22(3)(b), ICO: "a supermarket shopper expects a wide range; a
/// specialist store's customer a narrow one". The same marketed category is
/// similar for one and not for the other, as each organisation's map says.
#[test]
fn r3b_similarity_is_wide_for_a_supermarket_and_narrow_for_a_specialist() {
    let supermarket = Scenario::commercial().given_org(
        "2020-01-01",
        categories(&[("groceries", &["household", "wine", "garden-furniture"])]),
    );
    let climbing_shop = Scenario::commercial().given_org(
        "2020-01-01",
        categories(&[("climbing-ropes", &["harnesses", "carabiners"])]),
    );
    supermarket
        .given("2025-03-01", sale("groceries"))
        .when(email().category("garden-furniture").at("2025-06-01"))
        .allowed(SoftOptIn);
    climbing_shop
        .clone()
        .given("2025-03-01", sale("climbing-ropes"))
        .when(email().category("harnesses").at("2025-06-01"))
        .allowed(SoftOptIn);
    climbing_shop
        .given("2025-03-01", sale("climbing-ropes"))
        .when(email().category("garden-furniture").at("2025-06-01"))
        .refused()
        .because("R3b", "category_not_similar");
}

/// R3b, reg 22(3)(a) "negotiations for the sale": a quote request, or a
/// request for details of what is offered, is a negotiation; nothing need
/// have been bought.
#[test]
fn r3b_a_quote_request_counts_as_negotiation_for_a_sale() {
    for kind in [
        NegotiationKind::QuoteRequested,
        NegotiationKind::DetailsRequested,
    ] {
        car_dealer()
            .given("2025-02-01", negotiation("cars", kind))
            .when(email().category("cars").at("2025-06-01"))
            .allowed(SoftOptIn)
            .relies_on_kinds(&[
                "organisation_registered",
                "product_categories_defined",
                "negotiation_recorded",
            ]);
    }
}

/// R3b, ICO: "it is not enough simply to send any query" - a general
/// enquiry is not a negotiation for a sale.
#[test]
fn r3b_a_general_enquiry_is_not_a_negotiation() {
    car_dealer()
        .given(
            "2025-02-01",
            negotiation("cars", NegotiationKind::GeneralEnquiry),
        )
        .when(email().category("cars").at("2025-06-01"))
        .refused()
        .only_because(&[
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3b", "not_negotiation_for_sale"),
        ]);
}

/// R3b condition 4, reg 22(3)(c) (ICO v Papa John's, 2022): no opt-out was
/// offered when the details were taken, so there is no soft opt-in at all.
#[test]
fn r3b_papa_johns_no_opt_out_offered_at_collection() {
    car_dealer()
        .given("2025-01-10", sale("cars").no_opt_out_offered())
        .when(sms().category("servicing").at("2025-06-01"))
        .refused()
        .only_because(&[
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3b", "no_opt_out_offered_at_collection"),
        ]);
}

/// R3b condition 4, reg 22(3)(c): the customer took the opt-out offered at
/// the checkout; that refusal also stands against a later sale where they
/// did not tick it again.
#[test]
fn r3b_opt_out_taken_at_collection_ends_the_soft_opt_in() {
    let refused_at_checkout = car_dealer()
        .given("2025-01-10", sale("cars").opt_out_taken())
        .labelled("first sale");
    refused_at_checkout
        .clone()
        .when(email().category("servicing").at("2025-06-01"))
        .refused()
        .because("R3b", "opt_out_taken_at_collection")
        .reason_names("opt_out_taken_at_collection", &["first sale"]);
    refused_at_checkout
        .given("2025-03-01", sale("servicing"))
        .when(email().category("servicing").at("2025-06-01"))
        .refused()
        .fired("R3b", Failed)
        .because("R3b", "opt_out_taken_at_collection");
}

/// R3b condition 1, reg 22(3)(a) "obtained the contact details": details
/// from a third party or shared by a group company never carry a soft
/// opt-in, whatever the sale.
#[test]
fn r3b_details_not_collected_directly_do_not_count() {
    for route in [CollectionRoute::ThirdParty, CollectionRoute::GroupCompany] {
        car_dealer()
            .given("2025-01-10", sale("cars").via(route))
            .when(email().category("servicing").at("2025-06-01"))
            .refused()
            .only_because(&[
                ("R3", "no_basis_for_electronic_mail"),
                ("R3a", "no_consent"),
                ("R3b", "details_not_collected_directly"),
            ]);
    }
}

/// R3b condition 1: a sister company cannot rely on another company's
/// sale. The sale is in acme-motors' ledger; acme-insurance has none.
#[test]
fn r3b_a_sister_company_cannot_rely_on_another_companys_sale() {
    let group = Scenario::empty()
        .given_elsewhere("acme-motors", None, "2020-01-01", registered_commercial())
        .given_elsewhere(
            "acme-motors",
            None,
            "2020-01-01",
            categories(&[("cars", &["insurance"])]),
        )
        .given_elsewhere(
            "acme-insurance",
            None,
            "2020-01-01",
            registered_commercial(),
        )
        .given_elsewhere(
            "acme-insurance",
            None,
            "2020-01-01",
            categories(&[("cars", &["insurance"])]),
        )
        .given_elsewhere("acme-motors", Some(SUBJECT), "2025-01-10", sale("cars"));
    group
        .when(
            email()
                .from("acme-motors")
                .category("insurance")
                .at("2025-06-01"),
        )
        .allowed(SoftOptIn);
    group
        .when(
            email()
                .from("acme-insurance")
                .category("insurance")
                .at("2025-06-01"),
        )
        .refused()
        .only_because(&[
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3b", "no_sale_or_negotiation"),
        ]);
}

fn registered_commercial() -> consent_domain::event::Fact {
    registered(consent_domain::vocabulary::OrganisationKind::Commercial)
}

/// R1 and R3b, reg 22(3)(c): an unsubscribe after the sale ends the soft
/// opt-in on the channel it names; the other channel is untouched.
#[test]
fn r3b_unsubscribe_after_a_sale_stops_that_channel() {
    let unsubscribed = car_dealer()
        .given("2025-01-10", sale("cars"))
        .given("2025-03-01", opt_out(&[Email]))
        .labelled("unsubscribe");
    unsubscribed
        .when(email().category("servicing").at("2025-06-01"))
        .refused()
        .fired("R1", Blocked)
        .fired("R3b", Failed)
        .only_because(&[
            ("R1", "opted_out"),
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3b", "refused_marketing"),
        ])
        .reason_names("opted_out", &["unsubscribe"]);
    unsubscribed
        .when(sms().category("servicing").at("2025-06-01"))
        .allowed(SoftOptIn);
}

/// R1 and R3b: a new sale after an opt-out does not restore the soft
/// opt-in; only a fresh consent would.
#[test]
fn r3b_a_new_sale_after_an_opt_out_does_not_restore_it() {
    let opted_out = car_dealer()
        .given("2025-01-10", sale("cars"))
        .given("2025-03-01", opt_out(&[Email]))
        .given("2025-04-01", sale("servicing"));
    opted_out
        .clone()
        .when(email().category("servicing").at("2025-06-01"))
        .refused()
        .fired("R3b", Failed)
        .because("R3b", "refused_marketing")
        .because("R1", "opted_out");
    opted_out
        .given("2025-05-01", consent(&[Email], &[Commercial]))
        .when(email().category("servicing").at("2025-06-01"))
        .allowed(Consent)
        .fired("R1", Satisfied)
        .fired("R3b", Failed);
}

/// R3b condition 3: the check must say what it markets, and the
/// organisation must have said what is similar; otherwise fail closed.
#[test]
fn r3b_needs_a_category_and_a_category_map() {
    car_dealer()
        .given("2025-01-10", sale("cars"))
        .when(email().at("2025-06-01"))
        .refused()
        .because("R3b", "product_category_missing");
    Scenario::commercial()
        .given("2025-01-10", sale("cars"))
        .when(email().category("cars").at("2025-06-01"))
        .refused()
        .because("R3b", "product_categories_undefined");
}

/// R3b condition 5 and R6, reg 22(3)(c) and reg 23: a soft opt-in message
/// without an opt-out fails both rules.
#[test]
fn r3b_every_message_must_carry_an_opt_out() {
    car_dealer()
        .given("2025-01-10", sale("cars"))
        .when(
            email()
                .category("servicing")
                .without_opt_out()
                .at("2025-06-01"),
        )
        .refused()
        .only_because(&[
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3b", "no_opt_out_in_message"),
            ("R6", "no_opt_out_in_message"),
        ]);
}

/// R3b, ICO: the soft opt-in "can only apply to commercial marketing";
/// messages promoting aims and ideals need consent, even from a shop.
#[test]
fn r3b_never_covers_campaigning() {
    car_dealer()
        .given("2025-01-10", sale("cars"))
        .when(email().category("cars").campaigning().at("2025-06-01"))
        .refused()
        .because("R3b", "soft_opt_in_commercial_only");
}

/// R3b and R3a: a political party that "sold" a member a mug still needs
/// consent to email them its campaign; with consent it may.
#[test]
fn r3b_a_political_party_with_a_sale_still_needs_consent() {
    let party = Scenario::political_party()
        .given_org(
            "2020-01-01",
            categories(&[("merchandise", &["merchandise"])]),
        )
        .given("2025-01-10", sale("merchandise"));
    party
        .clone()
        .when(
            email()
                .category("merchandise")
                .campaigning()
                .at("2025-06-01"),
        )
        .refused()
        .only_because(&[
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3b", "soft_opt_in_commercial_only"),
            ("R3b", "soft_opt_in_not_for_political_parties"),
        ]);
    party
        .clone()
        .when(email().category("merchandise").at("2025-06-01"))
        .refused()
        .because("R3b", "soft_opt_in_not_for_political_parties");
    party
        .given("2025-02-01", consent(&[Email], &[Campaigning]))
        .when(
            email()
                .category("merchandise")
                .campaigning()
                .at("2025-06-01"),
        )
        .allowed(Consent);
}

/// R3b condition 1: the soft opt-in covers the details collected, so an
/// address the customer never gave in the sale does not benefit.
#[test]
fn r3b_only_the_address_collected_in_the_sale() {
    car_dealer()
        .given(
            "2025-01-10",
            sale("cars").at_address(email_address("alice@example.com")),
        )
        .when(
            email()
                .category("servicing")
                .to(email_address("alice@work.example"))
                .at("2025-06-01"),
        )
        .refused()
        .because("R3b", "contact_point_not_collected");
    car_dealer()
        .given(
            "2025-01-10",
            sale("cars").at_address(email_address("alice@example.com")),
        )
        .when(
            email()
                .category("servicing")
                .to(email_address("alice@example.com"))
                .at("2025-06-01"),
        )
        .allowed(SoftOptIn);
}

/// We Buy Any Car (ICO, 2021): a valuation request is a negotiation, but
/// where no opt-out was offered when the number was taken, texts sent years
/// later have no soft opt-in.
#[test]
fn r3b_we_buy_any_car_texts_years_after_a_valuation_without_an_opt_out() {
    Scenario::commercial()
        .given_org("2020-01-01", categories(&[("car-buying", &[])]))
        .given(
            "2020-05-01",
            negotiation("car-buying", NegotiationKind::QuoteRequested).no_opt_out_offered(),
        )
        .when(sms().category("car-buying").at("2024-05-01"))
        .refused()
        .only_because(&[
            ("R3", "no_basis_for_electronic_mail"),
            ("R3a", "no_consent"),
            ("R3b", "no_opt_out_offered_at_collection"),
        ]);
}

/// We Buy Any Car (ICO, 2021) and R0: "update your valuation" messages
/// framed as service messages carried promotion, so they were marketing and
/// needed a basis of their own.
#[test]
fn r3b_we_buy_any_car_reminders_that_promote_are_marketing() {
    Scenario::commercial()
        .given_org("2020-01-01", categories(&[("car-buying", &[])]))
        .given(
            "2020-05-01",
            negotiation("car-buying", NegotiationKind::QuoteRequested).no_opt_out_offered(),
        )
        .when(
            email()
                .service_message()
                .with_promotion()
                .category("car-buying")
                .at("2020-08-01"),
        )
        .refused()
        .fired("R0", Satisfied)
        .explains("R0", "is direct marketing")
        .because("R3b", "no_opt_out_offered_at_collection");
}

/// We Buy Any Car, the ledger's decision on age: PECR reg 22(3) sets no
/// time limit on the soft opt-in and the ICO fixes none, so the ledger does
/// not invent one. A valuation with an opt-out offered (and none taken since)
/// still supports marketing the same service four years later; what a
/// person would "reasonably expect" after years is for the organisation's
/// category map and policy, not a hidden expiry here.
#[test]
fn r3b_we_buy_any_car_no_expiry_when_every_condition_holds() {
    Scenario::commercial()
        .given_org("2020-01-01", categories(&[("car-buying", &[])]))
        .given(
            "2020-05-01",
            negotiation("car-buying", NegotiationKind::QuoteRequested),
        )
        .when(email().category("car-buying").at("2024-05-01"))
        .allowed(SoftOptIn);
}

/// R3b: an objection (UK GDPR Art 21(3)) ends the soft opt-in on every
/// channel, and withdrawing a consent to email marketing refuses it too.
#[test]
fn r3b_objections_and_withdrawals_are_refusals() {
    car_dealer()
        .given("2025-01-10", sale("cars"))
        .given("2025-02-01", objection(OptOutMethod::EmailReply))
        .when(sms().category("servicing").at("2025-06-01"))
        .refused()
        .because("R1", "objection_recorded")
        .because("R3b", "refused_marketing");
    car_dealer()
        .given("2025-01-10", sale("cars"))
        .given("2025-02-01", withdrawal(&[Email], &[Purpose::Commercial]))
        .when(email().category("servicing").at("2025-06-01"))
        .refused()
        .because("R3b", "refused_marketing")
        .not_because("R1", "opted_out");
}
