//! Timeline: every fact of a subject in order, in words, with its log
//! position, each linked to its evidence.

use crate::layout::page;
use crate::page_error::PageError;
use crate::pages::{organisation_id, subject_id};
use crate::session::SignedIn;
use axum::extract::Path;
use maud::{html, Markup};

/// `GET /console/organisations/{organisation}/subjects/{subject}`.
pub async fn timeline_page(
    signed_in: SignedIn,
    Path((organisation, subject)): Path<(String, String)>,
) -> Result<Markup, PageError> {
    let organisation = organisation_id(&organisation)?;
    let subject = subject_id(&subject)?;
    let _ledger = signed_in.for_organisation(&organisation)?;
    Ok(page(
        &signed_in,
        "/console/subjects",
        &format!("Timeline of subject {}", subject.as_str()),
        html! { p { "Coming next." } },
    ))
}
