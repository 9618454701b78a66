//! Runs a replay ([`consent_replay`]) over an [`EventLog`] in bounded
//! memory, on several threads, over the subject partitions this instance
//! owns.
//!
//! 1. **Reference pass.** The whole reference topic is read (every
//!    instance reads all of it). Its organisation-keyed records are decoded
//!    and folded into [`ReferenceStates`]: every organisation's facts,
//!    which stay in memory for the whole replay. Its facts about an
//!    address (opt-outs and objections received for an address, TPS/CTPS
//!    listings and screenings, call preferences) are grouped by
//!    (organisation, address) with an [`sort::ExternalSort`] and folded one
//!    address at a time into an [`address_table::AddressTable`] on disk,
//!    of which only a sparse index (a key per 32 addresses) stays in memory. Its
//!    subject-keyed records (contact points, subscriber types...) and the
//!    subject part of an address fact that names a subject are written,
//!    undecoded, to one temporary file per owned subject partition.
//! 2. **Subject pass.** The owned partitions are shared out over worker
//!    threads. A worker reads its partition of every other topic, adds the
//!    reference records set aside for it, and groups them by (organisation,
//!    subject) with an [`sort::ExternalSort`] (runs of at most
//!    `run_bytes`, spilled to unnamed temporary files, merged k-way). Then
//!    it replays one subject at a time ([`SubjectReplayer`]): fold, decide
//!    its questions (reading the address states it consults from the
//!    table), record, drop. Memory is the organisations' states, the
//!    address index, and about `run_bytes` per worker, whatever the log's
//!    length.
//! 3. The workers' partial reports and the reference part make the report;
//!    every changed decision has been appended, as one JSON object per
//!    line, to the changes file.
//!
//! A record is routed by its key (`consent_schema::record_key`), so the
//! organisation filter is applied to the key before a record is decoded.
//! Blocking: call [`run`] from a blocking thread (`spawn_blocking`) of a
//! multi-thread Tokio runtime, whose handle it is given to read the log.

pub mod address_table;
pub mod sort;

use address_table::{AddressTable, AddressTableWriter};
use consent_domain::rules::RuleCatalogue;
use consent_domain::EventPosition;
use consent_log::{EndOffsets, EventLog, LogError, StartOffsets, TopicPartition};
use consent_replay::{
    ChangedDecision, PartitionCoverage, ReferencePart, ReferenceStates, ReplayContext, ReplayError,
    ReplayPlan, ReplayReport,
};
use consent_schema::EventFamily;
use sort::{ExternalSort, SortRecord};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Records asked for per read.
const BATCH: usize = 2_000;
/// How long one read waits when nothing is available.
const READ_WAIT: Duration = Duration::from_millis(500);
/// Give up on partitions that deliver nothing for this long before their
/// end offset (a Kafka partition whose last offsets are gaps).
const STALL_LIMIT: Duration = Duration::from_secs(30);

/// Memory for one worker's sort run unless told otherwise: 8 MiB. Larger
/// runs sort no faster (the merge reads every run once either way) and
/// make the replay's memory depend on how much of a run a partition fills.
pub const DEFAULT_RUN_BYTES: usize = 8 * 1024 * 1024;

/// What to replay and how.
#[derive(Clone, Debug)]
pub struct RunnerConfig {
    pub plan: ReplayPlan,
    pub catalogue: RuleCatalogue,
    /// The subject partitions this instance owns; `None`: all of them (and
    /// the report names no partitions).
    pub partitions: Option<BTreeSet<u32>>,
    /// Worker threads (at least one).
    pub threads: usize,
    /// Bytes of records one worker sorts in memory before spilling a run.
    pub run_bytes: usize,
    /// Where the runs and the set-aside reference records go (unnamed
    /// files); `None`: the system's temporary directory.
    pub spill_dir: Option<PathBuf>,
    /// Append every changed decision here, one JSON object per line.
    pub changes: Option<PathBuf>,
}

impl RunnerConfig {
    /// Every partition, one worker per available core, default run size,
    /// no changes file.
    pub fn new(plan: ReplayPlan, catalogue: RuleCatalogue) -> Self {
        Self {
            plan,
            catalogue,
            partitions: None,
            threads: default_threads(),
            run_bytes: DEFAULT_RUN_BYTES,
            spill_dir: None,
            changes: None,
        }
    }
}

/// The number of cores available to this process (1 if unknown).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// What the replay read and wrote besides the report.
#[derive(Debug)]
pub struct RunOutcome {
    pub report: ReplayReport,
    /// Records read from the log (both passes).
    pub records_read: u64,
    /// Lines written to the changes file.
    pub changes_written: u64,
    /// Bytes written to temporary files (sort runs and set-aside records).
    pub spilled_bytes: u64,
    /// The end offsets the replay read up to.
    pub end_offsets: EndOffsets,
}

/// Told how the replay goes (a terminal's progress bar; nothing in tests).
pub trait Progress: Sync {
    /// `total` records will be read (both passes).
    fn start(&self, _total: u64) {}
    /// `records` more records were read.
    fn read(&self, _records: u64) {}
    /// A phase began (`reference`, `subjects`).
    fn phase(&self, _what: &str) {}
}

/// Reports nothing.
pub struct Silent;
impl Progress for Silent {}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Plan(#[from] ReplayError),
    #[error("--partitions names partition {partition}, but the log has {count} (0 to {last})", last = .count.saturating_sub(1))]
    NoSuchPartition { partition: u32, count: u32 },
    #[error("reading the log: {0}")]
    Log(#[from] LogError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("a replay worker failed: {0}")]
    Worker(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RunError {
    let what = what.into();
    move |source| RunError::Io { what, source }
}

/// Replays the log under `config`. Blocking (see the crate docs).
pub fn run(
    runtime: &tokio::runtime::Handle,
    log: Arc<dyn EventLog>,
    config: RunnerConfig,
    progress: &dyn Progress,
) -> Result<RunOutcome, RunError> {
    let layout = log.layout().clone();
    let partition_count = layout.partitions;
    let owned: BTreeSet<u32> = match &config.partitions {
        Some(partitions) => {
            if let Some(&partition) = partitions.iter().find(|&&p| p >= partition_count) {
                return Err(RunError::NoSuchPartition {
                    partition,
                    count: partition_count,
                });
            }
            partitions.clone()
        }
        None => (0..partition_count).collect(),
    };
    let topics = layout.topics();
    let reference_topic = EventFamily::Reference.topic(&layout);
    let reference_index = topic_index(&topics, &reference_topic);
    let ends: EndOffsets = runtime.block_on(log.end_offsets())?;
    let total: u64 = ends
        .iter()
        .filter(|(tp, _)| tp.topic == reference_topic || owned.contains(&tp.partition))
        .map(|(_, end)| *end)
        .sum();
    progress.start(total);
    let spill_dir = config.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
    let filter: BTreeSet<Vec<u8>> = config
        .plan
        .organisations
        .iter()
        .map(|o| o.as_str().as_bytes().to_vec())
        .collect();
    let wanted = |key: &[u8]| filter.is_empty() || filter.contains(organisation_of_key(key));

    // Pass 1: the reference topic.
    progress.phase("reference");
    let mut reference = ReferenceStates::new(&config.plan);
    let mut set_aside: BTreeMap<u32, BufWriter<File>> = BTreeMap::new();
    for &partition in &owned {
        let file = tempfile::tempfile_in(&spill_dir).map_err(io(format!(
            "creating a temporary file in {}",
            spill_dir.display()
        )))?;
        set_aside.insert(partition, BufWriter::new(file));
    }
    let mut spilled_bytes = 0u64;
    let mut address_sort = ExternalSort::new(&spill_dir, config.run_bytes);
    let reference_partitions: Vec<TopicPartition> = (0..partition_count)
        .map(|p| TopicPartition::new(reference_topic.clone(), p))
        .collect();
    let mut records_read = read_until_ends(
        runtime,
        &log,
        &ends,
        &reference_partitions,
        progress,
        |mut record| {
            if consent_schema::is_ledger_record_key(&record.key) || !wanted(&record.key) {
                return Ok(());
            }
            let read_from = record.position.partition;
            let counted = owned.contains(&read_from);
            let position = consent_schema::event_position(&record.position);
            let subject_partition = if consent_schema::is_organisation_key(&record.key) {
                match decode(&record.payload) {
                    Ok(event) => {
                        let key = consent_schema::routing_key(
                            &event.organisation,
                            event.subject.as_ref(),
                        );
                        let address = event.fact.address().map(|address| {
                            address_table::address_key(&event.organisation, address)
                        });
                        let subject = match reference.apply(event, Some(position), counted) {
                            ReferencePart::Folded | ReferencePart::Filtered => return Ok(()),
                            ReferencePart::Subject => true,
                            ReferencePart::Address { subject } => {
                                // Its subject's partition needs the bytes too.
                                let payload = if subject {
                                    record.payload.clone()
                                } else {
                                    std::mem::take(&mut record.payload)
                                };
                                address_sort
                                    .push(SortRecord {
                                        key: address.unwrap_or_default(),
                                        topic: reference_index,
                                        partition: read_from,
                                        offset: record.position.offset,
                                        payload,
                                    })
                                    .map_err(io("spilling a sort run of address facts"))?;
                                subject
                            }
                        };
                        let partition =
                            consent_log::partitioner::partition_for(&key, partition_count);
                        subject.then_some((partition, key))
                    }
                    Err(reason) => {
                        if counted {
                            reference.reject(Some(position), reason);
                        }
                        return Ok(());
                    }
                }
            } else {
                Some((read_from, record.key.clone()))
            };
            if let Some((partition, key)) = subject_partition {
                if let Some(out) = set_aside.get_mut(&partition) {
                    let record = SortRecord {
                        key,
                        topic: reference_index,
                        partition: read_from,
                        offset: record.position.offset,
                        payload: record.payload,
                    };
                    spilled_bytes += (record.key.len() + record.payload.len()) as u64;
                    record
                        .write_to(out)
                        .map_err(io("writing set-aside reference records"))?;
                }
            }
            Ok(())
        },
    )?;
    spilled_bytes += address_sort.spilled_bytes();
    let addresses = fold_addresses(&mut reference, address_sort, &topics, &owned, &spill_dir)?;
    spilled_bytes += addresses.bytes();
    let (organisations, address_count) = reference.sizes();
    tracing::info!(
        organisations,
        addresses = address_count,
        address_table_bytes = addresses.bytes(),
        "reference topic folded"
    );
    let mut set_aside_files: BTreeMap<u32, File> = BTreeMap::new();
    for (partition, out) in set_aside {
        let mut file = out.into_inner().map_err(|e| RunError::Io {
            what: "writing set-aside reference records".to_owned(),
            source: e.into_error(),
        })?;
        file.seek(SeekFrom::Start(0))
            .map_err(io("rewinding set-aside reference records"))?;
        set_aside_files.insert(partition, file);
    }

    // Pass 2: the subject partitions, on the workers.
    progress.phase("subjects");
    let context = ReplayContext::new(config.plan.clone(), config.catalogue.clone(), reference)?;
    let changes = match &config.changes {
        Some(path) => Some(Mutex::new(BufWriter::new(
            File::create(path).map_err(io(format!("creating {}", path.display())))?,
        ))),
        None => None,
    };
    let queue = Mutex::new(owned.iter().copied().collect::<VecDeque<u32>>());
    let set_aside_files = Mutex::new(set_aside_files);
    let workers = config.threads.max(1).min(owned.len().max(1));
    let shared = Worker {
        runtime,
        log: &log,
        ends: &ends,
        topics: &topics,
        reference_topic: &reference_topic,
        context: &context,
        addresses: &addresses,
        queue: &queue,
        set_aside: &set_aside_files,
        changes: changes.as_ref(),
        spill_dir: &spill_dir,
        run_bytes: config.run_bytes,
        filter: &filter,
        progress,
    };
    let results: Vec<Result<WorkerOutcome, RunError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| scope.spawn(|| shared.work()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(RunError::Worker("a worker panicked".to_owned())))
            })
            .collect()
    });
    let mut parts = Vec::with_capacity(results.len());
    let mut changes_written = 0u64;
    for result in results {
        let outcome = result?;
        records_read += outcome.records_read;
        changes_written += outcome.changes_written;
        spilled_bytes += outcome.spilled_bytes;
        parts.extend(outcome.report);
    }
    if let Some(changes) = changes {
        changes
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .flush()
            .map_err(io("writing the changes file"))?;
    }
    let coverage = config.partitions.as_ref().map(|_| PartitionCoverage {
        partition_count,
        replayed: owned.iter().copied().collect(),
        reference_end_offsets: reference_partitions
            .iter()
            .map(|tp| ends.get(tp).copied().unwrap_or(0))
            .collect(),
    });
    let report = context.report(parts, coverage);
    Ok(RunOutcome {
        report,
        records_read,
        changes_written,
        spilled_bytes,
        end_offsets: ends,
    })
}

/// What every worker shares.
struct Worker<'a> {
    runtime: &'a tokio::runtime::Handle,
    log: &'a Arc<dyn EventLog>,
    ends: &'a EndOffsets,
    topics: &'a [String],
    reference_topic: &'a str,
    context: &'a ReplayContext,
    addresses: &'a AddressTable,
    queue: &'a Mutex<VecDeque<u32>>,
    set_aside: &'a Mutex<BTreeMap<u32, File>>,
    changes: Option<&'a Mutex<BufWriter<File>>>,
    spill_dir: &'a std::path::Path,
    run_bytes: usize,
    filter: &'a BTreeSet<Vec<u8>>,
    progress: &'a dyn Progress,
}

struct WorkerOutcome {
    report: Option<ReplayReport>,
    records_read: u64,
    changes_written: u64,
    spilled_bytes: u64,
}

impl Worker<'_> {
    /// Takes partitions off the queue until none is left.
    fn work(&self) -> Result<WorkerOutcome, RunError> {
        let mut subjects = self.context.subjects();
        let mut outcome = WorkerOutcome {
            report: None,
            records_read: 0,
            changes_written: 0,
            spilled_bytes: 0,
        };
        loop {
            let next = self
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front();
            let Some(partition) = next else { break };
            self.partition(partition, &mut subjects, &mut outcome)?;
        }
        outcome.report = Some(subjects.finish());
        Ok(outcome)
    }

    fn partition(
        &self,
        partition: u32,
        subjects: &mut consent_replay::SubjectReplayer<'_>,
        outcome: &mut WorkerOutcome,
    ) -> Result<(), RunError> {
        let mut sort = ExternalSort::new(self.spill_dir, self.run_bytes);
        let set_aside = self
            .set_aside
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&partition);
        if let Some(file) = set_aside {
            let mut input = BufReader::new(file);
            while let Some(record) = SortRecord::read_from(&mut input)
                .map_err(io("reading set-aside reference records"))?
            {
                sort.push(record).map_err(io("spilling a sort run"))?;
            }
        }
        let partitions: Vec<TopicPartition> = self
            .topics
            .iter()
            .filter(|t| t.as_str() != self.reference_topic)
            .map(|t| TopicPartition::new(t.clone(), partition))
            .collect();
        let filter = self.filter;
        outcome.records_read += read_until_ends(
            self.runtime,
            self.log,
            self.ends,
            &partitions,
            self.progress,
            |record| {
                if consent_schema::is_ledger_record_key(&record.key)
                    || !(filter.is_empty() || filter.contains(organisation_of_key(&record.key)))
                {
                    return Ok(());
                }
                sort.push(SortRecord {
                    key: record.key,
                    topic: topic_index(self.topics, &record.position.topic),
                    partition: record.position.partition,
                    offset: record.position.offset,
                    payload: record.payload,
                })
                .map_err(io("spilling a sort run"))
            },
        )?;
        outcome.spilled_bytes += sort.spilled_bytes();

        let mut group: Vec<(consent_domain::Event, Option<EventPosition>)> = Vec::new();
        let mut group_key: Option<Vec<u8>> = None;
        let mut changed: Vec<ChangedDecision> = Vec::new();
        for record in sort.finish().map_err(io("merging sort runs"))? {
            let record = record.map_err(io("reading a sort run"))?;
            if group_key.as_deref() != Some(record.key.as_slice()) {
                if group_key.is_some() {
                    self.replay_subject(subjects, &mut group, &mut changed, outcome)?;
                }
                group_key = Some(record.key.clone());
            }
            let position = position_of(self.topics, &record);
            match decode(&record.payload) {
                Ok(event) => group.push((event, Some(position))),
                Err(reason) => subjects.reject_record(Some(position), reason),
            }
        }
        if group_key.is_some() {
            self.replay_subject(subjects, &mut group, &mut changed, outcome)?;
        }
        Ok(())
    }

    /// Replays the subject whose events are `group` (emptied).
    fn replay_subject(
        &self,
        subjects: &mut consent_replay::SubjectReplayer<'_>,
        group: &mut Vec<(consent_domain::Event, Option<EventPosition>)>,
        changed: &mut Vec<ChangedDecision>,
        outcome: &mut WorkerOutcome,
    ) -> Result<(), RunError> {
        subjects
            .replay_subject(
                group.drain(..),
                self.addresses,
                self.changes.is_some().then_some(&mut *changed),
            )
            .map_err(io("reading the address table"))?;
        self.write_changes(changed, outcome)
    }

    fn write_changes(
        &self,
        changed: &mut Vec<ChangedDecision>,
        outcome: &mut WorkerOutcome,
    ) -> Result<(), RunError> {
        let Some(changes) = self.changes else {
            return Ok(());
        };
        if changed.is_empty() {
            return Ok(());
        }
        let mut out = changes.lock().unwrap_or_else(PoisonError::into_inner);
        for change in changed.drain(..) {
            serde_json::to_writer(&mut *out, &change)
                .map_err(|e| io("writing the changes file")(e.into()))?;
            out.write_all(b"\n")
                .map_err(io("writing the changes file"))?;
            outcome.changes_written += 1;
        }
        Ok(())
    }
}

/// Folds the address facts of pass 1, grouped by (organisation, address)
/// in `sort`, one address at a time into the table the workers read.
fn fold_addresses(
    reference: &mut ReferenceStates,
    sort: ExternalSort,
    topics: &[String],
    owned: &BTreeSet<u32>,
    spill_dir: &std::path::Path,
) -> Result<AddressTable, RunError> {
    let mut table = AddressTableWriter::create(spill_dir).map_err(io(format!(
        "creating the address table in {}",
        spill_dir.display()
    )))?;
    let mut group: Vec<(consent_domain::Event, Option<EventPosition>, bool)> = Vec::new();
    let mut group_key: Vec<u8> = Vec::new();
    let mut fold = |key: &[u8], group: &mut Vec<_>| -> Result<(), RunError> {
        if group.is_empty() {
            return Ok(());
        }
        let state = reference.fold_address(group.drain(..));
        table
            .push(key, &state)
            .map_err(io("writing the address table"))
    };
    for record in sort
        .finish()
        .map_err(io("merging sort runs of address facts"))?
    {
        let record = record.map_err(io("reading a sort run of address facts"))?;
        if record.key != group_key {
            fold(&group_key, &mut group)?;
            group_key = record.key.clone();
        }
        let position = position_of(topics, &record);
        // Decoded once already in pass 1: it decodes again.
        if let Ok(event) = decode(&record.payload) {
            group.push((event, Some(position), owned.contains(&record.partition)));
        }
    }
    fold(&group_key, &mut group)?;
    table.finish().map_err(io("writing the address table"))
}

/// Reads `partitions` from offset 0 to their end offsets in `ends`,
/// handing every record to `each`. Returns the records read.
fn read_until_ends(
    runtime: &tokio::runtime::Handle,
    log: &Arc<dyn EventLog>,
    ends: &EndOffsets,
    partitions: &[TopicPartition],
    progress: &dyn Progress,
    mut each: impl FnMut(consent_log::LogRecord) -> Result<(), RunError>,
) -> Result<u64, RunError> {
    let mut pending: BTreeMap<TopicPartition, u64> = partitions
        .iter()
        .filter_map(|tp| Some((tp.clone(), *ends.get(tp)?)))
        .filter(|(_, end)| *end > 0)
        .collect();
    if pending.is_empty() {
        return Ok(0);
    }
    let start: StartOffsets = pending.keys().map(|tp| (tp.clone(), 0)).collect();
    let mut reader = runtime.block_on(log.reader(start))?;
    let mut read = 0u64;
    let mut last_progress = Instant::now();
    while !pending.is_empty() {
        let batch = runtime.block_on(reader.next_batch(BATCH, READ_WAIT))?;
        if batch.is_empty() {
            if last_progress.elapsed() > STALL_LIMIT {
                let stalled: Vec<String> = pending
                    .iter()
                    .map(|(tp, end)| format!("{tp} (end {end})"))
                    .collect();
                tracing::warn!(
                    partitions = %stalled.join(", "),
                    "no records for {}s before the end offsets; replaying what was read",
                    STALL_LIMIT.as_secs()
                );
                break;
            }
            continue;
        }
        last_progress = Instant::now();
        let mut counted = 0u64;
        for record in batch {
            let topic_partition = record.position.topic_partition();
            let Some(&end) = pending.get(&topic_partition) else {
                continue;
            };
            if record.position.offset >= end {
                // Appended after the replay started: not part of it.
                pending.remove(&topic_partition);
                continue;
            }
            if record.position.offset + 1 >= end {
                pending.remove(&topic_partition);
            }
            counted += 1;
            each(record)?;
        }
        read += counted;
        progress.read(counted);
    }
    Ok(read)
}

/// The organisation part of a record key (the bytes before the 0x1f
/// separator; the whole key if there is none).
fn organisation_of_key(key: &[u8]) -> &[u8] {
    let end = key
        .iter()
        .position(|&b| b == consent_schema::ROUTING_KEY_SEPARATOR)
        .unwrap_or(key.len());
    &key[..end]
}

/// Where a sorted record was read from.
fn position_of(topics: &[String], record: &SortRecord) -> EventPosition {
    EventPosition {
        topic: topics
            .get(usize::from(record.topic))
            .cloned()
            .unwrap_or_default(),
        partition: record.partition,
        offset: record.offset,
    }
}

fn topic_index(topics: &[String], topic: &str) -> u8 {
    topics
        .iter()
        .position(|t| t == topic)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(u8::MAX)
}

/// A stored record's event, or why it cannot be read (as the in-memory
/// replay words it).
fn decode(payload: &[u8]) -> Result<consent_domain::Event, String> {
    consent_schema::decode_envelope(payload)
        .map_err(|error| format!("undecodable: {error}"))
        .and_then(|envelope| {
            consent_schema::event_from_proto(&envelope).map_err(|error| format!("invalid: {error}"))
        })
}
