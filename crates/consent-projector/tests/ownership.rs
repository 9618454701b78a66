//! An instance that owns some partitions projects exactly its subjects, and
//! every organisation and every address (an address fact's subject part
//! only where the subject is owned); a view built for one set of partitions is refused
//! under another until it is rebuilt.

mod support;

use consent_log::partitioner::partition_for;
use consent_log::{EventLog, LogRecord};
use consent_projector::{OwnedPartitions, Projector, ProjectorConfig, ProjectorError};
use consent_schema::EventFamily;
use consent_store::{MemoryStore, ViewStore};
use std::sync::Arc;
use support::*;

fn owning(
    log: &Arc<consent_log_embedded::EmbeddedLog>,
    store: Arc<dyn ViewStore>,
    owned: &str,
) -> Projector {
    let log: Arc<dyn EventLog> = log.clone();
    let config = ProjectorConfig {
        ownership: owned.parse().expect("a valid set of partitions"),
        ..config(7)
    };
    Projector::new(log, store, config)
}

/// The records an owner of `owned` must fold: everything on its
/// partitions, and the records keyed to an organisation from everywhere
/// (its own facts and the facts about its addresses).
fn owned_records(records: &[LogRecord], owned: &OwnedPartitions) -> Vec<LogRecord> {
    let reference = EventFamily::Reference.topic(&layout());
    records
        .iter()
        .filter(|r| {
            owned.owns(r.position.partition)
                || (r.position.topic == reference && consent_schema::is_organisation_key(&r.key))
        })
        .cloned()
        .collect()
}

#[test]
fn an_owner_projects_its_subjects_and_every_organisation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open_log(dir.path());
    let rt = runtime();
    rt.block_on(append_events(log.as_ref(), &fixed_events(120), 9));
    let records = rt.block_on(read_topics(log.as_ref(), &layout().topics()));
    let everything = model_fold(&records);
    assert_eq!(everything.organisations.len(), ORGANISATIONS.len());

    for owned in ["0", "1", "2", "0,2"] {
        let ownership: OwnedPartitions = owned.parse().expect("valid");
        let store = Arc::new(MemoryStore::new());
        let mut projector = owning(&log, store.clone(), owned);
        let status = rt.block_on(projector.catch_up(&|_| {})).expect("catch up");
        let end = rt.block_on(log.end_offsets()).expect("end offsets");
        assert_eq!(projector.handle().lag(&end).total, 0, "owning {owned}");

        let view = view_of(store.as_ref());
        // What the owner folds, but a subject part only for its subjects.
        let owns = |o: &consent_domain::OrganisationId, s: &consent_domain::SubjectId| {
            ownership.owns_subject(&layout(), o, s)
        };
        let mut expected = model_fold(&owned_records(&records, &ownership));
        expected.subjects.retain(|(o, s), _| owns(o, s));
        expected.history.retain(|(o, s), _| owns(o, s));
        for pairs in expected.contacts.values_mut() {
            pairs.retain(|(o, s)| owns(o, s));
        }
        expected.contacts.retain(|_, pairs| !pairs.is_empty());
        assert_eq!(view, expected, "owning {owned}");
        // Every address is known, wherever its subjects are.
        assert_eq!(view.addresses, everything.addresses, "owning {owned}");
        assert!(!everything.addresses.is_empty());
        // Every organisation is known, wherever its own facts sit.
        assert_eq!(
            view.organisations, everything.organisations,
            "owning {owned}"
        );
        // Subjects: exactly those routed to an owned partition.
        for (organisation, subject) in everything.subjects.keys() {
            let key = consent_schema::routing_key(organisation, Some(subject));
            let partition = partition_for(&key, PARTITIONS);
            assert_eq!(
                view.subjects
                    .contains_key(&(organisation.clone(), subject.clone())),
                ownership.owns(partition),
                "owning {owned}: {organisation}/{subject} on partition {partition}"
            );
        }
        // The stored offsets are those of the followed topic-partitions.
        let stored = store.offsets().expect("offsets").expect("initialised");
        assert_eq!(
            stored
                .keys()
                .cloned()
                .collect::<std::collections::BTreeSet<_>>(),
            ownership.followed(&layout()),
        );
        assert_eq!(status.applied, stored);
    }
}

#[test]
fn another_ownership_is_refused_until_the_view_is_rebuilt_for_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open_log(dir.path());
    let rt = runtime();
    rt.block_on(append_events(log.as_ref(), &fixed_events(40), 5));
    let store = Arc::new(MemoryStore::new());
    rt.block_on(owning(&log, store.clone(), "0-1").catch_up(&|_| {}))
        .expect("catch up owning 0-1");

    for other in ["1-2", "all", "0"] {
        let mut projector = owning(&log, store.clone(), other);
        match rt.block_on(projector.start()) {
            Err(error @ ProjectorError::OwnershipMismatch { .. }) => {
                assert!(error.requires_rebuild(), "{error}");
                let message = error.to_string();
                assert!(message.contains("owning partitions 0-1"), "{message}");
                assert!(message.contains("consent-ledger rebuild"), "{message}");
            }
            result => {
                panic!("owning {other} over a view of 0-1: expected a refusal, got {result:?}")
            }
        }
    }

    // Rebuilt for the new set, it serves that set.
    let mut rebuilt = owning(&log, store.clone(), "1-2");
    rt.block_on(rebuilt.rebuild(&|_| {}))
        .expect("rebuild owning 1-2");
    let records = rt.block_on(read_topics(log.as_ref(), &layout().topics()));
    let ownership: OwnedPartitions = "1-2".parse().expect("valid");
    assert_eq!(
        view_of(store.as_ref()),
        model_fold(&owned_records(&records, &ownership))
    );
    rt.block_on(owning(&log, store, "1-2").start())
        .expect("the rebuilt view starts");
}

#[test]
fn owning_a_partition_the_log_lacks_is_a_configuration_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open_log(dir.path());
    let mut projector = owning(&log, Arc::new(MemoryStore::new()), "2-3");
    match runtime().block_on(projector.start()) {
        Err(error @ ProjectorError::OwnedPartitionOutsideLayout { .. }) => {
            assert!(error.is_permanent() && !error.requires_rebuild(), "{error}");
            assert!(error.to_string().contains("partition 3"), "{error}");
        }
        result => panic!("expected a configuration error, got {result:?}"),
    }
}
