//! The on-disk form of one record: a length-prefixed, checksummed frame.
//!
//! ```text
//! frame  := body_len: u32 LE | crc32(body): u32 LE | body
//! body   := version: u8 (= 1)
//!           offset: u64 LE              the record's offset in its partition
//!           write_first_offset: u64 LE  offsets of the first and the last
//!           write_last_offset: u64 LE   record of the same append (written
//!                                       with one write and one fsync)
//!           timestamp_ms: i64 LE
//!           key_len: u32 LE | key
//!           header_count: u32 LE
//!             header_count × (name_len: u32 LE | name (UTF-8) | value_len: u32 LE | value)
//!           payload_len: u32 LE | payload
//! ```
//!
//! Invariants: a body is consumed exactly by its fields (no trailing bytes);
//! a whole frame is at most [`MAX_RECORD_BYTES`]; the CRC-32 (IEEE, as
//! computed by `crc32fast`) covers the whole body; `write_first_offset <=
//! offset <= write_last_offset`. The write span lets crash recovery tell a
//! torn last append (some of its records damaged, others intact) from damage
//! to the records of earlier, acknowledged appends.

use consent_log::AppendRecord;

/// The largest record the embedded log stores, framing included (1 MiB, like
/// Kafka's default `max.message.bytes`). Larger records are refused with
/// [`consent_log::LogError::RecordTooLarge`] before anything is written.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// Bytes before the body: body length and CRC.
pub(super) const FRAME_HEADER_LEN: usize = 8;

const FORMAT_VERSION: u8 = 1;

/// Bytes at the start of a body that [`plausible_body_start`] reads:
/// version, offset and write span.
pub(super) const OFFSETS_LEN: usize = 1 + 8 + 8 + 8;

/// Offsets, timestamp, and the key, header-count and payload lengths.
const MIN_BODY_LEN: usize = OFFSETS_LEN + 8 + 4 + 4 + 4;
const MAX_BODY_LEN: usize = MAX_RECORD_BYTES - FRAME_HEADER_LEN;

/// The offsets of the records one append wrote to a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WriteSpan {
    pub first: u64,
    pub last: u64,
}

impl WriteSpan {
    pub fn contains(&self, offset: u64) -> bool {
        (self.first..=self.last).contains(&offset)
    }
}

/// A record as stored, decoded from a valid frame.
#[derive(Debug)]
pub(super) struct StoredRecord {
    pub offset: u64,
    pub write: WriteSpan,
    pub timestamp_ms: i64,
    pub key: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub payload: Vec<u8>,
}

/// Why bytes at some position are not a valid frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum FrameDefect {
    #[error("frame length {0} is outside {MIN_BODY_LEN}..={MAX_BODY_LEN}")]
    LengthOutOfRange(u32),
    #[error("checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    ChecksumMismatch { stored: u32, computed: u32 },
    #[error("unknown record format version {0}")]
    UnknownVersion(u8),
    #[error("malformed record body: {0}")]
    Malformed(&'static str),
}

/// The parsed 8-byte frame header.
#[derive(Debug, Clone, Copy)]
pub(super) struct FrameHeader {
    pub body_len: usize,
    pub crc: u32,
}

impl FrameHeader {
    /// Parses and range-checks a header from the first
    /// [`FRAME_HEADER_LEN`] bytes of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Self, FrameDefect> {
        let mut reader = BodyReader::new(bytes);
        let (Some(len), Some(crc)) = (reader.u32(), reader.u32()) else {
            return Err(FrameDefect::Malformed("short frame header"));
        };
        let body_len = usize::try_from(len).map_err(|_| FrameDefect::LengthOutOfRange(len))?;
        if !(MIN_BODY_LEN..=MAX_BODY_LEN).contains(&body_len) {
            return Err(FrameDefect::LengthOutOfRange(len));
        }
        Ok(Self { body_len, crc })
    }

    /// The whole frame's length in bytes.
    pub fn frame_len(&self) -> usize {
        FRAME_HEADER_LEN + self.body_len
    }
}

/// The encoded size of `record` on disk, framing included (saturating, so an
/// absurd record compares as too large instead of overflowing).
pub(super) fn encoded_len(record: &AppendRecord) -> usize {
    let headers = record.headers.iter().fold(0usize, |acc, (name, value)| {
        acc.saturating_add(8)
            .saturating_add(name.len())
            .saturating_add(value.len())
    });
    (FRAME_HEADER_LEN + MIN_BODY_LEN)
        .saturating_add(record.key.len())
        .saturating_add(headers)
        .saturating_add(record.payload.len())
}

/// Appends the frame of `record` to `out`. Fails with the encoded size when
/// the record exceeds [`MAX_RECORD_BYTES`]; `out` is then left unchanged.
pub(super) fn encode(
    record: &AppendRecord,
    offset: u64,
    write: WriteSpan,
    timestamp_ms: i64,
    out: &mut Vec<u8>,
) -> Result<(), usize> {
    let frame_len = encoded_len(record);
    if frame_len > MAX_RECORD_BYTES {
        return Err(frame_len);
    }
    let start = out.len();
    let written = write_frame(record, offset, write, timestamp_ms, out);
    if written.is_err() {
        out.truncate(start);
    }
    written.map_err(|_| frame_len)
}

/// Writes the frame whose size [`encode`] checked; fails only if a length
/// does not fit in a u32, which the size check rules out.
fn write_frame(
    record: &AppendRecord,
    offset: u64,
    write: WriteSpan,
    timestamp_ms: i64,
    out: &mut Vec<u8>,
) -> Result<(), std::num::TryFromIntError> {
    let len32 = u32::try_from;
    let start = out.len();
    let header_count = len32(record.headers.len())?;
    let body_len = len32(encoded_len(record) - FRAME_HEADER_LEN)?;
    out.reserve(FRAME_HEADER_LEN + usize::try_from(body_len)?);
    out.extend_from_slice(&body_len.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // CRC, filled in below
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&write.first.to_le_bytes());
    out.extend_from_slice(&write.last.to_le_bytes());
    out.extend_from_slice(&timestamp_ms.to_le_bytes());
    out.extend_from_slice(&len32(record.key.len())?.to_le_bytes());
    out.extend_from_slice(&record.key);
    out.extend_from_slice(&header_count.to_le_bytes());
    for (name, value) in &record.headers {
        out.extend_from_slice(&len32(name.len())?.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&len32(value.len())?.to_le_bytes());
        out.extend_from_slice(value);
    }
    out.extend_from_slice(&len32(record.payload.len())?.to_le_bytes());
    out.extend_from_slice(&record.payload);

    let body_start = start + FRAME_HEADER_LEN;
    let crc = crc32fast::hash(&out[body_start..]);
    out[start + 4..body_start].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// Whether the first [`OFFSETS_LEN`] bytes of a body look like a record's
/// (known version, offset within its write span), without the CRC: a cheap
/// filter before the full check when hunting for frames in damaged bytes.
pub(super) fn plausible_body_start(body: &[u8]) -> bool {
    let mut reader = BodyReader::new(body);
    match (reader.u8(), reader.u64(), reader.u64(), reader.u64()) {
        (Some(version), Some(offset), Some(first), Some(last)) => {
            version == FORMAT_VERSION && WriteSpan { first, last }.contains(offset)
        }
        _ => false,
    }
}

/// Checks the CRC and decodes a body whose header is `header`.
pub(super) fn decode(header: FrameHeader, body: &[u8]) -> Result<StoredRecord, FrameDefect> {
    let computed = crc32fast::hash(body);
    if computed != header.crc {
        return Err(FrameDefect::ChecksumMismatch {
            stored: header.crc,
            computed,
        });
    }
    let malformed = FrameDefect::Malformed;
    let mut reader = BodyReader::new(body);
    let version = reader.u8().ok_or(malformed("empty body"))?;
    if version != FORMAT_VERSION {
        return Err(FrameDefect::UnknownVersion(version));
    }
    let offset = reader.u64().ok_or(malformed("short offset"))?;
    let first = reader.u64().ok_or(malformed("short write span"))?;
    let last = reader.u64().ok_or(malformed("short write span"))?;
    let write = WriteSpan { first, last };
    if !write.contains(offset) {
        return Err(malformed("offset outside its write span"));
    }
    let timestamp_ms = reader.i64().ok_or(malformed("short timestamp"))?;
    let key = reader.bytes().ok_or(malformed("short key"))?.to_vec();
    let header_count = reader.u32().ok_or(malformed("short header count"))?;
    let mut headers = Vec::new();
    for _ in 0..header_count {
        let name = reader.bytes().ok_or(malformed("short header name"))?;
        let name = std::str::from_utf8(name)
            .map_err(|_| malformed("header name is not UTF-8"))?
            .to_owned();
        let value = reader
            .bytes()
            .ok_or(malformed("short header value"))?
            .to_vec();
        headers.push((name, value));
    }
    let payload = reader.bytes().ok_or(malformed("short payload"))?.to_vec();
    if !reader.is_empty() {
        return Err(malformed("trailing bytes after payload"));
    }
    Ok(StoredRecord {
        offset,
        write,
        timestamp_ms,
        key,
        headers,
        payload,
    })
}

/// Little-endian field reader over a byte slice; `None` when it runs short.
struct BodyReader<'a> {
    rest: &'a [u8],
}

impl<'a> BodyReader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.rest.len() < n {
            return None;
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u8(&mut self) -> Option<u8> {
        self.array().map(u8::from_le_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    fn i64(&mut self) -> Option<i64> {
        self.array().map(i64::from_le_bytes)
    }

    /// A u32 length followed by that many bytes.
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.u32()?).ok()?;
        self.take(len)
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPAN: WriteSpan = WriteSpan { first: 5, last: 9 };

    fn record() -> AppendRecord {
        AppendRecord {
            topic: "t".into(),
            key: b"org/subject".to_vec(),
            payload: vec![0, 1, 2, 255],
            headers: vec![
                ("event-type".into(), b"grant".to_vec()),
                ("empty".into(), vec![]),
            ],
        }
    }

    fn round_trip(record: &AppendRecord) -> StoredRecord {
        let mut out = Vec::new();
        encode(record, 7, SPAN, -3, &mut out).unwrap();
        assert_eq!(out.len(), encoded_len(record));
        let header = FrameHeader::parse(&out).unwrap();
        assert_eq!(header.frame_len(), out.len());
        decode(header, &out[FRAME_HEADER_LEN..]).unwrap()
    }

    #[test]
    fn a_frame_decodes_to_the_record_it_encodes() {
        let stored = round_trip(&record());
        assert_eq!(
            (stored.offset, stored.write, stored.timestamp_ms),
            (7, SPAN, -3)
        );
        assert_eq!(stored.key, record().key);
        assert_eq!(stored.headers, record().headers);
        assert_eq!(stored.payload, record().payload);
    }

    #[test]
    fn an_empty_record_is_the_smallest_frame() {
        let empty = AppendRecord {
            topic: "t".into(),
            key: vec![],
            payload: vec![],
            headers: vec![],
        };
        assert_eq!(encoded_len(&empty), FRAME_HEADER_LEN + MIN_BODY_LEN);
        assert!(round_trip(&empty).payload.is_empty());
    }

    #[test]
    fn a_flipped_bit_fails_the_checksum() {
        let mut out = Vec::new();
        encode(&record(), 3, SPAN, 0, &mut out).unwrap();
        let last = out.len() - 1;
        out[last] ^= 0x10;
        let header = FrameHeader::parse(&out).unwrap();
        assert!(matches!(
            decode(header, &out[FRAME_HEADER_LEN..]),
            Err(FrameDefect::ChecksumMismatch { .. })
        ));
    }

    #[test]
    fn plausibility_needs_the_version_and_an_offset_inside_its_write() {
        let mut out = Vec::new();
        encode(&record(), 7, SPAN, 0, &mut out).unwrap();
        assert!(plausible_body_start(&out[FRAME_HEADER_LEN..]));
        assert!(!plausible_body_start(&[0; OFFSETS_LEN]));
        let mut outside = Vec::new();
        encode(&record(), 4, SPAN, 0, &mut outside).unwrap();
        assert!(!plausible_body_start(&outside[FRAME_HEADER_LEN..]));
    }

    #[test]
    fn lengths_outside_the_limits_are_not_frames() {
        assert_eq!(
            FrameHeader::parse(&[0; 8]).unwrap_err(),
            FrameDefect::LengthOutOfRange(0)
        );
        assert!(FrameHeader::parse(&[0xff; 8]).is_err());
    }

    #[test]
    fn records_over_the_limit_are_refused_without_writing() {
        let mut big = record();
        big.payload = vec![0; MAX_RECORD_BYTES];
        let mut out = vec![1, 2, 3];
        assert_eq!(encode(&big, 3, SPAN, 0, &mut out), Err(encoded_len(&big)));
        assert_eq!(out, vec![1, 2, 3]);
    }
}
