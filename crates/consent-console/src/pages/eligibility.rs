//! Eligibility today: may the organisation contact this subject, by
//! channel and purpose: allowed or refused, the lawful basis, and every
//! reason against in plain English with its citation (the rules' own
//! texts). A what-if asks the same at another time, for a product
//! category, or under another rule set.

use crate::layout::page;
use crate::page_error::PageError;
use crate::pages::{organisation_id, subject_id, timeline_path};
use crate::session::SignedIn;
use axum::extract::{Path, Query};
use consent_domain::rules::LawfulBasis;
use consent_domain::vocabulary::{Channel, Purpose};
use consent_domain::Timestamp;
use consent_report::words;
use consent_schema::{timestamp_to_proto, v1, Vocabulary};
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct WhatIf {
    /// Another time: `2026-03-03T09:00` (UTC) or RFC 3339.
    #[serde(default)]
    at: String,
    /// A product category (the soft opt-in is about similar products).
    #[serde(default)]
    category: String,
    /// Another rule set than the one in force.
    #[serde(default)]
    rule_set: String,
}

/// The time of a what-if: `YYYY-MM-DDTHH:MM[:SS]` as UTC, or RFC 3339.
fn parse_at(text: &str) -> Result<Option<Timestamp>, PageError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let candidates = [text.to_owned(), format!("{text}Z"), format!("{text}:00Z")];
    candidates
        .iter()
        .find_map(|candidate| Timestamp::parse_rfc3339(candidate))
        .map(Some)
        .ok_or_else(|| {
            PageError::invalid(
                "at",
                format!("{text:?} is not a time: write it as 2026-03-03T09:00 (UTC)"),
            )
        })
}

/// `GET /console/organisations/{organisation}/subjects/{subject}/eligibility?at=&category=&rule_set=`.
pub async fn eligibility_page(
    signed_in: SignedIn,
    Path((organisation, subject)): Path<(String, String)>,
    Query(what_if): Query<WhatIf>,
) -> Result<Markup, PageError> {
    let organisation = organisation_id(&organisation)?;
    let subject = subject_id(&subject)?;
    let ledger = signed_in.for_organisation(&organisation)?;
    let at = parse_at(&what_if.at)?;
    let category = what_if.category.trim();
    let rule_set = what_if.rule_set.trim();
    let cells: Vec<(Channel, Purpose)> = Channel::ALL
        .into_iter()
        .flat_map(|channel| {
            Purpose::ALL
                .into_iter()
                .map(move |purpose| (channel, purpose))
        })
        .collect();
    let requests: Vec<v1::CheckRequest> = cells
        .iter()
        .map(|(channel, purpose)| v1::CheckRequest {
            organisation_id: organisation.as_str().to_owned(),
            subject_id: subject.as_str().to_owned(),
            channel: channel.to_wire(),
            purpose: purpose.to_wire(),
            product_category_id: category.to_owned(),
            // A compliant marketing message: the question is whether the
            // person may be contacted, not whether a message is well formed.
            message_class: v1::MessageClass::Marketing.into(),
            promotional_content: true,
            opt_out_included: true,
            sender_identified: true,
            at: at.map(timestamp_to_proto),
            rule_set_id: rule_set.to_owned(),
            ..v1::CheckRequest::default()
        })
        .collect();
    let decisions = ledger.decisions_for_reading(&requests).await?;
    let rule_sets = ledger.rule_sets();
    let evaluated_at = decisions
        .first()
        .and_then(|d| d.evaluated_at.as_ref())
        .and_then(|t| consent_schema::timestamp_from_proto("at", t).ok())
        .map(words::when)
        .unwrap_or_default();
    let used_rule_set = decisions
        .first()
        .map(|d| d.rule_set_id.clone())
        .unwrap_or_default();
    let (o, s) = (organisation.as_str(), subject.as_str());
    let title = if at.is_none() && category.is_empty() && rule_set.is_empty() {
        format!("Eligibility of subject {s} today")
    } else {
        format!("Eligibility of subject {s}: what if")
    };
    let body = html! {
        p {
            "Organisation " strong { (o) } ", subject " strong { (s) } ". "
            a href=(timeline_path(o, s)) { "Timeline" }
        }
        p role="status" {
            "Decided for " (evaluated_at) " under rule set " code { (used_rule_set) }
            @if !category.is_empty() { ", about product category " code { (category) } }
            ": a marketing message that identifies the sender and offers an opt-out."
        }
        table.matrix {
            caption { "May " (o) " contact this person, by channel and purpose" }
            thead {
                tr {
                    th scope="col" { "Channel" }
                    @for purpose in Purpose::ALL { th scope="col" { (capitalised(words::purpose(purpose))) } }
                }
            }
            tbody {
                @for channel in Channel::ALL {
                    tr {
                        th scope="row" { (capitalised(words::channel(channel))) }
                        @for purpose in Purpose::ALL {
                            @let decision = cells.iter().position(|cell| *cell == (channel, purpose)).and_then(|i| decisions.get(i));
                            td { @if let Some(decision) = decision { (cell(decision)) } }
                        }
                    }
                }
            }
        }
        h2 #what-if { "What if" }
        form.panel method="get" action="" aria-labelledby="what-if" {
            div.field {
                label for="at" { "At another time (UTC)" }
                p.hint #at-hint { "E.g. 2026-03-03T09:00; empty for now." }
                input #at type="text" name="at" value=(what_if.at) aria-describedby="at-hint";
            }
            div.field {
                label for="category" { "About a product category" }
                p.hint #category-hint { "The category's id, e.g. servicing; empty for none." }
                input #category type="text" name="category" value=(category) aria-describedby="category-hint";
            }
            div.field {
                label for="rule_set" { "Under the rule set" }
                select #rule_set name="rule_set" {
                    option value="" selected[rule_set.is_empty()] { "The one in force at that time" }
                    @for set in &rule_sets {
                        option value=(set.id) selected[set.id == rule_set] { (set.id) ": " (set.title) }
                    }
                }
            }
            button type="submit" { "Decide" }
        }
    };
    Ok(page(&signed_in, "/console/subjects", &title, body))
}

/// One cell: ALLOWED or REFUSED in words (colour only repeats it), the
/// lawful basis, and every reason against with its citation.
fn cell(decision: &v1::Decision) -> Markup {
    let basis = LawfulBasis::from_wire(decision.lawful_basis)
        .map(words::lawful_basis)
        .unwrap_or("not stated");
    html! {
        @if decision.allowed {
            span.allowed { "Allowed" }
        } @else {
            span.refused { "Refused" }
        }
        br;
        "Lawful basis: " (basis)
        @if !decision.reasons_against.is_empty() {
            ul.reasons {
                @for reason in &decision.reasons_against {
                    li { (reason.message) " (" (reason.citation) ")" }
                }
            }
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
