//! The RFC 9162 tree of each followed topic-partition, kept with the view.
//!
//! Leaf `i` of a topic-partition's tree is the record at offset `i`, hashed
//! with [`record_leaf_hash`] (its position and exact stored bytes): every
//! record the projector consumes, dead letters and records it reads past
//! unfolded included. The order therefore comes from the log alone, so a
//! rebuild computes the same trees (see [`consent_evidence::ledger_head`]).
//!
//! Invariants:
//! * a tree's size equals its topic-partition's stored offset;
//! * offsets are dense: a record beyond the tree's next leaf is a gap in
//!   the log and stops the projector ([`ProjectorError::OffsetGap`]); a
//!   record below it was consumed already and is not appended again;
//! * new nodes and frontiers are written in the same [`ViewBatch`] as the
//!   states and offsets, and adopted in memory only once that commit
//!   succeeded.
//!
//! [`ViewBatch`]: consent_store::ViewBatch

use crate::error::ProjectorError;
use consent_evidence::merkle::{Frontier, Hash, NodeAddress};
use consent_evidence::{record_leaf_hash, LedgerHead, PartitionHead};
use consent_log::{LogRecord, TopicPartition};
use consent_store::RecordRun;
use consent_store::{StoreError, StoredOffsets, ViewStore};
use std::collections::{BTreeMap, BTreeSet};

/// The frontiers of the followed topic-partitions' trees, as committed.
#[derive(Clone, Debug, Default)]
pub struct PartitionTrees {
    frontiers: BTreeMap<TopicPartition, Frontier>,
}

/// Stored frontiers per followed topic-partition, as read.
pub type StoredFrontiers = BTreeMap<TopicPartition, Option<Frontier>>;

/// What appending one batch of records produced, not yet committed.
#[derive(Debug, Default)]
pub struct TreeAppend {
    /// Completed nodes to store.
    pub nodes: Vec<(TopicPartition, NodeAddress, Hash)>,
    /// The new frontiers of the topic-partitions the batch touched.
    pub frontiers: Vec<(TopicPartition, Frontier)>,
    /// The records appended as leaves, per topic-partition.
    pub records: Vec<RecordRun>,
}

impl PartitionTrees {
    /// Reads the stored frontiers of `followed` (`None`: none stored).
    pub fn read(
        store: &dyn ViewStore,
        followed: &BTreeSet<TopicPartition>,
    ) -> Result<StoredFrontiers, StoreError> {
        followed
            .iter()
            .map(|partition| Ok((partition.clone(), store.merkle_frontier(partition)?)))
            .collect()
    }

    /// The trees to resume from: each stored frontier must have the size of
    /// its topic-partition's stored offset (an absent frontier is an empty
    /// tree, so only an offset of 0 goes with it).
    pub fn resume(
        stored: StoredFrontiers,
        offsets: &StoredOffsets,
    ) -> Result<Self, ProjectorError> {
        let mut frontiers = BTreeMap::new();
        for (partition, frontier) in stored {
            let frontier = frontier.unwrap_or_default();
            let offset = offsets.get(&partition).copied().unwrap_or(0);
            if frontier.size() != offset {
                return Err(ProjectorError::TreeOutOfStep {
                    partition,
                    offset,
                    tree_size: frontier.size(),
                });
            }
            frontiers.insert(partition, frontier);
        }
        Ok(Self { frontiers })
    }

    /// Appends each record's leaf to its topic-partition's tree, on copies
    /// of the committed frontiers.
    pub fn append(&self, records: &[LogRecord]) -> Result<TreeAppend, ProjectorError> {
        let mut touched: BTreeMap<TopicPartition, Frontier> = BTreeMap::new();
        let mut runs: BTreeMap<TopicPartition, RecordRun> = BTreeMap::new();
        let mut nodes = Vec::with_capacity(records.len().saturating_mul(2));
        for record in records {
            let partition = record.position.topic_partition();
            let frontier = match touched.get_mut(&partition) {
                Some(frontier) => frontier,
                None => {
                    let committed = self.frontiers.get(&partition).cloned().unwrap_or_default();
                    touched.entry(partition.clone()).or_insert(committed)
                }
            };
            let next = frontier.size();
            let offset = record.position.offset;
            if offset < next {
                // Delivered again: it is a leaf already.
                continue;
            }
            if offset > next {
                return Err(ProjectorError::OffsetGap {
                    partition,
                    expected: next,
                    found: offset,
                });
            }
            let leaf = record_leaf_hash(&record.position, &record.payload).map_err(|source| {
                ProjectorError::Leaf {
                    position: record.position.clone(),
                    source,
                }
            })?;
            let completed = frontier
                .append(leaf)
                .map_err(|_| ProjectorError::TreeFull(partition.clone()))?;
            nodes.extend(
                completed
                    .into_iter()
                    .map(|(address, hash)| (partition.clone(), address, hash)),
            );
            runs.entry(partition)
                .or_insert_with_key(|partition| RecordRun {
                    partition: partition.clone(),
                    first_offset: offset,
                    payloads: Vec::new(),
                })
                .payloads
                .push(record.payload.clone());
        }
        Ok(TreeAppend {
            nodes,
            frontiers: touched.into_iter().collect(),
            records: runs.into_values().collect(),
        })
    }

    /// Adopts the frontiers of a committed [`TreeAppend`].
    pub fn commit(&mut self, frontiers: Vec<(TopicPartition, Frontier)>) {
        self.frontiers.extend(frontiers);
    }

    /// Size and root of every tree, in `(topic, partition)` order.
    pub fn heads(&self) -> Vec<PartitionHead> {
        self.frontiers
            .iter()
            .map(|(partition, frontier)| {
                PartitionHead::new(partition.clone(), frontier.size(), frontier.root())
            })
            .collect()
    }

    /// The partition heads and the ledger head over them.
    pub fn ledger_head(&self) -> Result<(Vec<PartitionHead>, Hash), ProjectorError> {
        let heads = self.heads();
        let root = LedgerHead::new(heads.iter().cloned())?.root();
        Ok((heads, root))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_log::LogPosition;

    fn record(offset: u64) -> LogRecord {
        LogRecord {
            position: LogPosition::new("t.grants", 0, offset),
            key: Vec::new(),
            payload: vec![1, 2, 3],
            headers: Vec::new(),
            timestamp_ms: 0,
        }
    }

    #[test]
    fn a_gap_in_the_offsets_stops_the_projector() {
        let trees = PartitionTrees::default();
        match trees.append(&[record(0), record(1), record(3)]) {
            Err(ProjectorError::OffsetGap {
                partition,
                expected,
                found,
            }) => {
                assert_eq!(partition, TopicPartition::new("t.grants", 0));
                assert_eq!((expected, found), (2, 3));
            }
            other => panic!("expected an offset gap, got {other:?}"),
        }
    }

    #[test]
    fn a_record_delivered_again_is_not_a_second_leaf() {
        let mut trees = PartitionTrees::default();
        let first = trees.append(&[record(0), record(1)]).expect("append");
        trees.commit(first.frontiers);
        let again = trees.append(&[record(1), record(2)]).expect("append");
        assert_eq!(again.frontiers[0].1.size(), 3);
        assert_eq!(again.nodes.first().map(|n| n.1), Some(NodeAddress::leaf(2)));
    }

    #[test]
    fn stored_frontiers_must_match_the_offsets() {
        let partition = TopicPartition::new("t.grants", 0);
        let stored: StoredFrontiers = [(partition.clone(), None)].into();
        let offsets: StoredOffsets = [(partition, 4)].into();
        let error = PartitionTrees::resume(stored, &offsets).expect_err("out of step");
        assert!(error.requires_rebuild());
    }
}
