//! R4 Live calls (PECR 2003 reg 21, 21(3), 21(4), 21A, 21B) and R5
//! automated calls (PECR 2003 reg 19).

use consent_domain::vocabulary::{CallCategory, PreferenceService, SubscriberType};
use consent_testkit::scenario::*;

const NUMBER: &str = "+447700900001";
const OTHER_NUMBER: &str = "+447700900002";

/// A known customer: acme has their number on record.
fn customer() -> Scenario {
    Scenario::commercial().given("2024-01-10", contact(mobile(NUMBER)))
}

/// R4, reg 21: a number that is not screened out and has not told acme not
/// to call may be called live.
#[test]
fn r4_a_screened_number_may_be_called() {
    customer()
        .tps_screened_before("2025-06-01")
        .when(live_call(NUMBER).at("2025-06-01"))
        .allowed(LiveCallNotObjected)
        .relies_on(&["TPS file 2025-05-31"])
        .explains("R4", "not listed on the TPS file taken 2025-05-31")
        .fired("R4", Satisfied)
        .fired("R3", NotApplicable)
        .fired("R6", NotApplicable);
}

/// R4, reg 21(3): a TPS listing protects the number only from 28 days
/// after listing: day 27 may be called, day 28 and later may not.
#[test]
fn r4_tps_protects_from_the_28th_day_after_listing() {
    let listed_at = day("2025-05-01");
    let listed = customer()
        .given_at(listed_at, tps(NUMBER, listed_at))
        .labelled("tps")
        .tps_screened_before_time(days_after(listed_at, 27))
        .tps_screened_before_time(days_after(listed_at, 100));
    listed
        .when(live_call(NUMBER).at_time(days_after(listed_at, 27)))
        .allowed(LiveCallNotObjected)
        .explains("R4", "protected only from");
    listed
        .when(live_call(NUMBER).at_time(days_after(listed_at, 28)))
        .refused()
        .fired("R4", Blocked)
        .only_because(&[("R4", "tps_listed")])
        .reason_names("tps_listed", &["tps"])
        .cites("R4", "tps_listed", "PECR 2003 reg 21");
    listed
        .when(live_call(OTHER_NUMBER).at_time(days_after(listed_at, 100)))
        .allowed(LiveCallNotObjected);
}

/// R4, reg 21(3): a number taken off the TPS may be called again.
#[test]
fn r4_a_number_no_longer_listed_may_be_called() {
    let listed_at = day("2024-05-01");
    customer()
        .given_at(listed_at, tps(NUMBER, listed_at))
        .given(
            "2025-01-01",
            delisted(PreferenceService::Tps, NUMBER, listed_at),
        )
        .tps_screened_before("2025-06-01")
        .when(live_call(NUMBER).at("2025-06-01"))
        .allowed(LiveCallNotObjected)
        .explains("R4", "no longer listed");
}

/// R4, reg 21(1)(b): a corporate subscriber's number on the CTPS may not be
/// called.
#[test]
fn r4_ctps_protects_a_corporate_subscriber() {
    let listed_at = day("2025-01-01");
    customer()
        .given("2024-02-01", subscriber(SubscriberType::Corporate))
        .given_at(listed_at, ctps(NUMBER, listed_at))
        .screened_full(PreferenceService::Ctps, "2025-05-20", &[])
        .when(live_call(NUMBER).at("2025-06-01"))
        .refused()
        .only_because(&[("R4", "ctps_listed")]);
}

/// R4, reg 21(1)(a): a subscriber who told acme not to call that number
/// may not be called on it.
#[test]
fn r4_told_not_to_call() {
    let told = customer()
        .given("2025-02-01", told_not_to_call(NUMBER))
        .labelled("told")
        .tps_screened_before("2025-06-01");
    told.when(live_call(NUMBER).at("2025-06-01"))
        .refused()
        .only_because(&[("R4", "told_not_to_call")])
        .reason_names("told_not_to_call", &["told"]);
    told.when(live_call(OTHER_NUMBER).at("2025-06-01"))
        .allowed(LiveCallNotObjected);
}

/// R4, reg 21(4): a subscriber on the TPS who told acme they do not object
/// may be called (and there is nothing to screen for); a later
/// told-not-to-call withdraws that, and then the number needs screening
/// again.
#[test]
fn r4_does_not_object_overrides_tps_until_withdrawn() {
    let listed_at = day("2024-01-01");
    let listed = customer()
        .given_at(listed_at, tps(NUMBER, listed_at))
        .labelled("tps");
    let not_objecting = listed
        .given("2025-02-01", does_not_object(NUMBER))
        .labelled("does not object");
    not_objecting
        .clone()
        .when(live_call(NUMBER).at("2025-06-01"))
        .allowed(LiveCallNotObjected)
        .explains("R4", "reg 21(4)")
        .relies_on(&["tps", "does not object"]);
    let withdrawn = not_objecting.given("2025-07-01", told_not_to_call(NUMBER));
    withdrawn
        .clone()
        .when(live_call(NUMBER).at("2025-08-01"))
        .refused()
        .only_because(&[
            ("R4", "told_not_to_call"),
            ("R4", "tps_listed"),
            ("R4", "tps_screening_missing"),
        ]);
    withdrawn
        .given("2025-09-01", does_not_object(NUMBER))
        .when(live_call(NUMBER).at("2025-10-01"))
        .allowed(LiveCallNotObjected);
}

/// R4, fail closed: without the number the call cannot be screened.
#[test]
fn r4_a_call_needs_a_number_to_screen() {
    customer()
        .when(live_call(NUMBER).without_contact_point().at("2025-06-01"))
        .refused()
        .fired("R4", Failed)
        .only_because(&[("R4", "number_required_for_screening")]);
}

/// R4, reg 21A: claims-management calls need consent to such calls from
/// this caller.
#[test]
fn r4_claims_management_calls_need_consent() {
    let customer = || customer().tps_screened_before("2025-06-01");
    customer()
        .when(
            live_call(NUMBER)
                .call_category(CallCategory::ClaimsManagement)
                .at("2025-06-01"),
        )
        .refused()
        .only_because(&[("R4", "claims_management_call_needs_consent")])
        .cites("R4", "claims_management_call_needs_consent", "21A");
    customer()
        .given("2025-02-01", consent(&[LiveCall], &[Commercial]))
        .labelled("consent")
        .when(
            live_call(NUMBER)
                .call_category(CallCategory::ClaimsManagement)
                .at("2025-06-01"),
        )
        .allowed(Consent)
        .relies_on(&["consent", "TPS file 2025-05-31"]);
}

/// R4, reg 21B: pension-scheme calls need consent; the existing-client
/// alternative is not modelled, so without consent the ledger says no.
#[test]
fn r4_pension_scheme_calls_need_consent() {
    let customer = || customer().tps_screened_before("2025-06-01");
    customer()
        .given("2020-01-01", sale("pension"))
        .when(
            live_call(NUMBER)
                .call_category(CallCategory::PensionScheme)
                .at("2025-06-01"),
        )
        .refused()
        .only_because(&[("R4", "pension_scheme_call_needs_consent")])
        .reason_says("pension_scheme_call_needs_consent", "not modelled");
    customer()
        .given("2025-02-01", consent(&[LiveCall], &[Commercial]))
        .when(
            live_call(NUMBER)
                .call_category(CallCategory::PensionScheme)
                .at("2025-06-01"),
        )
        .allowed(Consent);
}

/// R4, reg 21 and 21A together: consent to claims calls does not by itself
/// lift a TPS listing; the subscriber's "does not object" (reg 21(4)) does.
#[test]
fn r4_claims_consent_does_not_lift_tps_without_does_not_object() {
    let listed_at = day("2024-01-01");
    let consenting = customer()
        .given_at(listed_at, tps(NUMBER, listed_at))
        .given("2025-02-01", consent(&[LiveCall], &[Commercial]))
        .tps_screened_before("2025-06-01");
    let claims_call = || {
        live_call(NUMBER)
            .call_category(CallCategory::ClaimsManagement)
            .at("2025-06-01")
    };
    consenting
        .clone()
        .when(claims_call())
        .refused()
        .only_because(&[("R4", "tps_listed")]);
    consenting
        .given("2025-02-01", does_not_object(NUMBER))
        .when(claims_call())
        .allowed(Consent);
}

/// R5, reg 19: consent to email is not consent to automated calls.
#[test]
fn r5_consent_to_email_is_not_consent_to_automated_calls() {
    customer()
        .given("2025-02-01", consent(&[Email, LiveCall], &[Commercial]))
        .when(automated_call(NUMBER).at("2025-06-01"))
        .refused()
        .fired("R5", Failed)
        .only_because(&[("R5", "no_automated_call_consent")])
        .reason_says(
            "no_automated_call_consent",
            "it covers email, live calls, not automated calls",
        )
        .cites("R5", "no_automated_call_consent", "PECR 2003 reg 19");
}

/// R5, reg 19: with consent to automated calls from this caller, allowed.
#[test]
fn r5_consent_to_automated_calls_allows_them() {
    customer()
        .given("2025-02-01", consent(&[AutomatedCall], &[Commercial]))
        .when(automated_call(NUMBER).at("2025-06-01"))
        .allowed(Consent)
        .fired("R4", NotApplicable);
}

/// R5, reg 19: corporate subscribers need consent to automated calls too.
#[test]
fn r5_corporate_subscribers_need_consent_too() {
    customer()
        .given("2025-01-01", subscriber(SubscriberType::Corporate))
        .when(automated_call(NUMBER).at("2025-06-01"))
        .refused()
        .only_because(&[("R5", "no_automated_call_consent")]);
}

/// R5 and R3a: consent to automated calls given to a third party counts
/// only if it names this caller.
#[test]
fn r5_third_party_consent_must_name_the_caller() {
    customer()
        .given(
            "2025-02-01",
            consent(&[AutomatedCall], &[Commercial]).collected_by("lead-generator", &[]),
        )
        .when(automated_call(NUMBER).at("2025-06-01"))
        .refused()
        .only_because(&[
            ("R5", "no_automated_call_consent"),
            ("R5", "third_party_consent_not_naming_sender"),
        ]);
}

/// R4, reg 21(1)(b), 21(3): a number absent from every listing counts as
/// not listed only when acme holds a full TPS file; without one the call is
/// refused, naming the missing screening.
#[test]
fn r4_a_live_call_needs_a_tps_screening() {
    customer()
        .when(live_call(NUMBER).at("2025-06-01"))
        .refused()
        .fired("R4", Failed)
        .only_because(&[("R4", "tps_screening_missing")])
        .reason_says("tps_screening_missing", "no full TPS file")
        .cites("R4", "tps_screening_missing", "PECR 2003 reg 21");
}

/// R4, reg 21(3): a full TPS file covers calls for 27 days after the date
/// it was taken: a number registered the day after is protected from day
/// 28, so from then on the screening is out of date.
#[test]
fn r4_a_tps_file_is_current_for_27_days() {
    let screened = customer().screened_full(PreferenceService::Tps, "2025-05-01", &[]);
    screened
        .when(live_call(NUMBER).at_time(days_after(day("2025-05-01"), 27)))
        .allowed(LiveCallNotObjected)
        .relies_on(&["TPS file 2025-05-01"]);
    screened
        .when(live_call(NUMBER).at_time(days_after(day("2025-05-01"), 28)))
        .refused()
        .only_because(&[("R4", "tps_screening_out_of_date")])
        .reason_names("tps_screening_out_of_date", &["TPS file 2025-05-01"])
        .reason_says("tps_screening_out_of_date", "taken on 2025-05-01");
}

/// R4, reg 21(1)(b): a number on acme's latest full TPS file may not be
/// called; the reason names the file and its row. A file row carries no
/// listing date, so the number is protected at once (fail closed).
#[test]
fn r4_a_number_on_the_latest_full_tps_file_is_refused() {
    let screened = customer().screened_full(PreferenceService::Tps, "2025-05-25", &[NUMBER]);
    screened
        .when(live_call(NUMBER).at("2025-06-01"))
        .refused()
        .fired("R4", Blocked)
        .only_because(&[("R4", "tps_listed")])
        .reason_names("tps_listed", &["TPS file 2025-05-25"])
        .reason_says("tps_listed", "on the TPS file taken 2025-05-25");
    screened
        .when(live_call(OTHER_NUMBER).at("2025-06-01"))
        .allowed(LiveCallNotObjected);
    // A later full file without the number replaces the list.
    screened
        .screened_full(PreferenceService::Tps, "2025-05-30", &[])
        .when(live_call(NUMBER).at("2025-06-01"))
        .allowed(LiveCallNotObjected);
}

/// R4, reg 21(3): a row of a file that gives the number's listing date
/// protects it from 28 days after that date.
#[test]
fn r4_a_dated_row_protects_from_the_28th_day_after_listing() {
    let listed_at = day("2025-05-10");
    let file = "TPS-with-dates";
    let screened = customer()
        .given_for_address(
            "2025-05-20",
            file_row(PreferenceService::Tps, file, NUMBER, listed_at, true),
        )
        .given_org(
            "2025-05-20",
            screened(PreferenceService::Tps, file, true, day("2025-05-20"), 1),
        );
    screened
        .when(live_call(NUMBER).at_time(days_after(listed_at, 27)))
        .allowed(LiveCallNotObjected)
        .explains("R4", "protected only from");
    screened
        .when(live_call(NUMBER).at_time(days_after(listed_at, 28)))
        .refused()
        .only_because(&[("R4", "tps_listed")]);
}

/// R4, reg 21(3): change files taken after the latest full file add and
/// remove numbers (the latest wins); a change file taken before the full
/// one is already in it.
#[test]
fn r4_change_files_add_and_remove_numbers() {
    let full = customer().screened_full(PreferenceService::Tps, "2025-05-01", &[]);
    let added =
        full.clone()
            .screened_changes(PreferenceService::Tps, "2025-05-10", &[(NUMBER, true)]);
    added
        .clone()
        .when(live_call(NUMBER).at("2025-05-20"))
        .refused()
        .only_because(&[("R4", "tps_listed")])
        .reason_names("tps_listed", &["TPS changes 2025-05-10"]);
    added
        .screened_changes(PreferenceService::Tps, "2025-05-15", &[(NUMBER, false)])
        .when(live_call(NUMBER).at("2025-05-20"))
        .allowed(LiveCallNotObjected)
        .relies_on_kinds(&[
            "preference_service_screened",
            "preference_service_screened",
            "preference_service_listing",
            "preference_service_screened",
        ]);
    // Imported late, a change file taken before the full file is ignored.
    full.screened_changes(PreferenceService::Tps, "2025-04-20", &[(NUMBER, true)])
        .when(live_call(NUMBER).at("2025-05-20"))
        .allowed(LiveCallNotObjected);
}

/// R4, reg 21(3): change files do not make an old full file current: they
/// cannot show that every change since was imported.
#[test]
fn r4_change_files_do_not_refresh_an_old_full_file() {
    customer()
        .screened_full(PreferenceService::Tps, "2025-04-01", &[])
        .screened_changes(PreferenceService::Tps, "2025-05-30", &[])
        .when(live_call(NUMBER).at("2025-06-01"))
        .refused()
        .only_because(&[("R4", "tps_screening_out_of_date")]);
}

/// R4, reg 21(1)(b), 26: a corporate subscriber's number needs a current
/// CTPS file; the TPS one does not do. Both registers are checked whatever
/// the subscriber: a number on the CTPS file is refused for an individual
/// too.
#[test]
fn r4_a_corporate_subscriber_needs_a_ctps_screening() {
    let corporate = customer()
        .given("2024-02-01", subscriber(SubscriberType::Corporate))
        .screened_full(PreferenceService::Tps, "2025-05-25", &[]);
    corporate
        .clone()
        .when(live_call(NUMBER).at("2025-06-01"))
        .refused()
        .only_because(&[("R4", "ctps_screening_missing")]);
    corporate
        .screened_full(PreferenceService::Ctps, "2025-05-25", &[])
        .when(live_call(NUMBER).at("2025-06-01"))
        .allowed(LiveCallNotObjected);
    customer()
        .screened_full(PreferenceService::Tps, "2025-05-25", &[])
        .screened_full(PreferenceService::Ctps, "2025-05-25", &[NUMBER])
        .when(live_call(NUMBER).at("2025-06-01"))
        .refused()
        .only_because(&[("R4", "ctps_listed")]);
}

/// R4, reg 21(4): a subscriber who told acme they do not object may be
/// called without a screening, even on a listed number.
#[test]
fn r4_does_not_object_needs_no_screening() {
    customer()
        .screened_full(PreferenceService::Tps, "2025-01-01", &[NUMBER])
        .given("2025-02-01", does_not_object(NUMBER))
        .when(live_call(NUMBER).at("2025-06-01"))
        .allowed(LiveCallNotObjected)
        .explains("R4", "reg 21(4)");
}
