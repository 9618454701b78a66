//! An instance that owns some partitions answers for the subjects routed to
//! them, refuses the others naming their partition, and accepts appends for
//! anyone.

use consent_domain::{OrganisationId, SubjectId};
use consent_log::partitioner::partition_for;
use consent_log::EventLog;
use consent_projector::OwnedPartitions;
use consent_service::{LedgerConfig, LedgerError};
use consent_store::MemoryStore;
use consent_testkit::ledger::*;
use consent_testkit::wire::*;
use std::sync::Arc;

fn partition_of(subject: &str) -> u32 {
    let key =
        consent_schema::routing_key(&OrganisationId::new(ORG), Some(&SubjectId::new(subject)));
    partition_for(&key, layout().partitions)
}

/// A subject on another partition than `SUBJECT`.
fn elsewhere() -> (String, u32) {
    let own = partition_of(SUBJECT);
    (0..100)
        .map(|n| format!("customer-{n}"))
        .map(|s| {
            let p = partition_of(&s);
            (s, p)
        })
        .find(|(_, p)| *p != own)
        .expect("a subject on another partition")
}

#[tokio::test]
async fn an_owner_answers_for_its_subjects_and_refuses_the_others_naming_their_partition() {
    let dir = tempfile::tempdir().expect("tempdir");
    let own = partition_of(SUBJECT);
    let (other, other_partition) = elsewhere();
    let running = RunningLedger::start_owning(
        dir.path(),
        Arc::new(MemoryStore::new()),
        LedgerConfig::default(),
        OwnedPartitions::Only([own].into()),
    );
    let ledger = &running.ledger;

    let routing = ledger.routing(&OrganisationId::new(ORG), &SubjectId::new(SUBJECT));
    assert_eq!(
        (routing.partition, routing.partitions, routing.owned),
        (own, 4, true)
    );
    let routing = ledger.routing(&OrganisationId::new(ORG), &SubjectId::new(&other));
    assert_eq!((routing.partition, routing.owned), (other_partition, false));

    // Appends are accepted for any subject: the log routes them.
    let appended = ledger
        .append(vec![
            organisation_registered(),
            categories_defined(),
            sale(SUBJECT, "2025-03-01T12:00:00Z"),
            sale(&other, "2025-03-01T12:00:00Z"),
        ])
        .await
        .expect("append acknowledged");
    assert_eq!(appended[3].1.partition, other_partition);
    let mine: Vec<_> = appended[..3].iter().map(|(_, p)| p.clone()).collect();

    // Its own subject, with the organisation's facts wherever they sit.
    let decision = ledger
        .check(helmet_email(SUBJECT, &mine))
        .await
        .expect("a decision");
    assert!(decision.allowed, "{:?}", decision.reasons_against);

    // The other subject: refused, by check, batch, history and wait.
    let refused = |result: Result<_, LedgerError>| match result {
        Err(LedgerError::WrongPartition {
            partition, what, ..
        }) => (partition, what),
        Err(error) => panic!("expected a wrong-partition refusal, got {error}"),
        Ok(_) => panic!("expected a wrong-partition refusal, got an answer"),
    };
    let (partition, what) = refused(ledger.check(helmet_email(&other, &[])).await.map(|_| ()));
    assert_eq!(partition, other_partition);
    assert!(what.contains(&other), "{what}");
    let (partition, what) = refused(
        ledger
            .check_batch(vec![helmet_email(SUBJECT, &[]), helmet_email(&other, &[])])
            .await
            .map(|_| ()),
    );
    assert_eq!(partition, other_partition);
    assert!(what.starts_with("checks[1]"), "{what}");
    let (partition, _) = refused(
        ledger
            .history(
                &OrganisationId::new(ORG),
                &SubjectId::new(&other),
                None,
                None,
            )
            .await
            .map(|_| ()),
    );
    assert_eq!(partition, other_partition);
    let (partition, what) = refused(
        ledger
            .check(helmet_email(SUBJECT, std::slice::from_ref(&appended[3].1)))
            .await
            .map(|_| ()),
    );
    assert_eq!(partition, other_partition);
    assert!(what.contains("awaited position"), "{what}");
    let message = LedgerError::WrongPartition {
        what: "subject x of y".to_owned(),
        partition: 3,
        partitions: 4,
        owned: "0-1".to_owned(),
    }
    .to_string();
    assert!(
        message.contains("partition 3") && message.contains("owns partitions 0-1 of 0-3"),
        "{message}"
    );

    // Its lag counts only what it follows: caught up, though another
    // subject's sale sits unread on a partition it does not own.
    let end = running.log.end_offsets().await.expect("end offsets");
    let status = ledger.status().await;
    assert_eq!(status.lag.map(|lag| lag.total), Some(0));
    assert!(end.values().sum::<u64>() > status.projection.applied.values().sum::<u64>());
    assert_eq!(status.owned_partitions.to_string(), own.to_string());
    running.stop().await;
}
