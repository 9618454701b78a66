//! The per-partition RFC 9162 trees the projector keeps with the view.
//!
//! Every check here recomputes the trees independently: it reads the log
//! from offset 0 with the log API and hashes each record with
//! `consent_evidence` directly, then compares with what the projector
//! committed (its status and the stored frontiers and nodes).
//!
//! The view depends only on the *set* of events (tests/permutations.rs);
//! the trees depend on the log's order by design: leaf `i` of a partition's
//! tree is the record at offset `i`. What must hold for any delivery is
//! that the trees are exactly the log's, whatever the batch size and
//! however projection was interrupted or repeated.

mod support;

use consent_domain::Event;
use consent_evidence::merkle::{
    consistency_proof, empty_root, inclusion_proof, verify_consistency, verify_inclusion,
    MemoryNodeStore,
};
use consent_evidence::{
    ledger_head, record_leaf_hash, verify_partition_head, Hash, LedgerHead, PartitionHead,
};
use consent_log::{AppendRecord, EventLog, LogRecord, TopicPartition};
use consent_projector::{ProjectionStatus, StepOutcome};
use consent_store::{MemoryStore, PartitionNodes, ViewStore};
use consent_store_sled::SledStore;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use support::*;

/// The trees of the log, computed from its records alone: one per
/// event-family topic-partition (empty ones included), leaf `i` = the
/// record at offset `i`.
fn trees_of_log(records: &[LogRecord]) -> BTreeMap<TopicPartition, MemoryNodeStore> {
    let mut by_partition: BTreeMap<TopicPartition, Vec<&LogRecord>> = layout()
        .topic_partitions()
        .into_iter()
        .map(|partition| (partition, Vec::new()))
        .collect();
    for record in records {
        by_partition
            .entry(record.position.topic_partition())
            .or_default()
            .push(record);
    }
    by_partition
        .into_iter()
        .map(|(partition, mut records)| {
            records.sort_by_key(|r| r.position.offset);
            for (i, record) in records.iter().enumerate() {
                assert_eq!(record.position.offset, i as u64, "dense offsets");
            }
            let tree = MemoryNodeStore::from_leaf_hashes(
                records
                    .iter()
                    .map(|r| record_leaf_hash(&r.position, &r.payload).expect("a small record")),
            )
            .expect("a small tree");
            (partition, tree)
        })
        .collect()
}

fn heads_of(trees: &BTreeMap<TopicPartition, MemoryNodeStore>) -> Vec<PartitionHead> {
    trees
        .iter()
        .map(|(partition, tree)| {
            PartitionHead::new(partition.clone(), tree.tree_size(), tree.root())
        })
        .collect()
}

async fn log_records(log: &dyn EventLog) -> Vec<LogRecord> {
    read_topics(log, &layout().topics()).await
}

/// The projector's status, the stored frontiers and the stored nodes all
/// say exactly the trees of the log.
fn assert_trees_are_the_logs(
    status: &ProjectionStatus,
    store: &dyn ViewStore,
    records: &[LogRecord],
) -> Result<(), TestCaseError> {
    let trees = trees_of_log(records);
    let heads = heads_of(&trees);
    prop_assert_eq!(&status.partition_heads, &heads);
    prop_assert_eq!(
        status.ledger_head,
        Some(ledger_head(&heads).expect("heads"))
    );
    for head in &heads {
        let stored = store
            .merkle_frontier(&head.partition)
            .expect("read frontier")
            .unwrap_or_default();
        prop_assert_eq!(stored.size(), head.tree_size);
        prop_assert_eq!(stored.root(), head.root);
        // Every node the independent tree has is stored, with its hash.
        let nodes = PartitionNodes::new(store, &head.partition);
        if head.tree_size > 0 {
            prop_assert_eq!(
                consent_evidence::root_at(&nodes, head.tree_size).expect("stored root"),
                head.root
            );
        }
    }
    Ok(())
}

fn bad_record() -> AppendRecord {
    AppendRecord {
        topic: consent_schema::EventFamily::Grants.topic(&layout()),
        key: b"acme\x1fs-1".to_vec(),
        payload: vec![0xff, 0x00, 0x13, 0x37],
        headers: vec![],
    }
}

#[test]
fn partition_roots_are_the_roots_of_the_log_records_dead_letters_included() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open_log(dir.path());
    let store = Arc::new(MemoryStore::new());
    let rt = runtime();
    let (status, records) = rt.block_on(async {
        append_events(log.as_ref(), &fixed_events(20), 3).await;
        log.append(vec![bad_record()]).await.expect("append");
        append_events(log.as_ref(), &fixed_events(30)[20..], 4).await;
        let mut projector = projector(&log, store.clone(), 7);
        let status = projector.catch_up(&|_| {}).await.expect("catch up");
        (status, log_records(log.as_ref()).await)
    });
    assert_eq!(status.dead_letters, 1);
    assert_eq!(records.len(), 31);
    assert_trees_are_the_logs(&status, store.as_ref(), &records).expect("trees");
    // Some partition has more than one leaf, so roots are not trivial.
    assert!(status.partition_heads.iter().any(|h| h.tree_size > 2));
    // The handle reports the same.
    let projector = projector(&log, store.clone(), 7);
    rt.block_on(async {
        let mut projector = projector;
        projector.start().await.expect("start");
        let handle = projector.handle();
        assert_eq!(handle.partition_heads(), status.partition_heads);
        assert_eq!(handle.ledger_head(), status.ledger_head);
    });
}

#[test]
fn a_rebuild_gives_the_same_roots_and_ledger_head() {
    let log_dir = tempfile::tempdir().expect("tempdir");
    let view_dir = tempfile::tempdir().expect("tempdir");
    let log = open_log(log_dir.path());
    let store = Arc::new(SledStore::open(view_dir.path()).expect("open view"));
    let rt = runtime();
    rt.block_on(async {
        append_events(log.as_ref(), &fixed_events(40), 5).await;
        log.append(vec![bad_record()]).await.expect("append");
        let mut first = projector(&log, store.clone(), 6);
        let before = first.catch_up(&|_| {}).await.expect("catch up");
        let mut second = projector(&log, store.clone(), 1000);
        let rebuilt = second.rebuild(&|_| {}).await.expect("rebuild");
        assert_eq!(rebuilt.partition_heads, before.partition_heads);
        assert_eq!(rebuilt.ledger_head, before.ledger_head);
        let records = log_records(log.as_ref()).await;
        assert_trees_are_the_logs(&rebuilt, store.as_ref(), &records).expect("trees");
    });
}

#[test]
fn a_proof_from_the_stored_nodes_verifies_every_record_up_to_the_ledger_head() {
    let log_dir = tempfile::tempdir().expect("tempdir");
    let view_dir = tempfile::tempdir().expect("tempdir");
    let log = open_log(log_dir.path());
    let store = Arc::new(SledStore::open(view_dir.path()).expect("open view"));
    let rt = runtime();
    let (status, records) = rt.block_on(async {
        append_events(log.as_ref(), &fixed_events(60), 7).await;
        let mut projector = projector(&log, store.clone(), 9);
        let status = projector.catch_up(&|_| {}).await.expect("catch up");
        (status, log_records(log.as_ref()).await)
    });
    let heads: BTreeMap<TopicPartition, PartitionHead> = status
        .partition_heads
        .iter()
        .map(|h| (h.partition.clone(), h.clone()))
        .collect();
    let ledger = LedgerHead::new(status.partition_heads.clone()).expect("ledger head");
    let ledger_root = status.ledger_head.expect("started");
    assert_eq!(ledger.root(), ledger_root);
    for record in &records {
        let partition = record.position.topic_partition();
        let head = &heads[&partition];
        let nodes = PartitionNodes::new(store.as_ref(), &partition);
        let proof = inclusion_proof(&nodes, record.position.offset, head.tree_size)
            .expect("proof from the stored nodes");
        // The verifier hashes the record itself.
        let leaf = record_leaf_hash(&record.position, &record.payload).expect("leaf");
        verify_inclusion(
            record.position.offset,
            head.tree_size,
            &leaf,
            &proof,
            &head.root,
        )
        .expect("the record is in its partition's tree");
        let head_proof = ledger.prove(&partition).expect("the head is covered");
        verify_partition_head(head, &head_proof, &ledger_root)
            .expect("the partition head is in the ledger head");

        // One changed byte of the record no longer verifies.
        let mut tampered = record.payload.clone();
        tampered[0] ^= 1;
        let leaf = record_leaf_hash(&record.position, &tampered).expect("leaf");
        assert!(verify_inclusion(
            record.position.offset,
            head.tree_size,
            &leaf,
            &proof,
            &head.root
        )
        .is_err());
    }
}

fn restart_scenario() -> impl Strategy<Value = (Vec<Event>, Vec<Event>, usize, usize)> {
    (event_set(25), event_set(10))
        .prop_flat_map(|(before, after)| (deliveries(before), Just(after), 1usize..6, 0usize..12))
}

/// Ids of the second set must not collide with the first.
fn shifted(events: Vec<Event>) -> Vec<Event> {
    events
        .into_iter()
        .map(|mut e| {
            e.id = consent_domain::EventId(uuid::Uuid::from_u128(e.id.0.as_u128() + 1_000));
            e
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// A projector stopped mid-stream and a new one resuming on the view
    /// reopened from disk end with the trees of the log (and of one
    /// uninterrupted projection); the trees before the stop are prefixes of
    /// the final ones (consistency proofs from the stored nodes verify).
    #[test]
    fn a_restarted_projector_ends_with_the_logs_trees(
        (before, after, batch_size, steps_before_stop) in restart_scenario()
    ) {
        let after = shifted(after);
        let log_dir = tempfile::tempdir().expect("tempdir");
        let view_dir = tempfile::tempdir().expect("tempdir");
        let log = open_log(log_dir.path());
        let rt = runtime();
        rt.block_on(append_events(log.as_ref(), &before, 4));

        let stopped_at: Vec<PartitionHead> = {
            let store: Arc<dyn ViewStore> =
                Arc::new(SledStore::open(view_dir.path()).expect("open view"));
            let mut first = projector(&log, store, batch_size);
            rt.block_on(async {
                first.start().await.expect("start");
                for _ in 0..steps_before_stop {
                    if first.step().await.expect("step") == StepOutcome::Idle {
                        break;
                    }
                }
            });
            first.status().partition_heads
        };

        rt.block_on(append_events(log.as_ref(), &after, 3));
        let reopened = Arc::new(SledStore::open(view_dir.path()).expect("reopen view"));
        let mut second = projector(&log, reopened.clone(), batch_size);
        let resumed = rt.block_on(second.catch_up(&|_| {})).expect("catch up");

        let uninterrupted = Arc::new(MemoryStore::new());
        let mut once = projector(&log, uninterrupted.clone(), 1000);
        let whole = rt.block_on(once.catch_up(&|_| {})).expect("catch up");

        let records = rt.block_on(log_records(log.as_ref()));
        assert_trees_are_the_logs(&resumed, reopened.as_ref(), &records)?;
        prop_assert_eq!(&resumed.partition_heads, &whole.partition_heads);
        prop_assert_eq!(resumed.ledger_head, whole.ledger_head);

        for (old, new) in stopped_at.iter().zip(&resumed.partition_heads) {
            prop_assert_eq!(&old.partition, &new.partition);
            let nodes = PartitionNodes::new(reopened.as_ref(), &new.partition);
            let proof = consistency_proof(&nodes, old.tree_size, new.tree_size).expect("proof");
            prop_assert!(
                verify_consistency(old.tree_size, new.tree_size, &old.root, &new.root, &proof).is_ok(),
                "{} grew from {} to {} leaves inconsistently", new.partition, old.tree_size, new.tree_size
            );
        }
    }

    /// Any order, duplication and batching of deliveries: the trees are
    /// exactly those of the log as it was written (the view's
    /// order-independence is tests/permutations.rs).
    #[test]
    fn any_delivery_gives_the_trees_of_the_log(
        (delivered, batch_size, chunk) in event_set(30)
            .prop_flat_map(deliveries)
            .prop_flat_map(|d| (Just(d), 1usize..8, 1usize..12))
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = open_log(dir.path());
        let store = Arc::new(MemoryStore::new());
        let rt = runtime();
        let (status, records) = rt.block_on(async {
            append_events(log.as_ref(), &delivered, chunk).await;
            let mut projector = projector(&log, store.clone(), batch_size);
            let status = projector.catch_up(&|_| {}).await.expect("catch up");
            (status, log_records(log.as_ref()).await)
        });
        prop_assert_eq!(records.len(), delivered.len());
        assert_trees_are_the_logs(&status, store.as_ref(), &records)?;
    }
}

#[test]
fn an_empty_log_has_empty_trees_under_the_ledger_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open_log(dir.path());
    let store = Arc::new(MemoryStore::new());
    let status = runtime()
        .block_on(async {
            let mut projector = projector(&log, store.clone(), 10);
            projector.catch_up(&|_| {}).await
        })
        .expect("catch up");
    let expected: Vec<PartitionHead> = layout()
        .topic_partitions()
        .into_iter()
        .map(|p| PartitionHead::new(p, 0, empty_root()))
        .collect();
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(status.partition_heads, sorted);
    let root: Hash = ledger_head(&expected).expect("heads");
    assert_eq!(status.ledger_head, Some(root));
}
