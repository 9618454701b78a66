//! Replaying the log's stored bytes: records decode through the schema as
//! the projector reads them; a record that does not decode or validate is
//! counted and sampled, never fatal.

use consent_domain::rules::RuleCatalogue;
use consent_domain::EventPosition;
use consent_replay::{ReplayPlan, Replayer, RuleSelection};
use consent_testkit::history::*;

fn position(offset: u64) -> EventPosition {
    EventPosition {
        topic: "consent.messages".to_owned(),
        partition: 0,
        offset,
    }
}

#[test]
fn bad_records_are_counted_and_the_rest_replays() {
    let plan = ReplayPlan::new(
        RuleSelection::named("uk-pecr-2003"),
        RuleSelection::named("uk-pecr-duaa-2026-02-05"),
    );
    let mut replayer = match Replayer::new(plan.clone(), RuleCatalogue::uk()) {
        Ok(replayer) => replayer,
        Err(error) => panic!("plan refused: {error}"),
    };
    let events = charity_history().events;
    let mut offset = 0;
    for event in &events {
        let bytes = consent_schema::encode_envelope(&consent_schema::event_to_proto(event));
        assert!(replayer.apply_stored(position(offset), &bytes).is_ok());
        offset += 1;
    }
    // Not protobuf at all.
    let garbage = replayer.apply_stored(position(offset), &[0xff, 0xff, 0xff]);
    assert!(garbage.is_err_and(|e| e.reason.starts_with("undecodable")));
    // An envelope without a fact.
    let empty = consent_schema::encode_envelope(&consent_schema::v1::Envelope::default());
    let invalid = replayer.apply_stored(position(offset + 1), &empty);
    assert!(invalid.is_err_and(|e| e.reason.starts_with("invalid")));
    // The first send again, at a later position: a duplicate.
    let again = consent_schema::encode_envelope(&consent_schema::event_to_proto(&events[2]));
    assert!(replayer.apply_stored(position(offset + 2), &again).is_ok());

    let report = replayer.report();
    assert_eq!(report.input.rejected, 2);
    assert_eq!(report.input.duplicates, 1);
    assert_eq!(report.input.deliveries, events.len() as u64 + 3);
    assert_eq!(report.input.events, events.len() as u64);
    let rejected: Vec<u64> = report
        .rejected_samples
        .iter()
        .filter_map(|r| r.position.as_ref().map(|p| p.offset))
        .collect();
    assert_eq!(rejected, [offset, offset + 1]);

    // The same flips as replaying the events themselves, and each sample
    // names the send's log position (the lowest one it was read at).
    let direct = replay(&events, plan);
    assert_eq!(
        message_ids(&report.samples.refused_to_allowed),
        message_ids(&direct.samples.refused_to_allowed)
    );
    for sample in &report.samples.refused_to_allowed {
        match &sample.question {
            consent_replay::QuestionRef::Send { position, .. } => {
                assert!(position.as_ref().is_some_and(|p| p.offset < offset))
            }
            other => panic!("expected a send, got {other:?}"),
        }
    }
}

#[test]
fn a_plan_naming_an_unknown_rule_set_is_refused() {
    let plan = ReplayPlan::new(RuleSelection::InForce, RuleSelection::named("uk-pecr-2099"));
    let error = Replayer::new(plan, RuleCatalogue::uk())
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        error.as_deref(),
        Some("the candidate names an unknown rule set: unknown rule set `uk-pecr-2099`")
    );
}
