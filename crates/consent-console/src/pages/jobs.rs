//! Jobs: the long work started from the Evidence, Replay and Campaign
//! pre-flight pages (consent-service's `jobs`). A job's page shows its
//! progress, then the result with its downloads. Without JavaScript, its
//! "Check again" link loads it afresh; with the console's own script
//! (`progress.js`, [`crate::security::PROGRESS_SCRIPT`]) the progress is
//! refreshed in place every few seconds, in a polite live region, and the
//! result replaces it when the job is done, without a reload. A job is
//! visible only to its organisation's key and the admin's; to another
//! organisation it does not exist (404).

use crate::layout::{code, page, scripted_page};
use crate::page_error::PageError;
use crate::pages::{evidence, path_segment, preflight, replay};
use crate::session::SignedIn;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use consent_service::{Job, JobError, JobId, JobOutput, JobState, Viewer};
use maud::{html, Markup};

/// Seconds between two looks at a running job's progress (the page's
/// script).
pub const REFRESH_SECONDS: u32 = 2;

/// Who the signed-in key is, as a viewer of jobs.
pub fn viewer(signed_in: &SignedIn) -> Viewer {
    match signed_in.own_organisation() {
        Some(own) => Viewer::Organisation(own.clone()),
        None => Viewer::Admin,
    }
}

/// The path of a job's page.
pub fn job_path(id: &JobId) -> String {
    format!("/console/jobs/{}", path_segment(id.as_str()))
}

/// Where a form that started a job goes: the job's page (303).
pub fn to_job(id: &JobId) -> Response {
    Redirect::to(&job_path(id)).into_response()
}

/// A job that could not be started or seen, as a page.
pub fn job_error(error: JobError) -> PageError {
    match error {
        JobError::NotFound(_) => PageError::NotFound(
            "no such job: it may have finished long ago and been dropped, or belong to \
             another organisation"
                .to_owned(),
        ),
        JobError::Busy { .. } => PageError::Unavailable(error.to_string()),
        JobError::Refused(error) => error.into(),
    }
}

fn find(signed_in: &SignedIn, id: &str) -> Result<Job, PageError> {
    let ledger = signed_in.ledger.for_any_caller();
    ledger
        .jobs()
        .get(&JobId::from(id), &viewer(signed_in))
        .map_err(job_error)
}

/// `GET /console/jobs`: the jobs this key may see, the newest first.
pub async fn jobs_page(signed_in: SignedIn) -> Result<Markup, PageError> {
    let jobs = signed_in
        .ledger
        .for_any_caller()
        .jobs()
        .list(&viewer(&signed_in));
    let body = html! {
        p { "Exports, replays and pre-flights started from this console, while this instance of the ledger runs. "
            "A finished job's result is kept until newer jobs replace it." }
        @if jobs.is_empty() {
            p role="status" { "No job yet." }
        } @else {
            table {
                caption { (jobs.len()) " " (if jobs.len() == 1 { "job" } else { "jobs" }) }
                thead { tr { th scope="col" { "Job" } th scope="col" { "Started" } th scope="col" { "State" } } }
                tbody {
                    @for job in &jobs {
                        tr {
                            td { a href=(job_path(&job.id)) { (capitalised(job.kind.in_words())) ": " (job.title) } }
                            td { (consent_report::words::when(job.started_at)) }
                            td { (state_in_words(job)) }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&signed_in, "/console/jobs", "Jobs", body))
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn state_in_words(job: &Job) -> String {
    match &job.state {
        JobState::Running => match job.percent() {
            Some(percent) => format!("running, {percent}% done"),
            None => "running".to_owned(),
        },
        JobState::Succeeded(_) => "finished".to_owned(),
        JobState::Failed(_) => "failed".to_owned(),
    }
}

/// `GET /console/jobs/{id}`: the progress, then the result.
///
/// The page has two parts the script (`progress.js`) refreshes from the
/// page itself: `#job-status`, a polite live region (the state, the
/// progress bar and the count while the job runs, `data-running`; then
/// "Finished" or why it failed), and `#job-body` (the "Check again" link
/// while it runs, then the result). Nothing reloads, so WCAG 2.2.1
/// (timing adjustable) has nothing to adjust; without the script the
/// link is the way to look again.
pub async fn job_page(signed_in: SignedIn, Path(id): Path<String>) -> Result<Response, PageError> {
    let job = find(&signed_in, &id)?;
    let title = capitalised(job.kind.in_words());
    let about = html! {
        p { (capitalised(&job.title)) ", started " (consent_report::words::when(job.started_at)) "." }
    };
    match &job.state {
        JobState::Running => {
            let body = html! {
                (about)
                div.notice #job-status role="status" aria-live="polite" data-running data-refresh-seconds=(REFRESH_SECONDS) {
                    p #job-state { "Running" @if !job.phase.is_empty() { ": " (job.phase) } "." }
                    @if job.total > 0 {
                        label for="job-progress" { "Progress" }
                        progress #job-progress max=(job.total) value=(job.done.min(job.total)) {
                            (job.percent().unwrap_or(0)) "%"
                        }
                        p #job-count { (job.done.min(job.total)) " of " (job.total) " done ("
                            (job.percent().unwrap_or(0)) "%)." }
                    }
                }
                div #job-body {
                    p { "The result shows on this page when the job is done. "
                        a #check-again href=(job_path(&job.id)) { "Check again" } }
                }
            };
            Ok(crate::security::allow_own_scripts(scripted_page(
                &signed_in,
                "/console/jobs",
                &title,
                crate::security::PROGRESS_SCRIPT_PATH,
                body,
            )))
        }
        JobState::Failed(message) => {
            let body = html! {
                (about)
                div.error #job-status role="alert" {
                    p #job-state { "The job failed: " (message) }
                }
                div #job-body {
                    p { a href=(back_path(&job)) { "Start it again" } }
                }
            };
            Ok(page(&signed_in, "/console/jobs", &title, body).into_response())
        }
        JobState::Succeeded(output) => {
            let result = match output.as_ref() {
                JobOutput::Export(export) => evidence::result(&job, export),
                JobOutput::Preflight(result) => preflight::result(&job, result),
                JobOutput::Replay(result) => replay::result(&job, result),
            };
            let body = html! {
                (about)
                div.notice #job-status role="status" aria-live="polite" {
                    p #job-state { "Finished " @if let Some(at) = job.finished_at { (consent_report::words::when(at)) } "." }
                }
                div #job-body { (result) }
            };
            Ok(page(&signed_in, back_path(&job), &title, body).into_response())
        }
    }
}

/// The page a job of this kind is started from.
fn back_path(job: &Job) -> &'static str {
    match job.kind {
        consent_service::JobKind::Export => "/console/evidence",
        consent_service::JobKind::Preflight => "/console/preflight",
        consent_service::JobKind::Replay => "/console/replay",
    }
}

/// The path of one of a job's downloads.
pub fn download_path(job: &Job, file: &str) -> String {
    format!("{}/{}", job_path(&job.id), file)
}

/// `GET /console/jobs/{id}/{file}`: a finished job's file, as an
/// attachment: `bundle.json` and `report.html` of an export,
/// `recipients.csv` of a pre-flight, `changes.ndjson` of a replay.
pub async fn download(
    signed_in: SignedIn,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let job = find(&signed_in, &id)?;
    let Some(output) = job.output() else {
        return Err(PageError::NotFound(
            "this job has no result (yet): see its page".to_owned(),
        ));
    };
    let (content_type, name, bytes) = match (output, file.as_str()) {
        (JobOutput::Export(export), "bundle.json") => (
            "application/json",
            export.bundle_file.clone(),
            export.bundle_json.clone(),
        ),
        (JobOutput::Export(export), "report.html") => (
            "text/html; charset=utf-8",
            export.report_file.clone(),
            export.report_html.clone().into_bytes(),
        ),
        (JobOutput::Preflight(result), "recipients.csv") => (
            "text/csv; charset=utf-8",
            result.file_name.clone(),
            result.csv.clone(),
        ),
        (JobOutput::Replay(result), "changes.ndjson") => (
            "application/x-ndjson",
            result.changes_file.clone(),
            result.changes_ndjson().map_err(|error| {
                PageError::Internal(format!("the list of changes cannot be read: {error}"))
            })?,
        ),
        _ => {
            return Err(PageError::NotFound(format!(
                "this job has no file {file:?}"
            )))
        }
    };
    tracing::info!(job = %job.id, file = %file, bytes = bytes.len(), "console: a job's file downloaded");
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}\"",
                    name.replace(['"', '\\'], "_")
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A short description list row.
pub fn fact(label: &str, value: Markup) -> Markup {
    html! { dt { (label) } dd { (value) } }
}

/// An identifier, as code.
pub fn ident(text: &str) -> Markup {
    code(text)
}
