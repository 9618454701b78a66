//! Crash recovery of one partition file at open.
//!
//! Every append is one `write` followed by one `fsync`, and the next append
//! to the partition starts only after that `fsync` returned. So after a crash
//! the file is: every record of earlier appends, intact, then possibly the
//! last append torn — cut short, or with some of its pages never written
//! (zeros or stale bytes), while others were.
//!
//! Recovery walks the frames from the start, checking lengths, CRCs and that
//! offsets are dense from 0. At the first bad frame it looks at the rest of
//! the file for valid frames:
//! * none, or only frames of the same append as the bad one (the same write
//!   span): a torn last write; the file is truncated to the last good frame
//!   and a warning names the file and the bytes dropped;
//! * a valid frame of another append: damage to data that was acknowledged,
//!   reported as [`LogError::Corrupt`] and never silently dropped.
//!
//! Damage confined to the records of the very last append cannot be told
//! from a torn write and is truncated as one (with the warning).

use crate::frame::{self, FrameHeader, WriteSpan, FRAME_HEADER_LEN};
use crate::index::SparseIndex;
use crate::window::{FileWindow, FrameRead};
use consent_log::LogError;
use std::fs::File;
use std::path::Path;

/// The state of a partition file after recovery.
#[derive(Debug)]
pub(super) struct Recovered {
    /// Offset the next appended record gets.
    pub next_offset: u64,
    /// Length of the valid file: where the next frame is written.
    pub end_pos: u64,
    pub index: SparseIndex,
}

/// Validates the partition file open in `file` (read and write) at `path`,
/// truncating a torn last write; its index keeps at most
/// `max_index_entries` entries.
pub(super) fn recover(
    path: &Path,
    file: &File,
    max_index_entries: usize,
) -> Result<Recovered, LogError> {
    let io_error = |source| LogError::Io {
        path: path.display().to_string(),
        source,
    };
    let corrupt = |reason: String| LogError::Corrupt {
        path: path.display().to_string(),
        reason,
    };

    let file_len = file.metadata().map_err(io_error)?.len();
    let mut window = FileWindow::new(file.try_clone().map_err(io_error)?);
    let mut index = SparseIndex::with_max_entries(max_index_entries);
    let mut pos = 0u64;
    let mut next_offset = 0u64;
    // The write span of the last good record: tells whether the first bad
    // frame belongs to the same append.
    let mut last_write: Option<WriteSpan> = None;

    let defect = loop {
        if pos == file_len {
            return Ok(Recovered {
                next_offset,
                end_pos: pos,
                index,
            });
        }
        match window.frame_at(pos, file_len).map_err(io_error)? {
            FrameRead::Frame { record, len } => {
                if record.offset != next_offset {
                    return Err(corrupt(format!(
                        "record at byte {pos} has offset {}, expected {next_offset}",
                        record.offset
                    )));
                }
                index.note(next_offset, pos);
                pos += len;
                next_offset += 1;
                last_write = Some(record.write);
            }
            FrameRead::Incomplete => break "incomplete record".to_owned(),
            FrameRead::Defective(defect) => break defect.to_string(),
        }
    };

    // The damaged record either continues the last good record's append or
    // starts the next one.
    let torn_write_first = match last_write {
        Some(write) if write.contains(next_offset) => write.first,
        _ => next_offset,
    };
    if let Some(later) = find_record_of_other_write(&mut window, pos, torn_write_first, file_len)
        .map_err(io_error)?
    {
        return Err(corrupt(format!(
            "record at byte {pos} (offset {next_offset}) is damaged ({defect}), \
             but the valid record of offset {} follows at byte {}",
            later.offset, later.pos
        )));
    }

    let bytes_dropped = file_len - pos;
    file.set_len(pos).map_err(io_error)?;
    file.sync_all().map_err(io_error)?;
    tracing::warn!(
        path = %path.display(),
        bytes_dropped,
        valid_bytes = pos,
        next_offset,
        %defect,
        "truncated a torn write at the end of a log partition"
    );
    Ok(Recovered {
        next_offset,
        end_pos: pos,
        index,
    })
}

/// A valid frame found past damage.
struct LaterRecord {
    pos: u64,
    offset: u64,
}

/// Searches `(bad_pos, file_len)` byte by byte for valid frames, following
/// each one found to the next. Returns the first that is not part of the
/// torn append, the one whose first offset is `torn_write_first`.
fn find_record_of_other_write(
    window: &mut FileWindow,
    bad_pos: u64,
    torn_write_first: u64,
    file_len: u64,
) -> std::io::Result<Option<LaterRecord>> {
    let mut pos = bad_pos + 1;
    while let Some(header) = window.get(pos, FRAME_HEADER_LEN, file_len)? {
        let plausible = match FrameHeader::parse(header) {
            Ok(header) => is_plausible_frame(window, header, pos, file_len)?,
            Err(_) => false,
        };
        if !plausible {
            pos += 1;
            continue;
        }
        match window.frame_at(pos, file_len)? {
            FrameRead::Frame { record, len } => {
                if record.write.first != torn_write_first {
                    return Ok(Some(LaterRecord {
                        pos,
                        offset: record.offset,
                    }));
                }
                pos += len;
            }
            FrameRead::Incomplete | FrameRead::Defective(_) => pos += 1,
        }
    }
    Ok(None)
}

/// Cheap checks before a CRC: the frame fits in the file and starts with a
/// known format version and sane offsets.
fn is_plausible_frame(
    window: &mut FileWindow,
    header: FrameHeader,
    pos: u64,
    file_len: u64,
) -> std::io::Result<bool> {
    let frame_len = u64::try_from(header.frame_len()).map_err(std::io::Error::other)?;
    if pos.checked_add(frame_len).is_none_or(|end| end > file_len) {
        return Ok(false);
    }
    let body_pos = pos + u64::try_from(FRAME_HEADER_LEN).map_err(std::io::Error::other)?;
    let Some(body_start) = window.get(body_pos, frame::OFFSETS_LEN, file_len)? else {
        return Ok(false);
    };
    Ok(frame::plausible_body_start(body_start))
}
