//! Why a page cannot be shown, as a page: a status code and a sentence
//! that says what happened and what to do, never another organisation's
//! data.

use crate::layout;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use consent_service::{ErrorKind, LedgerError};
use maud::html;

/// A page that cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// No live signed-in session: to the sign-in page, saying why.
    #[error("{0}")]
    SignInNeeded(&'static str),
    /// The sign-in form's key is not one the ledger accepts.
    #[error("the API key is not valid here (unknown or revoked)")]
    WrongKey,
    /// A POST without the session's CSRF token (403).
    #[error("this form has expired or did not come from the console")]
    Csrf,
    /// Another organisation's data (403), said without naming anything of
    /// it.
    #[error("this page belongs to an organisation your key may not read")]
    OtherOrganisation,
    /// Something this key may not do (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such page or thing (404).
    #[error("{0}")]
    NotFound(String),
    /// The request is not one the page accepts: the field and the reason
    /// (400).
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The ledger cannot answer now (503).
    #[error("{0}")]
    Unavailable(String),
    /// The ledger failed (500); logged.
    #[error("{0}")]
    Internal(String),
}

impl PageError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            PageError::SignInNeeded(_) => StatusCode::SEE_OTHER,
            PageError::WrongKey => StatusCode::UNAUTHORIZED,
            PageError::Csrf | PageError::OtherOrganisation | PageError::Forbidden(_) => {
                StatusCode::FORBIDDEN
            }
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::Invalid { .. } => StatusCode::BAD_REQUEST,
            PageError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            PageError::SignInNeeded(_) | PageError::WrongKey => "Sign-in needed",
            PageError::Csrf => "Form refused",
            PageError::OtherOrganisation | PageError::Forbidden(_) => "Not allowed",
            PageError::NotFound(_) => "Not found",
            PageError::Invalid { .. } => "Please check what you entered",
            PageError::Unavailable(_) => "The ledger cannot answer now",
            PageError::Internal(_) => "Something went wrong",
        }
    }
}

impl From<LedgerError> for PageError {
    /// The ledger's classification of `error`, as a page.
    fn from(error: LedgerError) -> Self {
        let message = error.client_message();
        match error.kind() {
            ErrorKind::InvalidArgument => PageError::Invalid {
                field: error.field().unwrap_or_default(),
                reason: message,
            },
            ErrorKind::UnknownRuleSet => PageError::NotFound(message),
            ErrorKind::WrongPartition { partition } => PageError::Unavailable(format!(
                "{message} (partition {partition} is served by another instance of the ledger)"
            )),
            ErrorKind::LogUnavailable
            | ErrorKind::ViewBehindCheckpoint
            | ErrorKind::WaitTimeout
            | ErrorKind::EvidenceDisabled => PageError::Unavailable(message),
            ErrorKind::Internal => {
                tracing::error!(error = %message, "console: the ledger failed");
                PageError::Internal(message)
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let PageError::SignInNeeded(reason) = &self {
            let target = if reason.starts_with("Your session ended") {
                "/console/sign-in?ended=key"
            } else {
                "/console/sign-in"
            };
            return Redirect::to(target).into_response();
        }
        let status = self.status();
        let body = html! {
            div.error role="alert" {
                p { (self.to_string()) "." }
                @if let PageError::Invalid { field, .. } = &self {
                    @if !field.is_empty() { p { "The field at fault: " code { (field) } } }
                }
                @if matches!(self, PageError::Csrf) {
                    p { "Nothing was changed. Go back, reload the page and submit the form again." }
                }
            }
            p { a href="/console" { "Back to the console" } }
        };
        (status, layout::bare_page(self.title(), body)).into_response()
    }
}
