//! The page's opening: the answer a reader came for, in plain English.
//!
//! For one subject: may the organisation contact this person today, one
//! line per channel, allowed or refused, on what lawful basis, and every
//! reason against in words with its citation. For a campaign or a time
//! range: how many were allowed and refused, by lawful basis and by
//! reason, before any detail.

use crate::anchor;
use crate::groups::{tally, Tally};
use crate::model::*;
use crate::words::{self, when};
use maud::{html, Markup};

/// The status block (`<section id="status">`).
pub fn status_section(report: &EvidenceReport<'_>, context: &ReportContext) -> Markup {
    match &report.scope {
        ReportScope::Subject {
            organisation,
            subject,
        } => subject_status(report, context, organisation.as_str(), subject.as_str()),
        ReportScope::Campaign {
            organisation,
            subjects,
            channel,
            purpose,
            send_at,
            ..
        } => {
            let question = format!(
                "May {organisation} send this {} {} message to these {} recipient{} on {}?",
                words::purpose(*purpose),
                words::channel_message(*channel),
                count(subjects.len()),
                plural(subjects.len()),
                when(*send_at)
            );
            summary(report, &question, "recipient")
        }
        ReportScope::TimeRange {
            organisation,
            from,
            to,
        } => {
            let question = format!(
                "Were the messages {organisation} recorded as sent from {} to {} allowed?",
                when(*from),
                when(*to)
            );
            summary(report, &question, "message")
        }
    }
}

fn subject_status(
    report: &EvidenceReport<'_>,
    context: &ReportContext,
    organisation: &str,
    subject: &str,
) -> Markup {
    let status = context
        .status
        .as_ref()
        .filter(|status| status.first < report.decisions.len());
    html! {
        section.status id="status" {
            @match status {
                Some(status) => {
                    h2 {
                        "May " (organisation) " contact " (subject) " today (" (date(status.at)) ")?"
                    }
                    p.meta { "As the ledger's records stood at " (when(status.at)) ", for a marketing message that identifies the sender and offers a free opt-out:" }
                    @for (offset, entry) in report.decisions[status.first..].iter().enumerate() {
                        (status_line(status.first + offset + 1, entry))
                    }
                }
                None => {
                    h2 { "May " (organisation) " contact " (subject) " today?" }
                    p {
                        "This evidence does not say: it holds no decision for the time it was exported "
                        "(bundles exported before the ledger added one). "
                        @if report.decisions.is_empty() {
                            "It holds no decision at all, only the events below."
                        } @else {
                            "The decisions below answer the messages recorded as sent and the questions asked."
                        }
                    }
                }
            }
        }
    }
}

fn status_line(number: usize, entry: &ReportDecision<'_>) -> Markup {
    let request = entry.request;
    let decision = entry.decision;
    html! {
        div.status-line {
            p.channel {
                strong { (capitalised(words::channel(request.channel))) }
                @if request.purpose != consent_domain::vocabulary::Purpose::Commercial {
                    " (" (words::purpose(request.purpose)) ")"
                }
                ": "
                @if decision.allowed {
                    span.allowed-word { "ALLOWED" } ", on the lawful basis of " strong { (words::lawful_basis(decision.lawful_basis)) } "."
                } @else {
                    span.refused-word { "REFUSED" } "."
                }
                " " a href={ "#" (anchor::decision(number)) } { "Decision " (number) }
            }
            @if !decision.allowed {
                ul.reasons {
                    @if decision.reasons_against.is_empty() {
                        li { "No lawful basis applies." }
                    }
                    @for reason in &decision.reasons_against {
                        li { (reason.message) " " span.citation { "(" (reason.citation) ")" } }
                    }
                }
            }
            @if !entry.recomputed {
                p.warning { "NOT RECOMPUTED: the verifier did not reproduce this answer from the events in this evidence." }
            }
        }
    }
}

/// Counts first: allowed and refused, by lawful basis and by reason.
fn summary(report: &EvidenceReport<'_>, question: &str, noun: &str) -> Markup {
    let tally: Tally = tally(&report.decisions);
    let total = report.decisions.len();
    html! {
        section.status id="status" {
            h2 { (question) }
            @if total == 0 {
                p { "This evidence holds no decision." }
            } @else {
                p.counts {
                    span.allowed-word { (count(tally.allowed)) " allowed" } ", "
                    span.refused-word { (count(tally.refused)) " refused" }
                    ", of " (count(total)) " " (noun) (plural(total)) "."
                }
                @if tally.not_recomputed > 0 {
                    p.warning { (count(tally.not_recomputed)) " decision(s) NOT RECOMPUTED by the verifier." }
                }
                @if !tally.by_basis.is_empty() {
                    h3 { "Allowed, by lawful basis" }
                    table.data.tally {
                        thead { tr { th { "Lawful basis" } th { "Count" } } }
                        tbody {
                            @for (basis, n) in &tally.by_basis {
                                tr { td { (words::lawful_basis(*basis)) } td.count { (count(*n)) } }
                            }
                        }
                    }
                }
                @if !tally.by_reason.is_empty() {
                    h3 { "Refused, by reason" }
                    p.meta { "A message refused for two reasons counts under each." }
                    table.data.tally {
                        thead { tr { th { "Rule" } th { "Reason" } th { "Legal citation" } th { "Count" } } }
                        tbody {
                            @for (reason, n) in &tally.by_reason {
                                tr {
                                    td { strong { (reason.rule) } }
                                    td { (reason.code.replace('_', " ")) }
                                    td.citation { (reason.citation) }
                                    td.count { (count(*n)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `2026-06-01`.
fn date(at: consent_domain::time::Timestamp) -> String {
    when(at).chars().take(10).collect()
}

/// `100,000`.
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn capitalised(text: &str) -> String {
    let mut out = text.to_owned();
    if let Some(first) = out.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(100_000), "100,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }
}
