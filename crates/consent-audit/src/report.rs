//! The HTML report of an audited bundle: what `consent-report` renders,
//! gathered from the bundle and the verifier's report. Every page of a
//! bundle, wherever it is drawn (the HTTP export's `?format=html`,
//! `consent-ledger report`, `verify --html`, `export --html`), comes from
//! [`bundle_report_html`], so the page shows exactly what the bundle holds.

use crate::facts::EvidenceFacts;
use crate::recorded::RecordedDecision;
use consent_domain::rules::{CheckRequest, Decision, RuleCatalogue, RuleSet};
use consent_domain::{OrganisationId, SubjectId, Timestamp};
use consent_evidence::{Checkpoint, EvidenceBundle, Finding, VerificationReport};
use consent_report::{
    render_report, CheckpointSummary, EvidenceReport, ReportContext, ReportDecision, ReportEvent,
    ReportScope, StatusQuestions, VerificationSummary, VerifiedBy,
};
use consent_schema::{
    check_from_proto, decision_from_proto, event_position, timestamp_from_proto, v1,
};
use serde_json::Value;

/// Who drew a bundle's page: when (the caller's clock), who ran the
/// verification it shows, and the bundle's file name as the reader has it
/// (for the commands that re-verify it).
#[derive(Clone, Debug)]
pub struct ReportDrawing {
    pub produced_at: Timestamp,
    pub verified_by: Option<VerifiedBy>,
    pub bundle_file: Option<String>,
}

/// The self-contained HTML report of `bundle`, as `verification` found it.
/// A subject bundle's status (the decisions the export made at its own
/// time, one per channel, named in its scope) opens the page.
pub fn bundle_report_html(
    bundle: &EvidenceBundle,
    verification: &VerificationReport,
    catalogue: &RuleCatalogue,
    drawing: &ReportDrawing,
) -> String {
    let produced_at = drawing.produced_at;
    let facts = EvidenceFacts::fold(
        bundle
            .records
            .iter()
            .map(|record| (&record.position, record.payload.as_slice())),
    );
    let not_recomputed: Vec<usize> = verification
        .findings
        .iter()
        .filter_map(|finding| match finding {
            Finding::Decision {
                decision: Some(index),
                ..
            } => Some(*index),
            _ => None,
        })
        .collect();
    let answered: Vec<(usize, CheckRequest, Decision)> = bundle
        .decisions
        .iter()
        .enumerate()
        .filter_map(|(index, value)| {
            let recorded = RecordedDecision::from_value(value).ok()?;
            let question = recorded.question().ok()?;
            let decision = decision_from_proto(&recorded.decision).ok()?;
            Some((index, question, decision))
        })
        .collect();
    let rule_sets: Vec<&RuleSet> = catalogue
        .all()
        .iter()
        .filter(|rule_set| answered.iter().any(|(_, _, d)| d.rule_set == rule_set.id))
        .collect();
    let scope = scope_of(&bundle.scope);
    let status = status_of(&bundle.scope, bundle.decisions.len(), &answered);
    let report = EvidenceReport {
        title: title_of(&scope),
        produced_at,
        scope,
        verification: VerificationSummary {
            passed: verification.passed(),
            checkpoint: checkpoint_summary(verification.checkpoint.as_ref()),
            signers: verification.checkpoint_signed_by.clone(),
            consistent_with: verification
                .previous_checkpoint
                .as_ref()
                .map(|previous| checkpoint_summary(Some(previous))),
            records_proven: verification.records_proven,
            records_total: verification.records,
            findings: verification
                .findings
                .iter()
                .map(ToString::to_string)
                .collect(),
        },
        events: facts
            .events()
            .iter()
            .map(|(position, event)| ReportEvent {
                position: event_position(position),
                event,
            })
            .collect(),
        decisions: answered
            .iter()
            .map(|(index, request, decision)| ReportDecision {
                request,
                decision,
                recomputed: !not_recomputed.contains(index),
            })
            .collect(),
        rule_sets,
    };
    let context = ReportContext {
        status,
        verified_by: drawing.verified_by.clone(),
        bundle_file: drawing.bundle_file.clone(),
    };
    render_report(&report, &context)
}

/// The status a subject bundle's scope names (`"status": {"at": ...,
/// "decisions": n}`: its last `n` decisions, each asked at `at`), as an
/// index into the decisions that could be read; `None` when the scope
/// names none (bundles from before it did) or the decisions do not fit it.
fn status_of(
    scope: &Value,
    decisions: usize,
    answered: &[(usize, CheckRequest, Decision)],
) -> Option<StatusQuestions> {
    let status = scope.get("status")?;
    let at = serde_json::from_value::<consent_schema::pbjson_types::Timestamp>(
        status.get("at")?.clone(),
    )
    .ok()
    .and_then(|at| timestamp_from_proto("scope.status.at", &at).ok())?;
    let count = usize::try_from(status.get("decisions")?.as_u64()?).ok()?;
    let first_in_bundle = decisions.checked_sub(count)?;
    let first = answered
        .iter()
        .position(|(index, _, _)| *index >= first_in_bundle)?;
    let fits = answered.len() - first == count
        && answered[first..]
            .iter()
            .all(|(_, question, _)| question.at == at);
    fits.then_some(StatusQuestions { at, first })
}

fn checkpoint_summary(checkpoint: Option<&Checkpoint>) -> CheckpointSummary {
    match checkpoint {
        Some(checkpoint) => CheckpointSummary {
            origin: checkpoint.origin.clone(),
            tree_size: checkpoint.tree_size,
            root_base64: checkpoint.root_hash.to_base64(),
            time: Timestamp::from_unix_millis(checkpoint.timestamp_ms),
        },
        None => CheckpointSummary {
            origin: "(unreadable checkpoint)".to_owned(),
            tree_size: 0,
            root_base64: String::new(),
            time: Timestamp::from_unix_micros(0),
        },
    }
}

fn title_of(scope: &ReportScope) -> String {
    match scope {
        ReportScope::Subject {
            organisation,
            subject,
        } => format!("Evidence for subject {subject} of {organisation}"),
        ReportScope::Campaign {
            organisation,
            subjects,
            ..
        } => format!(
            "Evidence for a campaign of {organisation} to {} subjects",
            subjects.len()
        ),
        ReportScope::TimeRange {
            organisation,
            from,
            to,
        } => format!("Evidence for {organisation} from {from} to {to}"),
    }
}

/// The bundle's scope (as the export wrote it) for the report; a scope
/// that cannot be read shows as a subject scope naming what is there.
fn scope_of(scope: &Value) -> ReportScope {
    let text = |key: &str| scope[key].as_str().unwrap_or("(unknown)").to_owned();
    let organisation = OrganisationId::new(text("organisation"));
    let time = |value: &Value| {
        serde_json::from_value::<consent_schema::pbjson_types::Timestamp>(value.clone())
            .ok()
            .and_then(|at| timestamp_from_proto("at", &at).ok())
            .unwrap_or(Timestamp::from_unix_micros(0))
    };
    match scope["kind"].as_str() {
        Some("campaign") => {
            let subjects: Vec<SubjectId> = scope["subjects"]
                .as_array()
                .map(|subjects| {
                    subjects
                        .iter()
                        .filter_map(Value::as_str)
                        .map(SubjectId::new)
                        .collect()
                })
                .unwrap_or_default();
            let message = serde_json::from_value::<v1::CheckRequest>(scope["message"].clone())
                .ok()
                .and_then(|mut message| {
                    message.organisation_id = organisation.as_str().to_owned();
                    message.subject_id = "-".to_owned();
                    check_from_proto(&message, Timestamp::from_unix_micros(0)).ok()
                });
            match message {
                Some(message) => ReportScope::Campaign {
                    organisation,
                    subjects,
                    channel: message.channel,
                    purpose: message.purpose,
                    product_category: message.product_category,
                    send_at: message.at,
                },
                None => ReportScope::Subject {
                    organisation,
                    subject: SubjectId::new("(unreadable campaign scope)"),
                },
            }
        }
        Some("time_range") => ReportScope::TimeRange {
            organisation,
            from: time(&scope["from"]),
            to: time(&scope["to"]),
        },
        _ => ReportScope::Subject {
            organisation,
            subject: SubjectId::new(text("subject")),
        },
    }
}
