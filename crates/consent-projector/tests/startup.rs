//! What the projector starts from, and when it refuses to start.

mod support;

use consent_log::{EventLog, TopicPartition};
use consent_projector::ProjectorError;
use consent_store::{MemoryStore, StoredOffsets, ViewBatch, ViewStore};
use std::sync::Arc;
use support::*;

fn all_at(offset: u64) -> StoredOffsets {
    layout()
        .topic_partitions()
        .into_iter()
        .map(|p| (p, offset))
        .collect()
}

#[test]
fn an_uninitialised_view_starts_at_offset_zero_of_every_partition() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open_log(dir.path());
    let store = Arc::new(MemoryStore::new());
    let mut projector = projector(&log, store.clone(), 10);
    runtime().block_on(projector.start()).expect("start");
    assert_eq!(store.offsets().expect("offsets"), Some(all_at(0)));
    assert_eq!(projector.handle().applied_offsets(), all_at(0));
}

#[test]
fn a_view_missing_a_partition_offset_must_be_rebuilt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open_log(dir.path());
    let store = Arc::new(MemoryStore::new());
    let mut offsets = all_at(0);
    let missing = TopicPartition::new(consent_schema::EventFamily::OptOuts.topic(&layout()), 2);
    offsets.remove(&missing);
    store
        .apply(ViewBatch {
            offsets,
            ..ViewBatch::default()
        })
        .expect("apply");

    let mut projector = projector(&log, store.clone(), 10);
    let rt = runtime();
    match rt.block_on(projector.start()) {
        Err(error @ ProjectorError::MissingOffset { .. }) => {
            assert!(error.requires_rebuild());
            assert!(
                error.to_string().contains("consent-ledger rebuild"),
                "{error}"
            );
            let ProjectorError::MissingOffset { partition } = error else {
                unreachable!()
            };
            assert_eq!(partition, missing);
        }
        other => panic!("expected a missing-offset error, got {other:?}"),
    }
    // Stepping refuses too, and nothing was written.
    assert!(rt
        .block_on(projector.step())
        .is_err_and(|e| e.requires_rebuild()));
    assert_eq!(
        store.offsets().expect("offsets").map(|o| o.len()),
        Some(all_at(0).len() - 1)
    );
}

#[test]
fn a_view_ahead_of_the_log_must_be_rebuilt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open_log(dir.path());
    let store = Arc::new(MemoryStore::new());
    store
        .apply(ViewBatch {
            offsets: all_at(5),
            ..ViewBatch::default()
        })
        .expect("apply");
    let mut projector = projector(&log, store, 10);
    match runtime().block_on(projector.start()) {
        Err(ProjectorError::OffsetBeyondLogEnd { stored, end, .. }) => {
            assert_eq!((stored, end), (5, 0))
        }
        other => panic!("expected an offset-beyond-end error, got {other:?}"),
    }
}

#[test]
fn a_view_of_another_layout_must_be_rebuilt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open_log(dir.path());
    let store = Arc::new(MemoryStore::new());
    let mut offsets = all_at(0);
    offsets.insert(
        TopicPartition::new(
            consent_schema::EventFamily::Grants.topic(&layout()),
            PARTITIONS,
        ),
        0,
    );
    store
        .apply(ViewBatch {
            offsets,
            ..ViewBatch::default()
        })
        .expect("apply");
    let mut projector = projector(&log, store, 10);
    let result = runtime().block_on(projector.start());
    assert!(
        matches!(result, Err(ProjectorError::UnknownPartition { .. })),
        "got {result:?}"
    );
}

#[test]
fn rebuild_clears_the_view_and_projects_the_log_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open_log(dir.path());
    let store = Arc::new(MemoryStore::new());
    // A view holding offsets the log does not have, and a stray state.
    store
        .apply(ViewBatch {
            offsets: all_at(5),
            ..ViewBatch::default()
        })
        .expect("apply");
    let rt = runtime();
    let events = fixed_events(15);
    rt.block_on(append_events(log.as_ref(), &events, 5));
    let mut projector = projector(&log, store.clone(), 4);
    let reports = std::sync::Mutex::new(Vec::new());
    let status = rt
        .block_on(projector.rebuild(&|p| reports.lock().expect("lock").push(p)))
        .expect("rebuild");
    let end = rt.block_on(log.end_offsets()).expect("end offsets");
    assert_eq!(status.lag(&end).total, 0);
    assert_eq!(status.events_applied, 15);
    let records = rt.block_on(read_topics(log.as_ref(), &layout().topics()));
    assert_eq!(view_of(store.as_ref()), model_fold(&records));
    let reports = reports.into_inner().expect("lock");
    let last = reports.last().expect("progress was reported");
    assert_eq!((last.records_done, last.records_total), (15, 15));
    assert!(reports
        .windows(2)
        .all(|w| w[0].records_done <= w[1].records_done));
}
