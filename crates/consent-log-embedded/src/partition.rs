//! One topic-partition: its file, its writer and its committed end.

use crate::frame::{self, WriteSpan};
use crate::index::SparseIndex;
use crate::recovery;
use crate::window::FileWindow;
use consent_log::AppendRecord;
use consent_log::LogError;
use consent_log::LogFault;
use consent_log::TopicPartition;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::Instant;

/// The durable end of a partition: everything before it is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CommittedEnd {
    /// Offset the next appended record gets (the log end offset).
    pub next_offset: u64,
    /// File length covered by the committed records; always a frame boundary.
    pub end_pos: u64,
}

/// A partition of the embedded log.
///
/// Invariants: appends are serialised by `writer`; `committed` only moves
/// forward, and only after the bytes before it were written and fsynced, so
/// readers (which read below it through their own file handles) never see a
/// partial or unacknowledged record.
#[derive(Debug)]
pub(super) struct Partition {
    topic_partition: TopicPartition,
    path: PathBuf,
    writer: Mutex<Writer>,
    committed: RwLock<Committed>,
    /// Set by a failed append, cleared by the next one that succeeds; kept
    /// apart from `writer` so that health checks never wait for an append.
    fault: Mutex<Option<LogFault>>,
}

#[derive(Debug)]
struct Writer {
    file: File,
    /// Set when a failed append could not be rolled back: the file may hold
    /// bytes past the committed end, so appending would be unsafe until a
    /// reopen runs recovery.
    broken: Option<String>,
}

#[derive(Debug)]
struct Committed {
    end: CommittedEnd,
    index: SparseIndex,
}

impl Partition {
    /// Opens (creating if needed) and recovers the file of `topic_partition`
    /// at `path`, with an index of at most `max_index_entries` entries.
    /// Returns whether the file was created.
    pub fn open(
        path: PathBuf,
        topic_partition: TopicPartition,
        max_index_entries: usize,
    ) -> Result<(Self, bool), LogError> {
        let io_error = |source| LogError::Io {
            path: path.display().to_string(),
            source,
        };
        let created = !path.try_exists().map_err(io_error)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_error)?;
        let recovered = recovery::recover(&path, &file, max_index_entries)?;
        let partition = Self {
            topic_partition,
            path,
            writer: Mutex::new(Writer { file, broken: None }),
            committed: RwLock::new(Committed {
                end: CommittedEnd {
                    next_offset: recovered.next_offset,
                    end_pos: recovered.end_pos,
                },
                index: recovered.index,
            }),
            fault: Mutex::new(None),
        };
        Ok((partition, created))
    }

    pub fn topic_partition(&self) -> &TopicPartition {
        &self.topic_partition
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn end(&self) -> CommittedEnd {
        self.committed
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .end
    }

    /// The `(offset, file position)` of an indexed record at or before
    /// `offset`, where a read of `offset` starts.
    pub fn seek_hint(&self, offset: u64) -> (u64, u64) {
        self.committed
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .index
            .floor(offset)
    }

    /// A buffered read handle of the file, independent of the writer's.
    pub fn open_window(&self) -> Result<FileWindow, LogError> {
        File::open(&self.path)
            .map(FileWindow::new)
            .map_err(|source| self.io_error(source))
    }

    /// Why the last append failed, when it did and none succeeded since.
    pub fn fault(&self) -> Option<LogFault> {
        self.fault
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Appends `records` with one write and one fsync, and returns the offset
    /// of the first. On error nothing is committed and the file is rolled
    /// back to the committed end; the error is kept as the partition's
    /// [`LogFault`] until an append succeeds.
    pub fn append(&self, records: &[AppendRecord], timestamp_ms: i64) -> Result<u64, LogError> {
        let appended = self.append_unrecorded(records, timestamp_ms);
        // Asked before taking `fault`, so a health check never waits on it
        // while another append holds the writer.
        let fenced = appended.is_err() && self.is_fenced();
        let mut fault = self.fault.lock().unwrap_or_else(PoisonError::into_inner);
        match &appended {
            Ok(_) => *fault = None,
            Err(LogError::RecordTooLarge { .. }) => {}
            Err(error) => {
                let since = fault.as_ref().map_or_else(Instant::now, |f| f.since);
                *fault = Some(LogFault {
                    partition: self.topic_partition.clone(),
                    fenced,
                    since,
                    error: error.to_string(),
                });
            }
        }
        appended
    }

    /// Whether the partition refuses appends until the log is reopened.
    fn is_fenced(&self) -> bool {
        match self.writer.lock() {
            Ok(writer) => writer.broken.is_some(),
            Err(_) => true,
        }
    }

    fn append_unrecorded(
        &self,
        records: &[AppendRecord],
        timestamp_ms: i64,
    ) -> Result<u64, LogError> {
        let mut writer = self.writer.lock().map_err(|_| {
            LogError::Unavailable(format!(
                "{}: an append panicked while writing; reopen the log to recover",
                self.topic_partition
            ))
        })?;
        if let Some(reason) = &writer.broken {
            return Err(LogError::Unavailable(format!(
                "{} refuses appends after a failed write could not be rolled back ({reason}); \
                 reopen the log to recover",
                self.topic_partition
            )));
        }
        // Only this writer moves the committed end, and we hold it.
        let start = self.end();
        if records.is_empty() {
            return Ok(start.next_offset);
        }
        let count = u64::try_from(records.len()).map_err(|_| self.offset_overflow())?;
        let end_offset = start
            .next_offset
            .checked_add(count)
            .ok_or_else(|| self.offset_overflow())?;
        let write = WriteSpan {
            first: start.next_offset,
            last: end_offset - 1, // at least one record
        };

        let mut bytes = Vec::new();
        let mut frame_starts = Vec::with_capacity(records.len());
        for (offset, record) in (start.next_offset..).zip(records) {
            frame_starts.push(bytes.len());
            frame::encode(record, offset, write, timestamp_ms, &mut bytes).map_err(|size| {
                LogError::RecordTooLarge {
                    size,
                    limit: frame::MAX_RECORD_BYTES,
                }
            })?;
        }

        if let Err(source) = write_and_sync(&writer.file, start.end_pos, &bytes) {
            if let Err(rollback) = roll_back(&writer.file, start.end_pos) {
                tracing::error!(
                    path = %self.path.display(),
                    error = %source,
                    rollback_error = %rollback,
                    "log append failed and could not be rolled back; partition refuses appends"
                );
                writer.broken = Some(rollback.to_string());
            }
            return Err(self.io_error(source));
        }

        let mut committed = self
            .committed
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        for (offset, frame_start) in (start.next_offset..).zip(frame_starts) {
            let frame_start = u64::try_from(frame_start).map_err(|_| self.offset_overflow())?;
            committed.index.note(offset, start.end_pos + frame_start);
        }
        let written = u64::try_from(bytes.len()).map_err(|_| self.offset_overflow())?;
        committed.end = CommittedEnd {
            next_offset: end_offset,
            end_pos: start.end_pos + written,
        };
        Ok(start.next_offset)
    }

    fn io_error(&self, source: std::io::Error) -> LogError {
        LogError::Io {
            path: self.path.display().to_string(),
            source,
        }
    }

    fn offset_overflow(&self) -> LogError {
        LogError::Unavailable(format!(
            "{}: offset or file position overflow",
            self.topic_partition
        ))
    }
}

/// One positioned write (`pwrite`, so no file cursor to keep in step) and
/// one `fdatasync`.
fn write_and_sync(file: &File, at: u64, bytes: &[u8]) -> std::io::Result<()> {
    file.write_all_at(bytes, at)?;
    file.sync_data()
}

/// Cuts the file back to the committed end, so no byte of a failed append
/// can be read back or resurrected by recovery.
fn roll_back(file: &File, committed_end: u64) -> std::io::Result<()> {
    file.set_len(committed_end)?;
    file.sync_all()
}
