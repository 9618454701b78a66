//! Eligibility today: channel x purpose, allowed or refused, the lawful
//! basis and every reason with its citation; and a what-if.

use crate::layout::page;
use crate::page_error::PageError;
use crate::pages::{organisation_id, subject_id};
use crate::session::SignedIn;
use axum::extract::Path;
use maud::{html, Markup};

/// `GET /console/organisations/{organisation}/subjects/{subject}/eligibility`.
pub async fn eligibility_page(
    signed_in: SignedIn,
    Path((organisation, subject)): Path<(String, String)>,
) -> Result<Markup, PageError> {
    let organisation = organisation_id(&organisation)?;
    let subject = subject_id(&subject)?;
    let _ledger = signed_in.for_organisation(&organisation)?;
    Ok(page(
        &signed_in,
        "/console/subjects",
        &format!("Eligibility of subject {}", subject.as_str()),
        html! { p { "Coming next." } },
    ))
}
