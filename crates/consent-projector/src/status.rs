//! What the projector has done, as readers see it.

use consent_evidence::{Hash, PartitionHead};
use consent_log::{EndOffsets, LogPosition, TopicPartition};
use consent_store::StoredOffsets;
use std::collections::BTreeMap;
use std::time::Instant;

/// The projector's progress and counters since it started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectionStatus {
    /// Next offset to read per topic-partition, as committed with the view.
    /// Empty until the projector has started.
    pub applied: StoredOffsets,
    /// Records that could not be decoded or validated.
    pub dead_letters: u64,
    /// Notices appended to the opt-out feed (again after a restart or a
    /// rebuild: the feed is at least once).
    pub opt_out_notices: u64,
    /// Events whose id was already known with different content.
    pub conflicts: u64,
    /// Valid events folded into the view.
    pub events_applied: u64,
    /// Batches committed.
    pub batches: u64,
    /// Size and RFC 9162 root of each followed topic-partition's tree, in
    /// `(topic, partition)` order, as committed with the view. Empty until
    /// the projector has started.
    pub partition_heads: Vec<PartitionHead>,
    /// The ledger head over `partition_heads`
    /// ([`consent_evidence::ledger_head`]); `None` until started.
    pub ledger_head: Option<Hash>,
    /// Set while the projector's steps fail (cleared by the next step that
    /// succeeds), and for good when it stopped on a permanent error.
    pub failure: Option<ProjectionFailure>,
}

/// The projector cannot make progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectionFailure {
    /// What failed last.
    pub cause: FailureCause,
    /// The last error.
    pub error: String,
    /// When the first of the failed steps since the last success failed.
    pub since: Instant,
    /// The projector stopped on an error retrying cannot fix (the view must
    /// be rebuilt or the configuration fixed): no further step will run.
    pub stopped: bool,
}

/// Which part failed a projector step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureCause {
    /// Reading the log (or appending a dead letter to it).
    Log,
    /// Reading or writing the view store: the view cannot be written.
    View,
    /// The records themselves (an offset gap, a tree that does not fit).
    Records,
}

impl ProjectionStatus {
    /// Has the view applied the record at `position`?
    pub fn has_applied(&self, position: &LogPosition) -> bool {
        self.applied
            .get(&position.topic_partition())
            .is_some_and(|next| *next > position.offset)
    }

    /// How far the view is behind the given log end offsets.
    pub fn lag(&self, end: &EndOffsets) -> Lag {
        lag(&self.applied, end)
    }
}

/// Records not yet applied, per topic-partition and in total.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lag {
    pub partitions: BTreeMap<TopicPartition, u64>,
    pub total: u64,
}

/// Records between `applied` and `end` per topic-partition of `end` (a
/// partition missing from `applied` counts from offset 0).
pub fn lag(applied: &StoredOffsets, end: &EndOffsets) -> Lag {
    let partitions: BTreeMap<TopicPartition, u64> = end
        .iter()
        .map(|(partition, end)| {
            let applied = applied.get(partition).copied().unwrap_or(0);
            (partition.clone(), end.saturating_sub(applied))
        })
        .collect();
    let total = partitions
        .values()
        .fold(0u64, |sum, behind| sum.saturating_add(*behind));
    Lag { partitions, total }
}

/// Progress of a catch-up (a rebuild is a catch-up from offset 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectionProgress {
    /// Records consumed since the catch-up started.
    pub records_done: u64,
    /// Records between the view and the log end observed at the start.
    pub records_total: u64,
    pub events_applied: u64,
    pub dead_letters: u64,
}
