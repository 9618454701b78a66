//! Replaying under another product-similarity map: a specialist tea shop
//! that widens its map ("a tea customer would expect to hear about
//! teapots") flips exactly the soft opt-in sends in the newly similar
//! category, for that shop only.

use consent_domain::rules::LawfulBasis;
use consent_domain::OrganisationId;
use consent_replay::{similarity_override_event_id, ReplayPlan, RuleSelection};
use consent_testkit::history::*;

#[test]
fn widening_the_shops_map_flips_exactly_the_newly_similar_sends() {
    let mut plan = ReplayPlan::new(RuleSelection::InForce, RuleSelection::InForce);
    plan.similarity_overrides.insert(
        OrganisationId::from("tea-shop"),
        category_map(&[("tea", &["teapots"]), ("teapots", &[]), ("cakes", &[])]),
    );
    let report = replay(&tea_history().events, plan);

    let flipped = set(&["t-tom-pots", "t-uma-pots"]);
    assert_eq!(message_ids(&report.samples.refused_to_allowed), flipped);
    assert_eq!(changed_messages(&report), flipped, "nothing else changes");
    assert_eq!(report.totals.evaluated, 6);
    assert_eq!(report.totals.changed(), 2);
    assert_eq!(report.by_organisation[&"other-shop".into()].changed(), 0);
    assert_eq!(report.by_rule["R3b: failed -> satisfied"], 2);
    assert_eq!(
        report.by_reason["R3b:category_not_similar"].no_longer_against,
        2
    );

    let synthetic = similarity_override_event_id(&"tea-shop".into());
    for sample in &report.samples.refused_to_allowed {
        assert_eq!(sample.candidate.lawful_basis, LawfulBasis::SoftOptIn);
        assert!(
            sample.candidate.relied_on.contains(&synthetic),
            "the candidate relies on the override map: {:?}",
            sample.candidate.relied_on
        );
        assert!(!sample.baseline.relied_on.contains(&synthetic));
    }
    assert_eq!(
        report.similarity_overrides,
        vec![OrganisationId::from("tea-shop")]
    );
}

/// Narrowing works the same way: a map that drops what made a send lawful
/// turns it from allowed to refused.
#[test]
fn narrowing_the_map_refuses_what_it_no_longer_covers() {
    let mut history = tea_history();
    history.categories(
        "tea-shop",
        "2024-06-01",
        &[("tea", &["teapots"]), ("teapots", &[])],
    );
    let mut plan = ReplayPlan::new(RuleSelection::InForce, RuleSelection::InForce);
    plan.similarity_overrides.insert(
        OrganisationId::from("tea-shop"),
        category_map(&[("tea", &[]), ("teapots", &[])]),
    );
    let report = replay(&history.events, plan);
    assert_eq!(
        message_ids(&report.samples.allowed_to_refused),
        set(&["t-tom-pots", "t-uma-pots"])
    );
    assert_eq!(report.totals.changed(), 2);
}
