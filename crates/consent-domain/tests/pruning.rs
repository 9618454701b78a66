//! Issue #14: `decide` leaves out the rules that cannot apply to the
//! question (a marketing rule for a service message, a rule of another
//! channel) and those the rule set does not list, and its decision is
//! still byte for byte the one evaluating every rule gives.

use consent_domain::rules::{decide_unpruned, decide_with_texts, DecisionTexts};
use consent_testkit::scenario::generate::case;
use consent_testkit::scenario::Inputs;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Whatever the facts (of the subject, the organisation and the
    /// addresses) and the question (every channel, purpose, message class,
    /// time, category, call category, with or without a subject or a
    /// contact point, under either rule set), with texts and without.
    #[test]
    fn leaving_out_the_rules_that_cannot_apply_changes_no_decision(case in case()) {
        let Inputs { rule_set, organisation, subject, addresses, request } =
            case.scenario.inputs(&case.check);
        for texts in [DecisionTexts::Included, DecisionTexts::Omitted] {
            let pruned =
                decide_with_texts(&rule_set, &organisation, &subject, &addresses, &request, texts);
            let every =
                decide_unpruned(&rule_set, &organisation, &subject, &addresses, &request, texts);
            prop_assert_eq!(format!("{pruned:?}"), format!("{every:?}"));
            prop_assert_eq!(pruned, every);
        }
    }
}

/// The generator reaches what the property is about: every rule both
/// left out (not applicable) and evaluated to each other outcome it can
/// have, both verdicts on every channel, and the lawful bases.
#[test]
fn the_generated_cases_reach_every_rule_outcome_on_every_channel() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use std::collections::BTreeSet;

    let mut runner = TestRunner::deterministic();
    let strategy = case();
    let mut seen = BTreeSet::new();
    for _ in 0..10_000 {
        let case = strategy.new_tree(&mut runner).expect("a case").current();
        let Inputs {
            rule_set,
            organisation,
            subject,
            addresses,
            request,
        } = case.scenario.inputs(&case.check);
        let decision = decide_with_texts(
            &rule_set,
            &organisation,
            &subject,
            &addresses,
            &request,
            DecisionTexts::Omitted,
        );
        for rule in &decision.rules {
            seen.insert(format!("{} {:?}", rule.rule, rule.outcome));
        }
        seen.insert(format!(
            "{:?} allowed={}",
            request.channel, decision.allowed
        ));
        seen.insert(format!("{:?} basis", decision.lawful_basis));
        seen.insert(format!("subject={}", request.subject.is_some()));
    }
    let expected = [
        "R0 Satisfied",
        "R0 Blocked",
        "R1 NotApplicable",
        "R1 Satisfied",
        "R1 Blocked",
        "R2 NotApplicable",
        "R2 Satisfied",
        "R2 Failed",
        "R3 NotApplicable",
        "R3 Satisfied",
        "R3 Failed",
        "R3a NotApplicable",
        "R3a Satisfied",
        "R3a Failed",
        "R3b NotApplicable",
        "R3b Satisfied",
        "R3b Failed",
        "R3c NotApplicable",
        "R3c Satisfied",
        "R3c Failed",
        "R4 NotApplicable",
        "R4 Satisfied",
        "R4 Failed",
        "R4 Blocked",
        "R5 NotApplicable",
        "R5 Satisfied",
        "R5 Failed",
        "R6 NotApplicable",
        "R6 Satisfied",
        "R6 Blocked",
        "R7 NotApplicable",
        "R7 Satisfied",
        "R8 Satisfied",
        "R9 Satisfied",
        "R9 Blocked",
        "Email allowed=true",
        "Email allowed=false",
        "Sms allowed=true",
        "Sms allowed=false",
        "LiveCall allowed=true",
        "LiveCall allowed=false",
        "AutomatedCall allowed=true",
        "AutomatedCall allowed=false",
        "Post allowed=true",
        "Post allowed=false",
        "NotDirectMarketing basis",
        "Consent basis",
        "SoftOptIn basis",
        "CorporateSubscriber basis",
        "LiveCallNotObjected basis",
        "LegitimateInterests basis",
        "subject=true",
        "subject=false",
    ];
    let missing: Vec<&str> = expected
        .into_iter()
        .filter(|what| !seen.contains(*what))
        .collect();
    assert!(
        missing.is_empty(),
        "never generated: {missing:?}; seen: {seen:?}"
    );
}
