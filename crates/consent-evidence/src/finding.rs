//! What a verification found wrong, one finding per problem, each naming
//! the record (its place in the bundle and its log position), the
//! signed document or the manifest line concerned.

use crate::manifest::ManifestField;
use consent_log::{LogPosition, TopicPartition};
use serde::Serialize;
use std::fmt;

/// The signed documents in a bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignedDocument {
    Checkpoint,
    PreviousCheckpoint,
    Manifest,
}

impl fmt::Display for SignedDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Checkpoint => "checkpoint",
            Self::PreviousCheckpoint => "previous checkpoint",
            Self::Manifest => "evidence manifest",
        })
    }
}

/// One problem found in a bundle. A bundle passes when there is none.
///
/// `record` is the record's place in the bundle's `records` list (from 0).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    #[error("the bundle cannot be read: {reason}")]
    Unreadable { reason: String },

    #[error("the bundle format is {found:?}; this verifier reads {expected:?}")]
    UnsupportedFormat { found: String, expected: String },

    #[error("the {document} is malformed: {reason}")]
    Malformed {
        document: SignedDocument,
        reason: String,
    },

    #[error(
        "the {document} is not signed by a trusted key (signed by: {})",
        list(signers)
    )]
    NotSignedByTrustedKey {
        document: SignedDocument,
        signers: Vec<String>,
    },

    #[error("the {document}'s signature by trusted key {key} does not verify: it was altered")]
    BadSignature {
        document: SignedDocument,
        key: String,
    },

    #[error("the {document} belongs to log {found}, not to the bundle's log {expected}")]
    OtherLog {
        document: SignedDocument,
        expected: String,
        found: String,
    },

    #[error("record {record} ({position}) is listed again (first as record {first_record})")]
    DuplicateRecord {
        record: usize,
        position: LogPosition,
        first_record: usize,
    },

    #[error("record {record} ({position}) is listed after {previous}; records must be in (topic, partition, offset) order")]
    RecordOutOfOrder {
        record: usize,
        position: LogPosition,
        previous: LogPosition,
    },

    #[error("record {record} ({position}): cannot be a leaf: {reason}")]
    RecordUnencodable {
        record: usize,
        position: LogPosition,
        reason: String,
    },

    #[error("record {record} ({position}): not proven to be in the checkpoint's log: {reason}")]
    InclusionProofFailed {
        record: usize,
        position: LogPosition,
        reason: String,
    },

    #[error("{partition}: the checkpoint's tree of {new_size} records is not proven to extend the previous checkpoint's of {old_size}: {reason}")]
    ConsistencyProofFailed {
        partition: TopicPartition,
        old_size: u64,
        new_size: u64,
        reason: String,
    },

    #[error("the signed manifest's {field} is {signed}, but the bundle's is {found}")]
    ManifestMismatch {
        field: ManifestField,
        signed: String,
        found: String,
    },

    #[error("decision{}: {message}", decision.map(|d| format!(" {d}")).unwrap_or_default())]
    Decision {
        /// The decision's place in the bundle's `decisions` (from 0), when
        /// the problem is about one decision.
        decision: Option<usize>,
        message: String,
    },
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "nobody".to_owned()
    } else {
        items.join(", ")
    }
}
