//! Read-your-writes and the running projector: waiting for positions,
//! lag, shutdown, and conflicting copies of one event.

mod support;

use consent_domain::event::ErasureRequested;
use consent_domain::{Event, EventId, Fact, OrganisationId, Source, SubjectId};
use consent_log::EventLog;
use consent_projector::{lag, ProjectorConfig};
use consent_store::{MemoryStore, ViewStore};
use std::sync::Arc;
use std::time::Duration;
use support::*;

fn erasure(id: u128, reason: &str, at_day: i64) -> Event {
    canonical(Event {
        id: EventId(uuid::Uuid::from_u128(id)),
        organisation: OrganisationId::new("acme"),
        subject: Some(SubjectId::new("s-1")),
        occurred_at: day(at_day),
        recorded_at: day(at_day),
        source: Source::default(),
        fact: Fact::ErasureRequested(ErasureRequested {
            reason: reason.to_owned(),
        }),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_returns_once_the_view_has_applied_the_positions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open_log(dir.path());
    let store = Arc::new(MemoryStore::new());
    let projector = projector(&log, store.clone(), 100);
    let handle = projector.handle();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(projector.run(stopped));

    let positions = append_events(log.as_ref(), &[erasure(1, "asked", 1)], 1).await;
    handle
        .wait_for(&positions, Duration::from_secs(10))
        .await
        .expect("applied in time");
    // Read-your-writes: once waited for, the fact is in the view.
    let state = store
        .subject_state(&OrganisationId::new("acme"), &SubjectId::new("s-1"))
        .expect("read");
    assert_eq!(state.map(|s| s.facts.len()), Some(1));
    let end = log.end_offsets().await.expect("end offsets");
    assert_eq!(handle.lag(&end).total, 0);
    assert_eq!(handle.status().events_applied, 1);

    // A position that never comes times out, naming it.
    let mut never = positions[0].clone();
    never.offset += 100;
    let timeout = handle
        .wait_for(&[never.clone()], Duration::from_millis(100))
        .await
        .expect_err("times out");
    assert_eq!(timeout.pending, vec![never.clone()]);
    assert!(!timeout.projector_stopped);

    stop.send(true).expect("signal shutdown");
    running
        .await
        .expect("join")
        .expect("the projector stops cleanly");
    let stopped = handle
        .wait_for(&[never], Duration::from_secs(10))
        .await
        .expect_err("stopped");
    assert!(
        stopped.projector_stopped,
        "a stopped projector ends the wait early"
    );
}

#[test]
fn lag_counts_records_behind_per_partition() {
    let a = consent_log::TopicPartition::new("t", 0);
    let b = consent_log::TopicPartition::new("t", 1);
    let applied = [(a.clone(), 3)].into_iter().collect();
    let end = [(a.clone(), 5), (b.clone(), 4)].into_iter().collect();
    let lag = lag(&applied, &end);
    assert_eq!(lag.partitions.get(&a), Some(&2));
    assert_eq!(
        lag.partitions.get(&b),
        Some(&4),
        "a partition never applied counts from 0"
    );
    assert_eq!(lag.total, 6);
}

#[test]
fn a_conflicting_copy_is_counted_and_the_lower_position_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open_log(dir.path());
    let store = Arc::new(MemoryStore::new());
    let rt = runtime();
    let original = erasure(7, "first", 3);
    let conflicting = erasure(7, "second", 4);
    rt.block_on(append_events(
        log.as_ref(),
        &[original.clone(), conflicting],
        1,
    ));
    let mut projector = projector(&log, store.clone(), 1);
    let status = rt.block_on(projector.catch_up(&|_| {})).expect("catch up");
    assert_eq!(status.conflicts, 1);
    let (organisation, subject) = (OrganisationId::new("acme"), SubjectId::new("s-1"));
    let state = store
        .subject_state(&organisation, &subject)
        .expect("read")
        .expect("state");
    assert_eq!(state.facts.len(), 1);
    assert_eq!(state.facts.facts()[0].fact, original.fact);
    let history = store.history(&organisation, &subject).expect("history");
    assert_eq!(history.len(), 1, "one history entry per event id");
    assert_eq!(history[0].occurred_at, original.occurred_at);
    assert_eq!(history[0].position.offset, 0);
}

#[test]
fn the_default_config_reads_in_batches_of_a_thousand() {
    let config = ProjectorConfig::default();
    assert_eq!(config.batch_size, 1000);
    assert!(config.dead_letters);
}
