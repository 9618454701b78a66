//! The embedded log: a durable, append-only, partitioned file log in the
//! data directory, used when no Kafka is configured. It implements
//! `consent_log`'s [`EventLog`] and passes the same conformance suite as
//! the Kafka log (`consent-log-conformance`, run by `tests/conformance.rs`).
//!
//! Invariant: like every `EventLog`, it knows nothing of consent; it moves
//! opaque bytes and acknowledges an append only once it is fsynced.

mod directory;
mod frame;
mod index;
mod partition;
mod reader;
mod recovery;
mod window;

pub use directory::MAX_PARTITIONS;
pub use frame::MAX_RECORD_BYTES;

use consent_log::partitioner::partition_for;
use consent_log::AppendRecord;
use consent_log::LogError;
use consent_log::LogLayout;
use consent_log::{EndOffsets, EventLog, LogFault, LogReader, StartOffsets};
use consent_log::{LogPosition, TopicPartition};
use directory::DataDir;
use partition::Partition;
use reader::{Cursor, EmbeddedReader};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// A durable partitioned log kept in files of one directory, with Kafka's
/// topic / partition / offset model.
///
/// # Directory
///
/// ```text
/// {dir}/LOCK                               exclusive lock while open
/// {dir}/layout.json                        topic prefix and partition count
/// {dir}/partitions/{topic}-{partition}.log one append-only file per partition
/// ```
///
/// Every topic of the [`LogLayout`] and its dead-letter topic
/// get `layout.partitions` files on first open. A later open with another
/// partition count or topic prefix fails with [`LogError::LayoutMismatch`];
/// a second open of a directory that is open (in any process) fails with
/// [`LogError::Unavailable`].
///
/// # File format
///
/// A partition file is a sequence of frames, one per record, with dense
/// offsets from 0 and no file header:
///
/// ```text
/// body_len: u32 LE | crc32(body): u32 LE | body
/// body := version: u8 (1) | offset: u64 | write_last_offset: u64 | timestamp_ms: i64
///         | key_len: u32 | key | header_count: u32
///         | header_count × (name_len: u32 | name | value_len: u32 | value)
///         | payload_len: u32 | payload                         (integers LE)
/// ```
///
/// The write offsets are those of the first and last record of the same
/// append, so recovery can tell a torn last append from damaged older data.
/// The CRC-32 covers the whole body. A frame
/// is at most [`MAX_RECORD_BYTES`]; bigger records are refused with
/// [`LogError::RecordTooLarge`] before anything is written. Payload, key and
/// headers are stored and returned byte for byte.
///
/// # Durability
///
/// [`EventLog::append`] groups its records by partition and, per partition,
/// writes them with one `write` and one `fsync` (`File::sync_data`) under
/// that partition's writer lock; it returns `Ok` only after every partition
/// it wrote to was fsynced. Readers see a record only once it is durable. A
/// failed write or fsync is rolled back (the file is cut to its last durable
/// length); if even that fails, the partition refuses appends until reopened.
///
/// On open, every partition file is scanned and its CRCs checked. A torn
/// last append (a crash between `write` and the end of `fsync`) is truncated
/// with a warning naming the file and the bytes dropped; a damaged record
/// followed by records of a later append is [`LogError::Corrupt`]. A sparse
/// in-memory index (an entry per 4 KiB) built by the scan lets readers start
/// at any offset without reading the file from its start. Its memory is
/// bounded by [`EmbeddedLogConfig::index_memory_bytes`], shared by every
/// partition file: a partition whose index is full drops every other entry
/// and indexes half as often, so reads walk further but memory stays put.
///
/// # Faults
///
/// A partition whose last append failed reports it through
/// [`EventLog::faults`] until an append there succeeds; one whose failed
/// append could not be rolled back is reported `fenced`: it refuses
/// appends until the log is reopened (a restart recovers it).
///
/// `open` blocks while it scans; append and read do their file IO on
/// tokio's blocking pool. The handle is cheap to clone and shared: all
/// clones are one log.
#[derive(Clone)]
pub struct EmbeddedLog {
    inner: Arc<Inner>,
}

struct Inner {
    dir: DataDir,
    layout: LogLayout,
    /// The layout's topics in [`LogLayout::topics`] order, then
    /// the dead-letter topic.
    topics: Vec<Topic>,
    /// Bumped after every committed append; readers wait on it.
    appended: watch::Sender<u64>,
}

struct Topic {
    name: String,
    partitions: Vec<Arc<Partition>>,
}

/// How the embedded log uses memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmbeddedLogConfig {
    /// Bytes the sparse offset indexes of all partition files may take
    /// together (16 bytes an entry).
    pub index_memory_bytes: usize,
}

impl EmbeddedLogConfig {
    /// 16 MiB: an entry per 4 KiB of log up to 4 GiB of log, sparser after.
    pub const DEFAULT_INDEX_MEMORY_BYTES: usize = 16 << 20;
}

impl Default for EmbeddedLogConfig {
    fn default() -> Self {
        Self {
            index_memory_bytes: Self::DEFAULT_INDEX_MEMORY_BYTES,
        }
    }
}

impl EmbeddedLog {
    /// Opens the log in `dir`, creating the directory, the stored layout and
    /// the partition files on first open, and recovering every partition
    /// (see the type's documentation). Blocks on file IO: from async code,
    /// call it inside `tokio::task::spawn_blocking`, or before serving.
    pub fn open(dir: &Path, layout: LogLayout) -> Result<Self, LogError> {
        Self::open_with(dir, layout, EmbeddedLogConfig::default())
    }

    /// [`EmbeddedLog::open`] with the given memory settings.
    pub fn open_with(
        dir: &Path,
        layout: LogLayout,
        config: EmbeddedLogConfig,
    ) -> Result<Self, LogError> {
        let dir = DataDir::open(dir, &layout)?;
        let topic_names: Vec<String> = layout
            .topics()
            .into_iter()
            .chain(layout.side_topics())
            .collect();
        let files = topic_names
            .len()
            .saturating_mul(usize::try_from(layout.partitions).unwrap_or(usize::MAX))
            .max(1);
        let max_index_entries = config.index_memory_bytes / index::ENTRY_BYTES / files;
        let mut topics = Vec::new();
        let mut created_files = false;
        for name in topic_names {
            let mut partitions = Vec::new();
            for number in 0..layout.partitions {
                let topic_partition = TopicPartition::new(name.clone(), number);
                let path = dir.partition_path(&topic_partition);
                let (partition, created) =
                    Partition::open(path, topic_partition, max_index_entries)?;
                created_files |= created;
                partitions.push(Arc::new(partition));
            }
            topics.push(Topic { name, partitions });
        }
        if created_files {
            dir.sync_partitions_dir()?;
        }
        let records: u64 = topics
            .iter()
            .flat_map(|t| &t.partitions)
            .map(|p| p.end().next_offset)
            .sum();
        tracing::info!(
            dir = %dir.root().display(),
            topic_prefix = %layout.topic_prefix,
            partitions = layout.partitions,
            records,
            "opened the embedded log"
        );
        let (appended, _) = watch::channel(0);
        Ok(Self {
            inner: Arc::new(Inner {
                dir,
                layout,
                topics,
                appended,
            }),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        self.inner.dir.root()
    }

    fn topic(&self, name: &str) -> Result<&Topic, LogError> {
        self.inner
            .topics
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| LogError::UnknownTopic(name.to_owned()))
    }

    fn partition(&self, topic_partition: &TopicPartition) -> Result<&Arc<Partition>, LogError> {
        let topic = self.topic(&topic_partition.topic)?;
        usize::try_from(topic_partition.partition)
            .ok()
            .and_then(|i| topic.partitions.get(i))
            .ok_or_else(|| LogError::UnknownPartition(topic_partition.clone()))
    }
}

impl fmt::Debug for EmbeddedLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedLog")
            .field("dir", &self.inner.dir.root())
            .field("layout", &self.inner.layout)
            .finish_non_exhaustive()
    }
}

/// The records of one append call that go to one partition.
struct PartitionWrite {
    partition: Arc<Partition>,
    /// Indices of the records in the call, in call order.
    indices: Vec<usize>,
}

#[async_trait::async_trait]
impl EventLog for EmbeddedLog {
    fn layout(&self) -> &LogLayout {
        &self.inner.layout
    }

    async fn append(&self, records: Vec<AppendRecord>) -> Result<Vec<LogPosition>, LogError> {
        // Check every record before writing any.
        let mut writes: BTreeMap<TopicPartition, PartitionWrite> = BTreeMap::new();
        for (i, record) in records.iter().enumerate() {
            let topic = self.topic(&record.topic)?;
            let size = frame::encoded_len(record);
            if size > MAX_RECORD_BYTES {
                return Err(LogError::RecordTooLarge {
                    size,
                    limit: MAX_RECORD_BYTES,
                });
            }
            let number = partition_for(&record.key, self.inner.layout.partitions);
            let topic_partition = TopicPartition::new(topic.name.clone(), number);
            let partition = Arc::clone(self.partition(&topic_partition)?);
            writes
                .entry(topic_partition)
                .or_insert_with(|| PartitionWrite {
                    partition,
                    indices: Vec::new(),
                })
                .indices
                .push(i);
        }

        let timestamp_ms = now_ms();
        let mut records: Vec<Option<AppendRecord>> = records.into_iter().map(Some).collect();
        let mut tasks = Vec::with_capacity(writes.len());
        for (topic_partition, write) in writes {
            let batch: Vec<AppendRecord> = write
                .indices
                .iter()
                .filter_map(|&i| records.get_mut(i)?.take())
                .collect();
            let inner = Arc::clone(&self.inner);
            let partition = write.partition;
            // Spawned tasks run (and commit) even if this future is dropped;
            // readers are signalled from the task for that reason.
            let task = tokio::task::spawn_blocking(move || {
                let base_offset = partition.append(&batch, timestamp_ms)?;
                inner
                    .appended
                    .send_modify(|generation| *generation = generation.wrapping_add(1));
                Ok::<_, LogError>(base_offset)
            });
            tasks.push((topic_partition, write.indices, task));
        }

        let mut positions: Vec<Option<LogPosition>> = vec![None; records.len()];
        let mut first_error = None;
        for (topic_partition, indices, task) in tasks {
            let outcome = task
                .await
                .map_err(|e| LogError::Backend(format!("log append task failed: {e}")))
                .and_then(|stored| stored);
            match outcome {
                Ok(base_offset) => {
                    for (offset, i) in (base_offset..).zip(indices) {
                        if let Some(slot) = positions.get_mut(i) {
                            *slot = Some(LogPosition::new(
                                topic_partition.topic.clone(),
                                topic_partition.partition,
                                offset,
                            ));
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, partition = %topic_partition, "log append failed");
                    first_error.get_or_insert(error);
                }
            }
        }
        if let Some(error) = first_error {
            return Err(error);
        }
        positions
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                LogError::Backend("a record of the append was not given a position".to_owned())
            })
    }

    async fn reader(&self, start: StartOffsets) -> Result<Box<dyn LogReader>, LogError> {
        let mut partitions = Vec::with_capacity(start.len());
        for (topic_partition, offset) in start {
            let partition = self.partition(&topic_partition)?;
            let end = partition.end().next_offset;
            if offset > end {
                return Err(LogError::OffsetOutOfRange {
                    partition: topic_partition,
                    offset,
                    end,
                });
            }
            let cursor = Cursor::new(offset, partition.seek_hint(offset));
            partitions.push((Arc::clone(partition), cursor));
        }
        let appended = self.inner.appended.subscribe();
        Ok(Box::new(EmbeddedReader::new(
            self.clone(),
            appended,
            partitions,
        )))
    }

    async fn end_offsets(&self) -> Result<EndOffsets, LogError> {
        let mut ends = EndOffsets::new();
        for topic_partition in self.inner.layout.topic_partitions() {
            let end = self.partition(&topic_partition)?.end().next_offset;
            ends.insert(topic_partition, end);
        }
        Ok(ends)
    }

    fn faults(&self) -> Vec<LogFault> {
        self.inner
            .topics
            .iter()
            .flat_map(|topic| &topic.partitions)
            .filter_map(|partition| partition.fault())
            .collect()
    }
}

/// Milliseconds since the Unix epoch (negative before it, saturating).
fn now_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}
