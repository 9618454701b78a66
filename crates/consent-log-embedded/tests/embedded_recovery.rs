//! Crash recovery: torn last writes are truncated, damaged older data is
//! reported, never silently dropped.

mod common;

use common::*;
use consent_log::{EventLog, LogError, LogPosition};
use consent_log_embedded::EmbeddedLog;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

const PARTITION: u32 = 1;

/// Appends `payloads` to one partition, one append each, and returns the
/// partition file and the file length after each append.
async fn write_records(dir: &Path, appends: &[&[&[u8]]]) -> (PathBuf, Vec<u64>) {
    let log = open(dir);
    let key = key_for(PARTITION, PARTITIONS);
    let file = partition_file(dir, &first_topic(), PARTITION);
    let mut lengths = Vec::new();
    for payloads in appends {
        let batch = payloads
            .iter()
            .map(|p| record(&first_topic(), &key, p))
            .collect();
        log.append(batch).await.unwrap();
        lengths.push(fs::metadata(&file).unwrap().len());
    }
    (file, lengths)
}

fn append_bytes(file: &Path, bytes: &[u8]) {
    let mut file = OpenOptions::new().append(true).open(file).unwrap();
    file.write_all(bytes).unwrap();
}

fn payloads(records: &[consent_log::LogRecord]) -> Vec<Vec<u8>> {
    records.iter().map(|r| r.payload.clone()).collect()
}

#[tokio::test]
async fn a_partial_record_at_the_end_is_truncated_and_appends_continue() {
    let dir = tempfile::tempdir().unwrap();
    let (file, lengths) = write_records(dir.path(), &[&[b"one"], &[b"two"], &[b"three"]]).await;
    // A frame header announcing 60 bytes, then only some of them.
    append_bytes(&file, &[60, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 0, 0]);

    let log = open(dir.path());

    assert_eq!(fs::metadata(&file).unwrap().len(), lengths[2]);
    let read = read_partition(&log, &first_topic(), PARTITION).await;
    assert_eq!(
        payloads(&read),
        vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
    );
    let key = key_for(PARTITION, PARTITIONS);
    let positions = log
        .append(vec![record(&first_topic(), &key, b"four")])
        .await
        .unwrap();
    assert_eq!(
        positions,
        vec![LogPosition::new(first_topic(), PARTITION, 3)]
    );
    drop(log);
    let log = open(dir.path());
    assert_eq!(
        read_partition(&log, &first_topic(), PARTITION).await.len(),
        4
    );
}

#[tokio::test]
async fn garbage_and_zeros_at_the_end_are_truncated() {
    for tail in [
        vec![0u8; 4096],
        (0..=255u8).cycle().take(3000).collect(),
        vec![0xff; 7],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (file, lengths) = write_records(dir.path(), &[&[b"one"], &[b"two"]]).await;
        append_bytes(&file, &tail);

        let log = open(dir.path());

        assert_eq!(fs::metadata(&file).unwrap().len(), lengths[1]);
        let read = read_partition(&log, &first_topic(), PARTITION).await;
        assert_eq!(payloads(&read), vec![b"one".to_vec(), b"two".to_vec()]);
    }
}

#[tokio::test]
async fn a_last_append_cut_anywhere_loses_only_that_append() {
    let dir = tempfile::tempdir().unwrap();
    let (file, lengths) = write_records(
        dir.path(),
        &[
            &[b"kept-1"],
            &[b"kept-2"],
            &[b"torn-1", b"torn-2", b"torn-3"],
        ],
    )
    .await;
    let intact = fs::read(&file).unwrap();
    let kept_len = usize::try_from(lengths[1]).unwrap();

    for cut in kept_len..intact.len() {
        fs::write(&file, &intact[..cut]).unwrap();
        let log = open(dir.path());
        let read = read_partition(&log, &first_topic(), PARTITION).await;
        let expected = read.len();
        assert!(
            (2..=4).contains(&expected),
            "cut at {cut}: {} records",
            read.len()
        );
        assert_eq!(
            payloads(&read)[..2],
            [b"kept-1".to_vec(), b"kept-2".to_vec()]
        );
    }
}

#[tokio::test]
async fn a_torn_append_with_a_missing_first_page_is_truncated_whole() {
    // Pages of one write can reach the disk out of order: the first record
    // of the last append is zeros while its later records are intact.
    let dir = tempfile::tempdir().unwrap();
    let (file, lengths) = write_records(
        dir.path(),
        &[
            &[b"kept-1"],
            &[b"kept-2"],
            &[b"torn-1", b"torn-2", b"torn-3"],
        ],
    )
    .await;
    let mut bytes = fs::read(&file).unwrap();
    let torn_start = usize::try_from(lengths[1]).unwrap();
    bytes[torn_start..torn_start + 20].fill(0);
    fs::write(&file, &bytes).unwrap();

    let log = open(dir.path());

    assert_eq!(fs::metadata(&file).unwrap().len(), lengths[1]);
    let read = read_partition(&log, &first_topic(), PARTITION).await;
    assert_eq!(
        payloads(&read),
        vec![b"kept-1".to_vec(), b"kept-2".to_vec()]
    );
}

#[tokio::test]
async fn a_damaged_record_followed_by_later_appends_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let (file, lengths) =
        write_records(dir.path(), &[&[b"one"], &[b"two"], &[b"three"], &[b"four"]]).await;
    let mut bytes = fs::read(&file).unwrap();
    // Flip a bit in the payload of the second record.
    let second_end = usize::try_from(lengths[1]).unwrap();
    bytes[second_end - 1] ^= 0x01;
    fs::write(&file, &bytes).unwrap();

    let error = EmbeddedLog::open(dir.path(), layout()).unwrap_err();

    assert!(
        matches!(&error, LogError::Corrupt { path, .. } if path.ends_with(&format!("{}-{PARTITION}.log", first_topic()))),
        "{error:?}"
    );
    // Nothing was truncated.
    assert_eq!(fs::read(&file).unwrap(), bytes);
}

#[tokio::test]
async fn damage_inside_an_earlier_multi_record_append_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let (file, lengths) = write_records(
        dir.path(),
        &[&[b"one"], &[b"two-a", b"two-b", b"two-c"], &[b"three"]],
    )
    .await;
    let mut bytes = fs::read(&file).unwrap();
    // Zero the start of the first record of the middle append: its other
    // records are intact, and so is the later append.
    let middle_start = usize::try_from(lengths[0]).unwrap();
    bytes[middle_start..middle_start + 12].fill(0);
    fs::write(&file, &bytes).unwrap();

    let error = EmbeddedLog::open(dir.path(), layout()).unwrap_err();

    assert!(matches!(error, LogError::Corrupt { .. }), "{error:?}");
    assert_eq!(fs::read(&file).unwrap(), bytes);
}

#[tokio::test]
async fn a_damaged_length_in_the_middle_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let (file, lengths) = write_records(dir.path(), &[&[b"one"], &[b"two"], &[b"three"]]).await;
    let mut bytes = fs::read(&file).unwrap();
    let second_start = usize::try_from(lengths[0]).unwrap();
    bytes[second_start..second_start + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    fs::write(&file, &bytes).unwrap();

    let error = EmbeddedLog::open(dir.path(), layout()).unwrap_err();

    assert!(matches!(error, LogError::Corrupt { .. }), "{error:?}");
}

#[tokio::test]
async fn damage_found_by_a_reader_after_open_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let key = key_for(PARTITION, PARTITIONS);
    log.append(vec![record(&first_topic(), &key, b"one")])
        .await
        .unwrap();
    let file = partition_file(dir.path(), &first_topic(), PARTITION);
    let mut bytes = fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x80;
    fs::write(&file, &bytes).unwrap();

    let start = [(
        consent_log::TopicPartition::new(first_topic(), PARTITION),
        0,
    )]
    .into_iter()
    .collect();
    let mut reader = log.reader(start).await.unwrap();
    let error = reader
        .next_batch(10, std::time::Duration::ZERO)
        .await
        .unwrap_err();

    assert!(matches!(error, LogError::Corrupt { .. }), "{error:?}");
}
