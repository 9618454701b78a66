//! One module per page (see the crate's doc, "Adding a page").

pub mod eligibility;
pub mod evidence;
pub mod find;
pub mod form_fields;
pub mod jobs;
pub mod keys;
pub mod preflight;
pub mod replay;
pub mod sign_in;
pub mod suppressions;
pub mod timeline;

use crate::page_error::PageError;
use axum::extract::rejection::FormRejection;
use axum::Form;
use consent_domain::{OrganisationId, SubjectId};

/// A POSTed form, as a handler takes it: a body that is no form (none, or
/// another content type) carries no CSRF token, so it is refused as one
/// without (403), before anything else is read.
pub type Posted<T> = Result<Form<T>, FormRejection>;

/// The form of a [`Posted`] body, or the CSRF refusal.
pub fn posted<T>(form: Posted<T>) -> Result<T, PageError> {
    form.map(|Form(form)| form).map_err(|rejection| {
        tracing::info!(%rejection, "console: a POST without a form was refused");
        PageError::Csrf
    })
}

/// An identifier from a path or a form: trimmed, not empty, at most 256
/// bytes, no control character.
pub(crate) fn identifier(field: &str, value: &str) -> Result<String, PageError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(PageError::invalid(field, "required"));
    }
    if value.len() > 256 {
        return Err(PageError::invalid(field, "at most 256 characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(PageError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

pub(crate) fn organisation_id(value: &str) -> Result<OrganisationId, PageError> {
    identifier("organisation", value).map(OrganisationId::new)
}

pub(crate) fn subject_id(value: &str) -> Result<SubjectId, PageError> {
    identifier("subject", value).map(SubjectId::new)
}

/// The path of a subject's timeline.
pub fn timeline_path(organisation: &str, subject: &str) -> String {
    format!(
        "/console/organisations/{}/subjects/{}",
        path_segment(organisation),
        path_segment(subject)
    )
}

/// The path of a subject's eligibility today.
pub fn eligibility_path(organisation: &str, subject: &str) -> String {
    format!("{}/eligibility", timeline_path(organisation, subject))
}

/// The evidence page of a subject (console-b's Evidence page).
pub fn evidence_path(organisation: &str, subject: &str) -> String {
    format!(
        "/console/evidence?organisation={}&subject={}",
        query_value(organisation),
        query_value(subject)
    )
}

/// `value` percent-encoded as one path segment or query value (every
/// byte but ASCII letters and digits and `-._~`).
pub fn path_segment(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, UNRESERVED).to_string()
}

/// `value` percent-encoded as a query value.
pub fn query_value(value: &str) -> String {
    path_segment(value)
}

/// RFC 3986's unreserved characters are kept; everything else is encoded.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
