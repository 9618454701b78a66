//! What an operator relies on: keys survive a restart, erasure destroys a
//! key for good, and the destroyed key's bytes are not left in the file.

use consent_domain::{EventId, OrganisationId, SubjectId};
use consent_keystore_sqlite::{SqliteKeyStore, FILE_NAME};
use consent_sealing::{KeyState, SealingBatch, SubjectKeyStore};
use std::collections::BTreeSet;

fn subject(name: &str) -> (OrganisationId, SubjectId) {
    (OrganisationId::from("acme"), SubjectId::from(name))
}

fn sealing(name: &str, digests: &[[u8; 32]]) -> SealingBatch {
    let mut batch = SealingBatch::default();
    batch
        .digests
        .insert(subject(name), digests.iter().copied().collect());
    batch
}

fn erasing(name: &str, erasure: u128) -> SealingBatch {
    let mut batch = SealingBatch::default();
    batch
        .erasures
        .insert(subject(name), EventId(uuid::Uuid::from_u128(erasure)));
    batch
}

#[test]
fn a_key_survives_a_restart_and_erasure_destroys_it_for_good() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(FILE_NAME);
    let (acme, alice) = subject("alice");

    let store = SqliteKeyStore::open(&path).expect("open");
    let prepared = store
        .prepare(&sealing("alice", &[[1; 32], [2; 32]]))
        .expect("prepare");
    let key = prepared.keys[&subject("alice")]
        .clone()
        .expect("a live key");
    let key_bytes = *key.as_bytes();
    // The same subject again: the same key.
    let again = store
        .prepare(&sealing("alice", &[[3; 32]]))
        .expect("prepare");
    assert_eq!(
        again.keys[&subject("alice")]
            .as_ref()
            .map(|k| *k.as_bytes()),
        Some(key_bytes)
    );
    drop(store);

    let store = SqliteKeyStore::open(&path).expect("reopen");
    match store.key(&acme, &alice).expect("key") {
        KeyState::Live(k) => assert_eq!(*k.as_bytes(), key_bytes, "the key after a restart"),
        other => panic!("expected the live key, got {other:?}"),
    }
    assert!(
        file_contains(&path, &key_bytes),
        "a live key is in the file (the check below means something)"
    );

    let erased = store.prepare(&erasing("alice", 9)).expect("erase");
    assert_eq!(
        erased.suppressed[&subject("alice")],
        BTreeSet::from([[1; 32], [2; 32], [3; 32]]),
        "every digest sealed for alice goes on the suppression list"
    );
    assert!(
        matches!(store.key(&acme, &alice).expect("key"), KeyState::Erased { erasure } if erasure == EventId(uuid::Uuid::from_u128(9)))
    );
    // Retrying the erasure gives the same suppressions; sealing for the
    // erased subject never creates a key again.
    let retried = store.prepare(&erasing("alice", 9)).expect("retry");
    assert_eq!(retried.suppressed, erased.suppressed);
    let after = store
        .prepare(&sealing("alice", &[[4; 32]]))
        .expect("prepare");
    assert!(
        after.keys[&subject("alice")].is_none(),
        "no key after erasure"
    );
    drop(store);

    assert!(
        !file_contains(&path, &key_bytes),
        "the destroyed key's bytes are overwritten in the file (secure_delete)"
    );
    let journal = path.with_extension("sqlite-journal");
    assert!(!journal.exists(), "no rollback journal left behind");
    let store = SqliteKeyStore::open(&path).expect("reopen");
    assert!(matches!(
        store.key(&acme, &alice).expect("key"),
        KeyState::Erased { .. }
    ));
    assert!(matches!(
        store.key(&acme, &SubjectId::from("bob")).expect("key"),
        KeyState::Unknown
    ));
}

#[test]
fn a_value_and_its_erasure_in_one_append_leave_no_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteKeyStore::open(&dir.path().join(FILE_NAME)).expect("open");
    let mut batch = sealing("bob", &[[5; 32]]);
    batch
        .erasures
        .insert(subject("bob"), EventId(uuid::Uuid::from_u128(10)));
    let prepared = store.prepare(&batch).expect("prepare");
    assert!(prepared.keys[&subject("bob")].is_none());
    assert_eq!(
        prepared.suppressed[&subject("bob")],
        BTreeSet::from([[5; 32]])
    );
}

#[cfg(unix)]
#[test]
fn the_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(FILE_NAME);
    SqliteKeyStore::open(&path).expect("open");
    let mode = std::fs::metadata(&path)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "mode {mode:o}");
}

fn file_contains(path: &std::path::Path, needle: &[u8]) -> bool {
    let bytes = std::fs::read(path).expect("read the key store file");
    bytes.windows(needle.len()).any(|w| w == needle)
}
