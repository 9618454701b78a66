//! Campaign pre-flight: upload a campaign's recipients (a CSV of subject
//! ids, email addresses or phone numbers) with its message; the ledger
//! checks each recipient as a job, and its page shows the counts by
//! outcome, lawful basis and reason, and offers the per-recipient CSV
//! (docs/CONSOLE.md, "Campaign pre-flight", has the file's format).
//!
//! A pre-flight is a batch of checks, which only an organisation's key may
//! make (the admin key reads, never checks).

use crate::layout::{csrf_field, page};
use crate::page_error::PageError;
use crate::pages::form_fields::{
    message_fields, parse_channel, parse_purpose, parse_time, rule_set_options,
};
use crate::pages::jobs::{download_path, ident, job_error, to_job};
use crate::session::SignedIn;
use axum::extract::Multipart;
use axum::response::Response;
use consent_auth::Action;
use consent_schema::{timestamp_to_proto, v1};
use consent_service::preflight::outcome::BAD_ROWS_LISTED;
use consent_service::{Job, PreflightRequest, PreflightResult};
use maud::{html, Markup};

/// The largest upload the pre-flight accepts: 32 MiB (about 500,000
/// email addresses).
pub const MAX_UPLOAD_BYTES: usize = 32 * 1024 * 1024;

/// `GET /console/preflight`: the upload form.
pub async fn preflight_page(signed_in: SignedIn) -> Result<Markup, PageError> {
    let ledger = signed_in.ledger.for_any_caller();
    let rule_sets = ledger.catalogue().all().to_vec();
    let body = html! {
        p { "Before a campaign goes out, upload its recipients: the ledger checks each one as the send would be checked, "
            "and tells you how many may be contacted, on which lawful basis, and why the others may not. "
            "Addresses are compared through their digests; they are not stored." }
        @match signed_in.own_organisation() {
            None => {
                div.notice role="status" {
                    p { "A pre-flight checks messages, which only an organisation's key may do: the admin key reads, "
                        "it never checks. Sign in with the organisation's key to run one." }
                }
            }
            Some(own) => {
                form.panel method="post" action="/console/preflight" enctype="multipart/form-data" {
                    (csrf_field(signed_in.csrf()))
                    p { "For organisation " (ident(own.as_str())) "." }
                    div.field {
                        label for="recipients" { "Recipients (CSV)" }
                        p.hint #recipients-hint {
                            "A header row, then one recipient per row, in a column "
                            code { "subject_id" } ", " code { "email" } " or " code { "phone" }
                            ". A row may give its own " code { "channel" } ", " code { "purpose" } ", "
                            code { "product_category" } " or " code { "at" } "; other columns are ignored."
                        }
                        input #recipients type="file" name="recipients" accept=".csv,text/csv" required aria-describedby="recipients-hint";
                    }
                    (message_fields(
                        "Product category the message markets (optional)",
                        "Send time (optional: now)",
                    ))
                    fieldset {
                        legend { "The message" }
                        input #sender_identified type="checkbox" name="sender_identified" value="yes" checked;
                        label for="sender_identified" { "identifies the sender" }
                        input #opt_out_included type="checkbox" name="opt_out_included" value="yes" checked;
                        label for="opt_out_included" { "carries a free, simple opt-out" }
                    }
                    div.field {
                        label for="rule_set" { "Rule set" }
                        select #rule_set name="rule_set" { (rule_set_options(&rule_sets, "", "The one in force at the send time")) }
                    }
                    button type="submit" { "Check the recipients" }
                }
            }
        }
    };
    Ok(page(
        &signed_in,
        "/console/preflight",
        "Campaign pre-flight",
        body,
    ))
}

/// The upload's fields.
#[derive(Default)]
struct Upload {
    csrf: String,
    recipients: Option<Vec<u8>>,
    channel: String,
    purpose: String,
    category: String,
    at: String,
    sender_identified: bool,
    opt_out_included: bool,
    rule_set: String,
}

async fn read_upload(mut multipart: Multipart) -> Result<Upload, PageError> {
    let mut upload = Upload::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                return Err(PageError::invalid(
                    "recipients",
                    format!("the upload could not be read: {}", error.body_text()),
                ))
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(|error| {
            PageError::invalid(
                name.clone(),
                format!("the upload could not be read: {}", error.body_text()),
            )
        })?;
        let text = || String::from_utf8_lossy(&bytes).trim().to_owned();
        match name.as_str() {
            "csrf" => upload.csrf = text(),
            "recipients" => upload.recipients = Some(bytes.to_vec()),
            "channel" => upload.channel = text(),
            "purpose" => upload.purpose = text(),
            "category" => upload.category = text(),
            "at" => upload.at = text(),
            "sender_identified" => upload.sender_identified = true,
            "opt_out_included" => upload.opt_out_included = true,
            "rule_set" => upload.rule_set = text(),
            _ => {}
        }
    }
    Ok(upload)
}

/// `POST /console/preflight` (multipart): starts the pre-flight, then
/// its job's page.
pub async fn start_preflight(
    signed_in: SignedIn,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    // A body that is not multipart carries no CSRF token.
    let multipart = multipart.map_err(|_| PageError::Csrf)?;
    let upload = read_upload(multipart).await?;
    signed_in.check_csrf(&upload.csrf)?;
    let Some(organisation) = signed_in.own_organisation().cloned() else {
        return Err(PageError::Forbidden(
            "a pre-flight checks messages, which only an organisation's key may do".to_owned(),
        ));
    };
    let ledger = signed_in
        .ledger
        .for_organisation(Action::Check, "organisation", &organisation)
        .map_err(|_| PageError::OtherOrganisation)?;
    let csv = match upload.recipients {
        Some(csv) if !csv.is_empty() => csv,
        _ => {
            return Err(PageError::invalid(
                "recipients",
                "choose the CSV file to check",
            ))
        }
    };
    let message = v1::CheckRequest {
        channel: parse_channel(&upload.channel)?.into(),
        purpose: parse_purpose(&upload.purpose)?.into(),
        product_category_id: upload.category,
        message_class: v1::MessageClass::Marketing.into(),
        promotional_content: true,
        opt_out_included: upload.opt_out_included,
        sender_identified: upload.sender_identified,
        at: parse_time("at", &upload.at)?.map(timestamp_to_proto),
        rule_set_id: upload.rule_set,
        ..Default::default()
    };
    let id = ledger
        .start_preflight(PreflightRequest {
            organisation_id: organisation.as_str().to_owned(),
            message,
            csv,
        })
        .map_err(job_error)?;
    Ok(to_job(&id))
}

/// A finished pre-flight: the counts, the reasons, the rows that could
/// not be checked, and the per-recipient CSV.
pub fn result(job: &Job, result: &PreflightResult) -> Markup {
    let counts = &result.counts;
    let message = &result.message;
    html! {
        p { (counts.recipients) " recipients of " (ident(result.organisation.as_str())) ", for "
            (consent_report::words::channel(message.channel)) " marketing for "
            (consent_report::words::purpose(message.purpose)) " purposes"
            @if let Some(category) = &message.product_category { " (" (category.as_str()) ")" }
            ", sent " (consent_report::words::when(message.at)) " unless a row says otherwise." }
        table #outcomes {
            caption { "Recipients by outcome" }
            thead { tr { th scope="col" { "Outcome" } th scope="col" { "Recipients" } } }
            tbody {
                tr { th scope="row" { span.allowed { "May be contacted" } } td #count-allowed { (counts.allowed) } }
                tr { th scope="row" { span.refused { "May not be contacted" } } td #count-refused { (counts.refused) } }
                tr { th scope="row" { "Could not be checked (a bad row)" } td #count-invalid { (counts.invalid) } }
            }
        }
        @if !counts.by_basis.is_empty() {
            table #bases {
                caption { "Recipients who may be contacted, by lawful basis" }
                thead { tr { th scope="col" { "Lawful basis" } th scope="col" { "Recipients" } } }
                tbody {
                    @for basis in &counts.by_basis {
                        tr { td { (consent_report::words::lawful_basis(basis.basis)) } td { (basis.recipients) } }
                    }
                }
            }
        }
        @if !counts.by_reason.is_empty() {
            table #reasons {
                caption { "Why recipients may not be contacted" }
                thead { tr { th scope="col" { "Reason" } th scope="col" { "For example" } th scope="col" { "Citation" } th scope="col" { "Recipients" } } }
                tbody {
                    @for reason in &counts.by_reason {
                        tr {
                            td { (reason.rule_id) " " code { (reason.code) } }
                            td { (reason.example) }
                            td { (reason.citation) }
                            td { (reason.recipients) }
                        }
                    }
                }
            }
        }
        @if !counts.bad_rows.is_empty() {
            h2 { "Rows that could not be checked" }
            @if counts.invalid > u64::try_from(counts.bad_rows.len()).unwrap_or(u64::MAX) {
                p { "The first " (BAD_ROWS_LISTED) " are listed; the CSV has every one." }
            }
            ul #bad-rows { @for error in &counts.bad_rows { li { (error.to_string()) } } }
        }
        @if !result.ignored_columns.is_empty() {
            p { "Columns not read: " @for (i, column) in result.ignored_columns.iter().enumerate() { @if i > 0 { ", " } code { (column) } } "." }
        }
        h2 { "Downloads" }
        ul.downloads {
            li { a #download-recipients href=(download_path(job, "recipients.csv")) download=(result.file_name) {
                "Each recipient's answer (" (result.file_name) ")" } }
        }
    }
}
