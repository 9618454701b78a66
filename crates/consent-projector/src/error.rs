use consent_evidence::{LeafError, PartitionHeadError};
use consent_log::{LogError, LogPosition, TopicPartition};
use consent_store::StoreError;

const REBUILD: &str = "rebuild the view from the log with `consent-ledger rebuild`";

/// Why the projector could not start or step.
#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    /// The view was built for another log layout (more topics or
    /// partitions now). Reading the new partitions from "latest" would
    /// silently skip facts, so the projector refuses.
    #[error("the view has no offset for {partition}, which the log layout has: the view was built for another layout; {REBUILD}")]
    MissingOffset { partition: TopicPartition },
    /// The view has consumed past the end of the log: the log was
    /// truncated or replaced, and the view holds facts the log no longer
    /// has.
    #[error("the view has consumed {partition} up to offset {stored} but the log ends at {end}: the log was truncated or replaced; {REBUILD}")]
    OffsetBeyondLogEnd {
        partition: TopicPartition,
        stored: u64,
        end: u64,
    },
    /// The view follows a topic-partition the log layout does not have
    /// (fewer partitions, or another topic prefix).
    #[error("the view follows {partition}, which is not in the log layout: the view was built for another layout; {REBUILD}")]
    UnknownPartition { partition: TopicPartition },
    /// The view was built for other owned partitions than this instance is
    /// configured with. Following the new set from the stored offsets would
    /// leave partitions never read (a silent gap) or stale.
    #[error("the view was built owning partitions {view} of the log, but this instance is configured to own {configured} (--own-partitions): rebuild the view for the new ownership with `consent-ledger rebuild --own-partitions {configured}` on this data directory, or start again with --own-partitions {view}")]
    OwnershipMismatch { view: String, configured: String },
    /// The configured owned partitions name one the log does not have.
    #[error("--own-partitions names partition {partition}, but the log has partitions 0-{last} (--partitions {partitions})", last = partitions.saturating_sub(1))]
    OwnedPartitionOutsideLayout { partition: u32, partitions: u32 },
    /// The view's tree of a topic-partition does not have one leaf per
    /// consumed offset.
    #[error("the view's Merkle tree of {partition} has {tree_size} leaves but the view has consumed {offset} records there; {REBUILD}")]
    TreeOutOfStep {
        partition: TopicPartition,
        offset: u64,
        tree_size: u64,
    },
    /// The log skipped offsets. Leaf `i` of a topic-partition's tree is the
    /// record at offset `i`, so a gap cannot be put in the tree: the
    /// projector stops rather than publish a tree that does not match the
    /// log's offsets.
    #[error("the log skips offsets on {partition}: expected offset {expected}, read {found}; the ledger's logs must have dense offsets (no compaction, no transactions)")]
    OffsetGap {
        partition: TopicPartition,
        expected: u64,
        found: u64,
    },
    #[error("the record at {position} cannot be a Merkle leaf: {source}")]
    Leaf {
        position: LogPosition,
        #[source]
        source: LeafError,
    },
    #[error("the Merkle tree of {0} is full")]
    TreeFull(TopicPartition),
    #[error("the partition heads cannot form a ledger head: {0}")]
    PartitionHead(#[from] PartitionHeadError),
    #[error("log error: {0}")]
    Log(#[from] LogError),
    /// Appending to the dead-letter topic failed; the batch was not
    /// committed and will be read again.
    #[error("could not append to the dead-letter topic (the batch was not committed): {0}")]
    DeadLetter(#[source] LogError),
    /// Appending to the opt-out feed failed; the batch was not committed
    /// and will be read again.
    #[error("could not append to the opt-out feed (the batch was not committed): {0}")]
    OptOutFeed(#[source] LogError),
    #[error("view store error: {0}")]
    Store(#[from] StoreError),
    #[error("a view store task failed: {0}")]
    Task(String),
}

impl ProjectorError {
    /// Which part failed: the log, the view store, or the records read.
    pub fn cause(&self) -> crate::status::FailureCause {
        use crate::status::FailureCause;
        match self {
            ProjectorError::Log(_)
            | ProjectorError::DeadLetter(_)
            | ProjectorError::OptOutFeed(_) => FailureCause::Log,
            ProjectorError::Store(_) | ProjectorError::Task(_) => FailureCause::View,
            _ => FailureCause::Records,
        }
    }

    /// The view cannot be used until it is rebuilt from the log; retrying
    /// will not help.
    pub fn requires_rebuild(&self) -> bool {
        matches!(
            self,
            ProjectorError::MissingOffset { .. }
                | ProjectorError::OffsetBeyondLogEnd { .. }
                | ProjectorError::UnknownPartition { .. }
                | ProjectorError::OwnershipMismatch { .. }
                | ProjectorError::TreeOutOfStep { .. }
                | ProjectorError::Store(StoreError::Corrupt { .. })
                | ProjectorError::Store(StoreError::FormatVersion { .. })
        )
    }

    /// Retrying cannot help: the view must be rebuilt, or the
    /// configuration fixed.
    pub fn is_permanent(&self) -> bool {
        self.requires_rebuild()
            || matches!(
                self,
                ProjectorError::OwnedPartitionOutsideLayout { .. }
                    | ProjectorError::OffsetGap { .. }
                    | ProjectorError::Leaf { .. }
                    | ProjectorError::TreeFull(_)
                    | ProjectorError::PartitionHead(_)
            )
    }
}
