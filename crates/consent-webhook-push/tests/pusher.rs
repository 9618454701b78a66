//! An endpoint's pusher over a real embedded log and a real HTTP receiver:
//! it pushes only its organisation's notices, retries a failing endpoint
//! until it answers, stores its position past what was delivered, and a
//! new pusher on the same data directory resumes there without pushing
//! anything again.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use consent_log::{AppendRecord, EventLog, TopicPartition};
use consent_log_embedded::EmbeddedLog;
use consent_schema::v1;
use consent_webhook_push::{
    EndpointPusher, HttpTransport, PositionStore, PushSettings, RetryPolicy, Transport,
};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

const SECRET: &str = "whsec-pusher-test-0123456789";
const PARTITIONS: u32 = 2;

#[derive(Default)]
struct Receiver {
    /// Requests to refuse (503) before accepting.
    refuse_first: usize,
    requests: usize,
    accepted: Vec<String>,
}

async fn hook(
    State(receiver): State<Arc<Mutex<Receiver>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signature = headers
        .get(consent_webhook_push::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let verified = consent_webhook_push::verify(
        SECRET.as_bytes(),
        signature,
        &body,
        SystemTime::now(),
        consent_webhook_push::signature::DEFAULT_TOLERANCE,
    );
    if verified.is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    let mut receiver = receiver.lock().expect("lock");
    receiver.requests += 1;
    if receiver.requests <= receiver.refuse_first {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let notice: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    receiver
        .accepted
        .push(notice["sourceEventId"].as_str().expect("id").to_owned());
    StatusCode::NO_CONTENT
}

async fn receiver(refuse_first: usize) -> (String, Arc<Mutex<Receiver>>) {
    let state = Arc::new(Mutex::new(Receiver {
        refuse_first,
        ..Receiver::default()
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("address"));
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(Arc::clone(&state));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, state)
}

fn notice_record(layout: &consent_log::LogLayout, organisation: &str, n: u32) -> AppendRecord {
    let notice = v1::OptOutNotice {
        kind: v1::OptOutNoticeKind::OptOut.into(),
        organisation_id: organisation.to_owned(),
        subject_id: format!("s-{n}"),
        source_event_id: format!("{organisation}-{n}"),
        ..v1::OptOutNotice::default()
    };
    AppendRecord {
        topic: consent_schema::opt_out_feed_topic(layout),
        key: consent_schema::opt_out_notice_key(&notice),
        payload: consent_schema::encode_opt_out_notice(&notice),
        headers: Vec::new(),
    }
}

fn endpoint(url: &str) -> consent_webhook_push::Endpoint {
    consent_webhook_push::Endpoint {
        name: "acme-crm".to_owned(),
        organisation: "acme".to_owned(),
        url: url.to_owned(),
        secret: zeroize::Zeroizing::new(SECRET.as_bytes().to_vec()),
    }
}

fn settings() -> PushSettings {
    PushSettings {
        policy: RetryPolicy {
            max_tries: 10,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
        },
        poll_wait: Duration::from_millis(50),
        batch_size: 3,
    }
}

/// How many records each feed partition holds.
async fn feed_ends(
    log: &dyn EventLog,
    layout: &consent_log::LogLayout,
) -> Vec<(TopicPartition, u64)> {
    let mut ends = Vec::new();
    for p in 0..PARTITIONS {
        let tp = TopicPartition::new(consent_schema::opt_out_feed_topic(layout), p);
        let start = [(tp.clone(), 0)].into_iter().collect();
        let mut reader = log.reader(start).await.expect("reader");
        let mut count = 0u64;
        loop {
            let batch = reader.next_batch(100, Duration::ZERO).await.expect("read");
            if batch.is_empty() {
                break;
            }
            count += u64::try_from(batch.len()).expect("fits");
        }
        ends.push((tp, count));
    }
    ends
}

async fn wait_until(within: Duration, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < within, "not done within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pusher_delivers_its_organisations_notices_through_failures_and_resumes_without_repeats()
{
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = consent_schema::ledger_layout("t", PARTITIONS);
    let log: Arc<dyn EventLog> =
        Arc::new(EmbeddedLog::open(&dir.path().join("log"), layout.clone()).expect("log"));
    let mut records: Vec<AppendRecord> =
        (0..5).map(|n| notice_record(&layout, "acme", n)).collect();
    records.extend((0..3).map(|n| notice_record(&layout, "hope", n)));
    log.append(records).await.expect("append the notices");

    // The endpoint refuses its first three requests, then takes everything.
    let (url, seen) = receiver(3).await;
    let transport: Arc<dyn Transport> =
        Arc::new(HttpTransport::new(Duration::from_secs(5)).expect("transport"));
    let owned: BTreeSet<u32> = (0..PARTITIONS).collect();
    let data = dir.path().join("data");
    let start = |transport: Arc<dyn Transport>| {
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let pusher = EndpointPusher::new(
            endpoint(&url),
            Arc::clone(&log),
            &owned,
            transport,
            &data,
            settings(),
        );
        (stop, tokio::spawn(pusher.run(stopping)))
    };
    let (stop, task) = start(Arc::clone(&transport));
    let expected: BTreeSet<String> = (0..5).map(|n| format!("acme-{n}")).collect();
    wait_until(Duration::from_secs(20), || {
        seen.lock().expect("lock").accepted.len() >= expected.len()
    })
    .await;
    // The position is stored after each notice: wait for the last one.
    let positions = PositionStore::new(data.join("webhooks/acme-crm"));
    let feed_ends = feed_ends(log.as_ref(), &layout).await;
    wait_until(Duration::from_secs(10), || {
        let stored = positions.load().expect("position");
        feed_ends
            .iter()
            .all(|(tp, end)| stored.get(tp) == Some(end))
    })
    .await;
    let _ = stop.send(true);
    task.await.expect("pusher task");
    {
        let seen = seen.lock().expect("lock");
        let accepted: BTreeSet<String> = seen.accepted.iter().cloned().collect();
        assert_eq!(accepted, expected, "only acme's notices, every one");
        assert_eq!(seen.accepted.len(), expected.len(), "each delivered once");
        assert_eq!(
            seen.requests,
            expected.len() + 3,
            "three refused tries, retried"
        );
    }

    // A new pusher on the same data directory resumes past them all.
    let (stop, task) = start(transport);
    log.append(vec![notice_record(&layout, "acme", 9)])
        .await
        .expect("append");
    wait_until(Duration::from_secs(20), || {
        seen.lock()
            .expect("lock")
            .accepted
            .contains(&"acme-9".to_owned())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = stop.send(true);
    task.await.expect("pusher task");
    let seen = seen.lock().expect("lock");
    assert_eq!(
        seen.accepted.len(),
        expected.len() + 1,
        "nothing pushed again"
    );
}
