//! Model-based test: any sequence of applies, clears and reopens (with or
//! without an explicit flush first) leaves the sled store holding exactly
//! what `MemoryStore` holds after the same sequence.

mod common;

use common::*;
use consent_domain::vocabulary::{ContactKind, ContactPoint};
use consent_domain::{OrganisationId, SubjectId};
use consent_evidence::merkle::{leaf_hash, Frontier, Hash, NodeAddress};
use consent_log::TopicPartition;
use consent_store::{MemoryStore, StoredOffsets, ViewBatch, ViewStore};
use consent_store_sled::SledStore;
use proptest::prelude::*;

// One id contains the key separator and one the escape byte: the store must
// keep them apart from their look-alikes.
const ORGANISATIONS: &[&str] = &["acme", "acme\u{1f}x", "bolt"];
const SUBJECTS: &[&str] = &["s1", "x\u{1f}s1", "s\u{1e}2"];
const EVENT_IDS: &[u128] = &[1, 2, 3, 4, 5];
/// Tree partitions; one topic contains the key separator.
const TREE_TOPICS: &[&str] = &["test.grants", "test.grants\u{1f}x", "test.optouts"];
const TREE_PARTITIONS: u32 = 2;
const TREE_LEVELS: u8 = 3;
const TREE_INDEXES: u64 = 4;

fn tree_partition() -> impl Strategy<Value = TopicPartition> {
    (proptest::sample::select(TREE_TOPICS), 0..TREE_PARTITIONS)
        .prop_map(|(topic, partition)| TopicPartition::new(topic, partition))
}

fn frontier_of(leaves: u8) -> Frontier {
    let mut frontier = Frontier::new();
    for leaf in 0..leaves {
        frontier.append(leaf_hash(&[leaf])).expect("a small tree");
    }
    frontier
}

/// Every tree node and frontier the generated batches can write.
fn trees_of(store: &dyn ViewStore) -> Vec<(TopicPartition, Option<Frontier>, Vec<Option<Hash>>)> {
    let mut trees = Vec::new();
    for topic in TREE_TOPICS {
        for partition in 0..TREE_PARTITIONS {
            let partition = TopicPartition::new(*topic, partition);
            let mut nodes = Vec::new();
            for level in 0..TREE_LEVELS {
                for index in 0..TREE_INDEXES {
                    let node = store
                        .merkle_node(&partition, NodeAddress::new(level, index))
                        .expect("read a node");
                    nodes.push(node);
                }
            }
            let frontier = store.merkle_frontier(&partition).expect("read a frontier");
            trees.push((partition, frontier, nodes));
        }
    }
    trees
}

fn contacts() -> Vec<ContactPoint> {
    vec![
        ContactPoint {
            kind: ContactKind::Email,
            value: "ada@example.com".to_owned(),
        },
        ContactPoint {
            kind: ContactKind::Mobile,
            value: "+447700900123".to_owned(),
        },
        ContactPoint {
            kind: ContactKind::Landline,
            value: "+447700900123".to_owned(),
        },
    ]
}

#[derive(Clone, Debug)]
enum Op {
    Apply(ViewBatch),
    Clear,
    /// Drop the store and open it again, without flushing first.
    Reopen,
    FlushAndReopen,
}

fn facts() -> impl Strategy<Value = Vec<(u128, i64)>> {
    proptest::collection::vec((proptest::sample::select(EVENT_IDS), -3i64..3), 0..3)
}

fn batch() -> impl Strategy<Value = ViewBatch> {
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
            proptest::sample::select(EVENT_IDS),
            -3i64..3,
            0u64..50,
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
    let merkle_nodes = proptest::collection::vec(
        (
            tree_partition(),
            0..TREE_LEVELS,
            0..TREE_INDEXES,
            any::<u8>(),
        ),
        0..4,
    );
    let merkle_frontiers = proptest::collection::vec((tree_partition(), 0u8..7), 0..2);
    let trees = (merkle_nodes, merkle_frontiers);
    let states = (subjects, organisations, addresses);
    (states, history, contacts, offsets, trees).prop_map(
        |(
            (subjects, organisations, addresses),
            history,
            contacts,
            offsets,
            (merkle_nodes, merkle_frontiers),
        )| ViewBatch {
            subjects: subjects
                .into_iter()
                .map(|(o, s, f)| {
                    (
                        (OrganisationId::new(o), SubjectId::new(s)),
                        subject_state(o, s, &f),
                    )
                })
                .collect(),
            organisations: organisations
                .into_iter()
                .map(|(o, f)| (OrganisationId::new(o), organisation_state(o, &f)))
                .collect(),
            addresses: addresses
                .into_iter()
                .map(|(o, a, f)| {
                    (
                        (OrganisationId::new(o), a.to_owned()),
                        address_state(o, a, &f),
                    )
                })
                .collect(),
            history: history
                .into_iter()
                .map(|(o, s, id, at, offset)| history_entry(o, s, id, at, offset))
                .collect(),
            contacts: contacts
                .into_iter()
                .map(|(c, o, s)| (c, OrganisationId::new(o), SubjectId::new(s)))
                .collect(),
            offsets: offsets as StoredOffsets,
            merkle_nodes: merkle_nodes
                .into_iter()
                .map(|(p, level, index, seed)| {
                    (p, NodeAddress::new(level, index), leaf_hash(&[seed]))
                })
                .collect(),
            merkle_frontiers: merkle_frontiers
                .into_iter()
                .map(|(p, leaves)| (p, frontier_of(leaves)))
                .collect(),
        },
    )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => batch().prop_map(Op::Apply),
        1 => Just(Op::Clear),
        2 => Just(Op::Reopen),
        2 => Just(Op::FlushAndReopen),
    ]
}

fn snapshot_of(store: &dyn ViewStore) -> Snapshot {
    snapshot(store, ORGANISATIONS, SUBJECTS, EVENT_IDS, &contacts()).expect("read the whole store")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn sled_store_behaves_like_the_memory_model(ops in proptest::collection::vec(op(), 1..16)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("view");
        let model = MemoryStore::new();
        let mut store = Some(SledStore::open(&path).expect("open"));
        for op in ops {
            match op {
                Op::Apply(batch) => {
                    model.apply(batch.clone()).expect("model apply");
                    store.as_ref().expect("open store").apply(batch).expect("sled apply");
                }
                Op::Clear => {
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
            prop_assert_eq!(trees_of(store.as_ref().expect("open store")), trees_of(&model));
        }
    }
}
