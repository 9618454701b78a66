//! The log's records, kept once in the view: blocks of consecutive records
//! of one topic-partition, as a batch consumed them (at most
//! [`keys::RECORDS_PER_BLOCK`] to a block).
//!
//! Why: a history entry needs its event's exact stored bytes, and the
//! partition's tree needs every record's leaf hash. Storing both per event
//! made the view ten times the log (format 7). Here a record is stored
//! once, compressed with its neighbours (records of one partition repeat
//! their organisation, topic, collector and vocabulary, so a block of them
//! compresses several times better than one record alone), and:
//!
//! * a history entry keeps only its position: its bytes are read from its
//!   record's block;
//! * the lowest [`keys::LOWEST_STORED_LEVEL`] levels of each tree are not
//!   stored: a node there covers at most 16 leaves, hashed again from
//!   their records when a proof asks for it.
//!
//! A block is written once and never read back to be extended: sled 0.34
//! logs a value on every write and a leaf page (up to 16 values) on every
//! tenth, so a block rewritten as later batches filled it cost its
//! partition three to four times its size in log writes (format 8's first
//! layout, blocks of 64 aligned offsets: 7.2x the raw bytes on disk against
//! 6.1x for this one, at 200,000 events).
//!
//! Stored form: the zstd frame (see `state_codec.rs`) of, for each record
//! in offset order, its length (`u32`, big endian) and its bytes.

use crate::{keys, state_codec};
use consent_store::StoreError;

/// The records of one block, from its first offset on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordBlock {
    payloads: Vec<Vec<u8>>,
}

impl RecordBlock {
    pub fn decode(key: &[u8], stored: &[u8]) -> Result<RecordBlock, StoreError> {
        let corrupt = |reason: &str| StoreError::Corrupt {
            key: keys::display(key),
            reason: reason.to_owned(),
        };
        let plain = state_codec::decompress(key, stored)?;
        let mut rest = plain.as_slice();
        let mut payloads = Vec::new();
        while !rest.is_empty() {
            let (length, after) = rest
                .split_first_chunk::<4>()
                .ok_or_else(|| corrupt("a record's length is 4 bytes"))?;
            let length = usize::try_from(u32::from_be_bytes(*length))
                .map_err(|_| corrupt("a record's length does not fit in memory"))?;
            let (payload, after) = after
                .split_at_checked(length)
                .ok_or_else(|| corrupt("a record is shorter than its length"))?;
            payloads.push(payload.to_vec());
            rest = after;
        }
        if payloads.len() > slots() {
            return Err(corrupt("a block holds more records than it has slots"));
        }
        Ok(RecordBlock { payloads })
    }

    pub fn encode(&self) -> Result<Vec<u8>, StoreError> {
        state_codec::compress(&self.plain()?)
    }

    /// What the stored zstd frame holds (and what the golden test hashes).
    pub fn plain(&self) -> Result<Vec<u8>, StoreError> {
        let size = self.payloads.iter().map(|p| p.len() + 4).sum();
        let mut plain = Vec::with_capacity(size);
        for payload in &self.payloads {
            let length = u32::try_from(payload.len()).map_err(|_| {
                StoreError::Engine(format!("a record of {} bytes is too large", payload.len()))
            })?;
            plain.extend_from_slice(&length.to_be_bytes());
            plain.extend_from_slice(payload);
        }
        Ok(plain)
    }

    /// The record in `slot` (its offset less the block's first offset).
    pub fn get(&self, slot: usize) -> Option<&[u8]> {
        self.payloads.get(slot).map(Vec::as_slice)
    }

    /// The records of the block, from its first offset on.
    pub fn len(&self) -> usize {
        self.payloads.len()
    }

    /// A block of `payloads` (at most [`keys::RECORDS_PER_BLOCK`]).
    pub fn of(payloads: Vec<Vec<u8>>) -> RecordBlock {
        RecordBlock { payloads }
    }
}

fn slots() -> usize {
    keys::RECORDS_PER_BLOCK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_round_trips() {
        let block = RecordBlock::of(vec![vec![1, 2], vec![], vec![3]]);
        let decoded = RecordBlock::decode(b"E", &block.encode().expect("encode")).expect("decode");
        assert_eq!(decoded, block);
        assert_eq!(decoded.get(2), Some(&[3][..]));
        assert_eq!(decoded.get(3), None);
        assert_eq!(decoded.len(), 3);
    }

    #[test]
    fn a_truncated_record_is_corrupt() {
        let stored = state_codec::compress(&[0, 0, 0, 9, 1, 2]).expect("compress");
        match RecordBlock::decode(b"Ex", &stored) {
            Err(StoreError::Corrupt { key, reason }) => {
                assert_eq!(key, "Ex");
                assert!(reason.contains("shorter"), "{reason}");
            }
            other => panic!("expected corrupt, got {other:?}"),
        }
    }
}
