//! docs/REPLAY.md's example files, replayed as the document says: the
//! charity history flips exactly the four sends, and the tea shop's
//! similarity file flips exactly its two teapot emails.

use consent_domain::Event;
use consent_replay::{parse_similarity_overrides, ReplayPlan, ReplayReport, RuleSelection};
use consent_schema::v1;
use consent_testkit::history::*;

fn example(name: &str) -> String {
    let path = format!("{}/../../docs/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

/// The NDJSON files as the ledger appends them: one envelope per line,
/// completed with an id and a recording time.
fn events(names: &[&str]) -> Vec<Event> {
    let mut events = Vec::new();
    for name in names {
        for line in example(name).lines().filter(|l| !l.trim().is_empty()) {
            let envelope: v1::Envelope = serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("{name}: {error}: {line}"));
            let id = u128::try_from(events.len()).unwrap_or(u128::MAX) + 1;
            let appended_at = at("2026-11-01");
            let (_, event) = consent_schema::prepare_for_append(
                envelope,
                appended_at,
                || uuid::Uuid::from_u128(id),
                &consent_schema::EntryRules::default(),
            )
            .unwrap_or_else(|error| panic!("{name}: {error}: {line}"));
            events.push(event);
        }
    }
    events
}

fn flipped(report: &ReplayReport) -> std::collections::BTreeSet<String> {
    assert_eq!(
        changed_messages(report),
        message_ids(&report.samples.refused_to_allowed)
    );
    message_ids(&report.samples.refused_to_allowed)
}

#[test]
fn the_charity_example_flips_the_four_sends_the_document_lists() {
    let events = events(&["hope-trust.ndjson", "tea-shop.ndjson"]);
    let report = replay(
        &events,
        ReplayPlan::new(
            RuleSelection::named("uk-pecr-2003"),
            RuleSelection::named("uk-pecr-duaa-2026-02-05"),
        ),
    );
    assert_eq!(
        flipped(&report),
        set(&["c-ann-0301", "c-cat-0301", "c-eve-0220", "c-fay-0206"])
    );
    assert_eq!(report.totals.evaluated, 20);
}

#[test]
fn the_tea_shop_similarity_file_flips_its_two_teapot_emails() {
    let events = events(&["hope-trust.ndjson", "tea-shop.ndjson"]);
    let mut plan = ReplayPlan::new(RuleSelection::InForce, RuleSelection::InForce);
    plan.similarity_overrides = parse_similarity_overrides(&example("tea-shop-similarity.json"))
        .unwrap_or_else(|error| panic!("tea-shop-similarity.json: {error}"));
    let report = replay(&events, plan);
    assert_eq!(flipped(&report), set(&["t-tom-pots", "t-uma-pots"]));
}
