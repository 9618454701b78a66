//! Errors as the API returns them:
//! `{"error": {"code": "invalid_argument", "field": "events[2].subject_id", "message": "..."}}`,
//! or, for a subject another instance owns,
//! `{"error": {"code": "wrong_partition", "partition": 5, "message": "..."}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use consent_service::{ErrorKind, LedgerError};
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
    /// The ledger's classification of `error` ([`ErrorKind`]) as an HTTP
    /// status and error code; the field and the message are the ledger's.
    fn from(error: LedgerError) -> Self {
        let kind = error.kind();
        let message = error.client_message();
        let (status, code) = match kind {
            ErrorKind::InvalidArgument => (StatusCode::BAD_REQUEST, "invalid_argument"),
            ErrorKind::UnknownRuleSet => (StatusCode::NOT_FOUND, "not_found"),
            ErrorKind::WrongPartition { .. } => {
                (StatusCode::MISDIRECTED_REQUEST, "wrong_partition")
            }
            ErrorKind::LogUnavailable | ErrorKind::ViewBehindCheckpoint => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
            ErrorKind::WaitTimeout => (StatusCode::GATEWAY_TIMEOUT, "deadline_exceeded"),
            ErrorKind::EvidenceDisabled => (StatusCode::NOT_IMPLEMENTED, "unimplemented"),
            ErrorKind::Internal => {
                tracing::error!(error = %message, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        let partition = match kind {
            ErrorKind::WrongPartition { partition } => Some(partition),
            _ => None,
        };
        Self {
            status,
            code,
            field: error.field(),
            partition,
            message,
        }
    }
}
