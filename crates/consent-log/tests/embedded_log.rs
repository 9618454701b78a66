//! The embedded log as the ledger uses it: append, read back, reopen.

mod common;

use common::*;
use consent_log::embedded::{EmbeddedLog, MAX_RECORD_BYTES};
use consent_log::partitioner::partition_for;
use consent_log::{
    AppendRecord, EventFamily, EventLog, LogError, LogLayout, LogPosition, TopicPartition,
};
use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

#[tokio::test]
async fn appended_records_read_back_byte_for_byte_with_dense_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let key = key_for(2, PARTITIONS);
    let records: Vec<AppendRecord> = (0u8..5)
        .map(|i| AppendRecord {
            topic: grants(),
            key: key.clone(),
            payload: vec![i, 0, 255, i.wrapping_mul(7)],
            headers: vec![
                ("event-type".to_owned(), format!("type-{i}").into_bytes()),
                ("binary".to_owned(), vec![0, 1, 2, i]),
            ],
        })
        .collect();

    let before_ms = now_ms();
    let positions = log.append(records.clone()).await.unwrap();
    let after_ms = now_ms();

    let expected: Vec<LogPosition> = (0..5).map(|o| LogPosition::new(grants(), 2, o)).collect();
    assert_eq!(positions, expected);
    let read = read_partition(&log, &grants(), 2).await;
    assert_eq!(read.len(), 5);
    for ((stored, sent), position) in read.iter().zip(&records).zip(&expected) {
        assert_eq!(&stored.position, position);
        assert_eq!(stored.key, sent.key);
        assert_eq!(stored.payload, sent.payload);
        assert_eq!(stored.headers, sent.headers);
        assert!((before_ms..=after_ms).contains(&stored.timestamp_ms));
    }
}

#[tokio::test]
async fn offsets_continue_densely_across_appends() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let key = key_for(0, PARTITIONS);
    let mut offsets = Vec::new();
    for i in 0..10u8 {
        let positions = log
            .append(vec![record(&grants(), &key, &[i]); 3])
            .await
            .unwrap();
        offsets.extend(positions.iter().map(|p| p.offset));
    }
    assert_eq!(offsets, (0..30).collect::<Vec<u64>>());
}

#[tokio::test]
async fn one_key_always_lands_on_one_partition_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let key = b"org-42/subject-7".to_vec();
    let expected_partition = partition_for(&key, PARTITIONS);
    let mut positions = Vec::new();
    for i in 0..4u8 {
        let batch = vec![
            record(&grants(), &key, &[i]),
            record(&grants(), &key, &[i, i]),
        ];
        positions.extend(log.append(batch).await.unwrap());
    }
    assert!(positions.iter().all(|p| p.partition == expected_partition));
    assert!(positions.windows(2).all(|w| w[0].offset + 1 == w[1].offset));
}

#[tokio::test]
async fn records_of_one_append_are_routed_per_key() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let keys: Vec<Vec<u8>> = (0..PARTITIONS).map(|p| key_for(p, PARTITIONS)).collect();
    let batch: Vec<AppendRecord> = keys
        .iter()
        .chain(&keys)
        .map(|key| record(&grants(), key, key))
        .collect();

    let positions = log.append(batch).await.unwrap();

    for (i, position) in positions.iter().enumerate() {
        let partition = u32::try_from(i % keys.len()).unwrap();
        let round = u64::try_from(i / keys.len()).unwrap();
        assert_eq!(position, &LogPosition::new(grants(), partition, round));
    }
    for partition in 0..PARTITIONS {
        let payloads: Vec<Vec<u8>> = read_partition(&log, &grants(), partition)
            .await
            .into_iter()
            .map(|r| r.payload)
            .collect();
        assert_eq!(payloads, vec![key_for(partition, PARTITIONS); 2]);
    }
}

#[tokio::test]
async fn records_survive_a_reopen_and_appends_continue_after_them() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_for(1, PARTITIONS);
    {
        let log = open(dir.path());
        log.append(vec![
            record(&grants(), &key, b"first"),
            record(&grants(), &key, b"second"),
        ])
        .await
        .unwrap();
    }
    let log = open(dir.path());
    let positions = log
        .append(vec![record(&grants(), &key, b"third")])
        .await
        .unwrap();
    assert_eq!(positions, vec![LogPosition::new(grants(), 1, 2)]);
    let payloads: Vec<Vec<u8>> = read_partition(&log, &grants(), 1)
        .await
        .into_iter()
        .map(|r| r.payload)
        .collect();
    assert_eq!(
        payloads,
        vec![b"first".to_vec(), b"second".to_vec(), b"third".to_vec()]
    );
}

#[tokio::test]
async fn a_reader_can_start_at_any_offset() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let key = key_for(3, PARTITIONS);
    // ~100 bytes per record: several sparse index entries.
    let batch: Vec<AppendRecord> = (0..1000u32)
        .map(|i| record(&grants(), &key, &[i.to_le_bytes(); 16].concat()))
        .collect();
    log.append(batch).await.unwrap();

    for start in [0, 1, 40, 41, 777, 999, 1000] {
        let read = read_from(&log, [(TopicPartition::new(grants(), 3), start)]).await;
        let offsets: Vec<u64> = read.iter().map(|r| r.position.offset).collect();
        assert_eq!(
            offsets,
            (start..1000).collect::<Vec<u64>>(),
            "reading from {start}"
        );
        if let Some(first) = read.first() {
            let start32 = u32::try_from(start).unwrap();
            assert_eq!(first.payload[..4], start32.to_le_bytes());
        }
    }
}

#[tokio::test]
async fn end_offsets_cover_every_event_family_partition_but_not_dead_letters() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let key = key_for(1, PARTITIONS);
    let commerce = layout().topic(EventFamily::Commerce);
    log.append(vec![
        record(&commerce, &key, b"a"),
        record(&commerce, &key, b"b"),
    ])
    .await
    .unwrap();
    log.append(vec![record(&layout().dead_letter_topic(), &key, b"dead")])
        .await
        .unwrap();

    let ends = log.end_offsets().await.unwrap();

    let expected_keys: BTreeSet<TopicPartition> = layout().topic_partitions().into_iter().collect();
    assert_eq!(ends.keys().cloned().collect::<BTreeSet<_>>(), expected_keys);
    for (topic_partition, end) in &ends {
        let expected = if *topic_partition == TopicPartition::new(commerce.clone(), 1) {
            2
        } else {
            0
        };
        assert_eq!(*end, expected, "{topic_partition}");
    }
}

#[tokio::test]
async fn the_dead_letter_topic_is_appended_and_read_like_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let dead_letters = layout().dead_letter_topic();
    let key = b"org-1/subject-9".to_vec();
    let mut dead = record(&dead_letters, &key, b"undecodable bytes");
    dead.headers
        .push(("dead-letter-reason".to_owned(), b"bad protobuf".to_vec()));

    let positions = log.append(vec![dead.clone()]).await.unwrap();

    let partition = partition_for(&key, PARTITIONS);
    assert_eq!(
        positions,
        vec![LogPosition::new(dead_letters.clone(), partition, 0)]
    );
    let read = read_partition(&log, &dead_letters, partition).await;
    assert_eq!(read.len(), 1);
    assert_eq!(
        (read[0].payload.clone(), read[0].headers.clone()),
        (dead.payload, dead.headers)
    );
}

#[tokio::test]
async fn an_empty_append_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    assert_eq!(log.append(Vec::new()).await.unwrap(), Vec::new());
    assert!(log
        .end_offsets()
        .await
        .unwrap()
        .values()
        .all(|&end| end == 0));
}

#[tokio::test]
async fn a_record_near_the_size_limit_is_stored_whole() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let key = key_for(0, PARTITIONS);
    let payload: Vec<u8> = (0..MAX_RECORD_BYTES - 1024)
        .map(|i| u8::try_from(i % 251).unwrap())
        .collect();
    log.append(vec![record(&grants(), &key, &payload)])
        .await
        .unwrap();
    let read = read_partition(&log, &grants(), 0).await;
    assert_eq!(read.len(), 1);
    assert!(read[0].payload == payload);
}

#[tokio::test]
async fn an_oversized_record_fails_the_whole_append_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let key = key_for(0, PARTITIONS);
    let small = record(&grants(), &key, b"fine");
    let huge = record(&grants(), &key, &vec![7; MAX_RECORD_BYTES]);

    let error = log.append(vec![small, huge]).await.unwrap_err();

    assert!(
        matches!(error, LogError::RecordTooLarge { size, limit } if size > MAX_RECORD_BYTES && limit == MAX_RECORD_BYTES),
        "{error:?}"
    );
    assert!(log
        .end_offsets()
        .await
        .unwrap()
        .values()
        .all(|&end| end == 0));
}

#[tokio::test]
async fn unknown_topics_and_partitions_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());

    let append = log
        .append(vec![record("other.grants", b"k", b"p")])
        .await
        .unwrap_err();
    assert!(
        matches!(append, LogError::UnknownTopic(ref t) if t == "other.grants"),
        "{append:?}"
    );

    let start = [(TopicPartition::new("other.grants", 0), 0)]
        .into_iter()
        .collect();
    let read = log.reader(start).await.err().unwrap();
    assert!(matches!(read, LogError::UnknownTopic(_)), "{read:?}");

    let beyond = TopicPartition::new(grants(), PARTITIONS);
    let read = log
        .reader([(beyond.clone(), 0)].into_iter().collect())
        .await
        .err()
        .unwrap();
    assert!(
        matches!(read, LogError::UnknownPartition(ref tp) if *tp == beyond),
        "{read:?}"
    );
}

#[tokio::test]
async fn reading_past_the_end_is_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let key = key_for(0, PARTITIONS);
    log.append(vec![record(&grants(), &key, b"only")])
        .await
        .unwrap();
    let tp = TopicPartition::new(grants(), 0);

    // The end itself is a valid place to wait for new records.
    assert!(log
        .reader([(tp.clone(), 1)].into_iter().collect())
        .await
        .is_ok());
    let error = log
        .reader([(tp.clone(), 2)].into_iter().collect())
        .await
        .err()
        .unwrap();
    assert!(
        matches!(error, LogError::OffsetOutOfRange { ref partition, offset: 2, end: 1 } if *partition == tp),
        "{error:?}"
    );
}

#[tokio::test]
async fn reopening_with_another_partition_count_is_a_layout_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));

    let error = EmbeddedLog::open(dir.path(), LogLayout::new("test", PARTITIONS * 2)).unwrap_err();
    assert!(matches!(error, LogError::LayoutMismatch(_)), "{error:?}");
    let error = EmbeddedLog::open(dir.path(), LogLayout::new("other", PARTITIONS)).unwrap_err();
    assert!(matches!(error, LogError::LayoutMismatch(_)), "{error:?}");
    // The stored layout still opens.
    assert!(EmbeddedLog::open(dir.path(), layout()).is_ok());
}

#[test]
fn invalid_layouts_are_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    for layout in [
        LogLayout::new("test", 0),
        LogLayout::new("", 4),
        LogLayout::new("../escape", 4),
        LogLayout::new("with space", 4),
    ] {
        let error = EmbeddedLog::open(&dir.path().join("log"), layout.clone()).unwrap_err();
        assert!(
            matches!(error, LogError::LayoutMismatch(_)),
            "{layout:?}: {error:?}"
        );
    }
}

#[test]
fn a_directory_is_open_by_one_log_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path());
    let error = EmbeddedLog::open(dir.path(), layout()).unwrap_err();
    assert!(matches!(error, LogError::Unavailable(_)), "{error:?}");
    drop(first);
    assert!(EmbeddedLog::open(dir.path(), layout()).is_ok());
}

#[tokio::test]
async fn clones_share_one_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let clone = log.clone();
    let key = key_for(0, PARTITIONS);
    clone
        .append(vec![record(&grants(), &key, b"via clone")])
        .await
        .unwrap();
    assert_eq!(read_partition(&log, &grants(), 0).await.len(), 1);
    assert_eq!(log.layout(), &layout());
    assert_eq!(clone.dir(), dir.path());
}

fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since.as_millis()).unwrap()
}
