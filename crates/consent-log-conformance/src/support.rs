//! The factory the checks take, and what they share.

use consent_log::partitioner::partition_for;
use consent_log::{AppendRecord, EventLog, LogLayout, LogReader, LogRecord, StartOffsets};
use std::sync::Arc;
use std::time::Duration;

/// Partitions per topic in every check's layout.
pub const SUITE_PARTITIONS: u32 = 4;

/// Opens fresh logs for the checks.
#[async_trait::async_trait]
pub trait LogFactory: Send + Sync {
    /// A new, empty log with `layout`'s partition count and topic suffixes.
    ///
    /// The factory may give it another topic prefix, so that several logs
    /// share one broker; the checks read the layout back from
    /// [`EventLog::layout`]. Panics when the log cannot be opened.
    async fn fresh(&self, layout: LogLayout) -> Arc<dyn EventLog>;
}

/// The layout every check asks for: three topics of [`SUITE_PARTITIONS`]
/// partitions (and the dead-letter topic), and one derived topic (as the
/// ledger's opt-out feed is).
pub fn suite_layout() -> LogLayout {
    LogLayout::new(
        "conformance",
        SUITE_PARTITIONS,
        ["first", "second", "third"],
    )
    .with_derived(["derived"])
}

/// A record of `topic` with `key`, `payload` and a header.
pub fn record(topic: &str, key: &[u8], payload: &[u8]) -> AppendRecord {
    AppendRecord {
        topic: topic.to_owned(),
        key: key.to_vec(),
        payload: payload.to_vec(),
        headers: vec![("kind".to_owned(), b"conformance".to_vec())],
    }
}

/// A key that the partitioner sends to `partition` of `partitions`.
pub fn key_for(partition: u32, partitions: u32) -> Vec<u8> {
    (0u32..)
        .map(|i| format!("org-1|subject-{i}").into_bytes())
        .find(|key| partition_for(key, partitions) == partition)
        .expect("some key lands on every partition")
}

/// How long one read of the checks waits for records.
pub(crate) const POLL: Duration = Duration::from_millis(500);

/// Empty batches in a row after which a read gives up waiting for more:
/// with [`POLL`], 20 s without a record.
const PATIENCE: usize = 40;

/// Reads from `reader` until `count` records arrived (or [`PATIENCE`]
/// empty batches in a row), then makes sure no more come.
pub(crate) async fn read_exactly(reader: &mut dyn LogReader, count: usize) -> Vec<LogRecord> {
    let mut records = Vec::new();
    let mut empty = 0;
    while records.len() < count && empty < PATIENCE {
        let batch = reader.next_batch(100, POLL).await.expect("read a batch");
        if batch.is_empty() {
            empty += 1;
        } else {
            empty = 0;
        }
        records.extend(batch);
    }
    assert_eq!(
        records.len(),
        count,
        "records read back (positions {:?})",
        records.iter().map(|r| &r.position).collect::<Vec<_>>()
    );
    let more = reader
        .next_batch(100, Duration::from_millis(100))
        .await
        .expect("read past the end");
    assert!(
        more.is_empty(),
        "no records beyond the {count} appended, got {:?}",
        more.iter().map(|r| &r.position).collect::<Vec<_>>()
    );
    records
}

/// Every record of `start`, expecting `count` of them.
pub(crate) async fn read_from(
    log: &dyn EventLog,
    start: StartOffsets,
    count: usize,
) -> Vec<LogRecord> {
    let mut reader = log.reader(start).await.expect("open a reader");
    read_exactly(reader.as_mut(), count).await
}
