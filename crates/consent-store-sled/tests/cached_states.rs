//! The states checks read are cached decoded; a read after a write, a
//! clear or a failed read never sees a state older than the tree.

mod common;

use consent_domain::{OrganisationId, SubjectId};
use consent_store::{ViewBatch, ViewStore};
use consent_store_sled::SledStore;
use std::sync::Arc;

fn subject_batch(facts: &[(u128, i64)]) -> ViewBatch {
    ViewBatch {
        subject_facts: common::subject_state("acme", "s1", facts)
            .facts
            .facts()
            .iter()
            .map(|fact| {
                (
                    (OrganisationId::new("acme"), SubjectId::new("s1")),
                    fact.clone(),
                )
            })
            .collect(),
        organisations: vec![(
            OrganisationId::new("acme"),
            common::organisation_state("acme", facts),
        )],
        ..ViewBatch::default()
    }
}

#[test]
fn shared_reads_follow_every_write_and_clear() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SledStore::open(dir.path()).expect("open");
    let (acme, s1) = (OrganisationId::new("acme"), SubjectId::new("s1"));
    let shared = |store: &SledStore| {
        (
            store
                .shared_organisation_state(&acme)
                .expect("organisation"),
            store.shared_subject_state(&acme, &s1).expect("subject"),
        )
    };

    assert_eq!(shared(&store), (None, None), "nothing known yet");
    store.apply(subject_batch(&[(1, 0)])).expect("apply");
    let (organisation, subject) = shared(&store);
    assert_eq!(
        subject.as_deref(),
        Some(&common::subject_state("acme", "s1", &[(1, 0)]))
    );
    assert_eq!(
        organisation.as_deref(),
        Some(&common::organisation_state("acme", &[(1, 0)]))
    );
    let (_, again) = shared(&store);
    assert!(
        Arc::ptr_eq(
            subject.as_ref().expect("subject"),
            again.as_ref().expect("subject")
        ),
        "a second read is served from the cache"
    );

    store
        .apply(subject_batch(&[(1, 0), (2, 5)]))
        .expect("apply");
    let (organisation, subject) = shared(&store);
    let expected = common::subject_state("acme", "s1", &[(1, 0), (2, 5)]);
    assert_eq!(subject.as_deref(), Some(&expected), "the written state");
    assert_eq!(
        organisation.as_deref(),
        Some(&common::organisation_state("acme", &[(1, 0), (2, 5)]))
    );
    assert_eq!(
        store.subject_state(&acme, &s1).expect("subject"),
        Some(expected),
        "the shared read is the stored state"
    );

    store.clear().expect("clear");
    assert_eq!(shared(&store), (None, None), "cleared");
}
