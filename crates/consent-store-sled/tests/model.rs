//! Model-based test: any sequence of applies, clears and reopens (with or
//! without an explicit flush first) leaves the sled store holding exactly
//! what `MemoryStore` holds after the same sequence: states, history (whose
//! bytes sled keeps once, in their records; a subject's facts are part of it) and every tree node (whose lowest
//! levels sled hashes again from the records).

mod common;

use common::*;
use consent_domain::vocabulary::ContactValue;
use consent_domain::vocabulary::{ContactKind, ContactPoint};
use consent_domain::EventPosition;
use consent_domain::{OrganisationId, SubjectId};
use consent_evidence::merkle::{Frontier, Hash, NodeAddress};
use consent_evidence::record_leaf_hash;
use consent_log::{LogPosition, TopicPartition};
use consent_store::{MemoryStore, RecordRun, StoredOffsets, ViewBatch, ViewStore};
use consent_store_sled::SledStore;
use proptest::prelude::*;
use std::collections::BTreeMap;

// One id contains the key separator and one the escape byte: the store must
// keep them apart from their look-alikes.
const ORGANISATIONS: &[&str] = &["acme", "acme\u{1f}x", "bolt"];
const SUBJECTS: &[&str] = &["s1", "x\u{1f}s1", "s\u{1e}2"];
const EVENT_IDS: &[u128] = &[1, 2, 3, 4, 5];
/// History-only entries (messages sent) have ids of their own: the fold
/// never gives one event id both a subject's fact and an entry.
const SENT_IDS: &[u128] = &[101, 102, 103];
/// Every id a snapshot reads the history entry of.
const ALL_IDS: &[u128] = &[1, 2, 3, 4, 5, 101, 102, 103];
/// Tree partitions; one topic contains the key separator.
const TREE_TOPICS: &[&str] = &["test.grants", "test.grants\u{1f}x"];
const TREE_PARTITIONS: u32 = 2;
/// Levels read back: the lowest ones are hashed again from the records,
/// the others stored.
const TREE_LEVELS: u8 = 7;

fn tree_partitions() -> Vec<TopicPartition> {
    TREE_TOPICS
        .iter()
        .flat_map(|topic| (0..TREE_PARTITIONS).map(|p| TopicPartition::new(*topic, p)))
        .collect()
}

/// The log the generated batches consume: each partition's records and
/// tree so far, as the projector would have them. A batch adds records at
/// the next offsets, with the tree nodes they complete, and its history
/// entries point at records consumed (the store keeps an entry's bytes
/// once, in its record).
#[derive(Default)]
struct Log {
    partitions: BTreeMap<TopicPartition, (Vec<Vec<u8>>, Frontier)>,
}

impl Log {
    fn batch(&mut self, spec: BatchSpec) -> ViewBatch {
        let mut batch = spec.batch;
        let partitions = tree_partitions();
        for (pick, seeds) in spec.appends {
            let partition = partitions[pick % partitions.len()].clone();
            let (records, frontier) = self.partitions.entry(partition.clone()).or_default();
            let first_offset = records.len() as u64;
            let mut payloads = Vec::new();
            for seed in seeds {
                let offset = records.len() as u64;
                let payload = vec![seed, (offset % 251) as u8];
                let position =
                    LogPosition::new(partition.topic.clone(), partition.partition, offset);
                let leaf = record_leaf_hash(&position, &payload).expect("a leaf");
                for (address, hash) in frontier.append(leaf).expect("a small tree") {
                    batch.merkle_nodes.push((partition.clone(), address, hash));
                }
                records.push(payload.clone());
                payloads.push(payload);
            }
            if !payloads.is_empty() {
                batch
                    .merkle_frontiers
                    .push((partition.clone(), frontier.clone()));
                batch.records.push(RecordRun {
                    partition,
                    first_offset,
                    payloads,
                });
            }
        }
        let consumed: Vec<(TopicPartition, u64, Vec<u8>)> = self
            .partitions
            .iter()
            .flat_map(|(partition, (records, _))| {
                (0u64..)
                    .zip(records)
                    .map(|(offset, payload)| (partition.clone(), offset, payload.clone()))
            })
            .collect();
        for (o, s, facts) in spec.subjects {
            let key = (OrganisationId::new(o), SubjectId::new(s));
            for fact in subject_state(o, s, &facts).facts.facts() {
                let mut fact = fact.clone();
                // A fact is at one of the records consumed, or (before
                // any) at no position, and then in no history.
                fact.position = (!consumed.is_empty()).then(|| {
                    let pick = usize::try_from(fact.id.0.as_u128()).unwrap_or(0);
                    let (partition, offset, _) = &consumed[pick % consumed.len()];
                    EventPosition {
                        topic: partition.topic.clone(),
                        partition: partition.partition,
                        offset: *offset,
                    }
                });
                batch.subject_facts.push((key.clone(), fact));
            }
        }
        if !consumed.is_empty() {
            for (o, s, id, at, pick) in spec.history {
                let (partition, offset, payload) = &consumed[pick % consumed.len()];
                let mut entry = history_entry(o, s, id, at, *offset);
                entry.position = EventPosition {
                    topic: partition.topic.clone(),
                    partition: partition.partition,
                    offset: *offset,
                };
                entry.stored_bytes = payload.clone();
                batch.history.push(entry);
            }
        }
        batch
    }

    fn largest(&self) -> u64 {
        self.partitions
            .values()
            .map(|(records, _)| records.len() as u64)
            .max()
            .unwrap_or(0)
    }
}

/// Every tree node and frontier the generated batches can write.
fn trees_of(
    store: &dyn ViewStore,
    leaves: u64,
) -> Vec<(TopicPartition, Option<Frontier>, Vec<Option<Hash>>)> {
    let mut trees = Vec::new();
    for partition in tree_partitions() {
        let mut nodes = Vec::new();
        for level in 0..TREE_LEVELS {
            for index in 0..=(leaves >> level) {
                let node = store
                    .merkle_node(&partition, NodeAddress::new(level, index))
                    .expect("read a node");
                nodes.push(node);
            }
        }
        let frontier = store.merkle_frontier(&partition).expect("read a frontier");
        trees.push((partition, frontier, nodes));
    }
    trees
}

fn contacts() -> Vec<ContactPoint> {
    vec![
        ContactPoint {
            kind: ContactKind::Email,
            value: ContactValue::clear("ada@example.com"),
        },
        ContactPoint {
            kind: ContactKind::Mobile,
            value: ContactValue::clear("+447700900123"),
        },
        ContactPoint {
            kind: ContactKind::Landline,
            value: ContactValue::clear("+447700900123"),
        },
    ]
}

/// A batch's states, contacts and offsets, the records it adds (partition
/// pick, payload seeds) and its history entries (organisation, subject,
/// event, time, record pick).
#[derive(Clone, Debug)]
struct BatchSpec {
    batch: ViewBatch,
    appends: Vec<(usize, Vec<u8>)>,
    history: Vec<(&'static str, &'static str, u128, i64, usize)>,
    /// Facts (event, time) of subjects, at records picked by event id.
    subjects: Vec<SubjectFacts>,
}

/// Organisation, subject, and its facts as (event, time).
type SubjectFacts = (&'static str, &'static str, Vec<(u128, i64)>);

#[derive(Clone, Debug)]
enum Op {
    Apply(Box<BatchSpec>),
    Clear,
    /// Drop the store and open it again, without flushing first.
    Reopen,
    FlushAndReopen,
}

fn facts() -> impl Strategy<Value = Vec<(u128, i64)>> {
    proptest::collection::vec((proptest::sample::select(EVENT_IDS), -3i64..3), 0..3)
}

fn batch() -> impl Strategy<Value = BatchSpec> {
    let organisation = proptest::sample::select(ORGANISATIONS);
    let subject = proptest::sample::select(SUBJECTS);
    let subjects =
        proptest::collection::vec((organisation.clone(), subject.clone(), facts()), 0..3);
    let organisations = proptest::collection::vec((organisation.clone(), facts()), 0..2);
    let addresses = proptest::collection::vec(
        (
            organisation.clone(),
            proptest::sample::select(ADDRESSES),
            facts(),
        ),
        0..3,
    );
    let history = proptest::collection::vec(
        (
            organisation.clone(),
            subject.clone(),
            proptest::sample::select(SENT_IDS),
            -3i64..3,
            any::<usize>(),
        ),
        0..5,
    );
    let contact = proptest::sample::select(contacts());
    let contacts = proptest::collection::vec((contact, organisation, subject), 0..3);
    let offsets = proptest::collection::btree_map(
        (0u32..3).prop_map(|p| TopicPartition::new("test.grants", p)),
        0u64..1000,
        0..3,
    );
    let appends = proptest::collection::vec(
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 0..24),
        ),
        0..3,
    );
    let states = (subjects, organisations, addresses);
    (states, history, contacts, offsets, appends).prop_map(
        |((subjects, organisations, addresses), history, contacts, offsets, appends)| BatchSpec {
            batch: ViewBatch {
                organisations: organisations
                    .into_iter()
                    .map(|(o, f)| (OrganisationId::new(o), organisation_state(o, &f)))
                    .collect(),
                addresses: addresses
                    .into_iter()
                    .map(|(o, a, f)| {
                        (
                            (OrganisationId::new(o), address_value(a)),
                            address_state(o, a, &f),
                        )
                    })
                    .collect(),
                contacts: contacts
                    .into_iter()
                    .map(|(c, o, s)| (c, OrganisationId::new(o), SubjectId::new(s)))
                    .collect(),
                offsets: offsets as StoredOffsets,
                ..ViewBatch::default()
            },
            appends,
            history,
            subjects,
        },
    )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => batch().prop_map(|spec| Op::Apply(Box::new(spec))),
        1 => Just(Op::Clear),
        2 => Just(Op::Reopen),
        2 => Just(Op::FlushAndReopen),
    ]
}

fn snapshot_of(store: &dyn ViewStore) -> Snapshot {
    snapshot(store, ORGANISATIONS, SUBJECTS, ALL_IDS, &contacts()).expect("read the whole store")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn sled_store_behaves_like_the_memory_model(ops in proptest::collection::vec(op(), 1..16)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("view");
        let model = MemoryStore::new();
        let mut store = Some(SledStore::open(&path).expect("open"));
        let mut log = Log::default();
        for op in ops {
            match op {
                Op::Apply(spec) => {
                    let batch = log.batch(*spec);
                    model.apply(batch.clone()).expect("model apply");
                    store.as_ref().expect("open store").apply(batch).expect("sled apply");
                }
                Op::Clear => {
                    // A cleared view is rebuilt from the log's start.
                    log = Log::default();
                    model.clear().expect("model clear");
                    store.as_ref().expect("open store").clear().expect("sled clear");
                }
                Op::Reopen => {
                    drop(store.take());
                    store = Some(SledStore::open(&path).expect("reopen"));
                }
                Op::FlushAndReopen => {
                    store.as_ref().expect("open store").flush().expect("flush");
                    drop(store.take());
                    store = Some(SledStore::open(&path).expect("reopen"));
                }
            }
            prop_assert_eq!(snapshot_of(store.as_ref().expect("open store")), snapshot_of(&model));
            let leaves = log.largest();
            prop_assert_eq!(
                trees_of(store.as_ref().expect("open store"), leaves),
                trees_of(&model, leaves)
            );
        }
    }
}
