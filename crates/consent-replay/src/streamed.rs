//! The replay in bounded memory, one subject at a time: what a partitioned
//! reader (consent-replay-runner) drives.
//!
//! 1. [`ReferenceStates`] folds the reference topic's organisation-keyed
//!    records into every organisation's facts, which it holds in memory.
//!    A fact about an address (an opt-out or objection received for an
//!    address, a TPS/CTPS listing or screening, a call preference) is
//!    handed back ([`ReferencePart::Address`]): the caller groups those by
//!    (organisation, address) and folds each address at once
//!    ([`ReferenceStates::fold_address`]), keeping the states where
//!    deciding can look them up ([`AddressStates`]), on disk if it must:
//!    there are about as many as there are address facts. A fact that
//!    also names a subject is handed to the subject's partition too.
//! 2. A [`ReplayContext`] (the plan, the rule sets and the organisations'
//!    states, read-only, shared by every worker) gives each worker a
//!    [`SubjectReplayer`]. The worker hands it one subject's events at a
//!    time (every fact and send of one (organisation, subject) pair, in
//!    any order); it folds them, decides that subject's questions (its
//!    sends, and the eligibility questions when asked) under the baseline
//!    and the candidate, records the comparisons and drops the state.
//! 3. [`ReplayContext::report`] merges the workers' partial reports with
//!    the reference part into the [`ReplayReport`] the in-memory
//!    [`crate::Replayer`] gives for the same events.
//!
//! Counting for a replay split by partition: each instance folds the whole
//! reference topic but counts (deliveries, rejections, organisations) only
//! the records of the partitions it owns, so the counts of instances that
//! own disjoint partitions add up to one run's ([`ReplayReport::merge`]).

use crate::address_states::{AddressStates, Remembered};
use crate::error::ReplayError;
use crate::plan::ReplayPlan;
use crate::question::{eligibility_questions, RecordedSend};
use crate::replayer::{keep_send, Deciding};
use crate::report::{
    ChangedDecision, InputCounts, PartitionCoverage, RejectedRecord, ReplayReport, ReportBuilder,
};
use crate::similarity::candidate_organisations;
use consent_domain::event::FactScope;
use consent_domain::fold::Applied;
use consent_domain::rules::RuleCatalogue;
use consent_domain::{
    AddressState, Event, EventId, EventPosition, OrganisationId, OrganisationState, SubjectId,
    SubjectState,
};
use std::collections::{BTreeMap, BTreeSet};

/// What [`ReferenceStates::apply`] did with an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferencePart {
    /// Folded (or counted as rejected) here; nothing left to do.
    Folded,
    /// A subject's fact under an organisation's key: the caller hands the
    /// record to its subject's partition, whose owner folds and counts it.
    Subject,
    /// A fact about an address: the caller folds it with the other facts
    /// of its (organisation, address) in [`ReferenceStates::fold_address`].
    /// When it also names a subject (`subject`), the caller hands it to
    /// the subject's partition too, whose owner counts it.
    Address { subject: bool },
    /// Another organisation's, under the plan's filter: ignored.
    Filtered,
}

/// The organisations' states, and the count of what pass 1 read.
#[derive(Debug, Default)]
pub struct ReferenceStates {
    organisations: BTreeMap<OrganisationId, OrganisationState>,
    /// Address states folded by [`ReferenceStates::fold_address`].
    addresses_folded: usize,
    /// Organisations whose facts were read from an owned partition.
    counted_organisations: BTreeSet<OrganisationId>,
    input: InputCounts,
    rejected: BTreeSet<RejectedRecord>,
    samples_per_kind: usize,
    organisation_filter: BTreeSet<OrganisationId>,
}

impl ReferenceStates {
    pub fn new(plan: &ReplayPlan) -> Self {
        Self {
            samples_per_kind: plan.samples_per_kind,
            organisation_filter: plan.organisations.clone(),
            ..Self::default()
        }
    }

    /// Folds an organisation-keyed reference record's event. `counted`:
    /// the record is in a partition this instance owns, so its delivery,
    /// duplicates and rejection are counted here.
    pub fn apply(
        &mut self,
        event: Event,
        position: Option<EventPosition>,
        counted: bool,
    ) -> ReferencePart {
        if !self.organisation_filter.is_empty()
            && !self.organisation_filter.contains(&event.organisation)
        {
            return ReferencePart::Filtered;
        }
        let kind = event.fact.kind();
        let applied = match (event.fact.scope(), event.subject.is_some()) {
            (FactScope::Organisation, _) => {
                if counted && !self.counted_organisations.contains(&event.organisation) {
                    self.counted_organisations
                        .insert(event.organisation.clone());
                }
                let state = self
                    .organisations
                    .entry(event.organisation.clone())
                    .or_default();
                state.apply_owned(event, position.clone())
            }
            (FactScope::SubjectOrAddress, has_subject) => {
                return ReferencePart::Address {
                    subject: has_subject,
                };
            }
            (FactScope::Subject | FactScope::SubjectHistoryOnly, true) => {
                return ReferencePart::Subject;
            }
            _ => Applied::NotApplicable,
        };
        if counted {
            self.count(applied, kind, position);
        }
        ReferencePart::Folded
    }

    /// Folds every fact about one (organisation, address), as handed back
    /// by [`ReferenceStates::apply`] ([`ReferencePart::Address`]), in any
    /// order. `counted`: as for [`ReferenceStates::apply`]; a fact that
    /// names a subject is counted by its subject's partition instead.
    pub fn fold_address(
        &mut self,
        events: impl IntoIterator<Item = (Event, Option<EventPosition>, bool)>,
    ) -> AddressState {
        let mut state = AddressState::default();
        for (event, position, counted) in events {
            let applied = state.apply(&event, position.clone());
            if counted && event.subject.is_none() {
                self.count(applied, event.fact.kind(), position);
            }
        }
        self.addresses_folded += 1;
        state
    }

    fn count(&mut self, applied: Applied, kind: &str, position: Option<EventPosition>) {
        self.input.deliveries += 1;
        if !self.input.count_applied(applied) {
            self.reject(position, format!("invalid: `{kind}` without a subject"));
        }
    }

    /// Counts a record of an owned reference partition that could not be
    /// decoded or validated.
    pub fn reject(&mut self, position: Option<EventPosition>, reason: String) {
        self.input.deliveries += 1;
        self.input.rejected += 1;
        keep_lowest(
            &mut self.rejected,
            RejectedRecord { position, reason },
            self.samples_per_kind,
        );
    }

    /// Organisations and addresses folded (for progress and logs).
    pub fn sizes(&self) -> (usize, usize) {
        (self.organisations.len(), self.addresses_folded)
    }
}

/// The read-only part of a streamed replay, shared by its workers.
#[derive(Debug)]
pub struct ReplayContext {
    plan: ReplayPlan,
    catalogue: RuleCatalogue,
    reference: ReferenceStates,
    candidate_organisations: BTreeMap<OrganisationId, OrganisationState>,
}

impl ReplayContext {
    /// The context for `plan` over the folded reference states. Refuses a
    /// plan that names a rule set the catalogue does not have.
    pub fn new(
        plan: ReplayPlan,
        catalogue: RuleCatalogue,
        reference: ReferenceStates,
    ) -> Result<Self, ReplayError> {
        crate::replayer::check_rule_sets(&plan, &catalogue)?;
        let candidate_organisations = candidate_organisations(&plan, &reference.organisations);
        Ok(Self {
            plan,
            catalogue,
            reference,
            candidate_organisations,
        })
    }

    pub fn plan(&self) -> &ReplayPlan {
        &self.plan
    }

    /// A replayer of subjects, one per worker.
    pub fn subjects(&self) -> SubjectReplayer<'_> {
        SubjectReplayer {
            context: self,
            builder: ReportBuilder::new(&self.plan, InputCounts::default(), Vec::new()),
            input: InputCounts::default(),
            rejected: BTreeSet::new(),
        }
    }

    /// The report: the workers' `parts` and the reference part's counts
    /// together. `coverage` names the partitions replayed when the replay
    /// was split (`None`: one run over the whole log).
    pub fn report(
        &self,
        parts: Vec<ReplayReport>,
        coverage: Option<PartitionCoverage>,
    ) -> ReplayReport {
        let reference = &self.reference;
        let organisation_facts: usize = reference
            .counted_organisations
            .iter()
            .filter_map(|o| reference.organisations.get(o))
            .map(|o| o.facts.len())
            .sum();
        let mut input = InputCounts {
            events: count(organisation_facts),
            organisations: count(reference.counted_organisations.len()),
            ..reference.input.clone()
        };
        let mut rejected = reference.rejected.clone();
        let mut report =
            ReportBuilder::new(&self.plan, InputCounts::default(), Vec::new()).finish();
        for part in &parts {
            input.merge(&part.input);
            rejected.extend(part.rejected_samples.iter().cloned());
            let mut counts_only = part.clone();
            counts_only.input = InputCounts::default();
            counts_only.rejected_samples = Vec::new();
            report.absorb(&counts_only);
        }
        report.input = input;
        report.rejected_samples = rejected
            .into_iter()
            .take(self.plan.samples_per_kind)
            .collect();
        report.partitions = coverage;
        report
    }
}

/// Replays subjects one at a time: pass 2, one per worker.
pub struct SubjectReplayer<'c> {
    context: &'c ReplayContext,
    builder: ReportBuilder,
    input: InputCounts,
    rejected: BTreeSet<RejectedRecord>,
}

impl SubjectReplayer<'_> {
    /// Folds one (organisation, subject) pair's events (every one of its
    /// facts and sends, in any order, re-deliveries included), decides its
    /// questions with the address states of `addresses`, records the
    /// comparisons, and pushes every changed decision to `changes` when
    /// given. An event of another pair than the first one's, or an
    /// organisation's fact, is rejected: the caller groups by the record
    /// key, and such a record is not under its own. Fails only when an
    /// address state cannot be read; the subject's comparisons are then
    /// partly recorded, and the replay cannot go on.
    pub fn replay_subject<A: AddressStates + ?Sized>(
        &mut self,
        events: impl IntoIterator<Item = (Event, Option<EventPosition>)>,
        addresses: &A,
        mut changes: Option<&mut Vec<ChangedDecision>>,
    ) -> Result<(), A::Error> {
        let plan = &self.context.plan;
        let mut pair: Option<(OrganisationId, SubjectId)> = None;
        let mut state: Option<SubjectState> = None;
        let mut sends: BTreeMap<EventId, RecordedSend> = BTreeMap::new();
        for (event, position) in events {
            if !plan.replays(&event.organisation) {
                continue;
            }
            self.input.deliveries += 1;
            let kind = event.fact.kind();
            let Some(subject) = event.subject.clone() else {
                self.reject(position, format!("invalid: `{kind}` without a subject"));
                continue;
            };
            let this_pair = (event.organisation.clone(), subject);
            let first = pair.get_or_insert_with(|| this_pair.clone());
            if *first != this_pair {
                self.reject(
                    position,
                    format!(
                        "stored under another subject's key (`{}`/`{}`)",
                        first.0, first.1
                    ),
                );
                continue;
            }
            let applied = match event.fact.scope() {
                FactScope::Subject | FactScope::SubjectOrAddress => state
                    .get_or_insert_with(SubjectState::default)
                    .apply_owned(event, position.clone()),
                FactScope::SubjectHistoryOnly => {
                    match RecordedSend::of(std::borrow::Cow::Owned(event), &position) {
                        Some(send) => keep_send(&mut sends, send),
                        None => Applied::NotApplicable,
                    }
                }
                FactScope::Organisation => {
                    self.reject(
                        position,
                        format!("an organisation's `{kind}` stored under a subject's key"),
                    );
                    continue;
                }
            };
            if !self.input.count_applied(applied) {
                self.reject(position, format!("invalid: `{kind}` without a subject"));
            }
        }
        let Some((organisation, subject)) = pair else {
            return Ok(());
        };
        self.input.sends += count(sends.len());
        self.input.events += count(sends.len() + state.as_ref().map_or(0, |s| s.facts.len()));
        if state.is_some() {
            self.input.subjects += 1;
        }

        let context = self.context;
        let deciding = Deciding {
            plan,
            catalogue: &context.catalogue,
            organisations: &context.reference.organisations,
            candidate_organisations: &context.candidate_organisations,
            addresses: &Remembered::new(addresses),
        };
        let empty = SubjectState::default();
        let subject_state = state.as_ref().unwrap_or(&empty);
        let questions = &plan.questions;
        if questions.sends {
            let mut ordered: Vec<&RecordedSend> = sends.values().collect();
            ordered.sort_by_key(|s| (s.occurred_at, s.id));
            for send in ordered {
                let mut question = send.question(questions.charitable_sends);
                let answer = deciding.answer(&mut question, subject_state)?;
                self.builder
                    .record(&question, answer, changes.as_deref_mut());
            }
        }
        if let (Some(asked), Some(state)) = (&questions.eligibility, &state) {
            let organisation_state = context.reference.organisations.get(&organisation);
            for mut question in
                eligibility_questions(&organisation, &subject, organisation_state, state, asked)
            {
                let answer = deciding.answer(&mut question, state)?;
                self.builder
                    .record(&question, answer, changes.as_deref_mut());
            }
        }
        Ok(())
    }

    /// Counts a record of this worker's partitions that could not be
    /// decoded or validated.
    pub fn reject_record(&mut self, position: Option<EventPosition>, reason: String) {
        self.input.deliveries += 1;
        self.reject(position, reason);
    }

    fn reject(&mut self, position: Option<EventPosition>, reason: String) {
        self.input.rejected += 1;
        keep_lowest(
            &mut self.rejected,
            RejectedRecord { position, reason },
            self.context.plan.samples_per_kind,
        );
    }

    /// This worker's partial report (for [`ReplayContext::report`]).
    pub fn finish(self) -> ReplayReport {
        let mut builder = self.builder;
        builder.set_input(self.input, self.rejected.into_iter().collect());
        builder.finish()
    }
}

fn keep_lowest(kept: &mut BTreeSet<RejectedRecord>, record: RejectedRecord, keep: usize) {
    kept.insert(record);
    while kept.len() > keep {
        kept.pop_last();
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
