//! Evidence: export a subject's, a campaign's or a time range's evidence
//! as a job; its page shows the verifier's result on the bundle and
//! offers the bundle and its regulator's report (drawn from the bundle
//! itself) to download. Reached from a timeline's event, it names that
//! event: its log position and its anchor in the report.

use crate::layout::{csrf_field, page};
use crate::page_error::PageError;
use crate::pages::form_fields::{
    message_fields, parse_channel, parse_purpose, parse_time, rule_set_options,
};
use crate::pages::jobs::{download_path, fact, ident, job_error, to_job};
use crate::pages::{organisation_id, posted, subject_id, timeline, Posted};
use crate::session::SignedIn;
use axum::extract::Query;
use axum::response::Response;
use consent_schema::{timestamp_to_proto, v1};
use consent_service::{EvidenceExport, Job};
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct EvidenceQuery {
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    subject: String,
    /// An event of the subject (the timeline's "Evidence" link): the page
    /// names it and where the export will show it.
    #[serde(default)]
    event: String,
}

/// `GET /console/evidence?organisation=&subject=[&event=]`: the export
/// form; with an event of the subject, what the subject's export will say
/// of it.
pub async fn evidence_page(
    signed_in: SignedIn,
    Query(query): Query<EvidenceQuery>,
) -> Result<Markup, PageError> {
    let organisation = match signed_in.own_organisation() {
        Some(own) => own.as_str().to_owned(),
        None => query.organisation.trim().to_owned(),
    };
    let event = match query.event.trim() {
        "" => None,
        event => Some(the_event(&signed_in, &organisation, query.subject.trim(), event).await?),
    };
    let ledger = signed_in.ledger.for_any_caller();
    let rule_sets = ledger.catalogue().all().to_vec();
    let body = html! {
        @if let Some(event) = &event { (event) }
        p { "Export the evidence a regulator receives: the facts with their proofs against a signed checkpoint, "
            "the decisions with their reasons and the rule sets. The export is verified as soon as it is made, "
            "and its report is drawn from the bundle itself." }
        form.panel method="post" action="/console/evidence" {
            (csrf_field(signed_in.csrf()))
            div.field {
                label for="organisation" { "Organisation" }
                @if signed_in.own_organisation().is_some() {
                    p.hint #organisation-hint { "Your key reads this organisation only." }
                    input #organisation type="text" name="organisation" value=(organisation) readonly aria-describedby="organisation-hint";
                } @else {
                    input #organisation type="text" name="organisation" value=(organisation) required;
                }
            }
            fieldset {
                legend { "What to export" }
                input #scope-subject type="radio" name="scope" value="subject" checked;
                label for="scope-subject" { "A subject" }
                input #scope-campaign type="radio" name="scope" value="campaign";
                label for="scope-campaign" { "A campaign" }
                input #scope-range type="radio" name="scope" value="time_range";
                label for="scope-range" { "A time range" }
            }
            div.field {
                label for="subject" { "Subject id (a subject)" }
                input #subject type="text" name="subject" value=(query.subject.trim());
            }
            details {
                summary { "A campaign: its subjects and its message" }
                div.field {
                    label for="subjects" { "Subject ids, one per line (a campaign)" }
                    textarea #subjects name="subjects" rows="4" cols="40" {}
                }
                (message_fields("Product category marketed (optional)", "Send time"))
            }
            details {
                summary { "A time range" }
                div.field {
                    label for="from" { "From (included)" }
                    p.hint #from-hint { "A date (2026-03-01) or a time (2026-03-01T09:00:00Z), UTC." }
                    input #from type="text" name="from" aria-describedby="from-hint";
                }
                div.field {
                    label for="to" { "To (excluded)" }
                    input #to type="text" name="to";
                }
            }
            div.field {
                label for="rule_set" { "Rule set" }
                select #rule_set name="rule_set" { (rule_set_options(&rule_sets, "", "The one in force at each decision's time")) }
            }
            button type="submit" { "Export and verify" }
        }
    };
    Ok(page(&signed_in, "/console/evidence", "Evidence", body))
}

/// What the subject's export will hold of `event`: the fact in words, its
/// log position (the record the bundle proves) and its anchor in the
/// regulator's report; or that the subject has no such event.
async fn the_event(
    signed_in: &SignedIn,
    organisation: &str,
    subject: &str,
    event: &str,
) -> Result<Markup, PageError> {
    let event_id = consent_schema::event_id("event", event)
        .map_err(|error| PageError::invalid(error.field, error.reason))?;
    let organisation = organisation_id(organisation)?;
    let subject = subject_id(subject)?;
    let ledger = signed_in.for_organisation(&organisation)?;
    let history = ledger.history(&organisation, &subject, None, None).await?;
    let wanted = event_id.to_string();
    let found = history
        .events
        .into_iter()
        .find(|entry| {
            entry
                .event
                .as_ref()
                .is_some_and(|envelope| envelope.event_id.eq_ignore_ascii_case(&wanted))
        })
        .map(timeline::entry);
    let anchor = consent_report::anchor::event(&event_id);
    Ok(html! {
        section.notice #evidence-event aria-labelledby="evidence-event-heading" {
            h2 #evidence-event-heading { "Event " (ident(&wanted)) }
            @if let Some(entry) = found {
                p { (entry.headline) ", " (entry.occurred_at) " (" (entry.kind) "); recorded "
                    (entry.recorded_at) " at log position " span.mono #evidence-event-position { (entry.position) } "." }
                p { "The bundle of subject " strong { (subject.as_str()) } "'s export below will include this event: "
                    "the record at that position, proven against the signed checkpoint. In the regulator's report "
                    "drawn from it, the event is the timeline entry " code #evidence-event-anchor { "#" (anchor) }
                    " (open the downloaded report and add it to the address)." }
            } @else {
                p role="status" { "The ledger holds no event " (ident(&wanted)) " of subject " strong { (subject.as_str()) }
                    " of " (organisation.as_str()) ". The subject's export below holds every event it does hold." }
            }
        }
    })
}

#[derive(Deserialize)]
pub struct ExportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    subjects: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    rule_set: String,
}

/// `POST /console/evidence`: starts the export, then its job's page.
pub async fn start_export(
    signed_in: SignedIn,
    form: Posted<ExportForm>,
) -> Result<Response, PageError> {
    let form = posted(form)?;
    signed_in.check_csrf(&form.csrf)?;
    let organisation = match signed_in.own_organisation() {
        Some(own) => own.clone(),
        None => organisation_id(&form.organisation)?,
    };
    let ledger = signed_in.for_organisation(&organisation)?;
    let scope = match form.scope.as_str() {
        "" | "subject" => {
            let subject = form.subject.trim();
            if subject.is_empty() {
                return Err(PageError::invalid(
                    "subject",
                    "required to export a subject",
                ));
            }
            v1::export_request::Scope::Subject(v1::SubjectExport {
                subject_id: subject.to_owned(),
                checks: Vec::new(),
            })
        }
        "campaign" => {
            let subject_ids: Vec<String> = form
                .subjects
                .split(['\n', ',', ';'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if subject_ids.is_empty() {
                return Err(PageError::invalid(
                    "subjects",
                    "name at least one subject of the campaign",
                ));
            }
            let at = parse_time("at", &form.at)?
                .ok_or_else(|| PageError::invalid("at", "a campaign's send time is required"))?;
            v1::export_request::Scope::Campaign(v1::CampaignExport {
                subject_ids,
                message: Some(v1::CheckRequest {
                    channel: parse_channel(&form.channel)?.into(),
                    purpose: parse_purpose(&form.purpose)?.into(),
                    product_category_id: form.category.trim().to_owned(),
                    message_class: v1::MessageClass::Marketing.into(),
                    promotional_content: true,
                    opt_out_included: true,
                    sender_identified: true,
                    at: Some(timestamp_to_proto(at)),
                    ..Default::default()
                }),
            })
        }
        "time_range" => {
            let from = parse_time("from", &form.from)?
                .ok_or_else(|| PageError::invalid("from", "required for a time range"))?;
            let to = parse_time("to", &form.to)?
                .ok_or_else(|| PageError::invalid("to", "required for a time range"))?;
            v1::export_request::Scope::TimeRange(v1::TimeRangeExport {
                from: Some(timestamp_to_proto(from)),
                to: Some(timestamp_to_proto(to)),
            })
        }
        other => {
            return Err(PageError::invalid(
                "scope",
                format!("export a subject, a campaign or a time_range, not {other:?}"),
            ))
        }
    };
    let id = ledger
        .start_export(v1::ExportRequest {
            organisation_id: organisation.as_str().to_owned(),
            scope: Some(scope),
            rule_set_id: form.rule_set.trim().to_owned(),
            previous_checkpoint: String::new(),
        })
        .map_err(job_error)?;
    Ok(to_job(&id))
}

/// A finished export: the verifier's result, the downloads, and how a
/// third party verifies it again.
pub fn result(job: &Job, export: &EvidenceExport) -> Markup {
    let verification = &export.verification;
    let commands = consent_report::verify_commands(&consent_report::ReportContext {
        bundle_file: Some(export.bundle_file.clone()),
        ..Default::default()
    });
    html! {
        h2 { "The verifier's result" }
        @if verification.passed {
            p.allowed #verdict { "Verified" }
            p { "Every record is proven against the signed checkpoint, and every decision recomputes from the bundle's own facts." }
        } @else {
            p.refused #verdict { "Not verified" }
            ul #findings { @for finding in &verification.findings { li { (finding) } } }
        }
        dl.facts {
            (fact("Evidence of", html! { (export.scope) " of " (ident(export.organisation.as_str())) }))
            (fact("Records proven", html! { (verification.records_proven) " of " (verification.records) }))
            (fact("Decisions recomputed", html! { (verification.decisions) }))
            (fact("Checkpoint signed by", html! {
                @if verification.signed_by.is_empty() { "no trusted key" }
                @else { @for (i, key) in verification.signed_by.iter().enumerate() { @if i > 0 { ", " } (ident(key)) } }
            }))
            (fact("Verifier key", ident(&verification.verifier_key)))
        }
        p { "This check was run by the ledger that made the export, against its own key: it shows the bundle is "
            "consistent, not that a third party checked it. Anyone holding the bundle and the ledger's published key "
            "(the verifier key above, saved as " code { "checkpoint.pub" } "; the ledger also publishes it at "
            code { "GET /v1/checkpoint-key" } ") verifies it again with:" }
        @for command in &commands { pre.command { code { (command) } } }
        details {
            summary { "The verifier's full output" }
            pre #verifier-output { (verification.text) }
        }
        h2 { "Downloads" }
        ul.downloads {
            li { a #download-bundle href=(download_path(job, "bundle.json")) download=(export.bundle_file) { "The bundle (" (export.bundle_file) ")" } }
            li { a #download-report href=(download_path(job, "report.html")) download=(export.report_file) { "The regulator's report (" (export.report_file) ")" } }
        }
    }
}
