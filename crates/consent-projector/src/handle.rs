//! Read-your-writes for the rest of the service: which log positions the
//! view has applied, and waiting until it has applied some.

use crate::ownership::OwnedPartitions;
use crate::status::{lag, Lag, ProjectionStatus};
use consent_evidence::{Hash, PartitionHead};
use consent_log::{EndOffsets, LogPosition, TopicPartition};
use consent_store::StoredOffsets;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// A cheap, cloneable view of a running projector's progress. It is updated
/// after every committed batch, so a position reported applied is in the
/// view store.
#[derive(Clone, Debug)]
pub struct ProjectionHandle {
    status: watch::Receiver<ProjectionStatus>,
    ownership: OwnedPartitions,
    followed: Arc<BTreeSet<TopicPartition>>,
}

/// [`ProjectionHandle::wait_for`] gave up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the view has not applied {} of the awaited log positions after {waited:?}{}", pending.len(), if *projector_stopped { " (the projector has stopped)" } else { "" })]
pub struct WaitTimeout {
    /// The positions not yet applied.
    pub pending: Vec<LogPosition>,
    pub waited: Duration,
    /// The projector was dropped: no further progress can come, so the
    /// wait ended before its timeout.
    pub projector_stopped: bool,
}

impl ProjectionHandle {
    pub(crate) fn new(
        status: watch::Receiver<ProjectionStatus>,
        ownership: OwnedPartitions,
        followed: Arc<BTreeSet<TopicPartition>>,
    ) -> Self {
        Self {
            status,
            ownership,
            followed,
        }
    }

    /// The partitions the projector's instance owns.
    pub fn ownership(&self) -> &OwnedPartitions {
        &self.ownership
    }

    /// Whether the projector reads `partition` (so a position there will be
    /// applied in time).
    pub fn follows(&self, partition: &TopicPartition) -> bool {
        self.followed.contains(partition)
    }

    /// `end` restricted to the topic-partitions the projector reads.
    pub fn followed_offsets(&self, end: &EndOffsets) -> EndOffsets {
        end.iter()
            .filter(|(partition, _)| self.follows(partition))
            .map(|(partition, offset)| (partition.clone(), *offset))
            .collect()
    }

    /// The offsets committed with the view (next offset to read).
    pub fn applied_offsets(&self) -> StoredOffsets {
        self.status.borrow().applied.clone()
    }

    /// Size and root of each followed topic-partition's Merkle tree, as
    /// committed with the view, in `(topic, partition)` order.
    pub fn partition_heads(&self) -> Vec<PartitionHead> {
        self.status.borrow().partition_heads.clone()
    }

    /// The ledger head root over [`ProjectionHandle::partition_heads`];
    /// `None` until the projector has started.
    pub fn ledger_head(&self) -> Option<Hash> {
        self.status.borrow().ledger_head
    }

    pub fn status(&self) -> ProjectionStatus {
        self.status.borrow().clone()
    }

    /// Whether the projector is gone (it stopped, on an error or when told
    /// to): the view will not move any more.
    pub fn projector_stopped(&self) -> bool {
        self.status.has_changed().is_err()
    }

    /// The total of [`ProjectionHandle::lag`]: records of `end` on the
    /// followed topic-partitions the view has not applied yet. Allocates
    /// nothing and clones nothing, so a check can afford it.
    pub fn records_behind(&self, end: &EndOffsets) -> u64 {
        let status = self.status.borrow();
        // `end`, the followed set and the applied offsets are all sorted by
        // topic-partition: one merge pass, with no lookup per partition.
        let mut followed = self.followed.iter().peekable();
        let mut applied = status.applied.iter().peekable();
        let mut behind = 0u64;
        for (partition, end) in end {
            while followed.next_if(|f| *f < partition).is_some() {}
            if followed.next_if_eq(&partition).is_none() {
                continue;
            }
            while applied.next_if(|(p, _)| *p < partition).is_some() {}
            let done = applied
                .next_if(|(p, _)| *p == partition)
                .map_or(0, |(_, offset)| *offset);
            behind = behind.saturating_add(end.saturating_sub(done));
        }
        behind
    }

    /// How far the view is behind `end` on the topic-partitions the
    /// projector reads (the others are not its to apply).
    pub fn lag(&self, end: &EndOffsets) -> Lag {
        lag(&self.status.borrow().applied, &self.followed_offsets(end))
    }

    /// Waits until the view has applied every position (for each, the
    /// committed next offset of its topic-partition is beyond it), or
    /// `timeout` passes.
    pub async fn wait_for(
        &self,
        positions: &[LogPosition],
        timeout: Duration,
    ) -> Result<(), WaitTimeout> {
        let mut status = self.status.clone();
        let pending = |status: &ProjectionStatus| -> Vec<LogPosition> {
            positions
                .iter()
                .filter(|p| !status.has_applied(p))
                .cloned()
                .collect()
        };
        let started = tokio::time::Instant::now();
        let waited = tokio::time::timeout(timeout, async {
            loop {
                if pending(&status.borrow_and_update()).is_empty() {
                    return Ok(());
                }
                if status.changed().await.is_err() {
                    return Err(());
                }
            }
        })
        .await;
        let projector_stopped = match waited {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(())) => true,
            Err(_elapsed) => false,
        };
        let pending = pending(&status.borrow());
        if pending.is_empty() {
            return Ok(());
        }
        Err(WaitTimeout {
            pending,
            waited: started.elapsed(),
            projector_stopped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::ProjectionStatus;

    fn partition(topic: &str, partition: u32) -> TopicPartition {
        TopicPartition::new(topic, partition)
    }

    #[test]
    fn records_behind_sums_the_lag_of_the_followed_partitions_only() {
        let followed: BTreeSet<_> = [partition("a", 0), partition("a", 2), partition("b", 1)]
            .into_iter()
            .collect();
        let applied = [
            (partition("a", 0), 7),
            (partition("a", 1), 1),
            (partition("b", 1), 9),
            (partition("c", 0), 4),
        ]
        .into_iter()
        .collect();
        let end: EndOffsets = [
            (partition("a", 0), 10), // 3 behind
            (partition("a", 1), 50), // not followed
            (partition("a", 2), 5),  // never applied: 5 behind
            (partition("b", 0), 8),  // not followed
            (partition("b", 1), 9),  // caught up
        ]
        .into_iter()
        .collect();
        let (_sender, status) = watch::channel(ProjectionStatus {
            applied,
            ..ProjectionStatus::default()
        });
        let handle = ProjectionHandle::new(status, OwnedPartitions::All, Arc::new(followed));
        assert_eq!(handle.records_behind(&end), 8);
        assert_eq!(handle.records_behind(&end), handle.lag(&end).total);
        assert_eq!(handle.records_behind(&EndOffsets::new()), 0);
    }
}
