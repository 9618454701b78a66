//! The ledger's head: one RFC 9162 tree per topic-partition, and one small
//! tree over their heads.
//!
//! # Why one tree per topic-partition
//!
//! The log is the system of record and everything derived from it must be
//! rebuildable from it alone. Records are ordered only within a partition:
//! one tree over all records would take its order from how partitions
//! happened to interleave when the projector read them, which the log does
//! not keep. So each followed topic-partition has its own tree, whose leaf
//! `i` is the record at offset `i` (offsets are dense in the ledger's logs)
//! hashed with [`record_leaf_hash`](crate::leaf::record_leaf_hash). Any
//! reader of the log, in any interleaving, computes the same trees.
//!
//! # Partition head encoding, "consent-ledger partition head v1"
//!
//! The head of one partition's tree (its topic-partition, size and root)
//! is the RFC 9162 leaf input, with every integer big-endian:
//!
//! ```text
//! 0x01                      format version (1 byte)
//! len(topic)                u16
//! topic                     UTF-8 bytes of the topic name
//! partition                 u32
//! tree_size                 u64   number of records (leaves) in the partition's tree
//! root                      32 bytes, the partition tree's RFC 9162 root (MTH)
//! ```
//!
//! Only the topic is variable and it is length-prefixed, so two different
//! heads never encode to the same bytes. The empty tree's root is
//! `SHA-256("")` as RFC 9162 defines it.
//!
//! # The ledger head
//!
//! The ledger head is the RFC 9162 root (MTH) of the tree whose leaf `i` is
//! the `i`-th partition head in `(topic, partition)` order (the order of
//! [`TopicPartition`]: topic bytes, then partition number), one per
//! followed topic-partition, none repeated. A signed checkpoint signs this
//! root; a record is then proven in two steps: its inclusion in its
//! partition's tree ([`crate::verify_inclusion`] against the partition
//! root), and that partition head's inclusion in the ledger head
//! ([`verify_partition_head`]).

use crate::merkle::{
    empty_root, inclusion_proof, leaf_hash, verify_inclusion, Hash, MemoryNodeStore, ProofFailure,
};
use consent_log::TopicPartition;
use serde::{Deserialize, Serialize};

/// The version byte that starts every partition head of this encoding.
pub const PARTITION_HEAD_FORMAT_V1: u8 = 0x01;

/// One topic-partition's tree as the ledger head covers it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PartitionHead {
    pub partition: TopicPartition,
    /// Number of leaves: the partition's next offset.
    pub tree_size: u64,
    /// RFC 9162 root of the partition's tree of `tree_size` leaves.
    pub root: Hash,
}

/// Partition heads that cannot form a ledger head.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartitionHeadError {
    #[error("topic name of {0} bytes is longer than a partition head can hold ({max})", max = u16::MAX)]
    TopicTooLong(usize),
    #[error("{0} has more than one partition head")]
    Repeated(TopicPartition),
    #[error("more partition heads than a tree can hold")]
    TooMany,
}

impl PartitionHead {
    pub fn new(partition: TopicPartition, tree_size: u64, root: Hash) -> Self {
        Self {
            partition,
            tree_size,
            root,
        }
    }

    /// The leaf input of this head (see the module documentation).
    pub fn encode(&self) -> Result<Vec<u8>, PartitionHeadError> {
        let topic = self.partition.topic.as_bytes();
        let topic_len = u16::try_from(topic.len())
            .map_err(|_| PartitionHeadError::TopicTooLong(topic.len()))?;
        let mut head = Vec::with_capacity(1 + 2 + topic.len() + 4 + 8 + 32);
        head.push(PARTITION_HEAD_FORMAT_V1);
        head.extend_from_slice(&topic_len.to_be_bytes());
        head.extend_from_slice(topic);
        head.extend_from_slice(&self.partition.partition.to_be_bytes());
        head.extend_from_slice(&self.tree_size.to_be_bytes());
        head.extend_from_slice(self.root.as_bytes());
        Ok(head)
    }

    /// `SHA-256(0x00 || encode())`.
    pub fn leaf_hash(&self) -> Result<Hash, PartitionHeadError> {
        Ok(leaf_hash(&self.encode()?))
    }
}

/// The tree over the partition heads, in `(topic, partition)` order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerHead {
    heads: Vec<PartitionHead>,
    tree: MemoryNodeStore,
}

/// One partition head's place in the ledger head, and its audit path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionHeadProof {
    /// Index of the head among the ledger head's leaves.
    pub index: u64,
    /// Number of partition heads in the ledger head.
    pub heads: u64,
    /// RFC 9162 inclusion proof of the head's leaf.
    pub path: Vec<Hash>,
}

impl LedgerHead {
    /// The ledger head of these partition heads, in any order given; each
    /// topic-partition at most once.
    pub fn new(heads: impl IntoIterator<Item = PartitionHead>) -> Result<Self, PartitionHeadError> {
        let mut heads: Vec<PartitionHead> = heads.into_iter().collect();
        heads.sort_by(|a, b| a.partition.cmp(&b.partition));
        if let Some(pair) = heads
            .windows(2)
            .find(|pair| pair[0].partition == pair[1].partition)
        {
            return Err(PartitionHeadError::Repeated(pair[0].partition.clone()));
        }
        let mut tree = MemoryNodeStore::new();
        for head in &heads {
            tree.append(head.leaf_hash()?)
                .map_err(|_| PartitionHeadError::TooMany)?;
        }
        Ok(Self { heads, tree })
    }

    /// The partition heads in leaf order.
    pub fn heads(&self) -> &[PartitionHead] {
        &self.heads
    }

    /// The ledger head root; `SHA-256("")` with no partitions.
    pub fn root(&self) -> Hash {
        if self.heads.is_empty() {
            return empty_root();
        }
        self.tree.root()
    }

    /// The inclusion proof of `partition`'s head, or `None` if the ledger
    /// head does not cover it.
    pub fn prove(&self, partition: &TopicPartition) -> Option<PartitionHeadProof> {
        let index = self
            .heads
            .binary_search_by(|head| head.partition.cmp(partition))
            .ok()?;
        let index = u64::try_from(index).ok()?;
        let heads = self.tree.tree_size();
        let path = inclusion_proof(&self.tree, index, heads).ok()?;
        Some(PartitionHeadProof { index, heads, path })
    }
}

/// The RFC 9162 root over `heads` in `(topic, partition)` order (see the
/// module documentation).
pub fn ledger_head(heads: &[PartitionHead]) -> Result<Hash, PartitionHeadError> {
    Ok(LedgerHead::new(heads.iter().cloned())?.root())
}

/// Why a partition head is not proven in a ledger head.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartitionHeadRejection {
    #[error(transparent)]
    Head(#[from] PartitionHeadError),
    #[error(transparent)]
    Proof(#[from] ProofFailure),
}

/// Verifies that `head` is the partition head at `proof.index` of the
/// ledger head `ledger_root` of `proof.heads` heads. `proof.heads` must come
/// from the same signed statement as `ledger_root`.
pub fn verify_partition_head(
    head: &PartitionHead,
    proof: &PartitionHeadProof,
    ledger_root: &Hash,
) -> Result<(), PartitionHeadRejection> {
    verify_inclusion(
        proof.index,
        proof.heads,
        &head.leaf_hash()?,
        &proof.path,
        ledger_root,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_layout_is_as_documented() {
        let root = Hash::from_bytes([7; 32]);
        let head = PartitionHead::new(TopicPartition::new("ab", 3), 0x0102, root);
        let expected: Vec<u8> = [
            &[0x01][..],
            &[0x00, 0x02],
            b"ab",
            &[0, 0, 0, 3],
            &[0, 0, 0, 0, 0, 0, 0x01, 0x02],
            &[7; 32],
        ]
        .concat();
        assert_eq!(head.encode().unwrap(), expected);
    }

    #[test]
    fn a_repeated_partition_is_refused() {
        let head = PartitionHead::new(TopicPartition::new("t", 0), 0, empty_root());
        assert_eq!(
            LedgerHead::new([head.clone(), head]).map(|h| h.root()),
            Err(PartitionHeadError::Repeated(TopicPartition::new("t", 0)))
        );
    }

    #[test]
    fn no_partitions_is_the_empty_root() {
        assert_eq!(ledger_head(&[]), Ok(empty_root()));
    }
}
