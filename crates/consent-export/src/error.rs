use crate::checkpoints::CheckpointingError;
use crate::fetch::FetchError;
use consent_domain::rules::UnknownRuleSet;
use consent_evidence::{BundleSealError, CheckpointError};
use consent_log::TopicPartition;
use consent_schema::ValidationError;
use consent_store::StoreError;

/// Why an export could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("invalid export request: {0}")]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    UnknownRuleSet(#[from] UnknownRuleSet),
    #[error("the view: {0}")]
    Store(#[from] StoreError),
    #[error("reading organisation facts from the log: {0}")]
    Fetch(#[from] FetchError),
    #[error("checkpoint: {0}")]
    Checkpointing(#[from] CheckpointingError),
    #[error("previous_checkpoint is not a checkpoint signed by this ledger: {0}")]
    ForeignPreviousCheckpoint(CheckpointError),
    #[error("previous_checkpoint is not an earlier state of this log: {partition} had {old_size} records then but has {new_size} now")]
    PreviousCheckpointAhead {
        partition: TopicPartition,
        old_size: u64,
        new_size: u64,
    },
    #[error("the view is behind the checkpoint on {0} (rebuilding?); retry when it has caught up")]
    ViewBehindCheckpoint(TopicPartition),
    #[error(
        "a tree node the proof needs is missing from the view ({0}); the view needs a rebuild"
    )]
    MissingNode(String),
    #[error("sealing the bundle: {0}")]
    Seal(#[from] BundleSealError),
}
