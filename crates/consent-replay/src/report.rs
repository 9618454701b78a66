//! The replay's result: how many decisions change, where, why, and
//! examples. Serialises to JSON with serde (every map sorted, times in
//! RFC 3339); [`crate::render_summary`] renders it for a person.

use crate::compare::{ChangeKind, Comparison};
use crate::plan::{Questions, ReplayPlan, RuleSelection};
use crate::question::{Question, QuestionRef};
use consent_domain::fold::Applied;
use consent_domain::rules::{Decision, LawfulBasis, RuleSetId};
use consent_domain::vocabulary::Channel;
use consent_domain::{EventId, EventPosition, OrganisationId, SubjectId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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

    /// Adds another report's counts (a merge).
    pub fn merge(&mut self, other: &ChangeCounts) {
        self.evaluated += other.evaluated;
        self.unchanged += other.unchanged;
        self.unchanged_reasons_differ += other.unchanged_reasons_differ;
        self.allowed_to_refused += other.allowed_to_refused;
        self.refused_to_allowed += other.refused_to_allowed;
        self.basis_changed += other.basis_changed;
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

/// A changed decision as the changes file holds it (one JSON object per
/// line): what changed, then the sample's fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedDecision {
    /// `allowed_to_refused`, `refused_to_allowed` or `basis_changed`.
    pub change: ChangeKind,
    #[serde(flatten)]
    pub decision: ChangeSample,
}

/// Where a change stands in question order: sends by time then event id,
/// then eligibility by organisation, subject and the channel's place in
/// the plan's list. A total order that does not depend on how the log was
/// read or split, so the samples kept (the lowest ones) are the same
/// whatever the partitioning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SampleOrder<'a> {
    Send(Timestamp, EventId),
    Eligibility(&'a OrganisationId, &'a SubjectId, usize),
}

fn sample_order<'a>(sample: &'a ChangeSample, channels: &[Channel]) -> SampleOrder<'a> {
    match &sample.question {
        QuestionRef::Send { event_id, .. } => SampleOrder::Send(sample.at, *event_id),
        QuestionRef::Eligibility { .. } => SampleOrder::Eligibility(
            &sample.organisation,
            &sample.subject,
            channels
                .iter()
                .position(|c| c.as_str() == sample.channel)
                .unwrap_or(usize::MAX),
        ),
    }
}

/// The lowest samples of each kind of change in question order (sends by
/// time then event id, then eligibility by organisation, subject, channel):
/// the first ones a reader meets, whatever the partitioning.
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

impl InputCounts {
    /// Counts what the fold did with a delivered event: a duplicate or a
    /// conflicting copy. `false` when the event fits no state (a subject's
    /// fact without a subject): the caller rejects it.
    pub(crate) fn count_applied(&mut self, applied: Applied) -> bool {
        match applied {
            Applied::Added => {}
            Applied::Duplicate => self.duplicates += 1,
            Applied::Conflict => self.conflicts += 1,
            Applied::NotApplicable => return false,
        }
        true
    }

    /// Adds another report's counts (a merge: the two read disjoint
    /// records).
    pub fn merge(&mut self, other: &InputCounts) {
        self.deliveries += other.deliveries;
        self.events += other.events;
        self.duplicates += other.duplicates;
        self.conflicts += other.conflicts;
        self.rejected += other.rejected;
        self.organisations += other.organisations;
        self.subjects += other.subjects;
        self.sends += other.sends;
    }
}

/// Which subject partitions a report covers, for a replay split across
/// instances by partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionCoverage {
    /// Partitions per topic in the log's layout.
    pub partition_count: u32,
    /// The partitions replayed: their subjects' facts, sends and
    /// questions, and their share of the reference topic's counts.
    pub replayed: Vec<u32>,
    /// The end offset of every reference-topic partition read (every
    /// instance reads the whole reference topic; reports merge only when
    /// they read the same one).
    pub reference_end_offsets: Vec<u64>,
}

/// Reports that cannot be merged into one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReportMergeError {
    #[error("no report to merge")]
    Nothing,
    #[error("report {index} is not a partitioned replay's (it has no `partitions`): it covers the whole log already")]
    NotPartitioned { index: usize },
    #[error("report {index} replayed another plan than report 0: its `{field}` differs")]
    DifferentPlan { index: usize, field: &'static str },
    #[error("report {index} read a log of {theirs} partitions, report 0 one of {ours}")]
    DifferentLayout {
        index: usize,
        ours: u32,
        theirs: u32,
    },
    #[error("report {index} read the reference topic up to other end offsets than report 0 ({theirs:?} against {ours:?}): replay every instance against the same log")]
    DifferentReference {
        index: usize,
        ours: Vec<u64>,
        theirs: Vec<u64>,
    },
    #[error("partition {partition} is in more than one report (report {index} replayed it again)")]
    Overlap { partition: u32, index: usize },
    #[error("no report covers partition(s) {missing:?} of {partition_count}")]
    Missing {
        missing: Vec<u32>,
        partition_count: u32,
    },
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
    /// Samples kept per kind (the plan's); a merge keeps as many.
    #[serde(default = "default_samples_per_kind")]
    pub samples_per_kind: usize,
    /// The organisations replayed; empty: every organisation.
    #[serde(default)]
    pub organisations: Vec<OrganisationId>,
    /// For a replay split by partition: which partitions this report
    /// covers. `None` when one run read the whole log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<PartitionCoverage>,
}

fn default_samples_per_kind() -> usize {
    crate::plan::DEFAULT_SAMPLES_PER_KIND
}

impl ReplayReport {
    /// Merges the reports of instances that each replayed some partitions
    /// of the same log under the same plan into the report one run over
    /// every partition gives: counts add, samples are the lowest in
    /// question order (rejected records by position). Refuses reports of
    /// different plans, of partitions replayed twice, or that leave a
    /// partition out.
    pub fn merge(reports: Vec<ReplayReport>) -> Result<ReplayReport, ReportMergeError> {
        let mut reports = reports.into_iter();
        let mut merged = reports.next().ok_or(ReportMergeError::Nothing)?;
        let Some(mut coverage) = merged.partitions.clone() else {
            return Err(ReportMergeError::NotPartitioned { index: 0 });
        };
        let mut covered: BTreeSet<u32> = coverage.replayed.iter().copied().collect();
        for (index, other) in reports.enumerate().map(|(i, r)| (i + 1, r)) {
            let Some(theirs) = &other.partitions else {
                return Err(ReportMergeError::NotPartitioned { index });
            };
            let differs = |field| Err(ReportMergeError::DifferentPlan { index, field });
            if other.baseline != merged.baseline {
                return differs("baseline");
            }
            if other.candidate != merged.candidate {
                return differs("candidate");
            }
            if other.similarity_overrides != merged.similarity_overrides {
                return differs("similarity_overrides");
            }
            if other.questions != merged.questions {
                return differs("questions");
            }
            if other.samples_per_kind != merged.samples_per_kind {
                return differs("samples_per_kind");
            }
            if other.organisations != merged.organisations {
                return differs("organisations");
            }
            if theirs.partition_count != coverage.partition_count {
                return Err(ReportMergeError::DifferentLayout {
                    index,
                    ours: coverage.partition_count,
                    theirs: theirs.partition_count,
                });
            }
            if theirs.reference_end_offsets != coverage.reference_end_offsets {
                return Err(ReportMergeError::DifferentReference {
                    index,
                    ours: coverage.reference_end_offsets.clone(),
                    theirs: theirs.reference_end_offsets.clone(),
                });
            }
            for &partition in &theirs.replayed {
                if !covered.insert(partition) {
                    return Err(ReportMergeError::Overlap { partition, index });
                }
            }
            merged.absorb(&other);
        }
        let missing: Vec<u32> = (0..coverage.partition_count)
            .filter(|p| !covered.contains(p))
            .collect();
        if !missing.is_empty() {
            return Err(ReportMergeError::Missing {
                missing,
                partition_count: coverage.partition_count,
            });
        }
        coverage.replayed = covered.into_iter().collect();
        merged.partitions = Some(coverage);
        Ok(merged)
    }

    /// Adds `other`'s counts and samples (disjoint partitions of the same
    /// replay).
    pub(crate) fn absorb(&mut self, other: &ReplayReport) {
        self.input.merge(&other.input);
        let mut rejected: BTreeSet<RejectedRecord> = std::mem::take(&mut self.rejected_samples)
            .into_iter()
            .collect();
        rejected.extend(other.rejected_samples.iter().cloned());
        self.rejected_samples = rejected.into_iter().take(self.samples_per_kind).collect();
        self.totals.merge(&other.totals);
        for (why, n) in &other.not_evaluated {
            *self.not_evaluated.entry(why.clone()).or_default() += n;
        }
        for (mine, theirs) in [
            (&mut self.by_question, &other.by_question),
            (&mut self.by_channel, &other.by_channel),
        ] {
            for (key, counts) in theirs {
                mine.entry(key.clone()).or_default().merge(counts);
            }
        }
        for (organisation, counts) in &other.by_organisation {
            self.by_organisation
                .entry(organisation.clone())
                .or_default()
                .merge(counts);
        }
        for (rule, n) in &other.by_rule {
            *self.by_rule.entry(rule.clone()).or_default() += n;
        }
        for (reason, shift) in &other.by_reason {
            let mine = self.by_reason.entry(reason.clone()).or_default();
            mine.no_longer_against += shift.no_longer_against;
            mine.newly_against += shift.newly_against;
        }
        let channels: Vec<Channel> = self
            .questions
            .eligibility
            .as_ref()
            .map(|e| e.channels.clone())
            .unwrap_or_default();
        let keep = self.samples_per_kind;
        for (mine, theirs) in [
            (
                &mut self.samples.allowed_to_refused,
                &other.samples.allowed_to_refused,
            ),
            (
                &mut self.samples.refused_to_allowed,
                &other.samples.refused_to_allowed,
            ),
            (
                &mut self.samples.basis_changed,
                &other.samples.basis_changed,
            ),
        ] {
            mine.extend(theirs.iter().cloned());
            mine.sort_by(|a, b| sample_order(a, &channels).cmp(&sample_order(b, &channels)));
            mine.dedup();
            mine.truncate(keep);
        }
    }
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
    /// The eligibility channels in the plan's order (the sample order).
    channels: Vec<Channel>,
}

impl ReportBuilder {
    pub fn new(plan: &ReplayPlan, input: InputCounts, rejected: Vec<RejectedRecord>) -> Self {
        Self {
            channels: plan
                .questions
                .eligibility
                .as_ref()
                .map(|e| e.channels.clone())
                .unwrap_or_default(),
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
                samples_per_kind: plan.samples_per_kind,
                organisations: plan.organisations.iter().cloned().collect(),
                partitions: None,
            },
            samples_per_kind: plan.samples_per_kind,
        }
    }

    /// Records one question's answer, in any order (the samples kept are
    /// the lowest in question order); a changed decision is also pushed to
    /// `changes` when given.
    pub fn record(
        &mut self,
        question: &Question,
        answer: Answer,
        changes: Option<&mut Vec<ChangedDecision>>,
    ) {
        match answer {
            Answer::NotEvaluated(why) => self.not_evaluated(why),
            Answer::Compared {
                comparison,
                decisions,
            } => self.compared(question, &comparison, decisions.as_deref(), changes),
        }
    }

    /// The input counts and rejected samples, once known (a streamed
    /// replay learns them as it reads).
    pub fn set_input(&mut self, input: InputCounts, rejected: Vec<RejectedRecord>) {
        self.report.input = input;
        self.report.rejected_samples = rejected;
    }

    fn not_evaluated(&mut self, why: &str) {
        add_to(&mut self.report.not_evaluated, why, |n| *n += 1);
    }

    fn compared(
        &mut self,
        question: &Question,
        comparison: &Comparison,
        decisions: Option<&(Decision, Decision)>,
        changes: Option<&mut Vec<ChangedDecision>>,
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
        let kind = comparison.kind;
        let samples = match kind {
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
        let sample = ChangeSample {
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
        };
        let channels = &self.channels;
        let order = sample_order(&sample, channels);
        let place = samples.partition_point(|kept| sample_order(kept, channels) < order);
        if place < self.samples_per_kind {
            samples.insert(place, sample.clone());
            samples.truncate(self.samples_per_kind);
        }
        if let Some(changes) = changes {
            changes.push(ChangedDecision {
                change: kind,
                decision: sample,
            });
        }
    }

    pub fn finish(self) -> ReplayReport {
        self.report
    }
}
