//! What the sled store refuses: views of another format, and stored bytes
//! that do not decode.

mod common;

use consent_domain::fold::Recorded;
use consent_domain::{Fact, OrganisationId, SubjectId, SubjectState};
use consent_store::{StoreError, ViewBatch, ViewStore};
use consent_store_sled::{SledStore, VIEW_FORMAT_VERSION};

#[test]
fn a_view_of_another_format_version_must_be_rebuilt() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let db = sled::open(dir.path()).expect("sled");
        let tree = db.open_tree("view").expect("tree");
        tree.insert(b"Mformat_version", &(VIEW_FORMAT_VERSION + 1).to_be_bytes())
            .expect("insert");
        db.flush().expect("flush");
    }
    match SledStore::open(dir.path()) {
        Err(StoreError::FormatVersion { found, expected }) => {
            assert_eq!(
                (found, expected),
                (VIEW_FORMAT_VERSION + 1, VIEW_FORMAT_VERSION)
            );
        }
        other => panic!("expected a format version error, got {other:?}"),
    }
}

#[test]
fn a_new_view_is_stamped_and_reopens() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(SledStore::open(dir.path()).expect("create"));
    let store = SledStore::open(dir.path()).expect("reopen");
    assert_eq!(store.offsets().expect("offsets"), None);
}

/// The facts of `state`, as a batch writes them for subject `subject` of
/// `acme`.
fn facts_of(
    subject: &str,
    state: &SubjectState,
) -> Vec<((OrganisationId, SubjectId), Recorded<Fact>)> {
    state
        .facts
        .facts()
        .iter()
        .map(|fact| {
            (
                (OrganisationId::new("acme"), SubjectId::new(subject)),
                fact.clone(),
            )
        })
        .collect()
}

/// The key of fact 1 of subject `s1` of `acme`: tag, organisation,
/// separator, subject, separator, event id.
fn fact_key() -> Vec<u8> {
    let mut key = b"Sacme\x1fs1\x1f".to_vec();
    key.extend_from_slice(common::event_id(1).0.as_bytes());
    key
}

#[test]
fn undecodable_state_is_reported_as_corrupt_with_its_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = SledStore::open(dir.path()).expect("open");
        let batch = ViewBatch {
            subject_facts: facts_of("s1", &common::subject_state("acme", "s1", &[(1, 0)])),
            ..ViewBatch::default()
        };
        store.apply(batch).expect("apply");
        store.flush().expect("flush");
    }
    {
        let db = sled::open(dir.path()).expect("sled");
        let tree = db.open_tree("view").expect("tree");
        tree.insert(fact_key(), &[0xff, 0xff, 0xff][..])
            .expect("damage");
        db.flush().expect("flush");
    }
    let store = SledStore::open(dir.path()).expect("open");
    match store.subject_state(&OrganisationId::new("acme"), &SubjectId::new("s1")) {
        Err(StoreError::Corrupt { key, .. }) => {
            assert_eq!(key, fact_key().escape_ascii().to_string());
        }
        other => panic!("expected a corrupt-data error, got {other:?}"),
    }
}

/// Format 6 compressed the stored states: a view written by format 5
/// (plain postcard states) must not be read as compressed, so it is
/// refused, and a fresh directory (what a rebuild from the log starts
/// from) opens at the current version.
#[test]
fn a_view_of_format_5_is_refused_and_a_fresh_one_rebuilds() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let db = sled::open(dir.path()).expect("sled");
        let tree = db.open_tree("view").expect("tree");
        tree.insert(b"Mformat_version", &5u32.to_be_bytes())
            .expect("insert");
        db.flush().expect("flush");
    }
    match SledStore::open(dir.path()) {
        Err(StoreError::FormatVersion { found, expected }) => {
            assert_eq!((found, expected), (5, VIEW_FORMAT_VERSION));
        }
        other => panic!("expected a format version error, got {other:?}"),
    }
    let fresh = tempfile::tempdir().expect("tempdir");
    let store = SledStore::open(fresh.path()).expect("open");
    let state = common::subject_state("acme", "s1", &[(1, 0)]);
    let batch = ViewBatch {
        subject_facts: facts_of("s1", &state),
        ..ViewBatch::default()
    };
    store.apply(batch).expect("apply");
    let read = store
        .subject_state(&OrganisationId::new("acme"), &SubjectId::new("s1"))
        .expect("read");
    assert_eq!(read, Some(state));
}
