//! The replay's result: how many decisions change, where, why, and
//! examples. Serialises to JSON with serde (every map sorted, times in
//! RFC 3339); [`crate::render_summary`] renders it for a person.

use crate::compare::{ChangeKind, Comparison};
use crate::plan::{Questions, ReplayPlan, RuleSelection};
use crate::question::{Question, QuestionRef};
use consent_domain::rules::{Decision, LawfulBasis, RuleSetId};
use consent_domain::{EventId, EventPosition, OrganisationId, SubjectId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Decisions by what happened to their answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCounts {
    pub evaluated: u64,
    pub unchanged: u64,
    /// Of `unchanged`: the same answer, for different reasons.
    pub unchanged_reasons_differ: u64,
    pub allowed_to_refused: u64,
    pub refused_to_allowed: u64,
    pub basis_changed: u64,
}

impl ChangeCounts {
    /// Decisions whose answer changed.
    pub fn changed(&self) -> u64 {
        self.allowed_to_refused + self.refused_to_allowed + self.basis_changed
    }

    fn add(&mut self, comparison: &Comparison) {
        self.evaluated += 1;
        match comparison.kind {
            ChangeKind::Unchanged => {
                self.unchanged += 1;
                if comparison.reasons_differ() {
                    self.unchanged_reasons_differ += 1;
                }
            }
            ChangeKind::AllowedToRefused => self.allowed_to_refused += 1,
            ChangeKind::RefusedToAllowed => self.refused_to_allowed += 1,
            ChangeKind::BasisChanged => self.basis_changed += 1,
        }
    }
}

/// How often a reason against (`rule:code`) went away or appeared, among
/// the decisions whose answer changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonShift {
    pub no_longer_against: u64,
    pub newly_against: u64,
}

/// One side's decision, reduced to what a reviewer compares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionDigest {
    pub rule_set: RuleSetId,
    pub allowed: bool,
    pub lawful_basis: LawfulBasis,
    /// `rule:code`, sorted.
    pub reasons_against: Vec<String>,
    /// The events the basis (or the refusal) rests on.
    pub relied_on: Vec<EventId>,
}

impl DecisionDigest {
    pub fn of(decision: &Decision) -> Self {
        Self {
            rule_set: decision.rule_set.clone(),
            allowed: decision.allowed,
            lawful_basis: decision.lawful_basis,
            reasons_against: crate::compare::reason_codes(decision).into_iter().collect(),
            relied_on: decision.relied_on.iter().map(|r| r.id).collect(),
        }
    }
}

/// A decision whose answer changed, with both answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSample {
    pub question: QuestionRef,
    pub organisation: OrganisationId,
    pub subject: SubjectId,
    /// `email`, `sms`, `live_call`, `automated_call`, `post`.
    pub channel: String,
    /// `commercial`, `campaigning`, `charitable`.
    pub purpose: String,
    pub product_category: Option<String>,
    /// The decision's time: the send's `occurred_at`, or `as_of`.
    #[serde(with = "crate::rfc3339")]
    pub at: Timestamp,
    pub baseline: DecisionDigest,
    pub candidate: DecisionDigest,
    /// e.g. `R3c: absent -> satisfied`.
    pub rules_changed: Vec<String>,
}

/// The first samples of each kind of change, in question order (sends by
/// time then event id, then eligibility by organisation, subject, channel).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Samples {
    pub allowed_to_refused: Vec<ChangeSample>,
    pub refused_to_allowed: Vec<ChangeSample>,
    pub basis_changed: Vec<ChangeSample>,
}

/// What the replay read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputCounts {
    /// Events given to the replayer, every delivery counted.
    pub deliveries: u64,
    /// Distinct events (by id) folded or kept as sends.
    pub events: u64,
    /// Deliveries of an event id already known, with the same content.
    pub duplicates: u64,
    /// Deliveries of a known event id with different content (the copy at
    /// the lower log position is kept, as in the live view).
    pub conflicts: u64,
    /// Records that could not be decoded or validated, or events that fit
    /// no state; skipped.
    pub rejected: u64,
    pub organisations: u64,
    /// (organisation, subject) pairs with facts.
    pub subjects: u64,
    /// Recorded `MarketingMessageSent` events.
    pub sends: u64,
}

/// A skipped record, as a sample.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RejectedRecord {
    pub position: Option<EventPosition>,
    pub reason: String,
}

/// The replay's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayReport {
    pub baseline: RuleSelection,
    pub candidate: RuleSelection,
    /// Organisations whose similarity map the candidate replaced.
    pub similarity_overrides: Vec<OrganisationId>,
    pub questions: Questions,
    pub input: InputCounts,
    /// The first rejected records, by log position.
    pub rejected_samples: Vec<RejectedRecord>,
    /// Every decision evaluated under both sides.
    pub totals: ChangeCounts,
    /// Questions that could not be decided, by why (e.g. no rule set in
    /// force at a send's time).
    pub not_evaluated: BTreeMap<String, u64>,
    /// `send` and `eligibility`.
    pub by_question: BTreeMap<String, ChangeCounts>,
    pub by_organisation: BTreeMap<OrganisationId, ChangeCounts>,
    /// By channel (`email`, `sms`, ...).
    pub by_channel: BTreeMap<String, ChangeCounts>,
    /// Among changed answers: how often each rule's outcome changed, keyed
    /// `R3c: absent -> satisfied`.
    pub by_rule: BTreeMap<String, u64>,
    /// Among changed answers: reasons against (`rule:code`) that went away
    /// or appeared.
    pub by_reason: BTreeMap<String, ReasonShift>,
    pub samples: Samples,
}

/// One question's answer, as the decision threads give it to the
/// [`ReportBuilder`].
pub(crate) enum Answer {
    /// Not decided, and why.
    NotEvaluated(&'static str),
    /// Decided under both sides and compared; the decisions are kept when
    /// the answer changed (a sample may need them).
    Compared {
        comparison: Comparison,
        decisions: Option<Box<(Decision, Decision)>>,
    },
}

/// `add` to the value under `key`, a default one inserted when the key is
/// new (the key is allocated only then).
fn add_to<V: Default>(map: &mut BTreeMap<String, V>, key: &str, add: impl FnOnce(&mut V)) {
    match map.get_mut(key) {
        Some(value) => add(value),
        None => add(map.entry(key.to_owned()).or_default()),
    }
}

/// Accumulates decisions into a report.
pub(crate) struct ReportBuilder {
    report: ReplayReport,
    samples_per_kind: usize,
}

impl ReportBuilder {
    pub fn new(plan: &ReplayPlan, input: InputCounts, rejected: Vec<RejectedRecord>) -> Self {
        Self {
            report: ReplayReport {
                baseline: plan.baseline.clone(),
                candidate: plan.candidate.clone(),
                similarity_overrides: plan.similarity_overrides.keys().cloned().collect(),
                questions: plan.questions.clone(),
                input,
                rejected_samples: rejected,
                totals: ChangeCounts::default(),
                not_evaluated: BTreeMap::new(),
                by_question: BTreeMap::new(),
                by_organisation: BTreeMap::new(),
                by_channel: BTreeMap::new(),
                by_rule: BTreeMap::new(),
                by_reason: BTreeMap::new(),
                samples: Samples::default(),
            },
            samples_per_kind: plan.samples_per_kind,
        }
    }

    /// Records one question's answer. Answers are recorded in question
    /// order, which decides the samples kept.
    pub fn record(&mut self, question: &Question, answer: Answer) {
        match answer {
            Answer::NotEvaluated(why) => self.not_evaluated(why),
            Answer::Compared {
                comparison,
                decisions,
            } => self.compared(question, &comparison, decisions.as_deref()),
        }
    }

    fn not_evaluated(&mut self, why: &str) {
        add_to(&mut self.report.not_evaluated, why, |n| *n += 1);
    }

    fn compared(
        &mut self,
        question: &Question,
        comparison: &Comparison,
        decisions: Option<&(Decision, Decision)>,
    ) {
        let request = &question.request;
        let report = &mut self.report;
        report.totals.add(comparison);
        add_to(
            &mut report.by_question,
            question.reference.kind(),
            |counts| counts.add(comparison),
        );
        match report.by_organisation.get_mut(&request.organisation) {
            Some(counts) => counts.add(comparison),
            None => report
                .by_organisation
                .entry(request.organisation.clone())
                .or_default()
                .add(comparison),
        }
        add_to(&mut report.by_channel, request.channel.as_str(), |counts| {
            counts.add(comparison)
        });
        let samples = match comparison.kind {
            ChangeKind::Unchanged => return,
            ChangeKind::AllowedToRefused => &mut report.samples.allowed_to_refused,
            ChangeKind::RefusedToAllowed => &mut report.samples.refused_to_allowed,
            ChangeKind::BasisChanged => &mut report.samples.basis_changed,
        };
        let rules_changed: Vec<String> = comparison
            .rules_changed
            .iter()
            .map(ToString::to_string)
            .collect();
        for change in &rules_changed {
            *report.by_rule.entry(change.clone()).or_default() += 1;
        }
        for code in &comparison.reasons_no_longer_against {
            report
                .by_reason
                .entry(code.clone())
                .or_default()
                .no_longer_against += 1;
        }
        for code in &comparison.reasons_newly_against {
            report
                .by_reason
                .entry(code.clone())
                .or_default()
                .newly_against += 1;
        }
        let Some((baseline, candidate)) = decisions else {
            return;
        };
        if samples.len() < self.samples_per_kind {
            samples.push(ChangeSample {
                question: question.reference.clone(),
                organisation: request.organisation.clone(),
                // Replay asks only about subjects (their sends and their
                // eligibility), never about a bare address.
                subject: request
                    .subject
                    .clone()
                    .unwrap_or_else(|| SubjectId::new("")),
                channel: request.channel.as_str().to_owned(),
                purpose: request.purpose.as_str().to_owned(),
                product_category: request
                    .product_category
                    .as_ref()
                    .map(|c| c.as_str().to_owned()),
                at: request.at,
                baseline: DecisionDigest::of(baseline),
                candidate: DecisionDigest::of(candidate),
                rules_changed,
            });
        }
    }

    pub fn finish(self) -> ReplayReport {
        self.report
    }
}
