//! KafkaLog against a real Kafka-protocol broker (tansu, started per test).
//!
//! Needs tansu: run `.ci/install-tansu.sh` once. With
//! `CONSENT_SKIP_KAFKA_TESTS=1` these tests return early instead.

use consent_kafka::test_support::TestBroker;
use consent_kafka::{KafkaConfig, KafkaLog};
use consent_log::partitioner::partition_for;
use consent_log::{
    AppendRecord, EventFamily, EventLog, LogError, LogLayout, LogRecord, StartOffsets,
    TopicPartition,
};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const PARTITIONS: u32 = 4;

fn config(broker: &TestBroker, prefix: &str) -> KafkaConfig {
    let mut config = KafkaConfig::new(broker.bootstrap(), LogLayout::new(prefix, PARTITIONS));
    config.replication_factor = 1;
    config.client_id = format!("consent-kafka-test-{prefix}");
    config
}

fn record(log: &KafkaLog, family: EventFamily, key: &str, payload: &[u8]) -> AppendRecord {
    AppendRecord {
        topic: log.layout().topic(family),
        key: key.as_bytes().to_vec(),
        payload: payload.to_vec(),
        headers: vec![
            ("event-type".to_owned(), format!("{family:?}").into_bytes()),
            ("schema-version".to_owned(), vec![1]),
        ],
    }
}

fn from_start(layout: &LogLayout) -> StartOffsets {
    let mut topic_partitions = layout.topic_partitions();
    topic_partitions
        .extend((0..layout.partitions).map(|p| TopicPartition::new(layout.dead_letter_topic(), p)));
    topic_partitions.into_iter().map(|tp| (tp, 0)).collect()
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

fn now_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(since_epoch.as_millis()).expect("milliseconds fit i64")
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
    let config = config(&broker, "created");
    let layout = config.layout.clone();

    KafkaLog::open(config.clone())
        .await
        .expect("open creates the topics");

    let topics = broker_topics(&broker.bootstrap());
    let mut expected: Vec<String> = layout.topics();
    expected.push("created.dead-letters".to_owned());
    assert_eq!(
        expected,
        vec![
            "created.grants",
            "created.commerce",
            "created.optouts",
            "created.messages",
            "created.reference",
            "created.dead-letters"
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
async fn appended_records_read_back_byte_for_byte_in_order() {
    let Some(broker) = TestBroker::for_test() else {
        return;
    };
    let log = KafkaLog::open(config(&broker, "roundtrip"))
        .await
        .expect("open");
    let before = now_ms();

    let mut records = Vec::new();
    for i in 0..30u8 {
        let key = format!("org-1|subject-{}", i % 7);
        // Binary payloads, including every byte value and an empty one.
        let payload: Vec<u8> = if i == 0 {
            Vec::new()
        } else {
            (0..=255u8)
                .cycle()
                .skip(i as usize)
                .take(64 + i as usize)
                .collect()
        };
        let family = EventFamily::ALL[i as usize % EventFamily::ALL.len()];
        records.push(record(&log, family, &key, &payload));
    }
    records.push(AppendRecord {
        topic: log.layout().dead_letter_topic(),
        key: b"org-1|subject-0".to_vec(),
        payload: vec![0xff, 0x00, 0xfe],
        headers: vec![
            ("reason".to_owned(), b"undecodable".to_vec()),
            ("empty".to_owned(), Vec::new()),
        ],
    });

    let positions = log.append(records.clone()).await.expect("append");
    assert_eq!(positions.len(), records.len());
    for (record, position) in records.iter().zip(&positions) {
        assert_eq!(position.topic, record.topic);
        assert_eq!(
            position.partition,
            partition_for(&record.key, PARTITIONS),
            "partitioner decides"
        );
    }
    // Within a topic-partition, offsets follow the input order from 0.
    let mut next: BTreeMap<TopicPartition, u64> = BTreeMap::new();
    for position in &positions {
        let expected = next.entry(position.topic_partition()).or_insert(0);
        assert_eq!(position.offset, *expected, "offset of {position}");
        *expected += 1;
    }

    let read = read_all(&log, from_start(log.layout()), records.len()).await;
    assert_eq!(read.len(), records.len(), "every record is read back once");
    let by_position: BTreeMap<_, _> = read.iter().map(|r| (r.position.clone(), r)).collect();
    for (record, position) in records.iter().zip(&positions) {
        let stored = by_position
            .get(position)
            .unwrap_or_else(|| panic!("{position} read back"));
        assert_eq!(stored.key, record.key);
        assert_eq!(stored.payload, record.payload);
        assert_eq!(stored.headers, record.headers);
        assert!(
            stored.timestamp_ms >= before - 1_000 && stored.timestamp_ms <= now_ms() + 1_000,
            "timestamp {} is the append time",
            stored.timestamp_ms
        );
    }
    // Per partition, records come in offset order.
    let mut last: BTreeMap<TopicPartition, u64> = BTreeMap::new();
    for record in &read {
        if let Some(previous) =
            last.insert(record.position.topic_partition(), record.position.offset)
        {
            assert!(
                previous < record.position.offset,
                "order within {}",
                record.position
            );
        }
    }

    // A reader started mid-partition sees only the rest of it.
    let first = positions[1].clone();
    let tp = first.topic_partition();
    let end = next[&tp];
    let rest = read_all(
        &log,
        [(tp.clone(), 1)].into_iter().collect(),
        usize::try_from(end - 1).expect("a small log"),
    )
    .await;
    let offsets: Vec<u64> = rest.iter().map(|r| r.position.offset).collect();
    assert_eq!(offsets, (1..end).collect::<Vec<_>>());
    assert!(rest.iter().all(|r| r.position.topic_partition() == tp));

    // Starting past the end is an error, not a silent wait.
    match log
        .reader([(tp.clone(), end + 5)].into_iter().collect())
        .await
    {
        Err(LogError::OffsetOutOfRange {
            partition,
            offset,
            end: log_end,
        }) => {
            assert_eq!((partition, offset, log_end), (tp, end + 5, end));
        }
        Err(other) => panic!("expected OffsetOutOfRange, got {other}"),
        Ok(_) => panic!("expected OffsetOutOfRange, got a reader"),
    }

    // Topics outside the layout are refused before anything is sent.
    let stray = AppendRecord {
        topic: "elsewhere".to_owned(),
        key: vec![1],
        payload: vec![2],
        headers: vec![],
    };
    assert!(
        matches!(log.append(vec![stray]).await, Err(LogError::UnknownTopic(t)) if t == "elsewhere")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_subject_lands_on_the_same_partition_of_every_topic() {
    let Some(broker) = TestBroker::for_test() else {
        return;
    };
    let log = KafkaLog::open(config(&broker, "copart"))
        .await
        .expect("open");

    for subject in [
        "org-7|alice@example.com",
        "org-7|+447700900123",
        "org-9|bob@example.org",
    ] {
        let records: Vec<AppendRecord> = EventFamily::ALL
            .iter()
            .map(|family| record(&log, *family, subject, b"fact"))
            .collect();
        let positions = log.append(records).await.expect("append");
        let partitions: BTreeSet<u32> = positions.iter().map(|p| p.partition).collect();
        assert_eq!(
            partitions.len(),
            1,
            "{subject} is on one partition number: {positions:?}"
        );
        assert_eq!(
            partitions.first(),
            Some(&partition_for(subject.as_bytes(), PARTITIONS))
        );
        let topics: BTreeSet<&str> = positions.iter().map(|p| p.topic.as_str()).collect();
        assert_eq!(topics.len(), EventFamily::ALL.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_offsets_count_each_partitions_records() {
    let Some(broker) = TestBroker::for_test() else {
        return;
    };
    let log = KafkaLog::open(config(&broker, "ends")).await.expect("open");

    let empty = log
        .end_offsets()
        .await
        .expect("end offsets of an empty log");
    assert_eq!(
        empty.keys().cloned().collect::<BTreeSet<_>>(),
        log.layout().topic_partitions().into_iter().collect(),
        "every event-family partition, and no dead letters"
    );
    assert!(empty.values().all(|&end| end == 0), "{empty:?}");

    let keys = ["a", "b", "c", "d", "e", "f", "g"];
    let records: Vec<AppendRecord> = keys
        .iter()
        .flat_map(|key| {
            [
                record(&log, EventFamily::Grants, key, b"g"),
                record(&log, EventFamily::Messages, key, b"m"),
            ]
        })
        .chain([record(&log, EventFamily::Grants, "a", b"again")])
        .collect();
    let positions = log.append(records).await.expect("append");

    let mut expected: BTreeMap<TopicPartition, u64> = log
        .layout()
        .topic_partitions()
        .into_iter()
        .map(|tp| (tp, 0))
        .collect();
    for position in &positions {
        *expected
            .get_mut(&position.topic_partition())
            .expect("family topic") += 1;
    }
    assert_eq!(log.end_offsets().await.expect("end offsets"), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_outage_fails_appends_fast_and_loses_nothing() {
    let Some(mut broker) = TestBroker::for_test() else {
        return;
    };
    let log = KafkaLog::open(config(&broker, "outage"))
        .await
        .expect("open");
    let before = log
        .append(vec![record(
            &log,
            EventFamily::Grants,
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
        .append(vec![record(
            &log,
            EventFamily::OptOuts,
            "org-1|carol",
            b"during",
        )])
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
            .append(vec![record(
                &log,
                EventFamily::OptOuts,
                "org-1|carol",
                b"after",
            )])
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
