//! Crash test: a child process applies batches as fast as it can and is
//! killed with SIGKILL at a random moment. On reopening, the stored offsets
//! and the stored data agree exactly: batch k writes fact k, record k,
//! history entry k, contact k and offset k in one apply, so after any crash
//! the view holds batches 1..=k for the stored offset k, and nothing of
//! batch k+1.
//!
//! The child is this test binary run again with `CRASH_CHILD_DIR` set
//! (see [`crash_child`]).

mod common;

use common::*;
use consent_domain::{OrganisationId, SubjectId};
use consent_evidence::merkle::{Frontier, Hash, NodeAddress};
use consent_evidence::record_leaf_hash;
use consent_log::{LogPosition, TopicPartition};
use consent_store::{RecordRun, StoredOffsets, ViewBatch, ViewStore};
use consent_store_sled::SledStore;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

const CHILD_ENV: &str = "CRASH_CHILD_DIR";
const ORGANISATION: &str = "acme";
const SUBJECTS: [&str; 2] = ["s-a", "s-b"];
const ROUNDS: u32 = 6;
const READY: &str = "crash-child-ready";

/// The partition of [`position`]: its records are the history's.
fn partition() -> TopicPartition {
    TopicPartition::new("test.optouts", 0)
}

/// Batch k: both subjects get fact k (at time k), the organisation
/// and an address one fact at time k; the record at offset k - 1 (whose
/// bytes fact k and message k are at, as the projector's would), message k
/// and contact k for subject a; offset k.
fn batch(k: u64) -> ViewBatch {
    let at = i64::try_from(k).expect("small k");
    let id = u128::from(k);
    let organisation = OrganisationId::new(ORGANISATION);
    ViewBatch {
        subject_facts: SUBJECTS
            .iter()
            .map(|s| {
                let facts = subject_state(ORGANISATION, s, &facts_to(k));
                let fact = facts.facts.get(event_id(id)).expect("fact k").clone();
                ((organisation.clone(), SubjectId::new(*s)), fact)
            })
            .collect(),
        organisations: vec![(
            organisation.clone(),
            organisation_state(ORGANISATION, &[(id, at)]),
        )],
        addresses: vec![(
            (organisation.clone(), address_value(ADDRESSES[0])),
            address_state(ORGANISATION, ADDRESSES[0], &[(id, at)]),
        )],
        history: vec![history_entry(
            ORGANISATION,
            SUBJECTS[0],
            SENT + id,
            at,
            k - 1,
        )],
        contacts: vec![(email(k), organisation, SubjectId::new(SUBJECTS[0]))],
        offsets: StoredOffsets::from([(partition(), k)]),
        merkle_nodes: vec![(partition(), NodeAddress::leaf(k - 1), tree_leaf(k - 1))],
        merkle_frontiers: vec![(partition(), tree_frontier(k))],
        records: vec![RecordRun {
            partition: partition(),
            first_offset: k - 1,
            payloads: vec![record(k - 1)],
        }],
    }
}

/// Event ids of the messages sent (history-only entries) are this plus k.
const SENT: u128 = 1_000_000;

/// Facts 1..=k, fact n at time n: the facts of a subject after batch k
/// ([`subject_state`] puts fact n at offset n - 1, batch n's record).
fn facts_to(k: u64) -> Vec<(u128, i64)> {
    (1..=k)
        .map(|n| (u128::from(n), i64::try_from(n).expect("small")))
        .collect()
}

/// The record at `offset`: what [`history_entry`] says its bytes are.
fn record(offset: u64) -> Vec<u8> {
    offset.to_be_bytes().to_vec()
}

fn tree_leaf(offset: u64) -> Hash {
    let position = position(offset);
    let position = LogPosition::new(position.topic, position.partition, position.offset);
    record_leaf_hash(&position, &record(offset)).expect("a leaf")
}

/// A stand-in frontier that names batch k.
fn tree_frontier(k: u64) -> Frontier {
    Frontier::from_parts(1, vec![tree_leaf(k)]).expect("one peak for one leaf")
}

/// Runs only as the child: applies batch after batch until killed.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let store = SledStore::open(Path::new(&dir)).expect("child: open");
    let mut k = stored_offset(&store);
    // The test harness may have printed part of a line already.
    println!("\n{READY}");
    loop {
        k += 1;
        store.apply(batch(k)).expect("child: apply");
        if k % 50 == 0 {
            store.flush().expect("child: flush");
        }
    }
}

fn stored_offset(store: &SledStore) -> u64 {
    store
        .offsets()
        .expect("offsets")
        .and_then(|offsets| offsets.get(&partition()).copied())
        .unwrap_or(0)
}

/// Everything batches 1..=k wrote, and nothing of k+1.
fn assert_consistent(store: &SledStore, k: u64) {
    let organisation = OrganisationId::new(ORGANISATION);
    let at = i64::try_from(k).expect("small k");
    let id = u128::from(k);
    for s in SUBJECTS {
        let state = store
            .subject_state(&organisation, &SubjectId::new(s))
            .expect("read state");
        let expected = (k > 0).then(|| subject_state(ORGANISATION, s, &facts_to(k)));
        assert_eq!(state, expected, "state of {s} after offset {k}");
    }
    let org_state = store
        .organisation_state(&organisation)
        .expect("read organisation");
    assert_eq!(
        org_state,
        (k > 0).then(|| organisation_state(ORGANISATION, &[(id, at)]))
    );
    let address = store
        .address_state(&organisation, &address_value(ADDRESSES[0]))
        .expect("read address");
    assert_eq!(
        address,
        (k > 0).then(|| address_state(ORGANISATION, ADDRESSES[0], &[(id, at)])),
        "address state after offset {k}"
    );
    let history = store
        .history(&organisation, &SubjectId::new(SUBJECTS[0]))
        .expect("history");
    // Fact n and message n, both at batch n's record.
    let expected: Vec<_> = (1..=k)
        .flat_map(|n| {
            let at = i64::try_from(n).expect("small");
            [u128::from(n), SENT + u128::from(n)]
                .map(|id| history_entry(ORGANISATION, SUBJECTS[0], id, at, n - 1))
        })
        .collect();
    assert_eq!(
        history.len(),
        expected.len(),
        "history entries after offset {k}"
    );
    assert_eq!(history, expected);
    for n in [k, k + 1] {
        let pairs = store.subjects_by_contact(&email(n)).expect("contacts");
        let expected = if (1..=k).contains(&n) {
            vec![(organisation.clone(), SubjectId::new(SUBJECTS[0]))]
        } else {
            vec![]
        };
        assert_eq!(pairs, expected, "contact {n} after offset {k}");
        let node = store
            .merkle_node(&partition(), NodeAddress::leaf(n - 1))
            .expect("tree node");
        let expected = (1..=k).contains(&n).then(|| tree_leaf(n - 1));
        assert_eq!(node, expected, "tree node {n} after offset {k}");
    }
    let frontier = store.merkle_frontier(&partition()).expect("frontier");
    assert_eq!(
        frontier,
        (k > 0).then(|| tree_frontier(k)),
        "frontier after offset {k}"
    );
}

/// 20..=400 ms, varied per round without a random-number crate.
fn random_delay(round: u32) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(round * 7_919);
    Duration::from_millis(20 + u64::from((nanos / 1_000 + round * 131) % 381))
}

#[test]
fn a_killed_writer_leaves_offsets_that_match_the_data() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("test binary");
    let mut last = 0;
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the child");
        let stdout = child.stdout.take().expect("child stdout");
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let ready = BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .any(|l| l == READY);
            let _ = ready_tx.send(ready);
        });
        if ready_rx.recv_timeout(Duration::from_secs(60)) != Ok(true) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("round {round}: the child did not start writing");
        }
        std::thread::sleep(random_delay(round));
        child.kill().expect("SIGKILL the child");
        child.wait().expect("reap the child");

        let store = SledStore::open(dir.path()).expect("reopen after the crash");
        let k = stored_offset(&store);
        assert_consistent(&store, k);
        // Whatever this process read was flushed when it was dropped.
        assert!(
            k >= last,
            "round {round}: offset went back from {last} to {k}"
        );
        eprintln!("round {round}: consistent at batch {k}");
        last = k;
    }
    assert!(last > 0, "no batch survived any crash");
}
