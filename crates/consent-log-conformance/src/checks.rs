//! The checks, one behaviour of the [`EventLog`] contract each.

use crate::support::{
    key_for, read_exactly, read_from, record, suite_layout, LogFactory, POLL, SUITE_PARTITIONS,
};
use consent_log::partitioner::partition_for;
use consent_log::{
    AppendRecord, EventLog, LogError, LogPosition, LogRecord, StartOffsets, TopicPartition,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(since_epoch.as_millis()).expect("milliseconds fit i64")
}

fn count(n: u64) -> usize {
    usize::try_from(n).expect("a small log")
}

/// Every topic-partition of the layout, dead letters and derived topics
/// included, from 0.
fn everything(log: &dyn EventLog) -> StartOffsets {
    let layout = log.layout();
    let mut start: StartOffsets = layout
        .topic_partitions()
        .into_iter()
        .map(|tp| (tp, 0))
        .collect();
    for topic in layout.side_topics() {
        for partition in 0..layout.partitions {
            start.insert(TopicPartition::new(topic.clone(), partition), 0);
        }
    }
    start
}

/// Asserts that the records of each partition come in offset order, dense
/// from the first one read.
fn assert_offset_order(records: &[LogRecord]) {
    let mut last: BTreeMap<TopicPartition, u64> = BTreeMap::new();
    for record in records {
        let tp = record.position.topic_partition();
        if let Some(previous) = last.insert(tp, record.position.offset) {
            assert_eq!(
                previous + 1,
                record.position.offset,
                "records of one partition come in offset order: {}",
                record.position
            );
        }
    }
}

/// The log holds the layout it was opened with: the partition count and
/// the topics asked for.
pub async fn the_layout_is_the_one_asked_for(factory: &dyn LogFactory) {
    let asked = suite_layout();
    let log = factory.fresh(asked.clone()).await;
    let layout = log.layout();
    assert_eq!(layout.partitions, asked.partitions);
    assert_eq!(layout.topic_suffixes, asked.topic_suffixes);
    assert_eq!(layout.derived_suffixes, asked.derived_suffixes);
}

/// Records of every topic, the dead-letter and derived topics included, read back with
/// their key, payload (any bytes, empty too) and headers unchanged, at the
/// positions the append returned: the partition the partitioner names, and
/// offsets dense from 0 in append order.
pub async fn appended_records_read_back_byte_for_byte_in_order(factory: &dyn LogFactory) {
    let log = factory.fresh(suite_layout()).await;
    let layout = log.layout().clone();
    let topics: Vec<String> = layout
        .topics()
        .into_iter()
        .chain(layout.side_topics())
        .collect();
    let mut records = Vec::new();
    for i in 0..40usize {
        let key = format!("org-1|subject-{}", i % 7).into_bytes();
        let payload: Vec<u8> = if i == 0 {
            Vec::new()
        } else {
            (0..=255u8).cycle().skip(i).take(64 + i).collect()
        };
        records.push(AppendRecord {
            topic: topics[i % topics.len()].clone(),
            key,
            payload,
            headers: vec![
                ("event-type".to_owned(), format!("type-{i}").into_bytes()),
                ("binary".to_owned(), vec![0, 255, 1, 254]),
                ("empty".to_owned(), Vec::new()),
            ],
        });
    }

    let before = now_ms();
    let positions = log.append(records.clone()).await.expect("append");
    let after = now_ms();

    assert_eq!(positions.len(), records.len(), "a position per record");
    let mut next: BTreeMap<TopicPartition, u64> = BTreeMap::new();
    for (record, position) in records.iter().zip(&positions) {
        assert_eq!(position.topic, record.topic, "topic of {position}");
        assert_eq!(
            position.partition,
            partition_for(&record.key, layout.partitions),
            "the partitioner decides the partition of {position}"
        );
        let expected = next.entry(position.topic_partition()).or_insert(0);
        assert_eq!(
            position.offset, *expected,
            "offsets dense from 0: {position}"
        );
        *expected += 1;
    }

    let read = read_from(log.as_ref(), everything(log.as_ref()), records.len()).await;
    assert_offset_order(&read);
    let by_position: BTreeMap<&LogPosition, &LogRecord> =
        read.iter().map(|r| (&r.position, r)).collect();
    for (sent, position) in records.iter().zip(&positions) {
        let stored = by_position
            .get(position)
            .unwrap_or_else(|| panic!("{position} is read back"));
        assert_eq!(stored.key, sent.key, "key at {position}");
        assert_eq!(stored.payload, sent.payload, "payload at {position}");
        assert_eq!(stored.headers, sent.headers, "headers at {position}");
        assert!(
            (before - 1_000..=after + 1_000).contains(&stored.timestamp_ms),
            "timestamp {} at {position} is the append's time ({before}..={after})",
            stored.timestamp_ms
        );
    }
}

/// A later append continues a partition's offsets where the last stopped.
pub async fn offsets_continue_densely_across_appends(factory: &dyn LogFactory) {
    let log = factory.fresh(suite_layout()).await;
    let topic = log.layout().topics()[0].clone();
    let key = key_for(0, SUITE_PARTITIONS);
    let mut offsets = Vec::new();
    for i in 0..10u8 {
        let positions = log
            .append(vec![record(&topic, &key, &[i]); 3])
            .await
            .expect("append");
        offsets.extend(positions.iter().map(|p| p.offset));
    }
    assert_eq!(offsets, (0..30).collect::<Vec<u64>>());
}

/// The topics are co-partitioned: one key lands on the same partition
/// number of every topic, and keeps its append order there.
pub async fn one_key_lands_on_the_same_partition_of_every_topic(factory: &dyn LogFactory) {
    let log = factory.fresh(suite_layout()).await;
    let topics = log.layout().topics();
    for key in [
        "org-7|alice@example.com",
        "org-7|+447700900123",
        "org-9|bob",
    ] {
        let records: Vec<AppendRecord> = (0..3u8)
            .flat_map(|round| {
                topics
                    .iter()
                    .map(move |topic| record(topic, key.as_bytes(), &[round]))
            })
            .collect();
        let positions = log.append(records).await.expect("append");
        let partitions: BTreeSet<u32> = positions.iter().map(|p| p.partition).collect();
        assert_eq!(
            partitions,
            BTreeSet::from([partition_for(key.as_bytes(), SUITE_PARTITIONS)]),
            "{key} is on one partition number: {positions:?}"
        );
        for topic in &topics {
            let offsets: Vec<u64> = positions
                .iter()
                .filter(|p| &p.topic == topic)
                .map(|p| p.offset)
                .collect();
            assert_eq!(offsets.len(), 3, "{key} on {topic}");
            assert!(
                offsets.windows(2).all(|w| w[0] + 1 == w[1]),
                "{key} keeps its order on {topic}: {offsets:?}"
            );
        }
    }
}

/// The records of one append go each to its own key's partition, in call
/// order within each partition.
pub async fn records_of_one_append_are_routed_per_key(factory: &dyn LogFactory) {
    let log = factory.fresh(suite_layout()).await;
    let topic = log.layout().topics()[1].clone();
    let keys: Vec<Vec<u8>> = (0..SUITE_PARTITIONS)
        .map(|p| key_for(p, SUITE_PARTITIONS))
        .collect();
    let batch: Vec<AppendRecord> = keys
        .iter()
        .chain(&keys)
        .enumerate()
        .map(|(i, key)| record(&topic, key, &[u8::try_from(i).expect("small")]))
        .collect();

    let positions = log.append(batch).await.expect("append");

    for (i, position) in positions.iter().enumerate() {
        let partition = u32::try_from(i % keys.len()).expect("small");
        let round = u64::try_from(i / keys.len()).expect("small");
        assert_eq!(position, &LogPosition::new(topic.clone(), partition, round));
    }
    for partition in 0..SUITE_PARTITIONS {
        let start = StartOffsets::from([(TopicPartition::new(topic.clone(), partition), 0)]);
        let payloads: Vec<Vec<u8>> = read_from(log.as_ref(), start, 2)
            .await
            .into_iter()
            .map(|r| r.payload)
            .collect();
        let first = u8::try_from(partition).expect("small");
        let second = u8::try_from(partition + SUITE_PARTITIONS).expect("small");
        assert_eq!(
            payloads,
            [vec![first], vec![second]],
            "partition {partition}"
        );
    }
}

/// A reader reads a partition from any offset up to its end (from the end
/// itself it waits for new records); past the end is
/// [`LogError::OffsetOutOfRange`], not a silent wait.
pub async fn a_reader_starts_at_any_offset(factory: &dyn LogFactory) {
    let log = factory.fresh(suite_layout()).await;
    let topic = log.layout().topics()[2].clone();
    let key = key_for(3, SUITE_PARTITIONS);
    let records: Vec<AppendRecord> = (0..200u32)
        .map(|i| record(&topic, &key, &[i.to_le_bytes(); 16].concat()))
        .collect();
    log.append(records).await.expect("append");
    let tp = TopicPartition::new(topic, 3);

    for start in [0, 1, 77, 199, 200] {
        let read = read_from(
            log.as_ref(),
            StartOffsets::from([(tp.clone(), start)]),
            count(200 - start),
        )
        .await;
        let offsets: Vec<u64> = read.iter().map(|r| r.position.offset).collect();
        assert_eq!(offsets, (start..200).collect::<Vec<u64>>(), "from {start}");
        if let Some(first) = read.first() {
            let start = u32::try_from(start).expect("small");
            assert_eq!(
                first.payload[..4],
                start.to_le_bytes(),
                "the record at {start}"
            );
        }
    }

    match log.reader(StartOffsets::from([(tp.clone(), 205)])).await {
        Err(LogError::OffsetOutOfRange {
            partition,
            offset,
            end,
        }) => assert_eq!((partition, offset, end), (tp, 205, 200)),
        Err(other) => panic!("expected OffsetOutOfRange, got {other}"),
        Ok(_) => panic!("expected OffsetOutOfRange, got a reader"),
    }
}

/// A reader reads the topic-partitions it was given and no other.
pub async fn a_reader_reads_only_the_partitions_it_was_given(factory: &dyn LogFactory) {
    let log = factory.fresh(suite_layout()).await;
    let topics = log.layout().topics();
    let mut records = Vec::new();
    for topic in &topics {
        for partition in 0..SUITE_PARTITIONS {
            let key = key_for(partition, SUITE_PARTITIONS);
            records.push(record(topic, &key, topic.as_bytes()));
            records.push(record(topic, &key, topic.as_bytes()));
        }
    }
    log.append(records).await.expect("append");

    let wanted = StartOffsets::from([
        (TopicPartition::new(topics[0].clone(), 1), 0),
        (TopicPartition::new(topics[2].clone(), 1), 1),
        (TopicPartition::new(topics[2].clone(), 3), 0),
    ]);
    let read = read_from(log.as_ref(), wanted.clone(), 5).await;
    assert_offset_order(&read);
    let mut positions: Vec<LogPosition> = read.into_iter().map(|r| r.position).collect();
    positions.sort();
    assert_eq!(
        positions,
        [
            LogPosition::new(topics[0].clone(), 1, 0),
            LogPosition::new(topics[0].clone(), 1, 1),
            LogPosition::new(topics[2].clone(), 1, 1),
            LogPosition::new(topics[2].clone(), 3, 0),
            LogPosition::new(topics[2].clone(), 3, 1),
        ]
    );
}

/// `next_batch(max_records, ..)` returns at most `max_records` records, and
/// batch after batch every record once, in offset order per partition.
pub async fn a_batch_holds_at_most_the_records_asked_for(factory: &dyn LogFactory) {
    let log = factory.fresh(suite_layout()).await;
    let topic = log.layout().topics()[0].clone();
    let records: Vec<AppendRecord> = (0..60u32)
        .map(|i| {
            let partition = i % SUITE_PARTITIONS;
            record(
                &topic,
                &key_for(partition, SUITE_PARTITIONS),
                &i.to_le_bytes(),
            )
        })
        .collect();
    log.append(records).await.expect("append");

    let start: StartOffsets = (0..SUITE_PARTITIONS)
        .map(|p| (TopicPartition::new(topic.clone(), p), 0))
        .collect();
    let mut reader = log.reader(start).await.expect("open a reader");
    let mut read = Vec::new();
    let mut empty = 0;
    while read.len() < 60 && empty < 40 {
        let batch = reader.next_batch(7, POLL).await.expect("read a batch");
        assert!(batch.len() <= 7, "a batch of {} records", batch.len());
        if batch.is_empty() {
            empty += 1;
        }
        read.extend(batch);
    }
    assert_eq!(read.len(), 60, "every record once");
    assert_offset_order(&read);
    let batch = reader.next_batch(1, POLL).await.expect("read at the end");
    assert!(batch.is_empty(), "nothing after the last record");
}

/// End offsets name every topic-partition of the layout's topics (not the
/// dead-letter topic) with the offset the next record will get there.
pub async fn end_offsets_cover_every_topic_partition_but_not_dead_letters(
    factory: &dyn LogFactory,
) {
    let log = factory.fresh(suite_layout()).await;
    let layout = log.layout().clone();

    let empty = log
        .end_offsets()
        .await
        .expect("end offsets of an empty log");
    assert_eq!(
        empty.keys().cloned().collect::<BTreeSet<_>>(),
        layout
            .topic_partitions()
            .into_iter()
            .collect::<BTreeSet<_>>(),
        "every topic-partition, and no dead letters"
    );
    assert!(empty.values().all(|&end| end == 0), "{empty:?}");

    let topics = layout.topics();
    let records: Vec<AppendRecord> = ["a", "b", "c", "d", "e", "f", "g"]
        .iter()
        .flat_map(|key| {
            [
                record(&topics[0], key.as_bytes(), b"0"),
                record(&topics[2], key.as_bytes(), b"2"),
            ]
        })
        .chain([
            record(&topics[0], b"a", b"again"),
            record(&layout.dead_letter_topic(), b"a", b"dead"),
        ])
        .collect();
    let positions = log.append(records).await.expect("append");

    let mut expected: BTreeMap<TopicPartition, u64> = layout
        .topic_partitions()
        .into_iter()
        .map(|tp| (tp, 0))
        .collect();
    for position in positions
        .iter()
        .filter(|p| p.topic != layout.dead_letter_topic())
    {
        *expected
            .get_mut(&position.topic_partition())
            .expect("a topic of the layout") += 1;
    }
    assert_eq!(log.end_offsets().await.expect("end offsets"), expected);
}

/// An empty append returns no position and stores nothing.
pub async fn an_empty_append_stores_nothing(factory: &dyn LogFactory) {
    let log = factory.fresh(suite_layout()).await;
    let positions = log.append(Vec::new()).await.expect("append nothing");
    assert!(positions.is_empty(), "{positions:?}");
    let ends = log.end_offsets().await.expect("end offsets");
    assert!(ends.values().all(|&end| end == 0), "{ends:?}");
}

/// A topic outside the layout is refused for appends and readers
/// ([`LogError::UnknownTopic`]), a partition beyond the layout's count for
/// readers ([`LogError::UnknownPartition`]), and nothing is stored.
pub async fn unknown_topics_and_partitions_are_refused(factory: &dyn LogFactory) {
    let log = factory.fresh(suite_layout()).await;
    let stray = "elsewhere.first";
    let error = log
        .append(vec![record(stray, b"k", b"p")])
        .await
        .expect_err("an unknown topic is refused");
    assert!(
        matches!(error, LogError::UnknownTopic(ref t) if t == stray),
        "{error:?}"
    );
    let ends = log.end_offsets().await.expect("end offsets");
    assert!(ends.values().all(|&end| end == 0), "{ends:?}");

    match log
        .reader(StartOffsets::from([(TopicPartition::new(stray, 0), 0)]))
        .await
    {
        Err(LogError::UnknownTopic(topic)) => assert_eq!(topic, stray),
        Err(other) => panic!("expected UnknownTopic, got {other}"),
        Ok(_) => panic!("expected UnknownTopic, got a reader"),
    }

    let beyond = TopicPartition::new(log.layout().topics()[0].clone(), SUITE_PARTITIONS);
    match log.reader(StartOffsets::from([(beyond.clone(), 0)])).await {
        Err(LogError::UnknownPartition(tp)) => assert_eq!(tp, beyond),
        Err(other) => panic!("expected UnknownPartition, got {other}"),
        Ok(_) => panic!("expected UnknownPartition, got a reader"),
    }
}

/// A reader with nothing to read returns an empty batch once the wait is
/// over, not an error, on an empty log and at the end of a written one.
pub async fn an_idle_reader_returns_an_empty_batch_after_the_wait(factory: &dyn LogFactory) {
    let log = factory.fresh(suite_layout()).await;
    let topic = log.layout().topics()[0].clone();
    let start: StartOffsets = (0..SUITE_PARTITIONS)
        .map(|p| (TopicPartition::new(topic.clone(), p), 0))
        .collect();
    let mut reader = log.reader(start).await.expect("open a reader");
    for wait in [Duration::ZERO, Duration::from_millis(200)] {
        let batch = reader.next_batch(10, wait).await.expect("an idle read");
        assert!(batch.is_empty(), "waiting {wait:?} on an empty log");
    }

    log.append(vec![record(&topic, &key_for(2, SUITE_PARTITIONS), b"x")])
        .await
        .expect("append");
    let at_end = StartOffsets::from([(TopicPartition::new(topic, 2), 1)]);
    let mut reader = log.reader(at_end).await.expect("open a reader at the end");
    let batch = reader
        .next_batch(10, Duration::from_millis(200))
        .await
        .expect("an idle read at the end");
    assert!(batch.is_empty(), "nothing past the end");
}

/// A reader waiting for records gets one appended while it waits (through
/// another handle of the log), and not one appended to a partition it does
/// not read.
pub async fn a_waiting_reader_gets_a_record_appended_while_it_waits(factory: &dyn LogFactory) {
    let log = factory.fresh(suite_layout()).await;
    let topic = log.layout().topics()[1].clone();
    let start = StartOffsets::from([(TopicPartition::new(topic.clone(), 0), 0)]);
    let mut reader = log.reader(start).await.expect("open a reader");
    let writer = Arc::clone(&log);
    let appended = tokio::spawn(async move {
        let elsewhere = record(&topic, &key_for(1, SUITE_PARTITIONS), b"elsewhere");
        let here = record(&topic, &key_for(0, SUITE_PARTITIONS), b"late");
        writer.append(vec![elsewhere]).await.expect("append");
        writer.append(vec![here]).await.expect("append")
    });

    let read = read_exactly(reader.as_mut(), 1).await;
    assert_eq!(read[0].payload, b"late");
    let positions = appended.await.expect("the appending task");
    assert_eq!(read[0].position, positions[0]);
}

/// Appends from many tasks at once, to shared partitions, get unique dense
/// offsets, and each partition stores them in the order of those offsets.
pub async fn concurrent_appends_get_dense_unique_offsets(factory: &dyn LogFactory) {
    let log = factory.fresh(suite_layout()).await;
    let topic = log.layout().topics()[0].clone();
    let mut tasks = Vec::new();
    for task in 0..8u32 {
        let log = Arc::clone(&log);
        let topic = topic.clone();
        tasks.push(tokio::spawn(async move {
            let mut appended = Vec::new();
            for i in 0..10u32 {
                // Keys repeat across tasks, so the tasks share partitions.
                let key = format!("org-1|subject-{}", (task + i) % 6).into_bytes();
                let payload = format!("{task}/{i}").into_bytes();
                let positions = log
                    .append(vec![record(&topic, &key, &payload)])
                    .await
                    .expect("append");
                appended.push((positions[0].clone(), payload));
            }
            appended
        }));
    }
    let mut by_partition: BTreeMap<u32, Vec<(LogPosition, Vec<u8>)>> = BTreeMap::new();
    for task in tasks {
        for (position, payload) in task.await.expect("an appending task") {
            by_partition
                .entry(position.partition)
                .or_default()
                .push((position, payload));
        }
    }

    let mut total = 0;
    for (partition, mut appended) in by_partition {
        appended.sort();
        let offsets: Vec<u64> = appended.iter().map(|(p, _)| p.offset).collect();
        let n = u64::try_from(appended.len()).expect("small");
        assert_eq!(
            offsets,
            (0..n).collect::<Vec<u64>>(),
            "partition {partition}"
        );
        let start = StartOffsets::from([(TopicPartition::new(topic.clone(), partition), 0)]);
        let stored: Vec<Vec<u8>> = read_from(log.as_ref(), start, appended.len())
            .await
            .into_iter()
            .map(|r| r.payload)
            .collect();
        let expected: Vec<Vec<u8>> = appended.into_iter().map(|(_, payload)| payload).collect();
        assert_eq!(stored, expected, "partition {partition}");
        total += n;
    }
    assert_eq!(total, 80);
}

/// A log whose appends succeed reports no faults.
pub async fn a_healthy_log_reports_no_faults(factory: &dyn LogFactory) {
    let log = factory.fresh(suite_layout()).await;
    let topic = log.layout().topics()[0].clone();
    log.append(vec![record(&topic, b"k", b"fine")])
        .await
        .expect("append");
    let faults = log.faults();
    assert!(faults.is_empty(), "{faults:?}");
}
