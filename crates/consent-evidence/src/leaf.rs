//! The tree's leaves: one per log record, its position and its exact
//! stored bytes.
//!
//! # Leaf encoding, "consent-ledger leaf v1"
//!
//! The RFC 9162 leaf input (the bytes hashed as `SHA-256(0x00 || leaf)`) of
//! the record stored at `topic/partition@offset` with stored bytes
//! `payload` is, with every integer big-endian:
//!
//! ```text
//! 0x01                      format version (1 byte)
//! len(topic)                u16
//! topic                     UTF-8 bytes of the topic name
//! partition                 u32
//! offset                    u64
//! len(payload)              u32
//! payload                   the record's bytes exactly as the log stored them
//! ```
//!
//! Every variable part is length-prefixed, so two different (position,
//! payload) pairs never encode to the same bytes. The payload is the stored
//! protobuf envelope as the log returned it, never a re-encoding (protobuf
//! encoding is not canonical). The record's key and headers are not part
//! of the leaf: the key is derived from the payload and headers carry no
//! facts.
//!
//! # Leaf order
//!
//! Each topic-partition has its own tree ([`crate::ledger_head`]): leaf `i`
//! of a partition's tree is the record at offset `i` of that partition.
//! Offsets are dense in the ledger's logs (the projector refuses a gap), so
//! the order comes from the log alone and any reader of the log computes
//! the same tree, which is what lets the trees be rebuilt with the view.
//! Log positions are not ordered across partitions, so there is no tree
//! over all records; the ledger head covers the partition trees instead.

use crate::merkle::{leaf_hash, Hash};
use consent_log::LogPosition;

/// The version byte that starts every leaf of this encoding.
pub const LEAF_FORMAT_V1: u8 = 0x01;

/// A record that cannot be a leaf (its lengths do not fit the encoding).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeafError {
    #[error("topic name of {0} bytes is longer than a leaf can hold ({max})", max = u16::MAX)]
    TopicTooLong(usize),
    #[error("record of {0} bytes is larger than a leaf can hold ({max})", max = u32::MAX)]
    PayloadTooLarge(usize),
}

/// The leaf input of the record at `position` with stored bytes `payload`
/// (see the module documentation for the layout).
pub fn encode_leaf(position: &LogPosition, payload: &[u8]) -> Result<Vec<u8>, LeafError> {
    let topic = position.topic.as_bytes();
    let topic_len = u16::try_from(topic.len()).map_err(|_| LeafError::TopicTooLong(topic.len()))?;
    let payload_len =
        u32::try_from(payload.len()).map_err(|_| LeafError::PayloadTooLarge(payload.len()))?;
    let mut leaf = Vec::with_capacity(1 + 2 + topic.len() + 4 + 8 + 4 + payload.len());
    leaf.push(LEAF_FORMAT_V1);
    leaf.extend_from_slice(&topic_len.to_be_bytes());
    leaf.extend_from_slice(topic);
    leaf.extend_from_slice(&position.partition.to_be_bytes());
    leaf.extend_from_slice(&position.offset.to_be_bytes());
    leaf.extend_from_slice(&payload_len.to_be_bytes());
    leaf.extend_from_slice(payload);
    Ok(leaf)
}

/// The leaf hash of a record: `SHA-256(0x00 || encode_leaf(position, payload))`.
pub fn record_leaf_hash(position: &LogPosition, payload: &[u8]) -> Result<Hash, LeafError> {
    Ok(leaf_hash(&encode_leaf(position, payload)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_layout_is_as_documented() {
        let position = LogPosition::new("ab", 3, 0x0102);
        let leaf = encode_leaf(&position, b"xyz").unwrap();
        let expected: Vec<u8> = [
            &[0x01][..],
            &[0x00, 0x02],
            b"ab",
            &[0, 0, 0, 3],
            &[0, 0, 0, 0, 0, 0, 0x01, 0x02],
            &[0, 0, 0, 3],
            b"xyz",
        ]
        .concat();
        assert_eq!(leaf, expected);
    }

    #[test]
    fn position_and_payload_cannot_trade_bytes() {
        // Moving a byte between the topic and the payload changes the leaf.
        let a = encode_leaf(&LogPosition::new("ab", 0, 0), b"c").unwrap();
        let b = encode_leaf(&LogPosition::new("a", 0, 0), b"bc").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn an_overlong_topic_is_refused() {
        let position = LogPosition::new("t".repeat(70_000), 0, 0);
        assert_eq!(
            encode_leaf(&position, b""),
            Err(LeafError::TopicTooLong(70_000))
        );
    }
}
