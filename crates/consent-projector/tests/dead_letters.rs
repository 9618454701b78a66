//! Records that cannot be decoded or validated go to the dead-letter topic
//! with their origin, and the stream goes on.

mod support;

use consent_domain::{OrganisationId, SubjectId};
use consent_log::{
    AppendRecord, EndOffsets, EventLog, LogError, LogLayout, LogPosition, LogReader, StartOffsets,
};
use consent_projector::{dead_letter, FailureCause, ProjectorError, StepOutcome};
use consent_store::{MemoryStore, ViewStore};
use consent_store_sled::SledStore;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::*;

fn header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
}

/// A valid protobuf envelope that is not a valid fact (no payload).
fn invalid_envelope() -> Vec<u8> {
    let envelope = consent_schema::v1::Envelope {
        event_id: "0190f2a4-7b3c-7d2e-9f10-1a2b3c4d5e6f".to_owned(),
        organisation_id: "acme".to_owned(),
        subject_id: "s-1".to_owned(),
        ..Default::default()
    };
    consent_schema::encode_envelope(&envelope)
}

#[test]
fn malformed_records_are_dead_lettered_and_the_stream_goes_on() {
    let log_dir = tempfile::tempdir().expect("tempdir");
    let view_dir = tempfile::tempdir().expect("tempdir");
    let log = open_log(log_dir.path());
    let store = Arc::new(SledStore::open(view_dir.path()).expect("open view"));
    let events = fixed_events(12);
    let grants = consent_schema::EventFamily::Grants.topic(&layout());
    let rt = runtime();

    let garbage = AppendRecord {
        topic: grants.clone(),
        key: b"acme\x1fs-1".to_vec(),
        payload: vec![0xff, 0x00, 0x13, 0x37, 0xde, 0xad],
        headers: vec![("origin".to_owned(), b"a broken producer".to_vec())],
    };
    let invalid = AppendRecord {
        payload: invalid_envelope(),
        headers: vec![],
        ..garbage.clone()
    };
    let (bad_positions, status, records) = rt.block_on(async {
        append_events(log.as_ref(), &events[..6], 2).await;
        let bad = log
            .append(vec![garbage.clone(), invalid.clone()])
            .await
            .expect("append bad records");
        append_events(log.as_ref(), &events[6..], 2).await;
        let mut projector = projector(&log, store.clone(), 3);
        let status = projector
            .catch_up(&|_| {})
            .await
            .expect("catch up despite bad records");
        (
            bad,
            status,
            read_topics(log.as_ref(), &layout().topics()).await,
        )
    });

    // The stream went on: every valid event is in the view, past the bad ones.
    assert_eq!(status.dead_letters, 2);
    assert_eq!(status.events_applied, 12);
    assert_eq!(view_of(store.as_ref()), model_fold(&records));
    for bad in &bad_positions {
        assert!(status.has_applied(bad), "the offset of {bad} is consumed");
    }

    // Both are in the dead-letter topic with their origin and reason.
    let dead = rt.block_on(read_topics(log.as_ref(), &[layout().dead_letter_topic()]));
    assert_eq!(dead.len(), 2);
    for (letter, (origin, original)) in dead
        .iter()
        .zip(bad_positions.iter().zip([&garbage, &invalid]))
    {
        assert_eq!(letter.payload, original.payload, "original payload kept");
        assert_eq!(letter.key, original.key, "original key kept");
        assert_eq!(
            header(&letter.headers, dead_letter::ORIGIN_TOPIC),
            Some(origin.topic.as_str())
        );
        assert_eq!(
            header(&letter.headers, dead_letter::ORIGIN_PARTITION),
            Some(origin.partition.to_string().as_str())
        );
        assert_eq!(
            header(&letter.headers, dead_letter::ORIGIN_OFFSET),
            Some(origin.offset.to_string().as_str())
        );
        assert!(header(&letter.headers, dead_letter::REASON).is_some_and(|r| !r.is_empty()));
    }
    assert!(
        header(&dead[0].headers, dead_letter::REASON).is_some_and(|r| r.starts_with("undecodable"))
    );
    assert_eq!(
        header(&dead[0].headers, "origin"),
        Some("a broken producer"),
        "original headers kept"
    );
    assert!(header(&dead[1].headers, dead_letter::REASON).is_some_and(|r| r.contains("payload")));
}

/// The embedded log, except that appends to the dead-letter topic fail
/// while `refuse` is set: a dead-letter topic that is unavailable.
struct RefusingDeadLetters {
    inner: Arc<consent_log_embedded::EmbeddedLog>,
    refuse: AtomicBool,
}

#[async_trait::async_trait]
impl EventLog for RefusingDeadLetters {
    fn layout(&self) -> &LogLayout {
        self.inner.layout()
    }
    async fn append(&self, records: Vec<AppendRecord>) -> Result<Vec<LogPosition>, LogError> {
        let dead_letter_topic = self.layout().dead_letter_topic();
        if self.refuse.load(Ordering::SeqCst)
            && records.iter().any(|r| r.topic == dead_letter_topic)
        {
            return Err(LogError::Unavailable(
                "dead-letter topic unavailable".to_owned(),
            ));
        }
        self.inner.append(records).await
    }
    async fn reader(&self, start: StartOffsets) -> Result<Box<dyn LogReader>, LogError> {
        self.inner.reader(start).await
    }
    async fn end_offsets(&self) -> Result<EndOffsets, LogError> {
        self.inner.end_offsets().await
    }
}

#[test]
fn when_the_dead_letter_append_fails_nothing_is_committed() {
    let log_dir = tempfile::tempdir().expect("tempdir");
    let inner = open_log(log_dir.path());
    let log = Arc::new(RefusingDeadLetters {
        inner: inner.clone(),
        refuse: AtomicBool::new(true),
    });
    let store = Arc::new(MemoryStore::new());
    let events = fixed_events(3);
    let rt = runtime();
    rt.block_on(async {
        // One partition, so that one batch holds both records.
        let garbage = AppendRecord {
            topic: consent_schema::EventFamily::Grants.topic(&layout()),
            key: consent_schema::routing_key(&events[0].organisation, events[0].subject.as_ref()),
            payload: b"not protobuf \xff\xff".to_vec(),
            headers: vec![],
        };
        let mut first = record_of(&events[0]);
        first.topic = garbage.topic.clone();
        first.key = garbage.key.clone();
        let positions = inner.append(vec![first, garbage]).await.expect("append");

        let dyn_log: Arc<dyn EventLog> = log.clone();
        let mut projector = consent_projector::Projector::new(dyn_log, store.clone(), config(10));
        let failed = projector.step().await;
        assert!(
            matches!(failed, Err(ProjectorError::DeadLetter(_))),
            "got {failed:?}"
        );
        let initial = store.offsets().expect("offsets").expect("initialised");
        assert!(
            initial.values().all(|offset| *offset == 0),
            "nothing committed: {initial:?}"
        );
        let organisation: &OrganisationId = &events[0].organisation;
        let subject: Option<&SubjectId> = events[0].subject.as_ref();
        if let Some(subject) = subject {
            assert!(store
                .history(organisation, subject)
                .expect("history")
                .is_empty());
        }

        // The topic comes back: the same records are read again, once.
        log.refuse.store(false, Ordering::SeqCst);
        let mut committed = false;
        while !committed {
            committed = matches!(
                projector.step().await.expect("step"),
                StepOutcome::Committed(_)
            );
        }
        let status = projector.status();
        assert_eq!(status.dead_letters, 1);
        assert!(positions.iter().all(|p| status.has_applied(p)));
        let dead = read_topics(inner.as_ref(), &[layout().dead_letter_topic()]).await;
        assert_eq!(dead.len(), 1, "dead-lettered once");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_projector_retries_until_the_dead_letter_topic_is_back() {
    let log_dir = tempfile::tempdir().expect("tempdir");
    let inner = open_log(log_dir.path());
    let log = Arc::new(RefusingDeadLetters {
        inner: inner.clone(),
        refuse: AtomicBool::new(true),
    });
    let store = Arc::new(MemoryStore::new());
    let garbage = AppendRecord {
        topic: consent_schema::EventFamily::Commerce.topic(&layout()),
        key: b"acme\x1fs-2".to_vec(),
        payload: b"\x08\x96\x01 truncated".to_vec(),
        headers: vec![],
    };
    let mut positions = inner.append(vec![garbage]).await.expect("append garbage");
    positions.extend(append_events(inner.as_ref(), &fixed_events(4), 2).await);

    let dyn_log: Arc<dyn EventLog> = log.clone();
    let projector = consent_projector::Projector::new(dyn_log, store.clone(), config(100));
    let handle = projector.handle();
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(projector.run(stopping));

    // While the dead-letter topic refuses, nothing past the bad record is
    // committed, and the projector keeps trying rather than exiting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !running.is_finished(),
        "a transient error does not stop the projector"
    );
    assert!(!handle.status().has_applied(&positions[0]));
    // The failure is published for health checks: the log's, since when,
    // and not a stop.
    let failure = handle.status().failure.expect("a failure is published");
    assert_eq!(failure.cause, FailureCause::Log);
    assert!(!failure.stopped);
    assert!(failure.error.contains("dead-letter"), "{}", failure.error);
    assert!(!handle.projector_stopped());

    log.refuse.store(false, Ordering::SeqCst);
    handle
        .wait_for(&positions, Duration::from_secs(10))
        .await
        .expect("applied once the topic is back");
    assert_eq!(handle.status().dead_letters, 1);
    assert_eq!(handle.status().failure, None, "cleared by the next success");
    stop.send(true).expect("signal shutdown");
    running.await.expect("join").expect("stops cleanly");
    assert!(handle.projector_stopped());
    let dead = read_topics(inner.as_ref(), &[layout().dead_letter_topic()]).await;
    assert_eq!(dead.len(), 1);
}
