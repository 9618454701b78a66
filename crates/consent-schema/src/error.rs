//! Why an envelope or request was refused.

/// A message that does not describe a fact (or question) the ledger can
/// decide on: which field, and why.
///
/// `field` is the path of the offending field in the protobuf message, with
/// proto field names and list indices, e.g. `consent_given.channels[1]` or
/// `subject_id`. `envelope` names the message as a whole (its size).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid `{field}`: {reason}")]
pub struct ValidationError {
    pub field: String,
    pub reason: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same error seen from an enclosing message: `within("events[3]")`
    /// turns `subject_id` into `events[3].subject_id`.
    pub fn within(self, prefix: &str) -> Self {
        Self {
            field: format!("{prefix}.{}", self.field),
            reason: self.reason,
        }
    }
}

/// Stored bytes that are not a `consent.v1.Envelope`.
#[derive(Debug, thiserror::Error)]
#[error("stored record is not a consent.v1.Envelope: {0}")]
pub struct DecodeError(#[from] prost::DecodeError);
