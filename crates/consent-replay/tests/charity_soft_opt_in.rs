//! The reference example: the charity soft opt-in (PECR reg 22(3A),
//! inserted by DUAA 2025 s.114, in force 5 February 2026). Replaying a
//! charity's sends under `uk-pecr-2003` and under `uk-pecr-duaa-2026-02-05`
//! must flip exactly the sends the new rule makes lawful, and nothing else.

use consent_domain::rules::LawfulBasis;
use consent_domain::vocabulary::Channel;
use consent_replay::{
    render_summary, EligibilityQuestions, Questions, ReplayPlan, ReplayReport, RuleSelection,
};
use consent_testkit::history::*;

const PECR_2003: &str = "uk-pecr-2003";
const DUAA: &str = "uk-pecr-duaa-2026-02-05";

fn pecr_then_duaa() -> ReplayPlan {
    ReplayPlan::new(RuleSelection::named(PECR_2003), RuleSelection::named(DUAA))
}

/// The reference example: exactly the four sends R3c makes lawful flip,
/// each on the charity soft opt-in, and nothing else changes.
#[test]
fn the_charity_rule_flips_exactly_the_sends_it_makes_lawful() {
    let report = replay(&charity_history().events, pecr_then_duaa());

    let flipped = set(&["c-ann-0301", "c-cat-0301", "c-eve-0220", "c-fay-0206"]);
    assert_eq!(message_ids(&report.samples.refused_to_allowed), flipped);
    assert_eq!(changed_messages(&report), flipped, "nothing else changes");
    assert_eq!(report.totals.evaluated, 15);
    assert_eq!(report.totals.refused_to_allowed, 4);
    assert_eq!(report.totals.allowed_to_refused, 0);
    assert_eq!(report.totals.basis_changed, 0);
    assert_eq!(report.totals.unchanged, 11);

    for sample in &report.samples.refused_to_allowed {
        assert_eq!(sample.organisation.as_str(), "hope-trust");
        assert_eq!(sample.baseline.rule_set.as_str(), PECR_2003);
        assert!(!sample.baseline.allowed);
        assert!(sample
            .baseline
            .reasons_against
            .contains(&"R3:no_basis_for_electronic_mail".to_owned()));
        assert_eq!(sample.candidate.rule_set.as_str(), DUAA);
        assert!(sample.candidate.allowed);
        assert_eq!(sample.candidate.lawful_basis, LawfulBasis::CharitySoftOptIn);
        assert!(sample.candidate.reasons_against.is_empty());
        assert!(
            sample
                .rules_changed
                .contains(&"R3c: absent -> satisfied".to_owned()),
            "{:?}",
            sample.rules_changed
        );
    }

    // Grouped: only the charity, only email, R3c the rule that made it.
    let charity = &report.by_organisation[&"hope-trust".into()];
    assert_eq!((charity.evaluated, charity.refused_to_allowed), (11, 4));
    let dealer = &report.by_organisation[&"acme-motors".into()];
    assert_eq!((dealer.evaluated, dealer.changed()), (4, 0));
    assert_eq!(report.by_channel["email"].refused_to_allowed, 4);
    assert_eq!(report.by_rule["R3c: absent -> satisfied"], 4);
    assert_eq!(report.by_rule["R3: failed -> satisfied"], 4);
    assert_eq!(
        report.by_reason["R3:no_basis_for_electronic_mail"].no_longer_against,
        4
    );
    assert_eq!(report.input.sends, 15);
    assert_eq!(report.input.rejected, 0);
}

/// A send's sole charitable purpose is not recorded; read fail-closed, no
/// send can rely on R3c and nothing flips.
#[test]
fn read_fail_closed_no_charitable_send_is_solely_charitable() {
    let mut plan = pecr_then_duaa();
    plan.questions.charitable_sends = consent_replay::CharitableSendReading::NeverSole;
    let report = replay(&charity_history().events, plan);
    assert_eq!(report.totals.changed(), 0);
    assert_eq!(report.totals.evaluated, 15);
}

/// Against what the ledger decided at the time (the rule set in force at
/// each send), DUAA changes nothing: R3c rests only on support given on or
/// after 5 February 2026, and every send after that date was already
/// decided under DUAA.
#[test]
fn against_the_rule_set_in_force_nothing_changes() {
    let plan = ReplayPlan::new(RuleSelection::InForce, RuleSelection::named(DUAA));
    let report = replay(&charity_history().events, plan);
    assert_eq!(report.totals.changed(), 0);
    assert_eq!(report.totals.evaluated, 15);
}

/// Current eligibility on 1 April 2026: every supporter whose gift after
/// the date was collected directly flips, including Hal (whose recorded
/// email lacked an opt-out, but the question is about a proper message);
/// the dealer's customers do not.
#[test]
fn eligibility_on_1_april_2026_flips_the_qualifying_supporters() {
    let mut plan = pecr_then_duaa();
    plan.questions = Questions {
        sends: false,
        eligibility: Some(EligibilityQuestions {
            as_of: at("2026-04-01"),
            channels: vec![Channel::Email],
        }),
        ..Questions::default()
    };
    let report = replay(&charity_history().events, plan);
    assert_eq!(
        subjects(&report.samples.refused_to_allowed),
        set(&["ann", "cat", "fay", "hal"])
    );
    assert_eq!(report.totals.changed(), 4);
    // 8 supporters and 3 customers, one channel.
    assert_eq!(report.totals.evaluated, 11);
    assert_eq!(report.by_question["eligibility"].evaluated, 11);
    for sample in &report.samples.refused_to_allowed {
        assert_eq!(sample.purpose, "charitable");
        assert_eq!(sample.candidate.lawful_basis, LawfulBasis::CharitySoftOptIn);
    }
}

/// The JSON report round-trips, names the flipped sends, and the summary
/// says what a reader needs first.
#[test]
fn the_report_reads_as_json_and_as_a_summary() {
    let report = replay(&charity_history().events, pecr_then_duaa());
    let json = match serde_json::to_string_pretty(&report) {
        Ok(json) => json,
        Err(error) => panic!("report does not serialise: {error}"),
    };
    assert!(json.contains("\"message_id\": \"c-ann-0301\""), "{json}");
    assert!(json.contains("\"at\": \"2026-03-01T09:00:00Z\""), "{json}");
    let back: ReplayReport = match serde_json::from_str(&json) {
        Ok(back) => back,
        Err(error) => panic!("report does not deserialise: {error}"),
    };
    assert_eq!(back, report);

    let summary = render_summary(&report);
    assert!(summary.contains("baseline:  uk-pecr-2003"), "{summary}");
    assert!(
        summary.contains(
            "Decisions: 15 evaluated, 11 unchanged (6 for different reasons), 4 refused -> allowed, \
             0 allowed -> refused, 0 basis changed"
        ),
        "{summary}"
    );
    assert!(summary.contains("R3c: absent -> satisfied"), "{summary}");
    assert!(
        summary.contains("send c-ann-0301: hope-trust/ann email charitable"),
        "{summary}"
    );
}
