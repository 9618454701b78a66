//! The suppression list of an organisation: every address it may not
//! market to, paged and searchable.

use crate::layout::page;
use crate::page_error::PageError;
use crate::session::SignedIn;
use maud::{html, Markup};

/// `GET /console/suppressions?organisation=&after=&q=`.
pub async fn suppressions_page(signed_in: SignedIn) -> Result<Markup, PageError> {
    Ok(page(
        &signed_in,
        "/console/suppressions",
        "Suppression list",
        html! { p { "Coming next." } },
    ))
}
