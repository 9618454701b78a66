//! The PostgreSQL store keeps the contract every subject key store keeps
//! (`consent_sealing::conformance`, which the memory and SQLite stores run
//! too), against a real PostgreSQL started for each test; and two
//! connections (two instances) sharing it agree on every key and erasure.

use consent_keystore_postgres::test_support::{TestPostgres, PASSWORD};
use consent_keystore_postgres::{ConnectSettings, PostgresKeyStore};
use consent_sealing::conformance;
use consent_sealing::{KeyState, SubjectKeyStore};
use proptest::test_runner::{Config, TestRunner};
use std::sync::Arc;

fn cluster() -> TestPostgres {
    TestPostgres::start().unwrap_or_else(|error| panic!("{error}"))
}

fn connect(cluster: &TestPostgres) -> PostgresKeyStore {
    PostgresKeyStore::connect(&ConnectSettings::new(cluster.url()).password(PASSWORD))
        .unwrap_or_else(|error| panic!("connect: {error}\n{}", cluster.server_log()))
}

#[test]
fn keys_are_kept_until_erased_and_never_recreated() {
    let cluster = cluster();
    let store = connect(&cluster);
    assert!(
        store.is_shared(),
        "the PostgreSQL store is shared by every instance"
    );
    conformance::a_key_is_kept_until_erased_and_never_recreated(&store);
    conformance::a_value_and_its_erasure_in_one_batch_leave_no_key(&store);
}

#[test]
fn two_instances_on_one_database_agree() {
    let cluster = cluster();
    let first: Arc<dyn SubjectKeyStore> = Arc::new(connect(&cluster));
    let second: Arc<dyn SubjectKeyStore> = Arc::new(connect(&cluster));
    conformance::concurrent_handles_agree(first, second);
}

#[test]
fn keys_survive_a_reconnect_and_a_wrong_password_is_refused() {
    let cluster = cluster();
    let store = connect(&cluster);
    let who = conformance::subject("reconnect", "dora");
    let sealed = store
        .prepare(&conformance::sealing(&who, &[[7; 32]]))
        .expect("prepare");
    let key = *sealed.keys[&who].as_ref().expect("a key").as_bytes();
    drop(store);
    let again = connect(&cluster);
    match again.key(&who.0, &who.1).expect("key") {
        KeyState::Live(live) => assert_eq!(*live.as_bytes(), key, "the same key"),
        other => panic!("expected dora's key after reconnecting, got {other:?}"),
    }

    let error = PostgresKeyStore::connect(&ConnectSettings::new(cluster.url()).password("wrong"))
        .err()
        .expect("a wrong password is refused")
        .to_string();
    assert!(error.contains("password"), "{error}");
    assert!(
        !error.contains("wrong"),
        "the password is not shown: {error}"
    );
}

#[test]
fn behaves_like_the_memory_model() {
    let cluster = cluster();
    let store = connect(&cluster);
    let runs = std::sync::atomic::AtomicU64::new(0);
    TestRunner::new(Config::with_cases(24))
        .run(&conformance::steps(), |steps| {
            // Every run in an organisation of its own: one database for all.
            let run = runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            conformance::behaves_like_the_model(&store, &format!("model-{run}"), &steps);
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}
