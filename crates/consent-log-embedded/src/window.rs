//! Buffered reads of frames from a partition file, bounded by a limit.
//!
//! Recovery and readers walk a file frame by frame; one `read` per frame
//! would cost two system calls per record. A window keeps a buffer of the
//! file starting at or before the current position and refills it in large
//! chunks, but never reads at or past the limit the caller gives: a reader's
//! limit is the committed end of the partition, so bytes of an append still
//! being written (or rolled back) never enter the buffer.

use crate::frame::{self, FrameDefect, FrameHeader, StoredRecord, FRAME_HEADER_LEN};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// How much a refill reads at least (unless the limit is nearer).
const READ_AHEAD: usize = 64 * 1024;

pub(super) struct FileWindow {
    file: File,
    /// Bytes of the file from position `start`.
    buf: Vec<u8>,
    start: u64,
}

impl FileWindow {
    pub fn new(file: File) -> Self {
        Self {
            file,
            buf: Vec::new(),
            start: 0,
        }
    }

    /// The bytes `[pos, pos + len)`, or `None` when they reach past `limit`.
    ///
    /// Bytes before `pos` may be dropped from the buffer, so callers move
    /// forward through the file.
    pub fn get(&mut self, pos: u64, len: usize, limit: u64) -> io::Result<Option<&[u8]>> {
        let len64 = to_u64(len)?;
        let Some(want_end) = pos.checked_add(len64) else {
            return Ok(None);
        };
        if want_end > limit {
            return Ok(None);
        }
        let buf_end = self.start + to_u64(self.buf.len())?;
        if pos < self.start || want_end > buf_end {
            self.refill(pos, len, limit)?;
        }
        let from = to_usize(pos - self.start)?;
        Ok(self.buf.get(from..from + len))
    }

    /// Makes the buffer start at `pos` and hold at least `len` bytes.
    fn refill(&mut self, pos: u64, len: usize, limit: u64) -> io::Result<()> {
        let buf_end = self.start + to_u64(self.buf.len())?;
        if pos >= self.start && pos <= buf_end {
            let keep_from = to_usize(pos - self.start)?;
            self.buf.drain(..keep_from);
        } else {
            self.buf.clear();
        }
        self.start = pos;
        let have = self.buf.len();
        let read_from = pos + to_u64(have)?;
        let room = to_usize(limit.saturating_sub(read_from))?;
        let amount = len.saturating_sub(have).max(READ_AHEAD).min(room);
        self.file.seek(SeekFrom::Start(read_from))?;
        self.buf.resize(have + amount, 0);
        let read = self.file.read_exact(&mut self.buf[have..]);
        if read.is_err() {
            self.buf.truncate(have);
        }
        read
    }
}

/// What a window finds at a position where a frame should start.
#[derive(Debug)]
pub(super) enum FrameRead {
    /// A whole, valid frame of `len` bytes.
    Frame { record: StoredRecord, len: u64 },
    /// The frame (or its header) reaches past the limit.
    Incomplete,
    /// The bytes are not a valid frame.
    Defective(FrameDefect),
}

impl FileWindow {
    /// Reads and checks the frame starting at `pos`, which must end at or
    /// before `limit`.
    pub fn frame_at(&mut self, pos: u64, limit: u64) -> io::Result<FrameRead> {
        let Some(header) = self.get(pos, FRAME_HEADER_LEN, limit)? else {
            return Ok(FrameRead::Incomplete);
        };
        let header = match FrameHeader::parse(header) {
            Ok(header) => header,
            Err(defect) => return Ok(FrameRead::Defective(defect)),
        };
        let Some(frame) = self.get(pos, header.frame_len(), limit)? else {
            return Ok(FrameRead::Incomplete);
        };
        let body = frame.get(FRAME_HEADER_LEN..).unwrap_or_default();
        Ok(match frame::decode(header, body) {
            Ok(record) => FrameRead::Frame {
                record,
                len: to_u64(header.frame_len())?,
            },
            Err(defect) => FrameRead::Defective(defect),
        })
    }
}

fn to_u64(n: usize) -> io::Result<u64> {
    u64::try_from(n).map_err(|_| io::Error::other("length does not fit in 64 bits"))
}

fn to_usize(n: u64) -> io::Result<usize> {
    usize::try_from(n).map_err(|_| io::Error::other("file position does not fit in memory"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn window_over(bytes: &[u8]) -> FileWindow {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        FileWindow::new(file)
    }

    #[test]
    fn returns_ranges_within_the_limit_only() {
        let data: Vec<u8> = (0..=255).collect();
        let mut window = window_over(&data);
        assert_eq!(window.get(10, 3, 256).unwrap(), Some(&data[10..13]));
        assert_eq!(window.get(250, 6, 256).unwrap(), Some(&data[250..256]));
        assert_eq!(window.get(250, 7, 256).unwrap(), None);
        assert_eq!(window.get(0, 5, 4).unwrap(), None);
        // Moving backwards refills.
        assert_eq!(window.get(1, 2, 256).unwrap(), Some(&data[1..3]));
    }

    #[test]
    fn ranges_larger_than_the_read_ahead_are_read_whole() {
        let data: Vec<u8> = (0..READ_AHEAD * 3)
            .map(|i| u8::try_from(i % 251).unwrap())
            .collect();
        let limit = data.len() as u64;
        let mut window = window_over(&data);
        assert_eq!(window.get(5, 2, limit).unwrap(), Some(&data[5..7]));
        let big = READ_AHEAD * 2;
        assert_eq!(window.get(7, big, limit).unwrap(), Some(&data[7..7 + big]));
    }

    #[test]
    fn a_file_shorter_than_the_limit_is_an_error() {
        let mut window = window_over(&[1, 2, 3]);
        assert!(window.get(0, 5, 10).is_err());
        assert_eq!(window.get(0, 3, 3).unwrap(), Some(&[1u8, 2, 3][..]));
    }
}
