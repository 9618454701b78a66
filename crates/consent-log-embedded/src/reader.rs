//! Reading a set of topic-partitions of the embedded log.

use crate::partition::{CommittedEnd, Partition};
use crate::window::{FileWindow, FrameRead};
use crate::EmbeddedLog;
use consent_log::LogError;
use consent_log::LogPosition;
use consent_log::LogReader;
use consent_log::LogRecord;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::watch;

/// Where a reader is in one partition.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cursor {
    /// File position of the next frame to decode.
    pos: u64,
    /// Offset of the frame at `pos`.
    next_offset: u64,
    /// Records before this offset are skipped (the reader started inside
    /// the interval of an index entry).
    start_offset: u64,
}

impl Cursor {
    /// A cursor that returns records from `start_offset`, walking from the
    /// indexed record `(hint_offset, hint_pos)` at or before it.
    pub fn new(start_offset: u64, (hint_offset, hint_pos): (u64, u64)) -> Self {
        Self {
            pos: hint_pos,
            next_offset: hint_offset,
            start_offset,
        }
    }

    fn has_records_before(&self, end: CommittedEnd) -> bool {
        self.next_offset.max(self.start_offset) < end.next_offset
    }
}

/// The reader of [`EmbeddedLog`].
///
/// Cancel-safe: a `next_batch` dropped before it returns leaves the reader's
/// position where it was, so no record is skipped.
pub(super) struct EmbeddedReader {
    /// Keeps the log (its lock and the append signal) alive while reading.
    _log: EmbeddedLog,
    partitions: Vec<Arc<Partition>>,
    cursors: Vec<Cursor>,
    /// Read handles, one per partition, opened on first use. Behind a mutex
    /// because reads run on the blocking pool.
    windows: Arc<Mutex<Vec<Option<FileWindow>>>>,
    /// Partition that reads first in the next batch (round-robin).
    next_turn: usize,
    appended: watch::Receiver<u64>,
}

impl EmbeddedReader {
    pub fn new(
        log: EmbeddedLog,
        appended: watch::Receiver<u64>,
        partitions: Vec<(Arc<Partition>, Cursor)>,
    ) -> Self {
        let windows = partitions.iter().map(|_| None).collect();
        let (partitions, cursors) = partitions.into_iter().unzip();
        Self {
            _log: log,
            partitions,
            cursors,
            windows: Arc::new(Mutex::new(windows)),
            next_turn: 0,
            appended,
        }
    }

    /// Reads up to `max_records` of what is committed now, fairly across
    /// partitions. Moves the cursors only once the records are in hand.
    async fn read_committed(&mut self, max_records: usize) -> Result<Vec<LogRecord>, LogError> {
        let ends: Vec<CommittedEnd> = self.partitions.iter().map(|p| p.end()).collect();
        if !self
            .cursors
            .iter()
            .zip(&ends)
            .any(|(cursor, end)| cursor.has_records_before(*end))
        {
            return Ok(Vec::new());
        }
        let partitions = self.partitions.clone();
        let windows = Arc::clone(&self.windows);
        let mut cursors = self.cursors.clone();
        let turn = self.next_turn;
        let (records, cursors) = tokio::task::spawn_blocking(move || {
            let mut windows = windows.lock().unwrap_or_else(PoisonError::into_inner);
            let mut batch = FairBatch {
                partitions: &partitions,
                windows: &mut windows,
                ends: &ends,
            };
            batch
                .read(&mut cursors, turn, max_records)
                .map(|records| (records, cursors))
        })
        .await
        .map_err(|e| LogError::Backend(format!("log read task failed: {e}")))??;
        self.cursors = cursors;
        self.next_turn = (turn + 1) % self.partitions.len().max(1);
        Ok(records)
    }
}

#[async_trait::async_trait]
impl LogReader for EmbeddedReader {
    async fn next_batch(
        &mut self,
        max_records: usize,
        wait: Duration,
    ) -> Result<Vec<LogRecord>, LogError> {
        if max_records == 0 {
            return Ok(Vec::new());
        }
        let deadline = tokio::time::Instant::now().checked_add(wait);
        loop {
            // Mark the current append generation seen before looking, so an
            // append committed after the look wakes the wait below.
            self.appended.borrow_and_update();
            let records = self.read_committed(max_records).await?;
            if !records.is_empty() {
                return Ok(records);
            }
            let changed = self.appended.changed();
            let woken = match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, changed).await.ok(),
                None => Some(changed.await),
            };
            match woken {
                Some(Ok(())) => {}
                // Timed out; or the log is gone (it is not: `_log` keeps it).
                None | Some(Err(_)) => return Ok(Vec::new()),
            }
        }
    }
}

/// One batch's read over every partition of a reader.
struct FairBatch<'a> {
    partitions: &'a [Arc<Partition>],
    windows: &'a mut [Option<FileWindow>],
    ends: &'a [CommittedEnd],
}

impl FairBatch<'_> {
    /// Round-robin from partition `turn`: each partition with records takes
    /// an equal share of what is left, round after round, until `max` records
    /// or none left. A large partition cannot starve the others.
    fn read(
        &mut self,
        cursors: &mut [Cursor],
        turn: usize,
        max: usize,
    ) -> Result<Vec<LogRecord>, LogError> {
        let count = cursors.len();
        let mut records = Vec::new();
        loop {
            let with_records = (0..count)
                .filter(|&i| cursors[i].has_records_before(self.ends[i]))
                .count();
            let left = max - records.len();
            if with_records == 0 || left == 0 {
                return Ok(records);
            }
            let share = (left / with_records).max(1);
            for i in (turn..count).chain(0..turn) {
                let left = max - records.len();
                if left == 0 {
                    break;
                }
                if cursors[i].has_records_before(self.ends[i]) {
                    self.read_partition(i, &mut cursors[i], share.min(left), &mut records)?;
                }
            }
        }
    }

    /// Appends up to `max` records of partition `i` from `cursor` to `out`.
    fn read_partition(
        &mut self,
        i: usize,
        cursor: &mut Cursor,
        max: usize,
        out: &mut Vec<LogRecord>,
    ) -> Result<(), LogError> {
        let partition = &self.partitions[i];
        let end = self.ends[i];
        let window = match &mut self.windows[i] {
            Some(window) => window,
            slot => slot.insert(partition.open_window()?),
        };
        let corrupt = |reason: String| LogError::Corrupt {
            path: partition.path().display().to_string(),
            reason,
        };
        let topic_partition = partition.topic_partition();
        let mut taken = 0;
        while taken < max && cursor.pos < end.end_pos {
            let read = window
                .frame_at(cursor.pos, end.end_pos)
                .map_err(|source| LogError::Io {
                    path: partition.path().display().to_string(),
                    source,
                })?;
            let (record, len) = match read {
                FrameRead::Frame { record, len } => (record, len),
                FrameRead::Incomplete => {
                    return Err(corrupt(format!(
                        "committed data ends inside the record at byte {}",
                        cursor.pos
                    )))
                }
                FrameRead::Defective(defect) => {
                    return Err(corrupt(format!(
                        "record at byte {} (offset {}): {defect}",
                        cursor.pos, cursor.next_offset
                    )))
                }
            };
            if record.offset != cursor.next_offset {
                return Err(corrupt(format!(
                    "record at byte {} has offset {}, expected {}",
                    cursor.pos, record.offset, cursor.next_offset
                )));
            }
            cursor.pos += len;
            cursor.next_offset += 1;
            if record.offset >= cursor.start_offset {
                out.push(LogRecord {
                    position: LogPosition::new(
                        topic_partition.topic.clone(),
                        topic_partition.partition,
                        record.offset,
                    ),
                    key: record.key,
                    payload: record.payload,
                    headers: record.headers,
                    timestamp_ms: record.timestamp_ms,
                });
                taken += 1;
            }
        }
        if cursor.pos >= end.end_pos && cursor.next_offset != end.next_offset {
            // Guarantees progress to `read`: a cursor with records before
            // the end always yields one.
            return Err(corrupt(format!(
                "the committed {} bytes hold {} records, not {}",
                end.end_pos, cursor.next_offset, end.next_offset
            )));
        }
        Ok(())
    }
}
