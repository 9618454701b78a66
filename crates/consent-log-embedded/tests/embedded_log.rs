//! What only the embedded log does: its data directory (reopen, layout
//! checks, the lock), its record size limit and its sparse index. What
//! every `EventLog` does is in `tests/conformance.rs`.

mod common;

use common::*;
use consent_log::{AppendRecord, EventLog, LogError, LogLayout, LogPosition, TopicPartition};
use consent_log_embedded::{EmbeddedLog, MAX_RECORD_BYTES};

#[tokio::test]
async fn records_survive_a_reopen_and_appends_continue_after_them() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_for(1, PARTITIONS);
    {
        let log = open(dir.path());
        log.append(vec![
            record(&first_topic(), &key, b"first"),
            record(&first_topic(), &key, b"second"),
        ])
        .await
        .unwrap();
    }
    let log = open(dir.path());
    let positions = log
        .append(vec![record(&first_topic(), &key, b"third")])
        .await
        .unwrap();
    assert_eq!(positions, vec![LogPosition::new(first_topic(), 1, 2)]);
    let payloads: Vec<Vec<u8>> = read_partition(&log, &first_topic(), 1)
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
async fn a_reader_can_start_at_any_offset_between_sparse_index_entries() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let key = key_for(3, PARTITIONS);
    // ~100 bytes per record: several sparse index entries.
    let batch: Vec<AppendRecord> = (0..1000u32)
        .map(|i| record(&first_topic(), &key, &[i.to_le_bytes(); 16].concat()))
        .collect();
    log.append(batch).await.unwrap();

    for start in [0, 1, 40, 41, 777, 999, 1000] {
        let read = read_from(&log, [(TopicPartition::new(first_topic(), 3), start)]).await;
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
async fn a_record_near_the_size_limit_is_stored_whole() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let key = key_for(0, PARTITIONS);
    let payload: Vec<u8> = (0..MAX_RECORD_BYTES - 1024)
        .map(|i| u8::try_from(i % 251).unwrap())
        .collect();
    log.append(vec![record(&first_topic(), &key, &payload)])
        .await
        .unwrap();
    let read = read_partition(&log, &first_topic(), 0).await;
    assert_eq!(read.len(), 1);
    assert!(read[0].payload == payload);
}

#[tokio::test]
async fn an_oversized_record_fails_the_whole_append_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let key = key_for(0, PARTITIONS);
    let small = record(&first_topic(), &key, b"fine");
    let huge = record(&first_topic(), &key, &vec![7; MAX_RECORD_BYTES]);

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
async fn reopening_with_another_partition_count_is_a_layout_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));

    let error =
        EmbeddedLog::open(dir.path(), LogLayout::new("test", PARTITIONS * 2, TOPICS)).unwrap_err();
    assert!(matches!(error, LogError::LayoutMismatch(_)), "{error:?}");
    let error =
        EmbeddedLog::open(dir.path(), LogLayout::new("other", PARTITIONS, TOPICS)).unwrap_err();
    assert!(matches!(error, LogError::LayoutMismatch(_)), "{error:?}");
    // The stored layout still opens.
    assert!(EmbeddedLog::open(dir.path(), layout()).is_ok());
}

#[test]
fn invalid_layouts_are_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    for layout in [
        LogLayout::new("test", 0, TOPICS),
        LogLayout::new("", 4, TOPICS),
        LogLayout::new("../escape", 4, TOPICS),
        LogLayout::new("with space", 4, TOPICS),
        LogLayout::new("test", 4, ["first", "../escape"]),
        LogLayout::new("test", 4, ["first", ""]),
        LogLayout::new("test", 4, ["first", "first"]),
        LogLayout::new("test", 4, ["first", "dead-letters"]),
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
        .append(vec![record(&first_topic(), &key, b"via clone")])
        .await
        .unwrap();
    assert_eq!(read_partition(&log, &first_topic(), 0).await.len(), 1);
    assert_eq!(log.layout(), &layout());
    assert_eq!(clone.dir(), dir.path());
}
