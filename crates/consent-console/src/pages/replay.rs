//! Replay: decide the history again under another rule set or another
//! product similarity map (docs/REPLAY.md), as a job over the running
//! ledger's log; its page shows the changes by organisation, channel and
//! rule, with samples, and offers the full list of changed decisions.
//!
//! An organisation's key replays its own history (and may replace only
//! its own similarity map); the admin key replays one organisation or
//! every organisation.

use crate::layout::{csrf_field, page};
use crate::page_error::PageError;
use crate::pages::form_fields::{parse_time, rule_set_options};
use crate::pages::jobs::{download_path, ident, job_error, to_job};
use crate::pages::{organisation_id, posted, Posted};
use crate::session::SignedIn;
use axum::response::Response;
use consent_service::{ChangeCounts, Job, ReplayRequest, ReplayResult};
use maud::{html, Markup};
use serde::Deserialize;

/// `GET /console/replay`: the replay form.
pub async fn replay_page(signed_in: SignedIn) -> Result<Markup, PageError> {
    let ledger = signed_in.ledger.for_any_caller();
    let rule_sets = ledger.catalogue().all().to_vec();
    let in_force = "The one in force at each decision's time";
    let body = html! {
        p { "What would another rule set, or another list of which products your customers expect to hear about, "
            "have changed? The replay decides every recorded send again under both, from the log, and lists every "
            "decision whose answer differs. It changes nothing in the ledger." }
        form.panel method="post" action="/console/replay" {
            (csrf_field(signed_in.csrf()))
            div.field {
                label for="organisation" { "Organisation" }
                @if let Some(own) = signed_in.own_organisation() {
                    p.hint #organisation-hint { "Your key replays this organisation only." }
                    input #organisation type="text" name="organisation" value=(own.as_str()) readonly aria-describedby="organisation-hint";
                } @else {
                    p.hint #organisation-hint { "Empty: every organisation." }
                    input #organisation type="text" name="organisation" aria-describedby="organisation-hint";
                }
            }
            div.field {
                label for="baseline" { "Compare with (baseline)" }
                select #baseline name="baseline" { (rule_set_options(&rule_sets, "", in_force)) }
            }
            div.field {
                label for="candidate" { "Rule set to try (candidate)" }
                select #candidate name="candidate" { (rule_set_options(&rule_sets, "", in_force)) }
            }
            div.field {
                label for="similarity" { "Similar products to try (optional)" }
                p.hint #similarity-hint {
                    "JSON: organisation id to its categories, as " code { "consent-ledger replay --similarity" }
                    " reads it, e.g. " code { r#"{"acme": {"categories": [{"id": "tea", "name": "Tea", "similarCategoryIds": ["cups"]}]}}"# }
                }
                textarea #similarity name="similarity" rows="5" cols="60" aria-describedby="similarity-hint" {}
            }
            div.field {
                label for="as_of" { "Also ask who may be emailed or texted at (optional)" }
                p.hint #as_of-hint { "A date (2026-03-01) or a time (2026-03-01T09:00:00Z), UTC." }
                input #as_of type="text" name="as_of" aria-describedby="as_of-hint";
            }
            button type="submit" { "Run the replay" }
        }
    };
    Ok(page(&signed_in, "/console/replay", "Replay", body))
}

#[derive(Deserialize)]
pub struct ReplayForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    baseline: String,
    #[serde(default)]
    candidate: String,
    #[serde(default)]
    similarity: String,
    #[serde(default)]
    as_of: String,
}

/// `POST /console/replay`: starts the replay, then its job's page.
pub async fn start_replay(
    signed_in: SignedIn,
    form: Posted<ReplayForm>,
) -> Result<Response, PageError> {
    let form = posted(form)?;
    signed_in.check_csrf(&form.csrf)?;
    let organisation = match signed_in.own_organisation() {
        Some(own) => Some(own.clone()),
        None if form.organisation.trim().is_empty() => None,
        None => Some(organisation_id(&form.organisation)?),
    };
    let ledger = match &organisation {
        Some(organisation) => signed_in.for_organisation(organisation)?,
        None => signed_in.for_admin("replay every organisation")?,
    };
    let optional = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    let id = ledger
        .start_replay(ReplayRequest {
            organisation: organisation.map(|o| o.as_str().to_owned()),
            baseline_rule_set: optional(&form.baseline),
            candidate_rule_set: optional(&form.candidate),
            similarity: optional(&form.similarity),
            as_of: parse_time("as_of", &form.as_of)?,
        })
        .map_err(job_error)?;
    Ok(to_job(&id))
}

fn counts_row(label: Markup, counts: &ChangeCounts) -> Markup {
    html! {
        tr {
            th scope="row" { (label) }
            td { (counts.evaluated) }
            td { (counts.changed()) }
            td { (counts.allowed_to_refused) }
            td { (counts.refused_to_allowed) }
            td { (counts.basis_changed) }
        }
    }
}

fn counts_head(first: &str) -> Markup {
    html! {
        thead { tr {
            th scope="col" { (first) }
            th scope="col" { "Decisions" }
            th scope="col" { "Changed" }
            th scope="col" { "Allowed, now refused" }
            th scope="col" { "Refused, now allowed" }
            th scope="col" { "Another basis" }
        } }
    }
}

/// A finished replay: the totals, the changes by organisation, channel
/// and rule, the samples, and the full list.
pub fn result(job: &Job, result: &ReplayResult) -> Markup {
    let report = &result.report;
    let changed = report.totals.changed();
    html! {
        dl.facts {
            dt { "Baseline" } dd { (report.baseline.to_string()) }
            dt { "Candidate" } dd { (report.candidate.to_string())
                @if !report.similarity_overrides.is_empty() {
                    ", with the similar products of "
                    @for (i, organisation) in report.similarity_overrides.iter().enumerate() {
                        @if i > 0 { ", " } (ident(organisation.as_str()))
                    }
                    " replaced"
                }
            }
        }
        p #replay-summary {
            (report.totals.evaluated) " "
            (if report.totals.evaluated == 1 { "decision" } else { "decisions" })
            " replayed: " strong { (changed) " changed" } "."
        }
        table #replay-totals {
            caption { "By organisation" }
            (counts_head("Organisation"))
            tbody {
                @for (organisation, counts) in &report.by_organisation {
                    (counts_row(ident(organisation.as_str()), counts))
                }
                (counts_row(html! { "All" }, &report.totals))
            }
        }
        table #replay-channels {
            caption { "By channel" }
            (counts_head("Channel"))
            tbody {
                @for (channel, counts) in &report.by_channel {
                    (counts_row(html! { (channel) }, counts))
                }
            }
        }
        @if report.by_rule.is_empty() {
            p #replay-rules { "No rule's outcome changed." }
        } @else {
            table #replay-rules {
                caption { "Which rules made the difference" }
                thead { tr { th scope="col" { "Rule: outcome before and after" } th scope="col" { "Decisions" } } }
                tbody {
                    @for (rule, count) in &report.by_rule {
                        tr { td { (rule) } td { (count) } }
                    }
                }
            }
        }
        details {
            summary { "The summary, as consent-ledger replay prints it" }
            pre #replay-text { (result.summary) }
        }
        h2 { "Downloads" }
        ul.downloads {
            li { a #download-changes href=(download_path(job, "changes.ndjson")) download=(result.changes_file) {
                "Every changed decision (" (result.changes_written) ", one JSON object per line)" } }
        }
    }
}
