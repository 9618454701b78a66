//! A bundle's proven records as the domain sees them: decoded from their
//! exact stored bytes and folded, with the same fold the projector uses,
//! into one state per organisation and per (organisation, subject).

use consent_domain::event::FactScope;
use consent_domain::rules::CheckRequest;
use consent_domain::vocabulary::ContactValue;
use consent_domain::{
    AddressState, Event, OrganisationId, OrganisationState, SubjectId, SubjectState,
};
use consent_log::LogPosition;
use consent_schema::{decode_envelope, event_from_proto, event_position};
use std::collections::BTreeMap;

/// A record that is in the log but is not a valid event (the projector
/// dead-lettered it; it cannot bear on a decision).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UndecodableRecord {
    pub position: LogPosition,
    pub reason: String,
}

/// The states folded from a set of records.
#[derive(Clone, Debug, Default)]
pub struct EvidenceFacts {
    organisations: BTreeMap<OrganisationId, OrganisationState>,
    subjects: BTreeMap<(OrganisationId, SubjectId), SubjectState>,
    addresses: BTreeMap<(OrganisationId, ContactValue), AddressState>,
    events: Vec<(LogPosition, Event)>,
    undecodable: Vec<UndecodableRecord>,
}

impl EvidenceFacts {
    /// Decodes and folds `records` (position and exact stored bytes), in
    /// any order: the fold does not depend on it.
    pub fn fold<'a>(records: impl IntoIterator<Item = (&'a LogPosition, &'a [u8])>) -> Self {
        let mut facts = Self::default();
        for (position, payload) in records {
            match decode(payload) {
                Ok(event) => facts.apply(position, event),
                Err(reason) => facts.undecodable.push(UndecodableRecord {
                    position: position.clone(),
                    reason,
                }),
            }
        }
        facts
    }

    fn apply(&mut self, position: &LogPosition, event: Event) {
        let at = Some(event_position(position));
        match (event.fact.scope(), &event.subject) {
            (FactScope::Organisation, _) => {
                self.organisations
                    .entry(event.organisation.clone())
                    .or_default()
                    .apply(&event, at);
            }
            (FactScope::Subject, Some(subject)) => {
                self.subjects
                    .entry((event.organisation.clone(), subject.clone()))
                    .or_default()
                    .apply(&event, at);
            }
            (FactScope::SubjectOrAddress, subject) => {
                if let Some(subject) = subject {
                    self.subjects
                        .entry((event.organisation.clone(), subject.clone()))
                        .or_default()
                        .apply(&event, at.clone());
                }
                if let Some(address) = event.fact.address() {
                    self.addresses
                        .entry((event.organisation.clone(), address.to_owned()))
                        .or_default()
                        .apply(&event, at);
                }
            }
            // Sends are evidence of what happened, not facts a decision
            // reads.
            _ => {}
        }
        self.events.push((position.clone(), event));
    }

    /// The organisation's state (empty when no record is about it).
    pub fn organisation(&self, organisation: &OrganisationId) -> OrganisationState {
        self.organisations
            .get(organisation)
            .cloned()
            .unwrap_or_default()
    }

    /// The subject's state (empty when no record is about it).
    pub fn subject(&self, organisation: &OrganisationId, subject: &SubjectId) -> SubjectState {
        self.subjects
            .get(&(organisation.clone(), subject.clone()))
            .cloned()
            .unwrap_or_default()
    }

    /// The states of the addresses a decision on `question` reads (see
    /// [`consent_domain::rules::addresses_to_consult`]).
    pub fn addresses_for(
        &self,
        subject: &SubjectState,
        question: &CheckRequest,
    ) -> Vec<AddressState> {
        consent_domain::rules::addresses_to_consult(subject, question)
            .into_iter()
            .filter_map(|address| {
                self.addresses
                    .get(&(question.organisation.clone(), address))
                    .cloned()
            })
            .collect()
    }

    /// Every decoded event with its position, in the order given.
    pub fn events(&self) -> &[(LogPosition, Event)] {
        &self.events
    }

    /// The records that are not valid events.
    pub fn undecodable(&self) -> &[UndecodableRecord] {
        &self.undecodable
    }
}

fn decode(payload: &[u8]) -> Result<Event, String> {
    let envelope = decode_envelope(payload).map_err(|error| format!("undecodable: {error}"))?;
    event_from_proto(&envelope).map_err(|error| format!("invalid: {error}"))
}
