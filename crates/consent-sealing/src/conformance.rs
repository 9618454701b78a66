//! What every [`SubjectKeyStore`] must do, as checks each implementation's
//! tests run against a store of its own (feature `conformance`): the
//! in-memory store here, SQLite and PostgreSQL in their crates. The
//! [`MemoryKeyStore`] is the model: a random sequence of seals and
//! erasures must leave another store in the same state.
//!
//! Each check panics with what went wrong (they are test code); give each
//! one a fresh, empty store (or one per organisation: the checks use their
//! own organisation ids so they can share a database).

use crate::key_store::{
    Digest, KeyState, MemoryKeyStore, Prepared, SealingBatch, SubjectKeyStore, SubjectOf,
};
use consent_domain::{EventId, OrganisationId, SubjectId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A subject of `organisation`.
pub fn subject(organisation: &str, name: &str) -> SubjectOf {
    (OrganisationId::from(organisation), SubjectId::from(name))
}

/// A batch sealing `digests` for `who`.
pub fn sealing(who: &SubjectOf, digests: &[Digest]) -> SealingBatch {
    let mut batch = SealingBatch::default();
    batch
        .digests
        .insert(who.clone(), digests.iter().copied().collect());
    batch
}

/// A batch erasing `who` by erasure `id`.
pub fn erasing(who: &SubjectOf, id: u128) -> SealingBatch {
    let mut batch = SealingBatch::default();
    batch
        .erasures
        .insert(who.clone(), EventId(uuid_from_u128(id)));
    batch
}

fn uuid_from_u128(id: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(id)
}

fn key_bytes(prepared: &Prepared, who: &SubjectOf) -> Option<[u8; 32]> {
    prepared
        .keys
        .get(who)
        .unwrap_or_else(|| panic!("prepare answered no key entry for {who:?}"))
        .as_ref()
        .map(|key| *key.as_bytes())
}

fn state(store: &dyn SubjectKeyStore, who: &SubjectOf) -> KeyState {
    store
        .key(&who.0, &who.1)
        .unwrap_or_else(|error| panic!("key({who:?}): {error}"))
}

fn prepare(store: &dyn SubjectKeyStore, batch: &SealingBatch) -> Prepared {
    store
        .prepare(batch)
        .unwrap_or_else(|error| panic!("prepare({batch:?}): {error}"))
}

/// A subject gets one key, kept for every later seal; an erasure destroys
/// it, suppresses every digest ever sealed for the subject, is answered the
/// same when retried, and the subject is never keyed again.
pub fn a_key_is_kept_until_erased_and_never_recreated(store: &dyn SubjectKeyStore) {
    let alice = subject("conformance-keys", "alice");
    let bob = subject("conformance-keys", "bob");
    assert!(matches!(state(store, &alice), KeyState::Unknown));

    let first = prepare(store, &sealing(&alice, &[[1; 32], [2; 32]]));
    let key = key_bytes(&first, &alice).expect("a new subject gets a key");
    assert!(first.suppressed.is_empty(), "no erasure, no suppression");
    let again = prepare(store, &sealing(&alice, &[[3; 32]]));
    assert_eq!(key_bytes(&again, &alice), Some(key), "the same key again");
    match state(store, &alice) {
        KeyState::Live(live) => assert_eq!(*live.as_bytes(), key),
        other => panic!("expected alice's live key, got {other:?}"),
    }
    let bobs = prepare(store, &sealing(&bob, &[[1; 32]]));
    assert_ne!(key_bytes(&bobs, &bob), Some(key), "one key per subject");

    let erased = prepare(store, &erasing(&alice, 9));
    assert_eq!(
        erased.suppressed.get(&alice),
        Some(&BTreeSet::from([[1; 32], [2; 32], [3; 32]])),
        "every digest sealed for alice is suppressed"
    );
    assert!(
        matches!(state(store, &alice), KeyState::Erased { erasure } if erasure == EventId(uuid_from_u128(9)))
    );
    let retried = prepare(store, &erasing(&alice, 9));
    assert_eq!(
        retried.suppressed, erased.suppressed,
        "a retry suppresses the same"
    );
    let after = prepare(store, &sealing(&alice, &[[4; 32]]));
    assert_eq!(
        key_bytes(&after, &alice),
        None,
        "an erased subject gets no key"
    );
    assert!(matches!(state(store, &alice), KeyState::Erased { .. }));
    assert!(
        matches!(state(store, &bob), KeyState::Live(_)),
        "bob's key is untouched"
    );
}

/// A value and its subject's erasure in one append: no key is left, and the
/// value's digest is suppressed.
pub fn a_value_and_its_erasure_in_one_batch_leave_no_key(store: &dyn SubjectKeyStore) {
    let carol = subject("conformance-one-batch", "carol");
    let mut batch = sealing(&carol, &[[5; 32]]);
    batch
        .erasures
        .insert(carol.clone(), EventId(uuid_from_u128(10)));
    let prepared = prepare(store, &batch);
    assert_eq!(key_bytes(&prepared, &carol), None);
    assert_eq!(
        prepared.suppressed.get(&carol),
        Some(&BTreeSet::from([[5; 32]]))
    );
    assert!(matches!(state(store, &carol), KeyState::Erased { .. }));
}

/// Two handles on one store (two instances on one database, or two
/// threads on one file) sealing the same new subjects at once agree on
/// each subject's key; an erasure racing with seals leaves the subject
/// erased with no key, and its suppressions cover every digest sealed
/// before it.
pub fn concurrent_handles_agree(first: Arc<dyn SubjectKeyStore>, second: Arc<dyn SubjectKeyStore>) {
    const SUBJECTS: usize = 20;
    let who = |i: usize| subject("conformance-concurrent", &format!("s{i}"));
    let seal_all = |store: Arc<dyn SubjectKeyStore>, digest: u8| {
        std::thread::spawn(move || {
            (0..SUBJECTS)
                .map(|i| {
                    // Several subjects per batch, in both orders across the
                    // two threads' batches.
                    let mut batch = SealingBatch::default();
                    for j in [i, SUBJECTS - 1 - i] {
                        batch.digests.insert(who(j), BTreeSet::from([[digest; 32]]));
                    }
                    let prepared = store.prepare(&batch).expect("prepare");
                    (i, key_bytes(&prepared, &who(i)).expect("a key"))
                })
                .collect::<BTreeMap<usize, [u8; 32]>>()
        })
    };
    let a = seal_all(Arc::clone(&first), 1);
    let b = seal_all(Arc::clone(&second), 2);
    let a = a.join().expect("first thread");
    let b = b.join().expect("second thread");
    assert_eq!(a, b, "both handles got the same key for every subject");

    // An erasure on one handle while the other keeps sealing the subject.
    let target = who(0);
    let sealer = {
        let store = Arc::clone(&second);
        let target = target.clone();
        std::thread::spawn(move || {
            for round in 0..20u8 {
                store
                    .prepare(&sealing(&target, &[[100 + round; 32]]))
                    .expect("seal");
            }
        })
    };
    let erased = first.prepare(&erasing(&target, 77)).expect("erase");
    sealer.join().expect("sealing thread");
    let suppressed = erased.suppressed.get(&target).cloned().unwrap_or_default();
    assert!(
        suppressed.contains(&[1; 32]) && suppressed.contains(&[2; 32]),
        "the digests sealed before the erasure are suppressed: {suppressed:?}"
    );
    for store in [&first, &second] {
        assert!(
            matches!(state(store.as_ref(), &target), KeyState::Erased { .. }),
            "erased on every handle"
        );
        let after = prepare(store.as_ref(), &sealing(&target, &[[9; 32]]));
        assert_eq!(key_bytes(&after, &target), None, "never keyed again");
    }
}

/// One step of a run against the model.
#[derive(Clone, Debug)]
pub enum Step {
    /// Seal these digests for subject `subject` (an index into a few).
    Seal { subject: u8, digests: Vec<u8> },
    /// Erase subject `subject` by erasure `erasure`.
    Erase { subject: u8, erasure: u8 },
    /// Seal for one subject and erase another in one batch.
    SealAndErase {
        sealed: u8,
        digest: u8,
        erased: u8,
        erasure: u8,
    },
}

/// Runs `steps` on `store` and on a fresh [`MemoryKeyStore`] and asserts
/// the same answers: which subjects get a key, what each erasure
/// suppresses, each subject's state; and that a subject's key never
/// changes while it lives. `organisation` keeps runs apart in one database.
pub fn behaves_like_the_model(store: &dyn SubjectKeyStore, organisation: &str, steps: &[Step]) {
    let model = MemoryKeyStore::default();
    let who = |i: u8| subject(organisation, &format!("p{}", i % 4));
    let mut keys: BTreeMap<SubjectOf, [u8; 32]> = BTreeMap::new();
    for (index, step) in steps.iter().enumerate() {
        let mut batch = SealingBatch::default();
        match step {
            Step::Seal { subject, digests } => {
                batch
                    .digests
                    .insert(who(*subject), digests.iter().map(|d| [*d; 32]).collect());
            }
            Step::Erase { subject, erasure } => {
                batch
                    .erasures
                    .insert(who(*subject), EventId(uuid_from_u128(u128::from(*erasure))));
            }
            Step::SealAndErase {
                sealed,
                digest,
                erased,
                erasure,
            } => {
                batch
                    .digests
                    .insert(who(*sealed), BTreeSet::from([[*digest; 32]]));
                batch
                    .erasures
                    .insert(who(*erased), EventId(uuid_from_u128(u128::from(*erasure))));
            }
        }
        let expected = prepare(&model, &batch);
        let got = prepare(store, &batch);
        assert_eq!(
            got.suppressed, expected.suppressed,
            "step {index} {step:?}: suppressions"
        );
        let presence = |p: &Prepared| -> BTreeMap<SubjectOf, bool> {
            p.keys
                .iter()
                .map(|(k, v)| (k.clone(), v.is_some()))
                .collect()
        };
        assert_eq!(
            presence(&got),
            presence(&expected),
            "step {index} {step:?}: which subjects get a key"
        );
        for (subject, key) in &got.keys {
            if let Some(key) = key {
                let kept = keys.entry(subject.clone()).or_insert(*key.as_bytes());
                assert_eq!(
                    kept,
                    key.as_bytes(),
                    "step {index}: {subject:?}'s key changed"
                );
            }
        }
        for i in 0..4u8 {
            let subject = who(i);
            let (got, expected) = (state(store, &subject), state(&model, &subject));
            let same = match (&got, &expected) {
                (KeyState::Live(key), KeyState::Live(_)) => {
                    keys.get(&subject) == Some(key.as_bytes())
                }
                (KeyState::Erased { erasure: a }, KeyState::Erased { erasure: b }) => a == b,
                (KeyState::Unknown, KeyState::Unknown) => true,
                _ => false,
            };
            assert!(
                same,
                "step {index} {step:?}: {subject:?} is {got:?}, the model says {expected:?}"
            );
        }
    }
}

/// Random runs of seals and erasures over four subjects, for
/// [`behaves_like_the_model`].
pub fn steps() -> impl proptest::strategy::Strategy<Value = Vec<Step>> {
    use proptest::prelude::*;
    let step = prop_oneof![
        (0..4u8, proptest::collection::vec(0..6u8, 0..3))
            .prop_map(|(subject, digests)| Step::Seal { subject, digests }),
        (0..4u8, 0..3u8).prop_map(|(subject, erasure)| Step::Erase { subject, erasure }),
        (0..4u8, 0..6u8, 0..4u8, 0..3u8).prop_map(|(sealed, digest, erased, erasure)| {
            Step::SealAndErase {
                sealed,
                digest,
                erased,
                erasure,
            }
        }),
    ];
    proptest::collection::vec(step, 1..20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_store_keeps_the_contract() {
        let store = MemoryKeyStore::default();
        a_key_is_kept_until_erased_and_never_recreated(&store);
        a_value_and_its_erasure_in_one_batch_leave_no_key(&store);
        let shared: Arc<dyn SubjectKeyStore> = Arc::new(MemoryKeyStore::default());
        concurrent_handles_agree(Arc::clone(&shared), shared);
    }
}
