//! KafkaLog against a real Kafka-protocol broker (tansu, started per test):
//! the conformance suite every `EventLog` passes (`consent-log-conformance`,
//! which the embedded log runs too), and what only Kafka does (topic
//! creation, a broker outage).
//!
//! Needs tansu: run `.ci/install-tansu.sh` once. With
//! `CONSENT_SKIP_KAFKA_TESTS=1` these tests return early instead.

use consent_kafka::test_support::TestBroker;
use consent_kafka::{KafkaConfig, KafkaLog};
use consent_log::partitioner::partition_for;
use consent_log::{
    AppendRecord, EventLog, LogError, LogLayout, LogRecord, StartOffsets, TopicPartition,
};
use consent_log_conformance::LogFactory;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PARTITIONS: u32 = 4;

/// The topics of the layouts here, after their prefix.
const TOPICS: [&str; 2] = ["grants", "optouts"];

fn config(broker: &TestBroker, layout: LogLayout) -> KafkaConfig {
    let client_id = format!("consent-kafka-test-{}", layout.topic_prefix);
    let mut config = KafkaConfig::new(broker.bootstrap(), layout);
    config.replication_factor = 1;
    config.client_id = client_id;
    config
}

fn layout(prefix: &str) -> LogLayout {
    LogLayout::new(prefix, PARTITIONS, TOPICS)
}

fn record(log: &KafkaLog, suffix: &str, key: &str, payload: &[u8]) -> AppendRecord {
    AppendRecord {
        topic: log.layout().topic(suffix),
        key: key.as_bytes().to_vec(),
        payload: payload.to_vec(),
        headers: vec![("event-type".to_owned(), suffix.as_bytes().to_vec())],
    }
}

/// Each fresh log under a topic prefix of its own on one broker.
struct FreshKafkaLogs {
    broker: TestBroker,
    opened: AtomicUsize,
}

#[async_trait::async_trait]
impl LogFactory for FreshKafkaLogs {
    async fn fresh(&self, mut layout: LogLayout) -> Arc<dyn EventLog> {
        let n = self.opened.fetch_add(1, Ordering::Relaxed);
        layout.topic_prefix = format!("{}-{n}", layout.topic_prefix);
        let log = KafkaLog::open(config(&self.broker, layout))
            .await
            .expect("open a fresh Kafka log");
        Arc::new(log)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kafka_log_does_what_every_event_log_must() {
    let Some(broker) = TestBroker::for_test() else {
        return;
    };
    let factory = FreshKafkaLogs {
        broker,
        opened: AtomicUsize::new(0),
    };
    consent_log_conformance::run_all(&factory).await;
}

/// Reads until `count` records arrived or 20 s passed.
async fn read_all(log: &KafkaLog, start: StartOffsets, count: usize) -> Vec<LogRecord> {
    let mut reader = log.reader(start).await.expect("open a reader");
    let mut records = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while records.len() < count && Instant::now() < deadline {
        let batch = reader
            .next_batch(100, Duration::from_millis(500))
            .await
            .expect("read a batch");
        records.extend(batch);
    }
    records
}

/// The partition count of every topic the broker has, asked independently
/// of the code under test.
fn broker_topics(bootstrap: &str) -> BTreeMap<String, usize> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("create a metadata client");
    let metadata = consumer
        .fetch_metadata(None, Duration::from_secs(10))
        .expect("fetch metadata");
    metadata
        .topics()
        .iter()
        .map(|t| (t.name().to_owned(), t.partitions().len()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_creates_every_topic_with_the_layout_partition_count() {
    let Some(broker) = TestBroker::for_test() else {
        return;
    };
    // With a derived topic (the ledger's opt-out feed is one): created too.
    let config = config(&broker, layout("created").with_derived(["feed"]));
    let layout = config.layout.clone();

    KafkaLog::open(config.clone())
        .await
        .expect("open creates the topics");

    let topics = broker_topics(&broker.bootstrap());
    let mut expected: Vec<String> = layout.topics();
    expected.extend(layout.side_topics());
    assert_eq!(
        expected,
        vec![
            "created.grants",
            "created.optouts",
            "created.dead-letters",
            "created.feed"
        ]
    );
    for topic in &expected {
        assert_eq!(
            topics.get(topic),
            Some(&(PARTITIONS as usize)),
            "partitions of {topic}"
        );
    }

    // Opening again finds the topics and accepts them.
    KafkaLog::open(config.clone())
        .await
        .expect("reopen an existing log");

    // A layout with another partition count must not use these topics.
    let mut other = config;
    other.layout.partitions = PARTITIONS + 1;
    match KafkaLog::open(other).await {
        Err(LogError::LayoutMismatch(reason)) => {
            assert!(
                reason.contains("created.grants"),
                "names the topic: {reason}"
            )
        }
        other => panic!("expected a layout mismatch, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_outage_fails_appends_fast_and_loses_nothing() {
    let Some(mut broker) = TestBroker::for_test() else {
        return;
    };
    let log = KafkaLog::open(config(&broker, layout("outage")))
        .await
        .expect("open");
    let before = log
        .append(vec![record(
            &log,
            "grants",
            "org-1|carol",
            b"before the outage",
        )])
        .await
        .expect("append while up");

    // A reader open across the outage keeps its place and carries on.
    let carol = TopicPartition::new("outage.optouts", partition_for(b"org-1|carol", PARTITIONS));
    let mut live = log
        .reader(
            [(before[0].topic_partition(), 0), (carol, 0)]
                .into_iter()
                .collect(),
        )
        .await
        .expect("open a reader");
    let first = live
        .next_batch(10, Duration::from_secs(10))
        .await
        .expect("read while up");
    assert_eq!(
        first
            .iter()
            .map(|r| r.payload.as_slice())
            .collect::<Vec<_>>(),
        [b"before the outage"]
    );

    broker.stop().expect("stop the broker");
    let down = live.next_batch(10, Duration::from_secs(1)).await;
    assert!(
        matches!(&down, Ok(batch) if batch.is_empty())
            || matches!(&down, Err(LogError::Unavailable(_))),
        "{down:?}"
    );

    let started = Instant::now();
    let result = log
        .append(vec![record(&log, "optouts", "org-1|carol", b"during")])
        .await;
    let append_took = started.elapsed();
    eprintln!("append with the broker down failed after {append_took:?}: {result:?}");
    assert!(
        matches!(result, Err(LogError::Unavailable(_))),
        "got {result:?}"
    );
    assert!(
        append_took < Duration::from_secs(15),
        "failed fast: {append_took:?}"
    );

    let started = Instant::now();
    let ends = log.end_offsets().await;
    let ends_took = started.elapsed();
    eprintln!("end_offsets with the broker down failed after {ends_took:?}: {ends:?}");
    assert!(
        matches!(ends, Err(LogError::Unavailable(_))),
        "got {ends:?}"
    );
    assert!(
        ends_took < Duration::from_secs(8),
        "failed fast: {ends_took:?}"
    );

    broker
        .start()
        .expect("restart the broker on the same port and data");

    let started = Instant::now();
    let after = loop {
        match log
            .append(vec![record(&log, "optouts", "org-1|carol", b"after")])
            .await
        {
            Ok(positions) => break positions,
            Err(error) if started.elapsed() < Duration::from_secs(30) => {
                eprintln!("append after restart not yet accepted: {error}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(error) => panic!(
                "append still failing 30 s after the restart: {error}\nbroker log:\n{}",
                broker.log_tail()
            ),
        }
    };
    eprintln!("append accepted {:?} after the restart", started.elapsed());

    let started = Instant::now();
    let mut seen_live = Vec::new();
    while !seen_live.iter().any(|r: &LogRecord| r.payload == b"after") {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "live reader resumed: {seen_live:?}"
        );
        match live.next_batch(10, Duration::from_millis(500)).await {
            Ok(batch) => seen_live.extend(batch),
            Err(LogError::Unavailable(reason)) => eprintln!("live reader: {reason}"),
            Err(error) => panic!("live reader failed: {error}"),
        }
    }
    eprintln!(
        "live reader resumed {:?} after the append",
        started.elapsed()
    );

    let ends = log
        .end_offsets()
        .await
        .expect("end offsets after the restart");
    let mut start = StartOffsets::new();
    start.insert(before[0].topic_partition(), 0);
    start.insert(after[0].topic_partition(), 0);
    let stored: u64 = start.keys().map(|tp| ends[tp]).sum();
    let read = read_all(&log, start, usize::try_from(stored).expect("a small log")).await;
    assert_eq!(read.len() as u64, stored);
    let payloads: Vec<(&str, &[u8])> = read
        .iter()
        .map(|r| (r.position.topic.as_str(), r.payload.as_slice()))
        .collect();
    // The failed append may or may not have been stored (it was never
    // acknowledged); the acknowledged ones must be there, where they were.
    assert!(
        payloads.contains(&("outage.optouts", &b"after"[..])),
        "{payloads:?}"
    );
    let kept = read
        .iter()
        .find(|r| r.payload == b"before the outage")
        .map(|r| &r.position);
    assert_eq!(
        kept,
        Some(&before[0]),
        "the record from before the outage kept its position: {payloads:?}, ends {ends:?}"
    );
    assert_eq!(ends[&before[0].topic_partition()], before[0].offset + 1);
}
