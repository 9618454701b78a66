//! How facts accumulate into state.
//!
//! State is the set of facts known about one (organisation, subject) pair or
//! about one organisation, kept sorted by `(occurred_at, event id)`. That
//! makes the fold:
//!
//! * idempotent: an event id already present is not added again;
//! * independent of delivery order: facts from different topics or
//!   partitions may arrive in any order and the state is the same set in the
//!   same sorted order;
//! * able to answer "as of T": the facts with `occurred_at <= T` are a
//!   prefix of the list.
//!
//! Interpretation (which consent is current, whether an opt-out came after
//! a sale) belongs to [`crate::rules`], which reads the facts in time order.

use crate::event::{Event, EventPosition, Fact, FactScope};
use crate::identity::{EventId, SubjectId};
use crate::time::Timestamp;
use crate::vocabulary::{ContactDigest, ContactValue};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A fact with what identifies it in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded<F> {
    pub id: EventId,
    pub occurred_at: Timestamp,
    /// The log position the fact was read from. When the same event was
    /// delivered at several positions, the lowest is kept.
    pub position: Option<EventPosition>,
    pub fact: F,
}

/// What applying one event did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// A fact new to this state.
    Added,
    /// The event id was already known; the state is unchanged except that a
    /// lower log position may have replaced the recorded one.
    Duplicate,
    /// The same event id arrived with different content. The state keeps
    /// the copy at the lower log position; callers should report this.
    Conflict,
    /// The event does not belong to this kind of state.
    NotApplicable,
}

/// A set of facts sorted by `(occurred_at, id)`, unique by id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactSet {
    facts: Vec<Recorded<Fact>>,
}

impl FactSet {
    /// The set of `facts`, as if each had been folded in (in any order):
    /// sorted by time and id, one per id, the copy at the lowest position.
    /// How a store that keeps facts one by one puts the set together again.
    pub fn from_recorded(facts: impl IntoIterator<Item = Recorded<Fact>>) -> FactSet {
        let mut set = FactSet::default();
        for recorded in facts {
            set.insert_fact(
                recorded.id,
                recorded.occurred_at,
                Cow::Owned(recorded.fact),
                recorded.position,
            );
        }
        set
    }

    pub fn facts(&self) -> &[Recorded<Fact>] {
        &self.facts
    }

    /// The fact with event id `id`, if this set holds it.
    pub fn get(&self, id: EventId) -> Option<&Recorded<Fact>> {
        self.facts.iter().find(|f| f.id == id)
    }

    /// The facts with `occurred_at <= at`, in time order.
    pub fn as_of(&self, at: Timestamp) -> &[Recorded<Fact>] {
        let end = self.facts.partition_point(|f| f.occurred_at <= at);
        &self.facts[..end]
    }

    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }

    pub fn len(&self) -> usize {
        self.facts.len()
    }

    fn insert(&mut self, event: &Event, position: Option<EventPosition>) -> Applied {
        self.insert_fact(
            event.id,
            event.occurred_at,
            Cow::Borrowed(&event.fact),
            position,
        )
    }

    /// Inserts a fact, copying a borrowed one only when it is kept.
    fn insert_fact(
        &mut self,
        id: EventId,
        occurred_at: Timestamp,
        fact: Cow<'_, Fact>,
        position: Option<EventPosition>,
    ) -> Applied {
        if let Some(index) = self.facts.iter().position(|f| f.id == id) {
            return self.merge_duplicate(index, id, occurred_at, fact, position);
        }
        let key = (occurred_at, id);
        let at = self.facts.partition_point(|f| (f.occurred_at, f.id) < key);
        self.facts.insert(
            at,
            Recorded {
                id,
                occurred_at,
                position,
                fact: fact.into_owned(),
            },
        );
        Applied::Added
    }

    fn merge_duplicate(
        &mut self,
        index: usize,
        id: EventId,
        occurred_at: Timestamp,
        fact: Cow<'_, Fact>,
        position: Option<EventPosition>,
    ) -> Applied {
        let existing = &self.facts[index];
        let same_content = existing.occurred_at == occurred_at && existing.fact == *fact;
        if !is_lower(&position, &existing.position) {
            return if same_content {
                Applied::Duplicate
            } else {
                Applied::Conflict
            };
        }
        if same_content {
            self.facts[index].position = position;
            return Applied::Duplicate;
        }
        // Conflicting content: the copy at the lower position wins, so the
        // result does not depend on which copy arrived first.
        self.facts.remove(index);
        self.insert_fact(id, occurred_at, fact, position);
        Applied::Conflict
    }
}

/// `candidate` is a lower (earlier) position than `current`. A known
/// position is lower than an unknown one.
fn is_lower(candidate: &Option<EventPosition>, current: &Option<EventPosition>) -> bool {
    match (candidate, current) {
        (Some(c), Some(e)) => c < e,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Everything known about one subject of one organisation that bears on a
/// decision. Messages sent are kept in history, not here.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectState {
    pub facts: FactSet,
}

impl SubjectState {
    pub fn apply(&mut self, event: &Event, position: Option<EventPosition>) -> Applied {
        match event.fact.scope() {
            FactScope::Subject | FactScope::SubjectOrAddress if event.subject.is_some() => {
                self.facts.insert(event, position)
            }
            _ => Applied::NotApplicable,
        }
    }

    /// [`SubjectState::apply`] for a caller done with the event: its fact
    /// is moved into the state, not copied. The same outcome and state.
    pub fn apply_owned(&mut self, event: Event, position: Option<EventPosition>) -> Applied {
        match event.fact.scope() {
            FactScope::Subject | FactScope::SubjectOrAddress if event.subject.is_some() => {
                self.facts.insert_fact(
                    event.id,
                    event.occurred_at,
                    Cow::Owned(event.fact),
                    position,
                )
            }
            _ => Applied::NotApplicable,
        }
    }
}

/// Everything an organisation knows about one of its addresses (an email
/// address or a number, as [`Fact::address`] gives it), whichever subject
/// each fact was recorded under, or none: opt-outs and objections received
/// for the address, TPS/CTPS listings and call preferences of a number.
/// What suppresses an address for every subject id that uses it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressState {
    pub facts: FactSet,
    /// The subject each fact was recorded under, by event id (none for an
    /// address-only fact): whose key opens the address's sealed value in
    /// the suppression list. Not read by the rules.
    pub subjects: BTreeMap<EventId, SubjectId>,
}

impl AddressState {
    /// Applies an event that names an address ([`Fact::address`]); any
    /// other is [`Applied::NotApplicable`]. The caller routes the event to
    /// the state of that address.
    pub fn apply(&mut self, event: &Event, position: Option<EventPosition>) -> Applied {
        if event.fact.address().is_none() {
            return Applied::NotApplicable;
        }
        let applied = self.facts.insert(event, position.clone());
        // The subject of the copy the set keeps (the lowest position).
        let kept = self
            .facts
            .facts()
            .iter()
            .any(|f| f.id == event.id && f.position == position);
        if kept {
            match &event.subject {
                Some(subject) => {
                    self.subjects.insert(event.id, subject.clone());
                }
                None => {
                    self.subjects.remove(&event.id);
                }
            }
        }
        applied
    }

    /// The subject the fact `event` was recorded under, if any.
    pub fn subject_of(&self, event: &EventId) -> Option<&SubjectId> {
        self.subjects.get(event)
    }
}

/// Everything known about one organisation: its registration (kind) and its
/// product-similarity definitions, over time, and its suppression list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationState {
    /// Registrations and product-similarity definitions.
    pub facts: FactSet,
    /// `ContactsSuppressed` facts, indexed by the digests they suppress.
    pub suppressions: Suppressions,
}

impl OrganisationState {
    pub fn apply(&mut self, event: &Event, position: Option<EventPosition>) -> Applied {
        match (&event.fact, event.fact.scope()) {
            (Fact::ContactsSuppressed(_), _) => self.suppressions.insert(event, position),
            (_, FactScope::Organisation) => self.facts.insert(event, position),
            _ => Applied::NotApplicable,
        }
    }

    /// [`OrganisationState::apply`] for a caller done with the event: an
    /// organisation-level fact is moved into the state, not copied. The
    /// same outcome and state.
    pub fn apply_owned(&mut self, event: Event, position: Option<EventPosition>) -> Applied {
        match (&event.fact, event.fact.scope()) {
            (Fact::ContactsSuppressed(_), _) => self.suppressions.insert(&event, position),
            (_, FactScope::Organisation) => self.facts.insert_fact(
                event.id,
                event.occurred_at,
                Cow::Owned(event.fact),
                position,
            ),
            _ => Applied::NotApplicable,
        }
    }

    /// The latest registration with `occurred_at <= at`.
    pub fn registration_as_of(&self, at: Timestamp) -> Option<&Recorded<Fact>> {
        self.facts
            .as_of(at)
            .iter()
            .rev()
            .find(|f| matches!(f.fact, Fact::OrganisationRegistered(_)))
    }

    /// The latest product-similarity definition with `occurred_at <= at`.
    pub fn categories_as_of(&self, at: Timestamp) -> Option<&Recorded<Fact>> {
        self.facts
            .as_of(at)
            .iter()
            .rev()
            .find(|f| matches!(f.fact, Fact::ProductCategoriesDefined(_)))
    }
}

/// An organisation's suppression list: each `ContactsSuppressed` fact under
/// every digest it names, so that a check finds the entries for its contact
/// without reading the others.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppressions {
    by_digest: BTreeMap<ContactDigest, FactSet>,
}

impl Suppressions {
    /// The suppressions of `value`, in time order: none for a value in
    /// clear (a suppression list holds digests only).
    pub fn of(&self, value: &ContactValue) -> &[Recorded<Fact>] {
        value
            .digest()
            .and_then(|digest| self.by_digest.get(digest))
            .map_or(&[], FactSet::facts)
    }

    /// Every suppression fact, once each, in time order.
    pub fn facts(&self) -> Vec<&Recorded<Fact>> {
        let mut all: Vec<&Recorded<Fact>> =
            self.by_digest.values().flat_map(FactSet::facts).collect();
        all.sort_by_key(|f| (f.occurred_at, f.id));
        all.dedup_by_key(|f| f.id);
        all
    }

    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }

    fn insert(&mut self, event: &Event, position: Option<EventPosition>) -> Applied {
        let Fact::ContactsSuppressed(suppressed) = &event.fact else {
            return Applied::NotApplicable;
        };
        // Every digest's set sees the same event, so they agree on the
        // outcome. (The edge refuses a suppression naming no digest.)
        let mut applied = Applied::Duplicate;
        for digest in &suppressed.digests {
            let outcome = self
                .by_digest
                .entry(*digest)
                .or_default()
                .insert(event, position.clone());
            if outcome != Applied::Duplicate {
                applied = outcome;
            }
        }
        applied
    }
}
