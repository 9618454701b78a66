//! The SQLite store keeps the contract every subject key store keeps
//! (`consent_sealing::conformance`), the same checks the PostgreSQL store runs.

use consent_keystore_sqlite::{SqliteKeyStore, FILE_NAME};
use consent_sealing::conformance;
use consent_sealing::SubjectKeyStore;
use proptest::prelude::*;
use std::sync::Arc;

#[test]
fn keys_are_kept_until_erased_and_never_recreated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteKeyStore::open(&dir.path().join(FILE_NAME)).expect("open");
    conformance::a_key_is_kept_until_erased_and_never_recreated(&store);
    conformance::a_value_and_its_erasure_in_one_batch_leave_no_key(&store);
}

#[test]
fn two_handles_on_one_file_agree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(FILE_NAME);
    let first: Arc<dyn SubjectKeyStore> = Arc::new(SqliteKeyStore::open(&path).expect("open"));
    let second: Arc<dyn SubjectKeyStore> = Arc::new(SqliteKeyStore::open(&path).expect("open"));
    conformance::concurrent_handles_agree(first, second);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn behaves_like_the_memory_model(steps in conformance::steps()) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteKeyStore::open(&dir.path().join(FILE_NAME)).expect("open");
        conformance::behaves_like_the_model(&store, "model", &steps);
    }
}
