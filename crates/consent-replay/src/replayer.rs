//! [`Replayer`]: folds events as the ledger does, then decides every
//! question of the plan under the baseline and the candidate.

use crate::error::{RecordRejected, ReplayError};
use crate::plan::ReplayPlan;
use crate::question::{eligibility_questions, Question, RecordedSend};
use crate::report::{InputCounts, RejectedRecord, ReplayReport, ReportBuilder};
use crate::similarity::with_override;
use consent_domain::event::{FactScope, MarketingMessageSent};
use consent_domain::fold::Applied;
use consent_domain::rules::{decide, RuleCatalogue, UnknownRuleSet};
use consent_domain::{
    Event, EventId, EventPosition, Fact, OrganisationId, OrganisationState, SubjectId, SubjectState,
};
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

/// Replays the events it is given under a [`ReplayPlan`].
///
/// Feed it every event ([`Replayer::apply`], or [`Replayer::apply_stored`]
/// for a log record's bytes) in any order, then ask for the
/// [`Replayer::report`]. Delivery order, duplicates and interleaving do not
/// change the report: subject and organisation facts go through the
/// domain fold (a set sorted by time and id, a duplicate id counted once,
/// a conflicting copy resolved by the lower log position), and recorded
/// sends are kept by event id under the same rules.
///
/// Memory: one [`SubjectState`] per (organisation, subject) pair and one
/// [`OrganisationState`] per organisation, holding all their facts, plus
/// every recorded send: proportional to the events replayed. Nothing is
/// written anywhere; the replayer owns no IO.
#[derive(Debug)]
pub struct Replayer {
    plan: ReplayPlan,
    catalogue: RuleCatalogue,
    organisations: BTreeMap<OrganisationId, OrganisationState>,
    subjects: BTreeMap<(OrganisationId, SubjectId), SubjectState>,
    sends: BTreeMap<EventId, RecordedSend>,
    input: InputCounts,
    /// The lowest-positioned rejected records, at most
    /// `plan.samples_per_kind` of them.
    rejected: BTreeSet<RejectedRecord>,
}

impl Replayer {
    /// A replayer for `plan`, deciding with the rule sets of `catalogue`.
    /// Refuses a plan that names a rule set the catalogue does not have.
    pub fn new(plan: ReplayPlan, catalogue: RuleCatalogue) -> Result<Self, ReplayError> {
        for (side, selection) in [("baseline", &plan.baseline), ("candidate", &plan.candidate)] {
            if let Some(id) = selection.requested() {
                if catalogue.get(id).is_none() {
                    let error = UnknownRuleSet::NotInCatalogue { id: id.clone() };
                    return Err(ReplayError::UnknownRuleSet { side, error });
                }
            }
        }
        Ok(Self {
            plan,
            catalogue,
            organisations: BTreeMap::new(),
            subjects: BTreeMap::new(),
            sends: BTreeMap::new(),
            input: InputCounts::default(),
            rejected: BTreeSet::new(),
        })
    }

    pub fn plan(&self) -> &ReplayPlan {
        &self.plan
    }

    /// Folds one event read from `position` (`None` when it has none, as in
    /// tests). `NotApplicable` means the event fits no state (a subject's
    /// fact without a subject, which validation never lets through); it is
    /// counted as rejected.
    pub fn apply(&mut self, event: &Event, position: Option<EventPosition>) -> Applied {
        self.input.deliveries += 1;
        let applied = match (&event.fact, event.fact.scope(), &event.subject) {
            (_, FactScope::Organisation, _) => self
                .organisations
                .entry(event.organisation.clone())
                .or_default()
                .apply(event, position.clone()),
            (_, FactScope::Subject, Some(subject)) => self
                .subjects
                .entry((event.organisation.clone(), subject.clone()))
                .or_default()
                .apply(event, position.clone()),
            (Fact::MarketingMessageSent(send), FactScope::SubjectHistoryOnly, Some(subject)) => {
                self.keep_send(event, subject, send, position.clone())
            }
            _ => Applied::NotApplicable,
        };
        match applied {
            Applied::Added => {}
            Applied::Duplicate => self.input.duplicates += 1,
            Applied::Conflict => self.input.conflicts += 1,
            Applied::NotApplicable => self.reject(
                position,
                format!("invalid: `{}` without a subject", event.fact.kind()),
            ),
        }
        applied
    }

    /// Decodes and validates a stored record (a `consent.v1.Envelope`'s
    /// exact bytes, as the log keeps them) and folds it. A record that does
    /// not decode or validate is counted, kept as a sample, and returned as
    /// the error; it never stops the replay.
    pub fn apply_stored(
        &mut self,
        position: EventPosition,
        bytes: &[u8],
    ) -> Result<Applied, RecordRejected> {
        let event = consent_schema::decode_envelope(bytes)
            .map_err(|error| format!("undecodable: {error}"))
            .and_then(|envelope| {
                consent_schema::event_from_proto(&envelope)
                    .map_err(|error| format!("invalid: {error}"))
            });
        match event {
            Ok(event) => Ok(self.apply(&event, Some(position))),
            Err(reason) => {
                self.input.deliveries += 1;
                self.reject(Some(position.clone()), reason.clone());
                Err(RecordRejected { position, reason })
            }
        }
    }

    /// Decides every question of the plan under the baseline and the
    /// candidate and reports the differences. Reads only; may be called
    /// again after more events.
    pub fn report(&self) -> ReplayReport {
        let mut builder =
            ReportBuilder::new(&self.plan, self.input_counts(), self.rejected_samples());
        let candidate_organisations: BTreeMap<OrganisationId, OrganisationState> = self
            .plan
            .similarity_overrides
            .iter()
            .map(|(organisation, map)| {
                let state = self.organisations.get(organisation);
                (
                    organisation.clone(),
                    with_override(organisation, state, map),
                )
            })
            .collect();
        let questions = &self.plan.questions;
        if questions.sends {
            let mut sends: Vec<&RecordedSend> = self.sends.values().collect();
            sends.sort_by_key(|s| (s.occurred_at, s.id));
            for send in sends {
                let question = send.question(questions.charitable_sends);
                self.evaluate(&mut builder, &question, &candidate_organisations);
            }
        }
        if let Some(asked) = &questions.eligibility {
            for ((organisation, subject), state) in &self.subjects {
                let organisation_state = self.organisations.get(organisation);
                for question in
                    eligibility_questions(organisation, subject, organisation_state, state, asked)
                {
                    self.evaluate(&mut builder, &question, &candidate_organisations);
                }
            }
        }
        builder.finish()
    }

    fn evaluate(
        &self,
        builder: &mut ReportBuilder,
        question: &Question,
        candidate_organisations: &BTreeMap<OrganisationId, OrganisationState>,
    ) {
        let request = &question.request;
        let Ok(baseline_rules) = self.plan.baseline.select(&self.catalogue, request.at) else {
            builder.not_evaluated("no baseline rule set in force at the decision's time".into());
            return;
        };
        let Ok(candidate_rules) = self.plan.candidate.select(&self.catalogue, request.at) else {
            builder.not_evaluated("no candidate rule set in force at the decision's time".into());
            return;
        };
        let empty_organisation = OrganisationState::default();
        let empty_subject = SubjectState::default();
        let organisation = self
            .organisations
            .get(&request.organisation)
            .unwrap_or(&empty_organisation);
        let candidate_organisation = candidate_organisations
            .get(&request.organisation)
            .unwrap_or(organisation);
        let subject = self
            .subjects
            .get(&(request.organisation.clone(), request.subject.clone()))
            .unwrap_or(&empty_subject);

        let mut asked = request.clone();
        asked.rule_set = self.plan.baseline.requested().cloned();
        let baseline = decide(baseline_rules, organisation, subject, &asked);
        asked.rule_set = self.plan.candidate.requested().cloned();
        let candidate = decide(candidate_rules, candidate_organisation, subject, &asked);
        builder.record(question, &baseline, &candidate);
    }

    /// Keeps a send by event id, resolving repeats as the fold does.
    fn keep_send(
        &mut self,
        event: &Event,
        subject: &SubjectId,
        send: &MarketingMessageSent,
        position: Option<EventPosition>,
    ) -> Applied {
        let incoming = RecordedSend {
            id: event.id,
            organisation: event.organisation.clone(),
            subject: subject.clone(),
            occurred_at: event.occurred_at,
            position,
            send: send.clone(),
        };
        match self.sends.entry(event.id) {
            Entry::Vacant(slot) => {
                slot.insert(incoming);
                Applied::Added
            }
            Entry::Occupied(mut slot) => {
                let existing = slot.get_mut();
                let same = RecordedSend {
                    position: existing.position.clone(),
                    ..incoming.clone()
                } == *existing;
                let lower = is_lower(&incoming.position, &existing.position);
                if lower {
                    *existing = incoming;
                }
                if same {
                    Applied::Duplicate
                } else {
                    Applied::Conflict
                }
            }
        }
    }

    fn reject(&mut self, position: Option<EventPosition>, reason: String) {
        self.input.rejected += 1;
        self.rejected.insert(RejectedRecord { position, reason });
        while self.rejected.len() > self.plan.samples_per_kind {
            self.rejected.pop_last();
        }
    }

    fn input_counts(&self) -> InputCounts {
        let organisation_facts: usize = self.organisations.values().map(|o| o.facts.len()).sum();
        let subject_facts: usize = self.subjects.values().map(|s| s.facts.len()).sum();
        InputCounts {
            events: count(organisation_facts + subject_facts + self.sends.len()),
            organisations: count(self.organisations.len()),
            subjects: count(self.subjects.len()),
            sends: count(self.sends.len()),
            ..self.input.clone()
        }
    }

    fn rejected_samples(&self) -> Vec<RejectedRecord> {
        self.rejected.iter().cloned().collect()
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// `candidate` is a lower log position than `current`; a known position is
/// lower than an unknown one (as in the domain fold).
fn is_lower(candidate: &Option<EventPosition>, current: &Option<EventPosition>) -> bool {
    match (candidate, current) {
        (Some(c), Some(e)) => c < e,
        (Some(_), None) => true,
        (None, _) => false,
    }
}
