//! The HTML page. Every value from the data is spliced through maud, which
//! escapes it; nothing from the data is ever written unescaped.

use crate::anchor;
use crate::describe::{describe, source};
use crate::groups::{group, DecisionGroup};
use crate::model::*;
use crate::reverify::{how_to_verify_section, verified_by_line};
use crate::status::{count, plural, status_section};
use crate::style::STYLE;
use crate::words::{self, when};
use consent_domain::identity::{EventId, SubjectId};
use consent_domain::rules::{Decision, EventReference, Reason, RuleOutcome, RuleSet};
use consent_domain::time::Timestamp;
use consent_domain::vocabulary::Channel;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use std::collections::{BTreeMap, BTreeSet};

/// No script, no fetch of any kind: only the inline style may apply.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'";

/// Renders the report as one self-contained HTML page: inline CSS, no
/// scripts, no external resources. Pure: the same report gives the same
/// bytes. States nothing beyond the evidence ([`ReportContext::default`]);
/// [`render_report`] says who verified it and which decisions are the
/// status.
pub fn render_html(report: &EvidenceReport<'_>) -> String {
    render_report(report, &ReportContext::default())
}

/// Most recipients a campaign group lists by name; the bundle lists all.
pub const GROUP_LISTED_MAX: usize = 500;

/// Renders the report with what `context` states: the page opens with the
/// status (may the organisation contact this person today; for a
/// campaign, the counts by outcome and reason), then the verification and
/// who ran it, the details, and ends with how to verify it yourself.
pub fn render_report(report: &EvidenceReport<'_>, context: &ReportContext) -> String {
    let campaign = matches!(report.scope, ReportScope::Campaign { .. });
    let groups = if campaign {
        group(&report.decisions)
    } else {
        Vec::new()
    };
    // A campaign shows one decision in full per group, and the timeline
    // of the recipients of those decisions (every event is in the bundle).
    let shown: Vec<usize> = if campaign {
        groups.iter().map(DecisionGroup::representative).collect()
    } else {
        (0..report.decisions.len()).collect()
    };
    let timeline_events: Vec<ReportEvent<'_>> = if campaign {
        let subjects: BTreeSet<&SubjectId> = shown
            .iter()
            .filter_map(|&i| report.decisions[i].request.subject.as_ref())
            .collect();
        report
            .events
            .iter()
            .filter(|e| {
                e.event
                    .subject
                    .as_ref()
                    .is_none_or(|s| subjects.contains(s))
            })
            .cloned()
            .collect()
    } else {
        report.events.clone()
    };
    let timeline = Timeline::of(&timeline_events);
    let page = html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CONTENT_SECURITY_POLICY);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (report.title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { (report.title) }
                    p.scope { (scope_sentence(&report.scope)) }
                    (scope_particulars(&report.scope))
                    p.meta { "Report produced " (time_element(report.produced_at)) "." }
                }
                (status_section(report, context))
                (verdict(&report.verification, context))
                @if campaign {
                    (groups_section(report, &groups))
                } @else {
                    (at_a_glance(report))
                }
                (checkpoint_section(&report.verification))
                (timeline_section(&timeline, report.events.len()))
                (decisions_section(report, &shown, &timeline))
                (rule_sets_section(&report.rule_sets))
                (how_to_verify_section(report, context))
                footer {
                    "Every event above is shown as recorded in the ledger's log, at the position given. "
                    "Each decision is the ledger's answer to the question shown, computed from the events "
                    "that had occurred by the question's time under the rule set named."
                }
            }
        }
    };
    page.into_string()
}

/// A campaign's decisions grouped by answer: each group's count, the
/// decision shown in full for it, and its recipients listed compactly.
fn groups_section(report: &EvidenceReport<'_>, groups: &[DecisionGroup]) -> Markup {
    html! {
        section id="groups" {
            h2 { "Recipients by answer" }
            p {
                "Every recipient's decision, grouped by the same answer. Each group shows one decision in full; "
                "the bundle holds every recipient's decision."
            }
            @for (index, group) in groups.iter().enumerate() {
                @let representative = group.representative() + 1;
                @let members = group.members.len();
                div.group id=(format!("group-{}", index + 1)) {
                    h3 {
                        @if group.allowed { span.allowed-word { "ALLOWED" } } @else { span.refused-word { "REFUSED" } }
                        " " (count(members)) " recipient" (plural(members)) ": " (group.label())
                    }
                    @if !group.reasons.is_empty() {
                        ul.cites {
                            @for reason in &group.reasons {
                                li { strong { (reason.rule) } " " (reason.code.replace('_', " ")) " " span.citation { (reason.citation) } }
                            }
                        }
                    }
                    @if !group.recomputed {
                        p.warning { "NOT RECOMPUTED: the verifier did not reproduce these answers from the events in this evidence." }
                    }
                    p { a href={ "#" (anchor::decision(representative)) } { "Decision " (representative) } " is shown in full for this group." }
                    details {
                        summary {
                            @if members > GROUP_LISTED_MAX {
                                "The first " (count(GROUP_LISTED_MAX)) " of " (count(members)) " recipients"
                            } @else {
                                "The " (count(members)) " recipient" (plural(members))
                            }
                        }
                        p.recipients.mono {
                            @for (i, &member) in group.members.iter().take(GROUP_LISTED_MAX).enumerate() {
                                @if i > 0 { ", " }
                                (report.decisions[member].request.addressee())
                            }
                        }
                        @if members > GROUP_LISTED_MAX {
                            p.meta { "And " (count(members - GROUP_LISTED_MAX)) " more: every recipient's decision is in the bundle's " code { "decisions" } "." }
                        }
                    }
                }
            }
        }
    }
}

fn time_element(at: Timestamp) -> Markup {
    html! { time datetime=(at.to_string()) { (when(at)) } }
}

fn scope_sentence(scope: &ReportScope) -> String {
    match scope {
        ReportScope::Subject {
            organisation,
            subject,
        } => format!("Subject {subject} of organisation {organisation}"),
        ReportScope::Campaign {
            organisation,
            subjects,
            channel,
            ..
        } => format!(
            "Campaign by {organisation}: {} to {} subject{}",
            words::channel(*channel),
            subjects.len(),
            if subjects.len() == 1 { "" } else { "s" }
        ),
        ReportScope::TimeRange {
            organisation,
            from,
            to,
        } => format!(
            "Events of organisation {organisation} from {} to {}",
            when(*from),
            when(*to)
        ),
    }
}

fn scope_particulars(scope: &ReportScope) -> Markup {
    match scope {
        ReportScope::Subject { .. } => html! {
            p.meta { "This report covers every recorded fact about this subject, and the organisation's own facts the decisions rely on." }
        },
        ReportScope::Campaign {
            subjects,
            channel,
            purpose,
            product_category,
            send_at,
            ..
        } => html! {
            dl.facts {
                dt { "Channel" } dd { (words::channel(*channel)) }
                dt { "Purpose" } dd { (words::purpose(*purpose)) }
                dt { "Product category" }
                dd { (product_category.as_ref().map_or("none given", |c| c.as_str())) }
                dt { "Send time" } dd { (time_element(*send_at)) }
                dt { "Subjects" }
                dd {
                    @if subjects.len() <= SCOPE_LISTED_MAX {
                        (words::join(subjects.iter().map(|s| s.as_str())))
                    } @else {
                        (count(subjects.len())) " subjects, listed by answer below"
                    }
                }
            }
        },
        ReportScope::TimeRange { .. } => html! {
            p.meta { "This report covers the facts that occurred in this period, from its start up to but not including its end." }
        },
    }
}

/// Most subjects the scope lists by name at the top of a campaign's page.
const SCOPE_LISTED_MAX: usize = 20;

fn verdict(verification: &VerificationSummary, context: &ReportContext) -> Markup {
    let checkpoint = &verification.checkpoint;
    html! {
        section.verdict.verified[verification.passed].failed[!verification.passed] id="verification" {
            @if verification.passed {
                div.word { "VERIFIED" }
                div.why {
                    "Every signature and proof checked: " (verification.records_proven) " of "
                    (verification.records_total) " records proven in the signed ledger of "
                    (checkpoint.origin) " at size " (checkpoint.tree_size) "."
                }
            } @else {
                div.word { "FAILED" }
                div.why {
                    "This evidence did not verify. Do not rely on it. "
                    (verification.records_proven) " of " (verification.records_total)
                    " records proven."
                }
            }
            @if !verification.findings.is_empty() {
                ul.findings {
                    @for finding in &verification.findings { li { (finding) } }
                }
            } @else if !verification.passed {
                ul.findings { li { "The verifier gave no finding." } }
            }
            (verified_by_line(context))
        }
    }
}

fn at_a_glance(report: &EvidenceReport<'_>) -> Markup {
    html! {
        section id="summary" {
            h2 { "Decisions at a glance" }
            @if report.decisions.is_empty() {
                p { "This report contains no decision." }
            } @else {
                @for (index, entry) in report.decisions.iter().enumerate() {
                    @let number = index + 1;
                    div.glance {
                        (answer(entry.decision))
                        p.question {
                            a href={ "#" (anchor::decision(number)) } { "Decision " (number) }
                            ": may " (entry.request.organisation) " send "
                            (words::channel(entry.request.channel)) " to "
                            strong { (entry.request.addressee()) } " on "
                            (time_element(entry.request.at)) "?"
                        }
                        @if entry.decision.allowed {
                            p { "Lawful basis: " strong { (words::lawful_basis(entry.decision.lawful_basis)) } }
                        } @else {
                            ul.cites {
                                @for reason in &entry.decision.reasons_against {
                                    li { strong { (reason.rule) } " " span.citation { (reason.citation) } }
                                }
                            }
                        }
                        (recomputed_line(entry.recomputed))
                    }
                }
            }
        }
    }
}

fn answer(decision: &Decision) -> Markup {
    html! {
        @if decision.allowed {
            div.answer.allowed { "ALLOWED" }
        } @else {
            div.answer.refused { "REFUSED" }
        }
    }
}

fn recomputed_line(recomputed: bool) -> Markup {
    html! {
        @if recomputed {
            p.note { "Recomputed by the verifier from the events in this evidence: same answer." }
        } @else {
            p.warning { "NOT RECOMPUTED: the verifier did not reproduce this answer from the events in this evidence." }
        }
    }
}

fn checkpoint_summary(checkpoint: &CheckpointSummary) -> Markup {
    html! {
        dl.facts {
            dt { "Log (origin)" } dd { code { (checkpoint.origin) } }
            dt { "Tree size" } dd { (checkpoint.tree_size) " leaves" }
            dt { "Ledger head root" } dd { code { (checkpoint.root_base64) } }
            dt { "Checkpoint time" } dd { (time_element(checkpoint.time)) }
        }
    }
}

fn checkpoint_section(verification: &VerificationSummary) -> Markup {
    html! {
        section id="checkpoint" {
            h2 { "Signed checkpoint" }
            p { "The log's signed statement of its size and root hash, which every record below is proven against." }
            (checkpoint_summary(&verification.checkpoint))
            dl.facts {
                dt { "Signed by" }
                dd {
                    @if verification.signers.is_empty() {
                        span.warning { "no trusted signature verified" }
                    } @else {
                        (words::join(verification.signers.iter().map(String::as_str)))
                    }
                }
                dt { "Records proven" }
                dd { (verification.records_proven) " of " (verification.records_total) }
            }
            @match &verification.consistent_with {
                Some(earlier) => {
                    h3 { "Consistent with an earlier published checkpoint" }
                    p { "The log at the checkpoint above extends this earlier checkpoint: nothing recorded by then was changed or removed." }
                    (checkpoint_summary(earlier))
                }
                None => {
                    p.meta { "No earlier published checkpoint was given, so consistency with one was not checked." }
                }
            }
        }
    }
}

/// The events in time order, numbered from 1, with each event id's first
/// entry (the one its anchor points at).
struct Timeline<'r, 'a> {
    entries: Vec<&'r ReportEvent<'a>>,
    by_id: BTreeMap<EventId, usize>,
}

impl<'r, 'a> Timeline<'r, 'a> {
    fn of(events: &'r [ReportEvent<'a>]) -> Self {
        let mut entries: Vec<&ReportEvent<'a>> = events.iter().collect();
        entries.sort_by(|a, b| {
            (a.event.occurred_at, a.event.id, &a.position).cmp(&(
                b.event.occurred_at,
                b.event.id,
                &b.position,
            ))
        });
        let mut by_id = BTreeMap::new();
        for (index, entry) in entries.iter().enumerate() {
            by_id.entry(entry.event.id).or_insert(index);
        }
        Self { entries, by_id }
    }

    /// The timeline number (from 1) and entry of an event, if present.
    fn find(&self, id: &EventId) -> Option<(usize, &ReportEvent<'a>)> {
        self.by_id
            .get(id)
            .map(|&index| (index + 1, self.entries[index]))
    }
}

fn timeline_section(timeline: &Timeline<'_, '_>, in_evidence: usize) -> Markup {
    html! {
        section id="timeline" {
            h2 { "Timeline of events" }
            @if timeline.entries.len() == in_evidence {
                p { "Every event in this evidence, in the order it occurred, with its place in the log." }
            } @else {
                p {
                    "The organisation's facts and the events of the recipients whose decisions are shown in full, "
                    "in the order they occurred, with their place in the log: " (count(timeline.entries.len()))
                    " of the " (count(in_evidence)) " events in this evidence (the bundle holds them all)."
                }
            }
            @if timeline.entries.is_empty() {
                p { "This evidence contains no event." }
            } @else {
                table.data.timeline {
                    thead { tr { th { "#" } th { "When" } th { "About" } th { "What" } th { "Log position and event id" } } }
                    tbody {
                        @for (index, entry) in timeline.entries.iter().enumerate() {
                            @let event = entry.event;
                            @let first = timeline.by_id.get(&event.id) == Some(&index);
                            @let description = describe(&event.fact);
                            @let provenance = source(&event.source);
                            tr id=[first.then(|| anchor::event(&event.id))] {
                                td { (index + 1) }
                                td {
                                    (time_element(event.occurred_at))
                                    div.source { "recorded " (when(event.recorded_at)) }
                                }
                                td {
                                    @match &event.subject {
                                        Some(subject) => { "subject " strong { (subject) } }
                                        None => { "organisation " strong { (event.organisation) } }
                                    }
                                }
                                td {
                                    div.headline { (description.headline) }
                                    @if !description.details.is_empty() {
                                        ul.details { @for line in &description.details { li { (line) } } }
                                    }
                                    @if !provenance.is_empty() {
                                        div.source { "Source: " (provenance.join("; ")) }
                                    }
                                }
                                td {
                                    div.mono { (entry.position) }
                                    div.mono { (event.id) }
                                    div.source { (event.fact.kind()) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn decisions_section(
    report: &EvidenceReport<'_>,
    shown: &[usize],
    timeline: &Timeline<'_, '_>,
) -> Markup {
    html! {
        section id="decisions" {
            h2 { "Decisions" }
            @if shown.len() < report.decisions.len() {
                p { "One decision in full for each group of recipients with the same answer ("
                    (count(shown.len())) " of " (count(report.decisions.len())) ")." }
            }
            @for &index in shown {
                (decision_section(index + 1, &report.decisions[index], report, timeline))
            }
        }
    }
}

fn decision_section(
    number: usize,
    entry: &ReportDecision<'_>,
    report: &EvidenceReport<'_>,
    timeline: &Timeline<'_, '_>,
) -> Markup {
    let request = entry.request;
    let decision = entry.decision;
    let rule_set = report
        .rule_sets
        .iter()
        .copied()
        .find(|r| r.id == decision.rule_set);
    html! {
        section.decision id=(anchor::decision(number)) {
            h3 { "Decision " (number) ": " (words::channel(request.channel)) " to subject " (request.addressee()) " on " (when(request.at)) }
            (answer(decision))
            p { "Lawful basis: " strong { (words::lawful_basis(decision.lawful_basis)) } }
            (recomputed_line(entry.recomputed))
            h4 { "The question" }
            dl.facts {
                dt { "Organisation" } dd { (request.organisation) }
                dt { "Subject" } dd { (request.addressee()) }
                dt { "Channel" } dd { (words::channel(request.channel)) }
                dt { "Purpose" } dd { (words::purpose(request.purpose)) }
                dt { "Product category" }
                dd { (request.product_category.as_ref().map_or("none given", |c| c.as_str())) }
                dt { "Message" } dd { (words::message_class(request.message_class)) }
                dt { "Promotional content" } dd { (words::yes_no(request.promotional_content)) }
                dt { "Opt-out included" } dd { (words::yes_no(request.opt_out_included)) }
                dt { "Sender identified" } dd { (words::yes_no(request.sender_identified)) }
                dt { "Solely for charitable purposes" } dd { (words::yes_no(request.sole_charitable_purpose)) }
                @if request.channel == Channel::LiveCall {
                    dt { "Call category" } dd { (words::call_category(request.call_category)) }
                }
                dt { "Contact point" }
                dd { (request.contact_point.as_ref().map_or_else(|| "none given".to_owned(), words::contact_point)) }
                dt { "Time asked" } dd { (time_element(request.at)) }
                dt { "Rule set" }
                dd {
                    a href={ "#" (anchor::rule_set(&decision.rule_set)) } { (decision.rule_set) }
                    @if let Some(rule_set) = rule_set { " (" (rule_set.title) ")" }
                    @match &request.rule_set {
                        Some(requested) => { ", as requested (" (requested) ")" }
                        None => { ", the one in force at the time asked" }
                    }
                    @if rule_set.is_none() {
                        " " span.warning { "This rule set is not included in this report." }
                    }
                }
            }
            h4 { "Reasons against (" (decision.reasons_against.len()) ")" }
            @if decision.reasons_against.is_empty() {
                p { "None: no rule stands against this message." }
            } @else {
                (reasons_table(&decision.reasons_against, decision, timeline))
            }
            h4 { "Events relied on (" (decision.relied_on.len()) ")" }
            @if decision.relied_on.is_empty() {
                p { "None." }
            } @else {
                ul {
                    @for reference in &decision.relied_on { li { (relied_on(reference, timeline)) } }
                }
            }
            h4 { "Every rule evaluated" }
            (firings_table(decision))
        }
    }
}

fn reasons_table(reasons: &[Reason], decision: &Decision, timeline: &Timeline<'_, '_>) -> Markup {
    html! {
        table.data {
            thead { tr { th { "Rule" } th { "Reason" } th { "Legal citation" } th { "Events" } } }
            tbody {
                @for reason in reasons {
                    tr {
                        td {
                            a href={ "#" (anchor::rule(&decision.rule_set, &reason.rule)) } { strong { (reason.rule) } }
                            div.source { (reason.code) }
                        }
                        td { (reason.message) }
                        td.citation { (reason.citation) }
                        td {
                            @for id in &reason.events { div { (event_link(id, timeline)) } }
                        }
                    }
                }
            }
        }
    }
}

fn event_link(id: &EventId, timeline: &Timeline<'_, '_>) -> Markup {
    html! {
        @match timeline.find(id) {
            Some((number, entry)) => {
                a href={ "#" (anchor::event(id)) } { "#" (number) " " (describe(&entry.event.fact).headline) }
            }
            None => { span.mono { (id) } " " span.warning { "(not included in this report)" } }
        }
    }
}

fn relied_on(reference: &EventReference, timeline: &Timeline<'_, '_>) -> Markup {
    html! {
        @match timeline.find(&reference.id) {
            Some((number, entry)) => {
                a href={ "#" (anchor::event(&reference.id)) } {
                    "#" (number) " " (describe(&entry.event.fact).headline)
                }
                " (" (when(reference.occurred_at)) ", at " span.mono { (entry.position) } ")"
            }
            None => {
                (reference.kind) " of " (when(reference.occurred_at))
                @if let Some(position) = &reference.position { ", at " span.mono { (position) } }
                ", event " span.mono { (reference.id) } " "
                span.warning { "(not included in this report)" }
            }
        }
    }
}

fn outcome_class(outcome: RuleOutcome) -> &'static str {
    match outcome {
        RuleOutcome::Satisfied => "outcome-satisfied",
        RuleOutcome::Failed => "outcome-failed",
        RuleOutcome::Blocked => "outcome-blocked",
        RuleOutcome::NotApplicable => "outcome-not-applicable",
    }
}

fn firings_table(decision: &Decision) -> Markup {
    html! {
        table.data {
            thead { tr { th { "Rule" } th { "Title" } th { "Outcome" } th { "Detail" } th { "Legal citation" } } }
            tbody {
                @for firing in &decision.rules {
                    tr {
                        td { a href={ "#" (anchor::rule(&decision.rule_set, &firing.rule)) } { strong { (firing.rule) } } }
                        td { (firing.title) }
                        td class=(outcome_class(firing.outcome)) { (words::outcome(firing.outcome)) }
                        td { (firing.detail) }
                        td { (firing.citation) }
                    }
                }
            }
        }
    }
}

fn rule_sets_section(rule_sets: &[&RuleSet]) -> Markup {
    html! {
        section id="rule-sets" {
            h2 { "Rule sets and their legal citations" }
            @if rule_sets.is_empty() {
                p { "No rule set is included in this report." }
            }
            @for rule_set in rule_sets {
                section id=(anchor::rule_set(&rule_set.id)) {
                    h3 { (rule_set.id) ": " (rule_set.title) }
                    dl.facts {
                        dt { "In force from" } dd { (time_element(rule_set.effective_from)) }
                        dt { "Charity soft opt-in" }
                        dd {
                            @match rule_set.charity_soft_opt_in() {
                                Some(charity) => { "for contact details obtained from " (when(charity.details_obtained_from)) }
                                None => { "not part of this rule set" }
                            }
                        }
                        dt { "Third-party consent relied on for" } dd { "at most " (rule_set.third_party_consent_max_age_days) " days" }
                        dt { "TPS / CTPS listing protects from" } dd { (rule_set.preference_service_grace_days) " days after listing" }
                    }
                    table.data {
                        thead { tr { th { "Rule" } th { "Title" } th { "Legal citation" } } }
                        tbody {
                            @for rule in &rule_set.rules {
                                tr id=(anchor::rule(&rule_set.id, &rule.id)) {
                                    td { strong { (rule.id) } }
                                    td { (rule.title) }
                                    td.citation { (rule.citation) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
