//! The evidence bundle: the machine-readable file an export produces and
//! `verify` checks without the server.
//!
//! ```json
//! {
//!   "format": "consent-ledger evidence v1",
//!   "rule_set_id": "...",
//!   "scope": { "...": "what the export is for (subject, campaign, range)" },
//!   "checkpoint": "<signed checkpoint note: the ledger head and every partition head>",
//!   "consistency": {
//!     "previous_checkpoint": "<signed note>",
//!     "partitions": [ { "partition": { "topic": "consent.grants", "partition": 2 },
//!                       "proof": ["<base64>", "..."] } ]
//!   },
//!   "records": [
//!     { "position": { "topic": "consent.grants", "partition": 2, "offset": 41 },
//!       "payload": "<base64 of the stored bytes>",
//!       "inclusion_proof": ["<base64>", "..."] }
//!   ],
//!   "decisions": [ { "...": "opaque here; recomputed by the caller's DecisionCheck" } ],
//!   "attachments": { "...": "opaque here, e.g. the rule set with its citations" },
//!   "manifest": "<signed evidence manifest note>"
//! }
//! ```
//!
//! A record is proven in two steps: its inclusion proof leads from its leaf
//! (position and exact stored bytes) to the root of its topic-partition's
//! tree at the size the checkpoint states (the leaf index is the offset),
//! and the checkpoint's partition heads recompute to its signed ledger
//! head. Records are listed in ascending `(topic, partition, offset)`
//! order. `consistency` is present only when the export was asked to link
//! to a previously published checkpoint: one RFC 9162 consistency proof per
//! partition of that checkpoint. Unknown fields are refused, so nothing
//! unverified can ride along in a bundle; `attachments` are covered by the
//! manifest's signature too.

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::digest::{json_digest, records_digest, sha256};
use crate::key::CheckpointSigner;
use crate::leaf::{record_leaf_hash, LeafError};
use crate::manifest::{InvalidRuleSetId, Manifest};
use crate::merkle::Hash;
use crate::note::{NoteError, SignedNote};
use consent_log::{LogPosition, TopicPartition};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `format` of bundles this crate writes and reads.
pub const BUNDLE_FORMAT_V1: &str = "consent-ledger evidence v1";

/// An evidence bundle (see the module documentation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBundle {
    pub format: String,
    pub rule_set_id: String,
    pub scope: Value,
    /// The signed checkpoint note every inclusion proof leads to.
    pub checkpoint: String,
    pub consistency: Option<ConsistencyEvidence>,
    pub records: Vec<IncludedRecord>,
    pub decisions: Vec<Value>,
    /// What else the export carries for readers (e.g. the rule set with its
    /// citations); signed by the manifest, not interpreted by the verifier.
    #[serde(default)]
    pub attachments: Value,
    /// The signed [`Manifest`] note.
    pub manifest: String,
}

/// One log record with its proof of inclusion in the checkpoint's tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncludedRecord {
    /// Where the record is; its offset is its leaf index in the
    /// topic-partition's tree.
    pub position: LogPosition,
    /// The record's bytes exactly as stored in the log.
    #[serde(with = "base64_bytes")]
    pub payload: Vec<u8>,
    /// RFC 9162 inclusion proof of the record's leaf in its
    /// topic-partition's tree, at the size the checkpoint states for it.
    pub inclusion_proof: Vec<Hash>,
}

/// Proofs that the bundle's checkpoint extends a previously published one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyEvidence {
    pub previous_checkpoint: String,
    /// One proof per partition of the previous checkpoint, in its order.
    pub partitions: Vec<PartitionConsistency>,
}

/// RFC 9162 consistency proof of one topic-partition's tree, from its size
/// in the previous checkpoint to its size in the bundle's checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionConsistency {
    pub partition: TopicPartition,
    pub proof: Vec<Hash>,
}

/// Everything in a bundle but the format and the manifest: what an export
/// assembles before sealing.
#[derive(Clone, Debug, PartialEq)]
pub struct BundleContents {
    pub rule_set_id: String,
    pub scope: Value,
    pub checkpoint: String,
    pub consistency: Option<ConsistencyEvidence>,
    pub records: Vec<IncludedRecord>,
    pub decisions: Vec<Value>,
    pub attachments: Value,
}

/// Why a bundle could not be sealed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleSealError {
    #[error(transparent)]
    RuleSetId(#[from] InvalidRuleSetId),
    #[error("the bundle's checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("record {record} cannot be a leaf: {source}")]
    Leaf {
        record: usize,
        #[source]
        source: LeafError,
    },
    #[error("the manifest must be signed by the checkpoint's log {origin}, not {signer}")]
    SignerIsNotOrigin { origin: String, signer: String },
    #[error("signing the manifest: {0}")]
    Note(#[from] NoteError),
}

/// A bundle file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("the bundle is not valid evidence JSON at {path}: {message}")]
pub struct BundleReadError {
    pub path: String,
    pub message: String,
}

impl BundleContents {
    /// The manifest these contents would be sealed with.
    pub fn manifest(&self) -> Result<Manifest, BundleSealError> {
        let leaf_hashes = self
            .records
            .iter()
            .enumerate()
            .map(|(record, included)| {
                record_leaf_hash(&included.position, &included.payload)
                    .map_err(|source| BundleSealError::Leaf { record, source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Manifest {
            checkpoint: sha256(self.checkpoint.as_bytes()),
            previous_checkpoint: self
                .consistency
                .as_ref()
                .map(|c| sha256(c.previous_checkpoint.as_bytes())),
            rule_set_id: self.rule_set_id.clone(),
            scope: json_digest(&self.scope),
            record_count: self.records.len() as u64,
            records: records_digest(&leaf_hashes),
            decision_count: self.decisions.len() as u64,
            decisions: json_digest(&Value::Array(self.decisions.clone())),
            attachments: json_digest(&self.attachments),
        })
    }

    /// Signs the manifest with the log's key (the checkpoint's origin) and
    /// returns the finished bundle. Records should be in ascending
    /// `(topic, partition, offset)` order; the verifier refuses any other.
    pub fn seal(self, signer: &CheckpointSigner) -> Result<EvidenceBundle, BundleSealError> {
        let (checkpoint, _) = Checkpoint::parse_unverified(&self.checkpoint)?;
        if signer.name() != checkpoint.origin {
            return Err(BundleSealError::SignerIsNotOrigin {
                origin: checkpoint.origin,
                signer: signer.name().to_owned(),
            });
        }
        let manifest = SignedNote::sign(&self.manifest()?.to_text()?, &[signer])?;
        Ok(EvidenceBundle {
            format: BUNDLE_FORMAT_V1.to_owned(),
            rule_set_id: self.rule_set_id,
            scope: self.scope,
            checkpoint: self.checkpoint,
            consistency: self.consistency,
            records: self.records,
            decisions: self.decisions,
            attachments: self.attachments,
            manifest,
        })
    }
}

impl EvidenceBundle {
    /// Reads a bundle file's JSON; the error names the path of the bad part
    /// (e.g. `records[3].payload`).
    pub fn from_json(bytes: &[u8]) -> Result<Self, BundleReadError> {
        let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(deserializer).map_err(|error| BundleReadError {
            path: error.path().to_string(),
            message: error.into_inner().to_string(),
        })
    }

    /// The bundle file's JSON, indented for people.
    pub fn to_json_pretty(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec_pretty(self)
    }

    /// The contents without format and manifest (e.g. to re-seal).
    pub fn contents(&self) -> BundleContents {
        BundleContents {
            rule_set_id: self.rule_set_id.clone(),
            scope: self.scope.clone(),
            checkpoint: self.checkpoint.clone(),
            consistency: self.consistency.clone(),
            records: self.records.clone(),
            decisions: self.decisions.clone(),
            attachments: self.attachments.clone(),
        }
    }
}

mod base64_bytes {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD
            .decode(text)
            .map_err(|error| serde::de::Error::custom(format!("not standard base64: {error}")))
    }
}
