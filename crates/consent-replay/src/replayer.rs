//! [`Replayer`]: folds events as the ledger does, then decides every
//! question of the plan under the baseline and the candidate.

use crate::address_states::{infallible, AddressStates};
use crate::compare::{ChangeKind, Comparison};
use crate::error::{RecordRejected, ReplayError};
use crate::plan::ReplayPlan;
use crate::question::{eligibility_questions, Question, RecordedSend};
use crate::report::{Answer, InputCounts, RejectedRecord, ReplayReport, ReportBuilder};
use crate::similarity::candidate_organisations;
use consent_domain::event::FactScope;
use consent_domain::fold::Applied;
use consent_domain::rules::{
    addresses_to_consult, decide_with_texts, DecisionTexts, RuleCatalogue, UnknownRuleSet,
};
use consent_domain::vocabulary::ContactValue;
use consent_domain::{
    AddressState, Event, EventId, EventPosition, OrganisationId, OrganisationState, SubjectId,
    SubjectState,
};
use std::borrow::Cow;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

/// Threads that decide a report's questions unless told otherwise
/// ([`Replayer::with_decision_threads`]): the two cores the replay is sized
/// for.
pub const DEFAULT_DECISION_THREADS: usize = 2;

/// Questions decided per round: every round's questions are shared out
/// between the decision threads, then recorded in question order. Large
/// enough that starting the threads costs little, small enough that the
/// round's answers take little memory.
const QUESTIONS_PER_ROUND: usize = 4096;

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
///
/// Threads: [`Replayer::report`] decides its questions on
/// [`DEFAULT_DECISION_THREADS`] threads (computation only, scoped to the
/// call), round by round, and records the answers in question order, so
/// the report is the same whatever the number of threads.
#[derive(Debug)]
pub struct Replayer {
    plan: ReplayPlan,
    catalogue: RuleCatalogue,
    decision_threads: usize,
    organisations: BTreeMap<OrganisationId, OrganisationState>,
    /// By organisation, then subject: the (organisation, subject) order the
    /// eligibility questions are asked in.
    subjects: BTreeMap<OrganisationId, BTreeMap<SubjectId, SubjectState>>,
    /// By (organisation, address): what suppresses an address whichever
    /// subject it is used for.
    addresses: BTreeMap<(OrganisationId, ContactValue), AddressState>,
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
        check_rule_sets(&plan, &catalogue)?;
        Ok(Self {
            plan,
            catalogue,
            decision_threads: DEFAULT_DECISION_THREADS,
            organisations: BTreeMap::new(),
            subjects: BTreeMap::new(),
            addresses: BTreeMap::new(),
            sends: BTreeMap::new(),
            input: InputCounts::default(),
            rejected: BTreeSet::new(),
        })
    }

    /// Decides the report's questions on `threads` threads (at least one;
    /// `0` reads as `1`). The report does not depend on it.
    pub fn with_decision_threads(mut self, threads: usize) -> Self {
        self.decision_threads = threads.max(1);
        self
    }

    pub fn plan(&self) -> &ReplayPlan {
        &self.plan
    }

    /// Folds one event read from `position` (`None` when it has none, as in
    /// tests). `NotApplicable` means the event fits no state (a subject's
    /// fact without a subject, which validation never lets through); it is
    /// counted as rejected.
    pub fn apply(&mut self, event: &Event, position: Option<EventPosition>) -> Applied {
        self.fold(Cow::Borrowed(event), position)
    }

    /// [`Replayer::apply`] of a borrowed event (its facts copied into the
    /// states) or of an owned one (moved, as a decoded record is).
    fn fold(&mut self, event: Cow<'_, Event>, position: Option<EventPosition>) -> Applied {
        if !self.plan.replays(&event.organisation) {
            // Another organisation's: not part of this replay, not counted.
            return Applied::NotApplicable;
        }
        self.input.deliveries += 1;
        let kind = event.fact.kind();
        let applied = match (event.fact.scope(), event.subject.is_some()) {
            (FactScope::Organisation, _) => {
                match state_of(&mut self.organisations, &event.organisation) {
                    Some(state) => match event {
                        Cow::Borrowed(event) => state.apply(event, position.clone()),
                        Cow::Owned(event) => state.apply_owned(event, position.clone()),
                    },
                    None => Applied::NotApplicable,
                }
            }
            (FactScope::SubjectOrAddress, has_subject) => {
                // A fact with no address is kept under the empty value,
                // which no decision consults.
                let address = event
                    .fact
                    .address()
                    .cloned()
                    .unwrap_or_else(|| ContactValue::clear(""));
                let in_address = self
                    .addresses
                    .entry((event.organisation.clone(), address))
                    .or_default()
                    .apply(&event, position.clone());
                let subject = event.subject.as_ref().filter(|_| has_subject);
                match subject {
                    Some(subject) => state_of(&mut self.subjects, &event.organisation)
                        .and_then(|subjects| state_of(subjects, subject))
                        .map_or(Applied::NotApplicable, |state| {
                            state.apply(&event, position.clone())
                        }),
                    None => in_address,
                }
            }
            (FactScope::Subject, true) => {
                let state =
                    state_of(&mut self.subjects, &event.organisation).and_then(|subjects| {
                        let subject = event.subject.as_ref()?;
                        state_of(subjects, subject)
                    });
                match (state, event) {
                    (Some(state), Cow::Borrowed(event)) => state.apply(event, position.clone()),
                    (Some(state), Cow::Owned(event)) => state.apply_owned(event, position.clone()),
                    (None, _) => Applied::NotApplicable,
                }
            }
            (FactScope::SubjectHistoryOnly, true) => match RecordedSend::of(event, &position) {
                Some(send) => keep_send(&mut self.sends, send),
                None => Applied::NotApplicable,
            },
            _ => Applied::NotApplicable,
        };
        if !self.input.count_applied(applied) {
            self.reject(position, format!("invalid: `{kind}` without a subject"));
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
            Ok(event) => Ok(self.fold(Cow::Owned(event), Some(position))),
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
    ///
    /// Both decisions are taken without their texts
    /// ([`DecisionTexts::Omitted`]): the report reads only the verdict, the
    /// basis, the reasons' rules and codes, the rules' outcomes and the
    /// events relied on, which are the full decision's.
    pub fn report(&self) -> ReplayReport {
        let mut builder =
            ReportBuilder::new(&self.plan, self.input_counts(), self.rejected_samples());
        let candidate_organisations = candidate_organisations(&self.plan, &self.organisations);
        let deciding = Deciding {
            plan: &self.plan,
            catalogue: &self.catalogue,
            organisations: &self.organisations,
            candidate_organisations: &candidate_organisations,
            addresses: &self.addresses,
        };
        let empty_subject = SubjectState::default();
        let threads = self.decision_threads;
        let questions = &self.plan.questions;
        if questions.sends {
            let mut sends: Vec<&RecordedSend> = self.sends.values().collect();
            sends.sort_by_key(|s| (s.occurred_at, s.id));
            let reading = questions.charitable_sends;
            for round in sends.chunks(QUESTIONS_PER_ROUND) {
                let answered = in_parallel(round, threads, |send| {
                    let mut question = send.question(reading);
                    let subject = self
                        .subjects
                        .get(&send.organisation)
                        .and_then(|subjects| subjects.get(&send.subject))
                        .unwrap_or(&empty_subject);
                    let answer = infallible(deciding.answer(&mut question, subject));
                    (question, answer)
                });
                for (question, answer) in answered {
                    builder.record(&question, answer, None);
                }
            }
        }
        if let Some(asked) = &questions.eligibility {
            let pairs: Vec<(&OrganisationId, &SubjectId, &SubjectState)> = self
                .subjects
                .iter()
                .flat_map(|(organisation, subjects)| {
                    subjects
                        .iter()
                        .map(move |(subject, state)| (organisation, subject, state))
                })
                .collect();
            let pairs_per_round = (QUESTIONS_PER_ROUND / asked.channels.len().max(1)).max(1);
            for round in pairs.chunks(pairs_per_round) {
                let answered = in_parallel(round, threads, |&(organisation, subject, state)| {
                    let organisation_state = self.organisations.get(organisation);
                    eligibility_questions(organisation, subject, organisation_state, state, asked)
                        .into_iter()
                        .map(|mut question| {
                            let answer = infallible(deciding.answer(&mut question, state));
                            (question, answer)
                        })
                        .collect::<Vec<_>>()
                });
                for (question, answer) in answered.into_iter().flatten() {
                    builder.record(&question, answer, None);
                }
            }
        }
        builder.finish()
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
        let subject_facts: usize = self
            .subjects
            .values()
            .flat_map(BTreeMap::values)
            .map(|s| s.facts.len())
            .sum();
        let subjects: usize = self.subjects.values().map(BTreeMap::len).sum();
        InputCounts {
            events: count(organisation_facts + subject_facts + self.sends.len()),
            organisations: count(self.organisations.len()),
            subjects: count(subjects),
            sends: count(self.sends.len()),
            ..self.input.clone()
        }
    }

    fn rejected_samples(&self) -> Vec<RejectedRecord> {
        self.rejected.iter().cloned().collect()
    }
}

/// What deciding a question reads: the organisations' and addresses'
/// states, and the candidate's organisations with their similarity
/// overrides (the subject's state is given with each question).
pub(crate) struct Deciding<'r, A: ?Sized> {
    pub plan: &'r ReplayPlan,
    pub catalogue: &'r RuleCatalogue,
    pub organisations: &'r BTreeMap<OrganisationId, OrganisationState>,
    pub candidate_organisations: &'r BTreeMap<OrganisationId, OrganisationState>,
    pub addresses: &'r A,
}

impl<A: AddressStates + ?Sized> Deciding<'_, A> {
    /// Decides `question` about `subject` under the baseline and the
    /// candidate and compares the decisions. `question.request.rule_set`
    /// is set per side and left as the candidate's. Fails only when an
    /// address state cannot be read.
    pub fn answer(
        &self,
        question: &mut Question,
        subject: &SubjectState,
    ) -> Result<Answer, A::Error> {
        let plan = self.plan;
        let request = &mut question.request;
        let Ok(baseline_rules) = plan.baseline.select(self.catalogue, request.at) else {
            return Ok(Answer::NotEvaluated(
                "no baseline rule set in force at the decision's time",
            ));
        };
        let Ok(candidate_rules) = plan.candidate.select(self.catalogue, request.at) else {
            return Ok(Answer::NotEvaluated(
                "no candidate rule set in force at the decision's time",
            ));
        };
        let empty_organisation = OrganisationState::default();
        let organisation = self
            .organisations
            .get(&request.organisation)
            .unwrap_or(&empty_organisation);
        let candidate_organisation = self
            .candidate_organisations
            .get(&request.organisation)
            .unwrap_or(organisation);
        let mut addresses: Vec<AddressState> = Vec::new();
        for address in addresses_to_consult(subject, request) {
            if let Some(state) = self
                .addresses
                .address_state(&request.organisation, &address)?
            {
                addresses.push(state);
            }
        }

        request.rule_set = plan.baseline.requested().cloned();
        let baseline = decide_with_texts(
            baseline_rules,
            organisation,
            subject,
            &addresses,
            request,
            DecisionTexts::Omitted,
        );
        request.rule_set = plan.candidate.requested().cloned();
        let candidate = decide_with_texts(
            candidate_rules,
            candidate_organisation,
            subject,
            &addresses,
            request,
            DecisionTexts::Omitted,
        );
        let comparison = Comparison::of(&baseline, &candidate);
        let decisions = match comparison.kind {
            ChangeKind::Unchanged => None,
            _ => Some(Box::new((baseline, candidate))),
        };
        Ok(Answer::Compared {
            comparison,
            decisions,
        })
    }
}

/// Refuses a plan that names a rule set `catalogue` does not have.
pub(crate) fn check_rule_sets(
    plan: &ReplayPlan,
    catalogue: &RuleCatalogue,
) -> Result<(), ReplayError> {
    for (side, selection) in [("baseline", &plan.baseline), ("candidate", &plan.candidate)] {
        if let Some(id) = selection.requested() {
            if catalogue.get(id).is_none() {
                let error = UnknownRuleSet::NotInCatalogue { id: id.clone() };
                return Err(ReplayError::UnknownRuleSet { side, error });
            }
        }
    }
    Ok(())
}

/// Keeps a send by event id, resolving repeats as the fold does.
pub(crate) fn keep_send(
    sends: &mut BTreeMap<EventId, RecordedSend>,
    incoming: RecordedSend,
) -> Applied {
    match sends.entry(incoming.id) {
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

/// `decide` applied to every item, on up to `threads` threads (the calling
/// one and scoped others), each taking a contiguous share; the results in
/// the items' order.
fn in_parallel<I: Sync, T: Send>(
    items: &[I],
    threads: usize,
    decide: impl Fn(&I) -> T + Sync,
) -> Vec<T> {
    let share = items.len().div_ceil(threads.max(1)).max(1);
    let mut shares = items.chunks(share);
    let Some(first) = shares.next() else {
        return Vec::new();
    };
    let decide = &decide;
    std::thread::scope(|scope| {
        let others: Vec<_> = shares
            .map(|share| scope.spawn(move || share.iter().map(decide).collect::<Vec<T>>()))
            .collect();
        let mut results: Vec<T> = Vec::with_capacity(items.len());
        results.extend(first.iter().map(decide));
        for other in others {
            // A panic on a decision thread is carried on to the caller as
            // it would have been on one thread.
            match other.join() {
                Ok(decided) => results.extend(decided),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    })
}

/// The value of `key`, a default one inserted when the key is new (the key
/// is cloned only then). Always `Some`; an `Option` only because the
/// borrow checker cannot yet see that a value just found may be returned.
pub(crate) fn state_of<'m, K: Ord + Clone, V: Default>(
    map: &'m mut BTreeMap<K, V>,
    key: &K,
) -> Option<&'m mut V> {
    if !map.contains_key(key) {
        map.insert(key.clone(), V::default());
    }
    map.get_mut(key)
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
