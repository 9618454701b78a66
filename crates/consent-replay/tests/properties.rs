//! Properties every replay keeps, whatever the history:
//! * the same rules on both sides change nothing;
//! * the order events arrive in, and their re-delivery, do not change the
//!   report;
//! * nor does the number of threads the questions are decided on.

use consent_domain::rules::RuleCatalogue;
use consent_domain::vocabulary::Channel;
use consent_domain::{Event, OrganisationId};
use consent_replay::{EligibilityQuestions, ReplayPlan, Replayer, RuleSelection};
use consent_testkit::history::*;
use proptest::prelude::*;

/// The charity's and the tea shops' histories, told into one log.
fn everything() -> Vec<Event> {
    let mut h = History::default();
    charity_story(&mut h);
    tea_story(&mut h);
    h.events
}

fn selection() -> impl Strategy<Value = RuleSelection> {
    prop_oneof![
        Just(RuleSelection::InForce),
        Just(RuleSelection::named("uk-pecr-2003")),
        Just(RuleSelection::named("uk-pecr-duaa-2026-02-05")),
    ]
}

fn with_eligibility(mut plan: ReplayPlan) -> ReplayPlan {
    plan.questions.eligibility = Some(EligibilityQuestions {
        as_of: at("2026-04-01"),
        channels: vec![Channel::Email, Channel::Sms, Channel::Post],
    });
    plan
}

/// Every question the replay can ask, with a similarity override too.
fn full_plan() -> ReplayPlan {
    let mut plan = with_eligibility(ReplayPlan::new(
        RuleSelection::named("uk-pecr-2003"),
        RuleSelection::named("uk-pecr-duaa-2026-02-05"),
    ));
    plan.similarity_overrides.insert(
        OrganisationId::from("tea-shop"),
        category_map(&[("tea", &["teapots"]), ("teapots", &[]), ("cakes", &[])]),
    );
    plan
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Candidate == baseline: no decision changes, not even its reasons,
    /// for any part of the history.
    #[test]
    fn the_same_rules_on_both_sides_change_nothing(
        rules in selection(),
        keep in proptest::collection::vec(any::<bool>(), everything().len()),
    ) {
        let events: Vec<Event> = everything()
            .into_iter()
            .zip(keep)
            .filter_map(|(event, kept)| kept.then_some(event))
            .collect();
        let report = replay(&events, with_eligibility(ReplayPlan::new(rules.clone(), rules)));
        prop_assert_eq!(report.totals.changed(), 0);
        prop_assert_eq!(report.totals.unchanged_reasons_differ, 0);
        prop_assert!(report.by_rule.is_empty());
        prop_assert!(report.by_reason.is_empty());
        prop_assert_eq!(report.totals.unchanged, report.totals.evaluated);
    }

    /// Shuffled and re-delivered events give the same report as the events
    /// in the order they were told.
    #[test]
    fn event_order_and_redelivery_do_not_change_the_report(
        (told, shuffled) in proptest::collection::vec(0..everything().len(), 0..8)
            .prop_flat_map(|repeats| {
                let events = everything();
                let mut told = events.clone();
                told.extend(repeats.iter().filter_map(|&i| events.get(i).cloned()));
                (Just(told.clone()), Just(told).prop_shuffle())
            })
    ) {
        let in_order = replay(&told, full_plan());
        let any_order = replay(&shuffled, full_plan());
        prop_assert_eq!(&in_order, &any_order);
        prop_assert_eq!(in_order.input.duplicates, (told.len() - everything().len()) as u64);
        prop_assert!(in_order.totals.changed() > 0);
    }

    /// One decision thread or several: the same report, samples in the
    /// same order.
    #[test]
    fn the_number_of_decision_threads_does_not_change_the_report(
        threads in 2_usize..6,
        keep in proptest::collection::vec(any::<bool>(), everything().len()),
    ) {
        let events: Vec<Event> = everything()
            .into_iter()
            .zip(keep)
            .filter_map(|(event, kept)| kept.then_some(event))
            .collect();
        let on = |threads: usize| {
            let replayer = Replayer::new(full_plan(), RuleCatalogue::uk())
                .map(|replayer| replayer.with_decision_threads(threads));
            let mut replayer = match replayer {
                Ok(replayer) => replayer,
                Err(error) => panic!("plan refused: {error}"),
            };
            for event in &events {
                replayer.apply(event, None);
            }
            replayer.report()
        };
        prop_assert_eq!(on(1), on(threads));
    }
}
