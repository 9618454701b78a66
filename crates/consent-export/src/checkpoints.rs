//! Signing checkpoints over the ledger head.
//!
//! A [`Checkpointer`] signs what the projector has committed: every
//! followed partition's tree size and root, and the ledger head over them
//! (see `consent_evidence::checkpoint`). Its caller decides when: the
//! server signs on a schedule (only when the head moved) and on demand
//! (`POST /v1/checkpoints`, and before every export). Time is an argument.

use crate::archive::{ArchiveError, CheckpointArchive};
use consent_evidence::{Checkpoint, CheckpointError, CheckpointSigner, VerifierKey};
use consent_projector::ProjectionHandle;
use std::sync::{Arc, Mutex};

/// A checkpoint and its signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub note: String,
    pub checkpoint: Checkpoint,
}

/// Why a checkpoint could not be signed or loaded.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointingError {
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("the archived checkpoint is not this ledger's: {0}")]
    Foreign(CheckpointError),
}

/// Signs checkpoints of one ledger and remembers the latest.
#[derive(Clone)]
pub struct Checkpointer {
    signer: Arc<CheckpointSigner>,
    projection: ProjectionHandle,
    archive: CheckpointArchive,
    latest: Arc<Mutex<Option<SignedCheckpoint>>>,
}

impl std::fmt::Debug for Checkpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointer")
            .field("origin", &self.signer.name())
            .field("archive", &self.archive.dir())
            .finish_non_exhaustive()
    }
}

impl Checkpointer {
    /// A checkpointer signing with `signer` what `projection` reports, and
    /// storing every checkpoint in `archive`. The archive's latest note
    /// must be signed by this key.
    pub fn new(
        signer: CheckpointSigner,
        projection: ProjectionHandle,
        archive: CheckpointArchive,
    ) -> Result<Self, CheckpointingError> {
        let latest = match archive.latest()? {
            Some(note) => {
                let (checkpoint, _) = Checkpoint::open(&note, &[signer.verifier_key()])
                    .map_err(CheckpointingError::Foreign)?;
                Some(SignedCheckpoint { note, checkpoint })
            }
            None => None,
        };
        Ok(Self {
            signer: Arc::new(signer),
            projection,
            archive,
            latest: Arc::new(Mutex::new(latest)),
        })
    }

    /// The key to publish so that others can verify this ledger's
    /// checkpoints and bundles.
    pub fn verifier_key(&self) -> VerifierKey {
        self.signer.verifier_key()
    }

    pub fn signer(&self) -> &CheckpointSigner {
        &self.signer
    }

    /// The latest checkpoint signed (this run or an earlier one).
    pub fn latest(&self) -> Option<SignedCheckpoint> {
        self.lock().clone()
    }

    /// Signs a checkpoint of what the view has committed now, at
    /// `now_ms`, and archives it; when nothing changed since the latest
    /// checkpoint, returns that one instead.
    pub fn sign(&self, now_ms: u64) -> Result<SignedCheckpoint, CheckpointingError> {
        let heads = self.projection.partition_heads();
        let mut latest = self.lock();
        if let Some(previous) = latest.as_ref() {
            if previous.checkpoint.partitions == heads {
                return Ok(previous.clone());
            }
        }
        // Checkpoints are named by time: never two at the same instant, and
        // never one before the latest.
        let timestamp_ms = latest.as_ref().map_or(now_ms, |previous| {
            now_ms.max(previous.checkpoint.timestamp_ms + 1)
        });
        let checkpoint = Checkpoint::over(self.signer.name(), heads, timestamp_ms)?;
        let note = checkpoint.sign(&self.signer)?;
        self.archive.store(timestamp_ms, &note)?;
        tracing::info!(
            origin = %checkpoint.origin,
            ledger_head = %checkpoint.root_hash,
            partitions = checkpoint.tree_size,
            records = checkpoint.records(),
            timestamp_ms,
            "signed a checkpoint"
        );
        let signed = SignedCheckpoint { note, checkpoint };
        *latest = Some(signed.clone());
        Ok(signed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<SignedCheckpoint>> {
        // A poisoned lock only means a panic elsewhere mid-update of an
        // Option that is replaced whole; its value is still coherent.
        self.latest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
