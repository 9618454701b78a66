//! One contact-digest key per log: the first instance records its key's
//! fingerprint in the log, the same key is accepted after it, another key
//! is refused, two first starts at once leave exactly one winner, and the
//! projector reads past the record (no dead letter, no fact).

use consent_log::EventLog;
use consent_log_embedded::EmbeddedLog;
use consent_sealing::ContactDigestKey;
use consent_service::{settle_contact_digest_key, DigestKeyCheck, DigestKeyError};
use consent_store::MemoryStore;
use consent_testkit::ledger::*;
use consent_testkit::wire::*;
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn fingerprint(byte: u8) -> [u8; 32] {
    ContactDigestKey::from_bytes([byte; 32]).fingerprint()
}

#[tokio::test]
async fn the_first_key_recorded_in_the_log_is_the_only_one_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = EmbeddedLog::open(dir.path(), layout()).expect("open the log");

    let first = settle_contact_digest_key(&log, &fingerprint(1), WAIT)
        .await
        .expect("recorded on first use");
    let DigestKeyCheck::Recorded(position) = first else {
        panic!("expected the fingerprint to be recorded, got {first:?}");
    };
    assert_eq!(position.topic, "test.reference");
    assert_eq!(
        settle_contact_digest_key(&log, &fingerprint(1), WAIT)
            .await
            .expect("the same key"),
        DigestKeyCheck::Matches(position.clone())
    );
    match settle_contact_digest_key(&log, &fingerprint(2), WAIT).await {
        Err(DigestKeyError::Mismatch {
            recorded,
            ours,
            position: at,
        }) => {
            assert_eq!(recorded, hex(&fingerprint(1)));
            assert_eq!(ours, hex(&fingerprint(2)));
            assert_eq!(at, position);
        }
        other => panic!("expected another key to be refused, got {other:?}"),
    }
    // Nothing more was appended by the checks.
    let end = log.end_offsets().await.expect("end offsets");
    assert_eq!(end.values().sum::<u64>(), 1);
}

#[tokio::test]
async fn of_two_first_starts_at_once_exactly_one_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = EmbeddedLog::open(dir.path(), layout()).expect("open the log");
    let (one, two) = (fingerprint(1), fingerprint(2));
    let (a, b) = tokio::join!(
        settle_contact_digest_key(&log, &one, WAIT),
        settle_contact_digest_key(&log, &two, WAIT),
    );
    let refused = [&a, &b]
        .iter()
        .filter(|r| matches!(r, Err(DigestKeyError::Mismatch { .. })))
        .count();
    let accepted = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert_eq!((accepted, refused), (1, 1), "{a:?} {b:?}");
}

/// The log as a second instance starting at the same moment makes it:
/// its fingerprint record lands between this instance's read (none yet)
/// and its own append.
struct RacedLog {
    inner: EmbeddedLog,
    rival: std::sync::Mutex<Option<[u8; 32]>>,
}

#[async_trait::async_trait]
impl EventLog for RacedLog {
    fn layout(&self) -> &consent_log::LogLayout {
        self.inner.layout()
    }

    async fn append(
        &self,
        records: Vec<consent_log::AppendRecord>,
    ) -> Result<Vec<consent_log::LogPosition>, consent_log::LogError> {
        let rival = self.rival.lock().expect("lock").take();
        if let Some(rival) = rival {
            settle_contact_digest_key(&self.inner, &rival, WAIT)
                .await
                .expect("the rival records its key");
        }
        self.inner.append(records).await
    }

    async fn reader(
        &self,
        start: consent_log::StartOffsets,
    ) -> Result<Box<dyn consent_log::LogReader>, consent_log::LogError> {
        self.inner.reader(start).await
    }

    async fn end_offsets(&self) -> Result<consent_log::EndOffsets, consent_log::LogError> {
        self.inner.end_offsets().await
    }
}

#[tokio::test]
async fn an_instance_that_lost_the_race_to_record_its_key_refuses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = RacedLog {
        inner: EmbeddedLog::open(dir.path(), layout()).expect("open the log"),
        rival: std::sync::Mutex::new(Some(fingerprint(2))),
    };
    match settle_contact_digest_key(&log, &fingerprint(1), WAIT).await {
        Err(DigestKeyError::Mismatch { recorded, ours, .. }) => {
            assert_eq!(recorded, hex(&fingerprint(2)), "the first record wins");
            assert_eq!(ours, hex(&fingerprint(1)));
        }
        other => panic!("expected the loser to refuse, got {other:?}"),
    }
    // Both records are in the log; the winner's is the one read.
    let end = log.end_offsets().await.expect("end offsets");
    assert_eq!(end.values().sum::<u64>(), 2);
    assert!(matches!(
        settle_contact_digest_key(&log.inner, &fingerprint(2), WAIT).await,
        Ok(DigestKeyCheck::Matches(_))
    ));
}

#[tokio::test]
async fn the_projector_reads_past_the_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let log = EmbeddedLog::open(dir.path(), layout()).expect("open the log");
        settle_contact_digest_key(&log, &fingerprint(1), WAIT)
            .await
            .expect("recorded");
    }
    let running =
        RunningLedger::start(dir.path(), Arc::new(MemoryStore::new()), Default::default());
    let appended = running
        .ledger
        .append(vec![organisation_registered(), categories_defined()])
        .await
        .expect("appended");
    let positions: Vec<_> = appended.iter().map(|(_, p)| p.clone()).collect();
    running
        .ledger
        .check(helmet_email(SUBJECT, &positions))
        .await
        .expect("the view caught up past the record");
    // Until the view has consumed every record of the log, the
    // fingerprint's included.
    let end: u64 = running
        .log
        .end_offsets()
        .await
        .expect("end offsets")
        .values()
        .sum();
    let mut status = running.ledger.status().await;
    for _ in 0..200 {
        if status.projection.applied.values().sum::<u64>() == end {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        status = running.ledger.status().await;
    }
    assert_eq!(
        status.projection.applied.values().sum::<u64>(),
        end,
        "the record is consumed like any other (a leaf of its tree)"
    );
    assert_eq!(status.projection.dead_letters, 0, "no dead letter");
    running.stop().await;
}

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
