//! A subject with no fact on record, or a check that names only the
//! address, is decided on the record (RULES.md "The question"): R0 no
//! longer refuses it for being unknown. A service message needs no basis
//! (R0, R9); post rests on legitimate interests (R7, UK GDPR Art 6(1)(f))
//! unless an objection or opt-out covers the address (R1); a live call
//! needs the organisation's current TPS/CTPS screening (R4, PECR reg 21);
//! electronic mail still needs a basis (R3, PECR reg 22).

use consent_domain::vocabulary::{OptOutMethod, PreferenceService};
use consent_testkit::scenario::*;

const PROSPECT: &str = "prospect";
const NUMBER: &str = "+447700900555";
const ADDRESS: &str = "prospect@example.com";
const LETTERBOX: &str = "2 Low Rd, York YO1 1AA";
/// A sealed address, as the suppression list holds it.
const SUPPRESSED: &str = "digest:5b1f2a0c9d3e4f6071829a4b5c6d7e8f90112233445566778899aabbccddeeff";

/// R0, R9: a service message with no promotion to a subject with no record
/// is not direct marketing, so it is allowed, by subject id or by address.
#[test]
fn r0_a_service_message_to_a_subject_with_no_record_is_allowed() {
    let ledger = Scenario::commercial();
    ledger
        .when(
            email()
                .about(PROSPECT)
                .to(email_address(ADDRESS))
                .service_message()
                .at("2025-06-01"),
        )
        .allowed(NotDirectMarketing)
        .fired("R0", Satisfied)
        .relies_on(&[]);
    ledger
        .when(
            sms()
                .only_to(mobile(NUMBER))
                .service_message()
                .at("2025-06-01"),
        )
        .allowed(NotDirectMarketing);
}

/// R9: a service message to an address on the organisation's suppression
/// list (another subject's erasure) is refused, whoever it is for.
#[test]
fn r9_a_service_message_to_a_suppressed_address_is_refused() {
    Scenario::commercial()
        .given_org("2025-03-01", contacts_suppressed(&[SUPPRESSED], SUBJECT))
        .labelled("suppression")
        .when(
            email()
                .only_to(email_address(SUPPRESSED))
                .service_message()
                .at("2025-06-01"),
        )
        .refused()
        .only_because(&[("R9", "contact_suppressed")])
        .reason_names("contact_suppressed", &["suppression"]);
}

/// R9: a check that names no address is checked against every address of
/// the subject that can receive the channel (addresses_to_consult).
#[test]
fn r9_without_an_address_the_subjects_recorded_addresses_are_checked() {
    Scenario::commercial()
        .given_org("2025-03-01", contacts_suppressed(&[SUPPRESSED], "someone"))
        .given("2025-04-01", contact(email_address(SUPPRESSED)))
        .when(email().service_message().at("2025-06-01"))
        .refused()
        .only_because(&[("R9", "contact_suppressed")]);
}

/// R7, Art 6(1)(f): post to a prospect with no record rests on legitimate
/// interests.
#[test]
fn r7_post_to_a_subject_with_no_record_rests_on_legitimate_interests() {
    Scenario::commercial()
        .when(
            post()
                .about(PROSPECT)
                .to(postal(LETTERBOX))
                .at("2025-06-01"),
        )
        .allowed(LegitimateInterests)
        .fired("R7", Satisfied);
}

/// R7 and R1, Art 21(3): an objection or an opt-out of post received for
/// the address stops post to it, for a prospect or an address-only check.
#[test]
fn r7_post_to_an_address_that_objected_is_refused() {
    Scenario::commercial()
        .given_for_address(
            "2025-02-01",
            objection_for(postal(LETTERBOX), OptOutMethod::Letter),
        )
        .when(
            post()
                .about(PROSPECT)
                .to(postal(LETTERBOX))
                .at("2025-06-01"),
        )
        .refused()
        .only_because(&[("R1", "address_objected")]);
    Scenario::commercial()
        .given_for_address("2025-02-01", opt_out_for(postal(LETTERBOX), &[Post]))
        .when(post().only_to(postal(LETTERBOX)).at("2025-06-01"))
        .refused()
        .only_because(&[("R1", "address_opted_out")]);
}

/// R4, reg 21: a live call to a prospect's number is allowed when acme's
/// current TPS file does not list it, refused without a current file, and
/// refused when the number is listed or told acme not to call.
#[test]
fn r4_a_live_call_to_a_prospect_needs_a_current_screening() {
    let prospect_call = || live_call(NUMBER).about(PROSPECT).at("2025-06-01");
    Scenario::commercial()
        .when(prospect_call())
        .refused()
        .only_because(&[("R4", "tps_screening_missing")]);
    let screened = Scenario::commercial().screened_full(PreferenceService::Tps, "2025-05-20", &[]);
    screened
        .when(prospect_call())
        .allowed(LiveCallNotObjected)
        .relies_on(&["TPS file 2025-05-20"]);
    screened
        .when(live_call(NUMBER).only_to(mobile(NUMBER)).at("2025-06-01"))
        .allowed(LiveCallNotObjected);
    screened
        .clone()
        .given_for_address("2025-05-25", told_not_to_call(NUMBER))
        .when(prospect_call())
        .refused()
        .only_because(&[("R4", "told_not_to_call")]);
    Scenario::commercial()
        .screened_full(PreferenceService::Tps, "2025-05-20", &[NUMBER])
        .when(prospect_call())
        .refused()
        .only_because(&[("R4", "tps_listed")]);
}

/// R3, reg 22: email or SMS to a subject with no record still needs a
/// basis: refused with the basis rule's reasons, not for being unknown.
#[test]
fn r3_electronic_mail_to_a_subject_with_no_record_needs_a_basis() {
    let reasons = [
        ("R3", "no_basis_for_electronic_mail"),
        ("R3a", "no_consent"),
        ("R3b", "no_sale_or_negotiation"),
    ];
    Scenario::commercial()
        .when(
            email()
                .about(PROSPECT)
                .to(email_address(ADDRESS))
                .at("2025-06-01"),
        )
        .refused()
        .only_because(&reasons);
    Scenario::commercial()
        .when(sms().only_to(mobile(NUMBER)).at("2025-06-01"))
        .refused()
        .only_because(&reasons);
}
