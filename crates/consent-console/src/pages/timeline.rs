//! Timeline: every fact of a subject in the order it occurred, in words
//! (consent-report's `describe`, the regulator's page's words), with its
//! log position and event id, each linked to the subject's evidence.

use crate::layout::page;
use crate::page_error::PageError;
use crate::pages::{eligibility_path, evidence_path, organisation_id, subject_id};
use crate::session::SignedIn;
use axum::extract::Path;
use consent_report::{describe, words};
use consent_schema::{contact_fields, event_from_proto, v1, ContactField};
use maud::{html, Markup};

/// One entry of the timeline, in words.
pub(crate) struct Entry {
    pub(crate) event_id: String,
    pub(crate) kind: String,
    pub(crate) occurred_at: String,
    pub(crate) recorded_at: String,
    pub(crate) headline: String,
    pub(crate) details: Vec<String>,
    pub(crate) position: String,
}

/// `GET /console/organisations/{organisation}/subjects/{subject}`.
pub async fn timeline_page(
    signed_in: SignedIn,
    Path((organisation, subject)): Path<(String, String)>,
) -> Result<Markup, PageError> {
    let organisation = organisation_id(&organisation)?;
    let subject = subject_id(&subject)?;
    let ledger = signed_in.for_organisation(&organisation)?;
    let history = ledger.history(&organisation, &subject, None, None).await?;
    let entries: Vec<Entry> = history.events.into_iter().map(entry).collect();
    let (o, s) = (organisation.as_str(), subject.as_str());
    let body = html! {
        p {
            "Organisation " strong { (o) } ", subject " strong { (s) } ". "
            a href=(eligibility_path(o, s)) { "Eligibility today" }
            " | "
            a href=(evidence_path(o, s)) { "Export the evidence of this subject" }
        }
        @if entries.is_empty() {
            p role="status" { "The ledger holds no fact about this subject." }
        } @else {
            p role="status" { (entries.len()) " " (if entries.len() == 1 { "fact" } else { "facts" }) ", in the order they occurred." }
            ol.timeline {
                @for entry in &entries {
                    li id={"event-" (entry.event_id)} {
                        strong { (entry.occurred_at) } ": " (entry.headline)
                        @if !entry.details.is_empty() {
                            ul { @for detail in &entry.details { li { (detail) } } }
                        }
                        div.meta {
                            "Log position " span.mono { (entry.position) }
                            "; event " span.mono { (entry.event_id) }
                            " (" (entry.kind) "), recorded " (entry.recorded_at) ". "
                            a href={(evidence_path(o, s)) "&event=" (crate::pages::query_value(&entry.event_id))} {
                                "Evidence" span.visually-hidden { " of event " (entry.event_id) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        &signed_in,
        "/console/subjects",
        &format!("Timeline of subject {s}"),
        body,
    ))
}

/// A history entry in words. A value the ledger opened (the subject's key
/// is live) is described in clear; one still sealed (an erased subject)
/// by its digest.
pub(crate) fn entry(history: v1::HistoryEntry) -> Entry {
    let position = history
        .position
        .map(|p| format!("{} partition {} offset {}", p.topic, p.partition, p.offset))
        .unwrap_or_else(|| "not recorded".to_owned());
    let Some(mut envelope) = history.event else {
        return Entry {
            event_id: String::new(),
            kind: String::new(),
            occurred_at: String::new(),
            recorded_at: String::new(),
            headline: "An empty record".to_owned(),
            details: Vec::new(),
            position,
        };
    };
    let event_id = envelope.event_id.clone();
    // The opened values stand for the sealed ones: the fact reads as it
    // was appended.
    for field in contact_fields(envelope.payload.as_mut()) {
        match field {
            ContactField::Point { point, .. } if !point.value.is_empty() => point.sealed = None,
            ContactField::Number { number, sealed, .. } if !number.is_empty() => *sealed = None,
            _ => {}
        }
    }
    match event_from_proto(&envelope) {
        Ok(event) => {
            let description = describe(&event.fact);
            Entry {
                event_id,
                kind: event.fact.kind().to_owned(),
                occurred_at: words::when(event.occurred_at),
                recorded_at: words::when(event.recorded_at),
                headline: description.headline,
                details: description.details,
                position,
            }
        }
        Err(error) => Entry {
            event_id,
            kind: String::new(),
            occurred_at: String::new(),
            recorded_at: String::new(),
            headline: format!("A record the console cannot read ({error})"),
            details: Vec::new(),
            position,
        },
    }
}
