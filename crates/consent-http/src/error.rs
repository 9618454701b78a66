//! Errors as the API returns them:
//! `{"error": {"code": "invalid_argument", "field": "events[2].subject_id", "message": "..."}}`,
//! or, for a subject another instance owns,
//! `{"error": {"code": "wrong_partition", "partition": 5, "message": "..."}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use consent_domain::rules::UnknownRuleSet;
use consent_export::ExportError;
use consent_service::LedgerError;
use serde::Serialize;

/// An error response: an HTTP status and the JSON error body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable machine-readable code, e.g. `invalid_argument`.
    pub code: &'static str,
    /// The request field at fault, when one is.
    pub field: Option<String>,
    /// The log partition the request belongs to, for `wrong_partition`.
    pub partition: Option<u32>,
    pub message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    partition: Option<u32>,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            field: None,
            partition: None,
            message: message.into(),
        }
    }

    /// 400: the request is not one the ledger accepts.
    pub fn invalid(field: Option<String>, message: impl Into<String>) -> Self {
        Self {
            field,
            ..Self::new(StatusCode::BAD_REQUEST, "invalid_argument", message)
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Detail {
                code: self.code,
                field: self.field.as_deref(),
                partition: self.partition,
                message: &self.message,
            },
        };
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<LedgerError> for ApiError {
    fn from(error: LedgerError) -> Self {
        let message = error.to_string();
        match error {
            LedgerError::Invalid { error, .. } => Self::invalid(Some(error.field), message),
            LedgerError::RecordTooLarge { index, .. } => {
                Self::invalid(Some(format!("events[{index}]")), message)
            }
            LedgerError::UnknownRuleSet(UnknownRuleSet::NotInCatalogue { .. }) => Self {
                field: Some("rule_set_id".to_owned()),
                ..Self::not_found(message)
            },
            LedgerError::UnknownRuleSet(UnknownRuleSet::NoneInForce { .. }) => {
                Self::invalid(Some("at".to_owned()), message)
            }
            LedgerError::LogUnavailable(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!("{message}; nothing was acknowledged, retry later"),
            ),
            LedgerError::WrongPartition { partition, .. } => Self {
                partition: Some(partition),
                ..Self::new(StatusCode::MISDIRECTED_REQUEST, "wrong_partition", message)
            },
            LedgerError::WaitTimeout { .. } => {
                Self::new(StatusCode::GATEWAY_TIMEOUT, "deadline_exceeded", message)
            }
            LedgerError::EvidenceDisabled => {
                Self::new(StatusCode::NOT_IMPLEMENTED, "unimplemented", message)
            }
            LedgerError::Export(ExportError::ViewBehindCheckpoint(_)) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
            }
            LedgerError::Export(
                ExportError::ForeignPreviousCheckpoint(_)
                | ExportError::PreviousCheckpointAhead { .. },
            ) => Self::invalid(Some("previous_checkpoint".to_owned()), message),
            LedgerError::Export(ExportError::Invalid(error)) => {
                Self::invalid(Some(error.field), message)
            }
            LedgerError::Export(_) | LedgerError::Output(_) => {
                tracing::error!(error = %message, "evidence request failed");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
            }
            LedgerError::Store(_) | LedgerError::StoredRecord { .. } | LedgerError::KeyStore(_) => {
                tracing::error!(error = %message, "request failed on the view store");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
            }
        }
    }
}
