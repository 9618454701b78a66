//! The ledger's event log.
//!
//! The log is the system of record: every fact the ledger knows is a record
//! in it, and every view (the sled projection, replays, evidence exports) is
//! derived from it. This crate owns:
//!
//! * the [`EventLog`] trait that every log implementation provides (the
//!   embedded file log in `consent-log-embedded`, Kafka in `consent-kafka`;
//!   `consent-log-conformance` holds the behaviour both must show);
//! * the topic / partition / offset model ([`TopicPartition`], [`LogPosition`],
//!   [`LogLayout`]) shared by all implementations, so that positions returned
//!   by one are meaningful to the projector and to evidence exports;
//! * the [`partitioner`], which decides the partition of a key the same way
//!   for every implementation.
//!
//! Invariant: this crate knows nothing of events, consent or rules. It moves
//! opaque bytes with a key and headers, and never re-encodes them. It holds
//! no engine: no runtime, no files, no network, so the pure crates that
//! speak of positions link nothing of one.

mod error;
mod fault;
mod layout;
pub mod partitioner;
mod position;
mod record;

pub use error::LogError;
pub use fault::LogFault;
pub use layout::LogLayout;
pub use position::{LogPosition, TopicPartition};
pub use record::{AppendRecord, LogRecord};

use std::collections::BTreeMap;
use std::time::Duration;

/// Offsets to read from, per topic-partition: the offset of the next record
/// to read (so `0` means "from the beginning").
pub type StartOffsets = BTreeMap<TopicPartition, u64>;

/// Log end offsets per topic-partition: the offset the next appended record
/// will get (Kafka's high watermark).
pub type EndOffsets = BTreeMap<TopicPartition, u64>;

/// An append-only, partitioned, durable log.
///
/// Implementations must guarantee:
/// * an `append` returns `Ok` only once every record in it is durable
///   (fsynced, or acknowledged by all in-sync replicas);
/// * records with the same key go to the same partition of a topic (the
///   [`partitioner`] decides), and keep their append order there;
/// * the stored bytes of a record are returned unchanged by readers.
#[async_trait::async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// The topics and partition count this log was opened with.
    fn layout(&self) -> &LogLayout;

    /// Appends the records and returns their positions, in the same order.
    ///
    /// Records are routed by [`partitioner::partition_for`] over the record
    /// key. Not atomic across partitions: on error some of the records (per
    /// partition, a prefix of that partition's records in call order) may
    /// have been stored but none is acknowledged. Callers make retries
    /// safe by giving every event a unique id (the fold counts an id once).
    async fn append(&self, records: Vec<AppendRecord>) -> Result<Vec<LogPosition>, LogError>;

    /// Opens a reader positioned at `start` (topic-partitions absent from
    /// `start` are not read).
    async fn reader(&self, start: StartOffsets) -> Result<Box<dyn LogReader>, LogError>;

    /// The current end offset of every topic-partition in the layout.
    async fn end_offsets(&self) -> Result<EndOffsets, LogError>;

    /// The topic-partitions whose appends fail now, as far as the log
    /// knows without asking anything (it must not block): a health check
    /// reports them. A log that keeps no such state (Kafka, whose producer
    /// retries by itself) reports none.
    fn faults(&self) -> Vec<LogFault> {
        Vec::new()
    }
}

/// Reads records from a set of topic-partitions, in offset order within each
/// partition (no order is promised across partitions).
#[async_trait::async_trait]
pub trait LogReader: Send {
    /// Returns up to `max_records` records. Waits up to `wait` when nothing
    /// is available yet, then returns an empty batch.
    async fn next_batch(
        &mut self,
        max_records: usize,
        wait: Duration,
    ) -> Result<Vec<LogRecord>, LogError>;
}
