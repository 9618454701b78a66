//! Helpers shared by the embedded log tests.
#![allow(dead_code)] // each test binary uses a different subset

use consent_log::partitioner::partition_for;
use consent_log::{AppendRecord, EventLog, LogLayout, LogRecord, TopicPartition};
use consent_log_embedded::EmbeddedLog;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const PARTITIONS: u32 = 4;

/// The topics of [`layout`] after its prefix.
pub const TOPICS: [&str; 3] = ["first", "second", "third"];

pub fn layout() -> LogLayout {
    LogLayout::new("test", PARTITIONS, TOPICS)
}

/// The first topic of [`layout`]: `test.first`.
pub fn first_topic() -> String {
    layout().topic(TOPICS[0])
}

pub fn open(dir: &Path) -> EmbeddedLog {
    EmbeddedLog::open(dir, layout()).expect("open the embedded log")
}

pub fn record(topic: &str, key: &[u8], payload: &[u8]) -> AppendRecord {
    AppendRecord {
        topic: topic.to_owned(),
        key: key.to_vec(),
        payload: payload.to_vec(),
        headers: vec![("event-type".to_owned(), b"test".to_vec())],
    }
}

/// A key that the partitioner sends to `partition`.
pub fn key_for(partition: u32, partitions: u32) -> Vec<u8> {
    (0u32..)
        .map(|i| format!("org-1/subject-{i}").into_bytes())
        .find(|key| partition_for(key, partitions) == partition)
        .expect("some key lands on every partition")
}

/// The file of one partition, as documented on `EmbeddedLog`.
pub fn partition_file(dir: &Path, topic: &str, partition: u32) -> PathBuf {
    dir.join("partitions")
        .join(format!("{topic}-{partition}.log"))
}

/// Every record of `partitions` from offset 0, in the reader's order.
pub async fn read_from(
    log: &EmbeddedLog,
    partitions: impl IntoIterator<Item = (TopicPartition, u64)>,
) -> Vec<LogRecord> {
    let mut reader = log
        .reader(partitions.into_iter().collect())
        .await
        .expect("reader");
    let mut all = Vec::new();
    loop {
        let batch = reader
            .next_batch(100, Duration::ZERO)
            .await
            .expect("next batch");
        if batch.is_empty() {
            return all;
        }
        all.extend(batch);
    }
}

/// Every record of one topic-partition from offset 0.
pub async fn read_partition(log: &EmbeddedLog, topic: &str, partition: u32) -> Vec<LogRecord> {
    read_from(log, [(TopicPartition::new(topic, partition), 0)]).await
}
