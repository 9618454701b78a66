//! What can go wrong in a replay. None of it is about one event: a record
//! that cannot be read is counted and reported ([`RecordRejected`]), never
//! fatal.
//!
//! Each message includes its cause's text, so the causes are fields, not
//! `source()`s: a report of the chain would say everything twice.

use consent_domain::rules::UnknownRuleSet;
use consent_domain::{EventPosition, OrganisationId};
use consent_schema::ValidationError;

/// The plan cannot be replayed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The baseline or candidate names a rule set the catalogue lacks.
    #[error("the {side} names an unknown rule set: {error}")]
    UnknownRuleSet {
        /// `baseline` or `candidate`.
        side: &'static str,
        error: UnknownRuleSet,
    },
}

/// A stored record the replay could not use. Counted in the report, with
/// the first ones as samples.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("record at {position} skipped: {reason}")]
pub struct RecordRejected {
    pub position: EventPosition,
    /// `undecodable: ...` (not a `consent.v1.Envelope`) or `invalid: ...`
    /// (refused by validation, naming the field).
    pub reason: String,
}

/// A similarity-override file is not a JSON object of organisation id to
/// `consent.v1.ProductCategoriesDefined` in proto3 JSON, or a map in it
/// would not pass the ledger's validation.
#[derive(Debug, thiserror::Error)]
pub enum SimilarityFileError {
    #[error(
        "not a JSON object of organisation id to consent.v1.ProductCategoriesDefined \
         (proto3 JSON, e.g. {{\"shop\": {{\"categories\": [{{\"id\": \"tea\", \"similarCategoryIds\": [\"teapots\"]}}]}}}}): {0}"
    )]
    Json(serde_json::Error),
    #[error("the similarity map for organisation `{organisation}` is invalid: {error}")]
    Invalid {
        organisation: OrganisationId,
        error: ValidationError,
    },
}
