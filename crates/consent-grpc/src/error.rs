//! Ledger errors as gRPC statuses, mapped as the HTTP API maps them to HTTP
//! statuses (`consent_http::ApiError`):
//!
//! | [`ErrorKind`] (the ledger's classification) | code | reason |
//! | --- | --- | --- |
//! | `InvalidArgument` (names the field) | `INVALID_ARGUMENT` | `INVALID_ARGUMENT` |
//! | `UnknownRuleSet` (names `rule_set_id`) | `NOT_FOUND` | `UNKNOWN_RULE_SET` |
//! | `WrongPartition` (names the partition) | `FAILED_PRECONDITION` | `WRONG_PARTITION` |
//! | `LogUnavailable` | `UNAVAILABLE` | `LOG_UNAVAILABLE` |
//! | `WaitTimeout` | `DEADLINE_EXCEEDED` | `WAIT_TIMEOUT` |
//! | `EvidenceDisabled` | `UNIMPLEMENTED` | `EVIDENCE_DISABLED` |
//! | `ViewBehindCheckpoint` | `UNAVAILABLE` | `VIEW_BEHIND_CHECKPOINT` |
//! | `Internal` | `INTERNAL` (logged) | `INTERNAL` |
//!
//! and refused callers ([`auth_status`]): no valid API key is
//! `UNAUTHENTICATED` (reason `UNAUTHENTICATED`), another organisation's
//! data is `PERMISSION_DENIED` (reason `PERMISSION_DENIED`, naming the
//! field that named the organisation), as the HTTP API's 401 and 403.
//!
//! Every status carries the same facts three ways, so any client can read
//! them: in the message (`invalid \`checks[3].channel\`: ...`), in response
//! metadata ([`FIELD_METADATA`], [`PARTITION_METADATA`],
//! [`ITEM_INDEX_METADATA`]) and in the standard `google.rpc` details
//! (`ErrorInfo` with a stable reason such as `INVALID_ARGUMENT` or
//! `WRONG_PARTITION` in the domain [`ERROR_DOMAIN`], and `BadRequest` with
//! the field for invalid requests).

use consent_auth::AuthError;
use consent_service::{ErrorKind, LedgerError};
use std::collections::HashMap;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Response metadata naming the request field at fault, e.g.
/// `events[2].consent_given.channels[0]`.
pub const FIELD_METADATA: &str = "consent-field";
/// Response metadata naming the log partition of a misdirected request.
pub const PARTITION_METADATA: &str = "consent-partition";
/// Response metadata naming the 0-based index, in a `CheckStream`, of the
/// request that ended the stream.
pub const ITEM_INDEX_METADATA: &str = "consent-item-index";
/// The `google.rpc.ErrorInfo` domain of the ledger's errors.
pub const ERROR_DOMAIN: &str = "consent-ledger";

/// The status for a ledger error.
pub fn status_from(error: LedgerError) -> Status {
    Failure::from(error).into_status()
}

/// The status for a ledger error about the `index`-th request of a
/// `CheckStream`: the field becomes `checks[index].<field>`, and the message
/// starts with `checks[index]`.
pub fn stream_item_status(error: LedgerError, index: usize) -> Status {
    let item = format!("checks[{index}]");
    let mut failure = match error {
        LedgerError::Invalid { index: _, error } => Failure::from(LedgerError::Invalid {
            index: Some(index),
            error: error.within(&item),
        }),
        error => {
            let mut failure = Failure::from(error);
            failure.field = failure.field.map(|field| format!("{item}.{field}"));
            failure.message = format!("{item}: {}", failure.message);
            failure
        }
    };
    failure.item = Some(index);
    failure.into_status()
}

/// `UNAUTHENTICATED` or `PERMISSION_DENIED` for a refused caller.
pub fn auth_status(error: AuthError) -> Status {
    auth_failure(error).into_status()
}

/// [`auth_status`] for the `index`-th request of a `CheckStream`: the
/// field becomes `checks[index].<field>`, and the message starts with
/// `checks[index]`.
pub fn stream_item_auth_status(error: AuthError, index: usize) -> Status {
    let item = format!("checks[{index}]");
    let mut failure = auth_failure(error);
    failure.field = failure.field.map(|field| format!("{item}.{field}"));
    failure.message = format!("{item}: {}", failure.message);
    failure.item = Some(index);
    failure.into_status()
}

fn auth_failure(error: AuthError) -> Failure {
    if error.is_unauthenticated() {
        Failure::new(Code::Unauthenticated, "UNAUTHENTICATED", error.to_string())
    } else {
        Failure {
            field: error.field().map(str::to_owned),
            ..Failure::new(
                Code::PermissionDenied,
                "PERMISSION_DENIED",
                error.to_string(),
            )
        }
    }
}

/// `INVALID_ARGUMENT` naming `field`, for requests the adapter itself
/// refuses (a history without a subject, a wait beyond its limit).
pub fn invalid_argument(field: impl Into<String>, reason: impl std::fmt::Display) -> Status {
    let field = field.into();
    Failure {
        message: format!("invalid `{field}`: {reason}"),
        field: Some(field),
        ..Failure::new(Code::InvalidArgument, "INVALID_ARGUMENT", String::new())
    }
    .into_status()
}

/// `FAILED_PRECONDITION` for a request about `partition`, which this
/// instance does not own.
pub fn wrong_partition(partition: u32, message: String) -> Status {
    Failure {
        partition: Some(partition),
        ..Failure::new(Code::FailedPrecondition, "WRONG_PARTITION", message)
    }
    .into_status()
}

/// What a status says, before it is encoded.
struct Failure {
    code: Code,
    /// Stable machine-readable reason (`google.rpc.ErrorInfo.reason`).
    reason: &'static str,
    message: String,
    field: Option<String>,
    partition: Option<u32>,
    item: Option<usize>,
}

impl Failure {
    fn new(code: Code, reason: &'static str, message: String) -> Self {
        Self {
            code,
            reason,
            message,
            field: None,
            partition: None,
            item: None,
        }
    }

    fn into_status(self) -> Status {
        let mut metadata = MetadataMap::new();
        let mut info = HashMap::new();
        if let Some(field) = &self.field {
            insert(&mut metadata, FIELD_METADATA, field);
            info.insert("field".to_owned(), field.clone());
        }
        if let Some(partition) = self.partition {
            insert(&mut metadata, PARTITION_METADATA, &partition.to_string());
            info.insert("partition".to_owned(), partition.to_string());
        }
        if let Some(item) = self.item {
            insert(&mut metadata, ITEM_INDEX_METADATA, &item.to_string());
            info.insert("item_index".to_owned(), item.to_string());
        }
        let mut details = ErrorDetails::with_error_info(self.reason, ERROR_DOMAIN, info);
        if let Some(field) = &self.field {
            details.add_bad_request_violation(field.clone(), self.message.clone());
        }
        Status::with_error_details_and_metadata(self.code, self.message, details, metadata)
    }
}

/// Adds `value` under `key`, unless it is not valid metadata (it is still in
/// the message and the details).
fn insert(metadata: &mut MetadataMap, key: &'static str, value: &str) {
    if let Ok(value) = MetadataValue::try_from(value) {
        metadata.insert(key, value);
    }
}

impl From<LedgerError> for Failure {
    /// The ledger's classification of `error` ([`ErrorKind`]) as a gRPC
    /// code and `ErrorInfo` reason; the field and the message are the
    /// ledger's.
    fn from(error: LedgerError) -> Self {
        let kind = error.kind();
        let message = error.client_message();
        let (code, reason) = match kind {
            ErrorKind::InvalidArgument => (Code::InvalidArgument, "INVALID_ARGUMENT"),
            ErrorKind::UnknownRuleSet => (Code::NotFound, "UNKNOWN_RULE_SET"),
            ErrorKind::WrongPartition { .. } => (Code::FailedPrecondition, "WRONG_PARTITION"),
            ErrorKind::LogUnavailable => (Code::Unavailable, "LOG_UNAVAILABLE"),
            ErrorKind::WaitTimeout => (Code::DeadlineExceeded, "WAIT_TIMEOUT"),
            ErrorKind::EvidenceDisabled => (Code::Unimplemented, "EVIDENCE_DISABLED"),
            ErrorKind::ViewBehindCheckpoint => (Code::Unavailable, "VIEW_BEHIND_CHECKPOINT"),
            ErrorKind::Internal => {
                tracing::error!(error = %message, "request failed");
                (Code::Internal, "INTERNAL")
            }
        };
        let partition = match kind {
            ErrorKind::WrongPartition { partition } => Some(partition),
            _ => None,
        };
        Self {
            field: error.field(),
            partition,
            ..Self::new(code, reason, message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_domain::rules::UnknownRuleSet;
    use consent_schema::ValidationError;

    /// A metadata value of `status`, as text.
    fn metadata<'a>(status: &'a Status, key: &str) -> Option<&'a str> {
        status.metadata().get(key).and_then(|v| v.to_str().ok())
    }

    fn invalid(field: &str) -> LedgerError {
        LedgerError::Invalid {
            index: None,
            error: ValidationError::new(field, "required"),
        }
    }

    #[test]
    fn an_invalid_request_names_its_field_in_message_metadata_and_details() {
        let status = status_from(invalid("channel"));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().contains("`channel`"),
            "{}",
            status.message()
        );
        assert_eq!(metadata(&status, FIELD_METADATA), Some("channel"));
        let violations = status
            .get_details_bad_request()
            .expect("BadRequest")
            .field_violations;
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field, "channel");
        let info = status.get_details_error_info().expect("ErrorInfo");
        assert_eq!(info.reason, "INVALID_ARGUMENT");
        assert_eq!(info.domain, ERROR_DOMAIN);
    }

    #[test]
    fn a_stream_item_error_names_the_item() {
        let status = stream_item_status(invalid("wait_for[0].topic"), 41);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().contains("`checks[41].wait_for[0].topic`"),
            "{}",
            status.message()
        );
        assert_eq!(
            metadata(&status, FIELD_METADATA),
            Some("checks[41].wait_for[0].topic")
        );
        assert_eq!(metadata(&status, ITEM_INDEX_METADATA), Some("41"));

        let status = stream_item_status(
            LedgerError::UnknownRuleSet(UnknownRuleSet::NotInCatalogue {
                id: consent_domain::rules::RuleSetId::from("uk-1066"),
            }),
            7,
        );
        assert_eq!(status.code(), Code::NotFound);
        assert!(
            status.message().starts_with("checks[7]: "),
            "{}",
            status.message()
        );
        assert_eq!(
            metadata(&status, FIELD_METADATA),
            Some("checks[7].rule_set_id")
        );
    }

    #[test]
    fn a_misdirected_request_names_the_partition() {
        let status = status_from(LedgerError::WrongPartition {
            what: "subject s of o".to_owned(),
            partition: 5,
            partitions: 8,
            owned: "0-3".to_owned(),
        });
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(metadata(&status, PARTITION_METADATA), Some("5"));
        let info = status.get_details_error_info().expect("ErrorInfo");
        assert_eq!(info.reason, "WRONG_PARTITION");
        assert_eq!(
            info.metadata.get("partition").map(String::as_str),
            Some("5")
        );
    }
}
