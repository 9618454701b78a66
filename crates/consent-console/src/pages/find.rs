//! Find a subject: by its id, or by an email address or telephone number
//! (through the address's digest: the console never stores the value).

use crate::layout::page;
use crate::page_error::PageError;
use crate::pages::{organisation_id, subject_id, timeline_path};
use crate::session::SignedIn;
use axum::extract::Query;
use consent_service::AddressSearch;
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct FindQuery {
    #[serde(default)]
    organisation: String,
    /// `id`, `email` or `phone`.
    #[serde(default)]
    by: String,
    #[serde(default)]
    value: String,
}

/// `GET /console/subjects?organisation=&by=id|email|phone&value=`.
pub async fn find_page(
    signed_in: SignedIn,
    Query(query): Query<FindQuery>,
) -> Result<Markup, PageError> {
    let organisation_text = match signed_in.own_organisation() {
        Some(own) => own.as_str().to_owned(),
        None => query.organisation.trim().to_owned(),
    };
    let by = match query.by.as_str() {
        "" | "id" => "id",
        "email" => "email",
        "phone" => "phone",
        other => {
            return Err(PageError::invalid(
                "by",
                format!("search by `id`, `email` or `phone`, not {other:?}"),
            ))
        }
    };
    let asked = !query.value.trim().is_empty();
    let results = if asked {
        Some(search(&signed_in, &organisation_text, by, &query.value).await?)
    } else {
        None
    };
    let form = html! {
        form.panel method="get" action="/console/subjects" role="search" {
            div.field {
                label for="organisation" { "Organisation" }
                @if let Some(own) = signed_in.own_organisation() {
                    p.hint #organisation-hint { "Your key reads this organisation only." }
                    input #organisation type="text" name="organisation" value=(own.as_str()) readonly aria-describedby="organisation-hint";
                } @else {
                    p.hint #organisation-hint { "The organisation's id, e.g. " code { "acme-cycles" } "." }
                    input #organisation type="text" name="organisation" value=(organisation_text) required aria-describedby="organisation-hint";
                }
            }
            fieldset {
                legend { "Search by" }
                @for (value, label) in [("id", "Subject id"), ("email", "Email address"), ("phone", "Telephone number")] {
                    input type="radio" id={"by-" (value)} name="by" value=(value) checked[by == value];
                    label for={"by-" (value)} { (label) }
                }
            }
            div.field {
                label for="value" { "Subject id, email address or telephone number" }
                p.hint #value-hint { "A number may be written as 07700 900123 or +447700900123. The address is compared through its digest; it is not kept." }
                input #value type="search" name="value" value=(query.value) required aria-describedby="value-hint";
            }
            button type="submit" { "Find" }
        }
    };
    let body = html! {
        (form)
        @if let Some(results) = &results {
            h2 #results { "Results" }
            @if results.is_empty() {
                p role="status" { "No subject of " (organisation_text) " matches." }
            } @else {
                p role="status" { (results.len()) " " (if results.len() == 1 { "subject" } else { "subjects" }) " of " (organisation_text) " found." }
                ul.results {
                    @for subject in results {
                        li { a href=(timeline_path(&organisation_text, subject)) { "Subject " (subject) } }
                    }
                }
            }
        }
    };
    Ok(page(
        &signed_in,
        "/console/subjects",
        "Find a subject",
        body,
    ))
}

async fn search(
    signed_in: &SignedIn,
    organisation: &str,
    by: &str,
    value: &str,
) -> Result<Vec<String>, PageError> {
    let organisation = organisation_id(organisation)?;
    let ledger = signed_in.for_organisation(&organisation)?;
    let found = match by {
        "id" => {
            let subject = subject_id(value).map_err(|_| PageError::invalid("value", "required"))?;
            if ledger.subject_known(&organisation, &subject)? {
                vec![subject]
            } else {
                Vec::new()
            }
        }
        "email" => {
            ledger.subjects_by_address(&organisation, AddressSearch::Email, "value", value)?
        }
        _ => ledger.subjects_by_address(&organisation, AddressSearch::Telephone, "value", value)?,
    };
    Ok(found.into_iter().map(|s| s.as_str().to_owned()).collect())
}
