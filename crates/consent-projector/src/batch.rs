//! One batch of events folded onto the stored view: the writes of one
//! [`ViewBatch`].
//!
//! The result depends only on the set of events the view has seen, never
//! on their delivery order or on how they were cut into batches:
//!
//! * states: [`SubjectState::apply`] / [`OrganisationState::apply`] are
//!   idempotent and order-independent (the copy of an event at the lowest
//!   log position wins). A subject's facts are folded one by one: the fold
//!   reads the stored copy of each event id it meets (one read, however
//!   many facts the subject has), and writes the facts that changed, never
//!   the whole state;
//! * history: a subject's facts are its history (with their records'
//!   bytes); events no state holds (messages sent) get an entry of their
//!   own, one per (organisation, subject, event id), the copy at the lowest
//!   log position, like the states;
//! * addresses: [`AddressState::apply`], likewise, for every fact that
//!   names an address ([`consent_domain::Fact::address`]), with or without
//!   a subject; an address-only fact has no subject history (it is in the
//!   log and its partition's tree like every record, and in its address's
//!   state);
//! * contacts: every contact point carried by any subject-scoped record
//!   read, a union.
//!
//! Reads per event are what sled charges most for after writes, so each is
//! one exact key: a subject's fact by its event id
//! ([`ViewStore::subject_fact`]), a message sent's history entry, and a
//! contact point ([`ViewStore::contact_recorded`]), not every subject of
//! the contact point.

use crate::decode::DecodedEvent;
use consent_domain::event::FactScope;
use consent_domain::fold::{Applied, FactSet, Recorded};
use consent_domain::vocabulary::{ContactPoint, ContactValue};
use consent_domain::{
    AddressState, EventId, EventPosition, Fact, OrganisationId, OrganisationState, SubjectId,
    SubjectState,
};
use consent_store::{HistoryEntry, StoreError, StoredOffsets, ViewBatch, ViewStore};
use std::collections::{BTreeMap, BTreeSet};

/// A state as loaded from the store and as the batch leaves it.
struct Touched<S> {
    loaded: Option<S>,
    current: S,
}

/// The facts of one subject that a batch names: the stored copy of each
/// (read once), and a state of those facts alone as the batch leaves them.
/// The fold of one event id looks at no other id, so folding onto this
/// part of the state gives what folding onto the whole would.
#[derive(Default)]
struct TouchedFacts {
    loaded: BTreeMap<EventId, Option<Recorded<Fact>>>,
    current: SubjectState,
}

/// What folding a batch produced, besides the writes.
#[derive(Debug, Default)]
pub struct FoldOutcome {
    pub batch: ViewBatch,
    pub events: u64,
    pub conflicts: u64,
}

type SubjectKey = (OrganisationId, SubjectId);
type AddressKey = (OrganisationId, ContactValue);

/// Folds `events` onto the states in `store`, reading each touched key once,
/// and returns the batch that writes the changes and `offsets`.
pub fn fold_batch(
    store: &dyn ViewStore,
    events: &[DecodedEvent],
    offsets: StoredOffsets,
) -> Result<FoldOutcome, StoreError> {
    let mut subjects: BTreeMap<SubjectKey, TouchedFacts> = BTreeMap::new();
    let mut organisations: BTreeMap<OrganisationId, Touched<OrganisationState>> = BTreeMap::new();
    let mut addresses: BTreeMap<AddressKey, Touched<AddressState>> = BTreeMap::new();
    let mut history: BTreeMap<(SubjectKey, EventId), HistorySlot> = BTreeMap::new();
    // Contact points seen in this batch per subject (each looked up once).
    let mut contacts: BTreeSet<(ContactPoint, SubjectKey)> = BTreeSet::new();
    let mut new_contacts: BTreeSet<(ContactPoint, OrganisationId, SubjectId)> = BTreeSet::new();
    let mut conflicts = 0u64;

    for decoded in events {
        let event = &decoded.event;
        let position = Some(decoded.position.clone());
        // The subject part is folded by the subject's owner only.
        let subject_here = event.subject.as_ref().filter(|_| decoded.subject_here);
        let mut applied = match (event.fact.scope(), subject_here) {
            (FactScope::Organisation, _) => {
                let touched = match organisations.get_mut(&event.organisation) {
                    Some(touched) => touched,
                    None => {
                        let loaded = store.organisation_state(&event.organisation)?;
                        let current = loaded.clone().unwrap_or_default();
                        organisations
                            .entry(event.organisation.clone())
                            .or_insert(Touched { loaded, current })
                    }
                };
                touched.current.apply(event, position.clone())
            }
            (FactScope::Subject | FactScope::SubjectOrAddress, Some(subject)) => {
                let key = (event.organisation.clone(), subject.clone());
                let touched = match subjects.get_mut(&key) {
                    Some(touched) => touched,
                    None => subjects.entry(key).or_default(),
                };
                if !touched.loaded.contains_key(&event.id) {
                    let stored = store.subject_fact(&event.organisation, subject, event.id)?;
                    if let Some(fact) = &stored {
                        let facts = touched.current.facts.facts().iter().cloned();
                        touched.current.facts = FactSet::from_recorded(facts.chain([fact.clone()]));
                    }
                    touched.loaded.insert(event.id, stored);
                }
                touched.current.apply(event, position.clone())
            }
            // Kept in history only (messages sent), or (impossible after
            // validation) a subject fact without a subject.
            (FactScope::SubjectHistoryOnly, _) | (FactScope::Subject, None) => {
                Applied::NotApplicable
            }
            // An address-only fact, or one about a subject owned elsewhere:
            // its address part follows.
            (FactScope::SubjectOrAddress, None) => Applied::NotApplicable,
        };
        if let Some(address) = event.fact.address() {
            let key = (event.organisation.clone(), address.to_owned());
            let touched = match addresses.get_mut(&key) {
                Some(touched) => touched,
                None => {
                    let loaded = store.address_state(&event.organisation, address)?;
                    let current = loaded.clone().unwrap_or_default();
                    addresses.entry(key).or_insert(Touched { loaded, current })
                }
            };
            if touched.current.apply(event, position) == Applied::Conflict {
                applied = Applied::Conflict;
            }
        }
        if applied == Applied::Conflict {
            conflicts += 1;
            tracing::warn!(
                event_id = %event.id,
                position = %decoded.position,
                organisation = %event.organisation,
                subject = event.subject.as_ref().map(|s| s.as_str()).unwrap_or(""),
                kind = event.fact.kind(),
                "the same event id was recorded with different content; the copy at the lower log position is kept"
            );
        }

        let Some(subject) = subject_here else {
            continue;
        };
        if event.fact.scope() == FactScope::Organisation {
            continue;
        }
        let key = (event.organisation.clone(), subject.clone());
        // A subject's facts are its history; messages sent have entries.
        if event.fact.scope() == FactScope::SubjectHistoryOnly {
            record_history(store, &mut history, &key, decoded)?;
        }
        // The contact index: TPS/CTPS and call-preference numbers are not
        // contact points (`Fact::contact_point`) and are not indexed.
        if let Some(contact) = event.fact.contact_point() {
            let seen = (contact.clone(), key.clone());
            if !contacts.contains(&seen) {
                if !store.contact_recorded(contact, &key.0, &key.1)? {
                    new_contacts.insert((contact.clone(), key.0.clone(), key.1.clone()));
                }
                contacts.insert(seen);
            }
        }
    }

    let mut subject_facts = Vec::new();
    for (key, touched) in subjects {
        for (id, loaded) in &touched.loaded {
            if let Some(now) = touched.current.facts.get(*id) {
                if loaded.as_ref() != Some(now) {
                    subject_facts.push((key.clone(), now.clone()));
                }
            }
        }
    }
    let batch = ViewBatch {
        subject_facts,
        organisations: organisations
            .into_iter()
            .filter(|(_, t)| t.loaded.as_ref() != Some(&t.current))
            .map(|(key, t)| (key, t.current))
            .collect(),
        addresses: addresses
            .into_iter()
            .filter(|(_, t)| t.loaded.as_ref() != Some(&t.current))
            .map(|(key, t)| (key, t.current))
            .collect(),
        history: history
            .into_values()
            .filter_map(|slot| slot.write)
            .collect(),
        contacts: new_contacts.into_iter().collect(),
        offsets,
        ..ViewBatch::default()
    };
    Ok(FoldOutcome {
        batch,
        events: u64::try_from(events.len()).unwrap_or(u64::MAX),
        conflicts,
    })
}

/// The history of one event id of one subject as the batch leaves it.
struct HistorySlot {
    /// The position of the winning copy so far, stored or from this batch.
    lowest: Option<EventPosition>,
    /// The entry to write, if a copy in this batch won.
    write: Option<HistoryEntry>,
}

/// Makes `decoded` the subject's history entry for its event id, unless a
/// copy at a lower log position is already stored or in the batch.
fn record_history(
    store: &dyn ViewStore,
    history: &mut BTreeMap<(SubjectKey, EventId), HistorySlot>,
    key: &SubjectKey,
    decoded: &DecodedEvent,
) -> Result<(), StoreError> {
    let event = &decoded.event;
    let slot_key = (key.clone(), event.id);
    let slot = match history.get_mut(&slot_key) {
        Some(slot) => slot,
        None => {
            let lowest = store.history_position(&key.0, &key.1, &event.id)?;
            history.entry(slot_key).or_insert(HistorySlot {
                lowest,
                write: None,
            })
        }
    };
    let wins = slot
        .lowest
        .as_ref()
        .is_none_or(|current| is_lower(&decoded.position, current));
    if wins {
        slot.lowest = Some(decoded.position.clone());
        slot.write = Some(HistoryEntry {
            organisation: key.0.clone(),
            subject: key.1.clone(),
            occurred_at: event.occurred_at,
            event_id: event.id,
            position: decoded.position.clone(),
            stored_bytes: decoded.stored_bytes.clone(),
        });
    }
    Ok(())
}

fn is_lower(candidate: &EventPosition, current: &EventPosition) -> bool {
    candidate < current
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_domain::event::{ErasureRequested, MarketingMessageSent};
    use consent_domain::vocabulary::{Channel, ContactKind, MessageClass, Purpose};
    use consent_domain::{Event, Fact, Source, Timestamp};
    use consent_log::TopicPartition;
    use consent_store::{MemoryStore, RecordRun};
    use consent_store_sled::SledStore;

    fn decoded(id: u128, fact: Fact, offset: u64) -> DecodedEvent {
        decoded_at(id, fact, 0, offset)
    }

    /// Event `id` read from partition `partition` at `offset`.
    fn decoded_at(id: u128, fact: Fact, partition: u32, offset: u64) -> DecodedEvent {
        DecodedEvent {
            event: Event {
                id: EventId(uuid::Uuid::from_u128(id)),
                organisation: OrganisationId::new("acme"),
                subject: Some(SubjectId::new("s-1")),
                occurred_at: Timestamp::from_unix_micros(1_000),
                recorded_at: Timestamp::from_unix_micros(1_000),
                source: Source::default(),
                fact,
            },
            position: EventPosition {
                topic: "t".to_owned(),
                partition,
                offset,
            },
            stored_bytes: vec![
                u8::try_from(id).unwrap_or(0),
                u8::try_from(offset).unwrap_or(0),
            ],
            subject_here: true,
            opt_out_notice: None,
        }
    }

    fn erasure() -> Fact {
        Fact::ErasureRequested(ErasureRequested {
            reason: "asked".to_owned(),
        })
    }

    fn sent() -> Fact {
        Fact::MarketingMessageSent(MarketingMessageSent {
            channel: Channel::Email,
            purpose: Purpose::Commercial,
            product_category: None,
            message_class: MessageClass::Marketing,
            promotional_content: true,
            opt_out_included: true,
            sender_identified: true,
            message_id: "m-1".to_owned(),
            campaign_id: "c-1".to_owned(),
            contact_point: Some(ContactPoint {
                kind: ContactKind::Email,
                value: ContactValue::clear("a@example.com"),
            }),
            sole_charitable_purpose: false,
        })
    }

    /// Folds `events` as one batch and applies it with their records, as
    /// the projector does; returns what the fold wrote.
    fn step(store: &dyn ViewStore, events: &[DecodedEvent]) -> ViewBatch {
        let outcome = fold_batch(store, events, StoredOffsets::new()).expect("fold");
        let mut batch = outcome.batch.clone();
        batch.records = events
            .iter()
            .map(|event| RecordRun {
                partition: TopicPartition::new(
                    event.position.topic.clone(),
                    event.position.partition,
                ),
                first_offset: event.position.offset,
                payloads: vec![event.stored_bytes.clone()],
            })
            .collect();
        store.apply(batch).expect("apply");
        outcome.batch
    }

    /// A copy delivered again at a higher position writes nothing; one at a
    /// lower position (another partition, read later) replaces the stored
    /// copy: of a subject's fact (written as the fact) and of a message
    /// sent (its history entry).
    fn a_later_batchs_lower_copy_wins(store: &dyn ViewStore) {
        let (organisation, subject) = (OrganisationId::new("acme"), SubjectId::new("s-1"));
        let first = step(
            store,
            &[decoded_at(1, erasure(), 1, 0), decoded_at(2, sent(), 1, 1)],
        );
        assert_eq!(first.subject_facts.len(), 1);
        assert_eq!(first.history.len(), 1, "the message sent has an entry");

        let higher = step(
            store,
            &[decoded_at(1, erasure(), 2, 0), decoded_at(2, sent(), 2, 1)],
        );
        assert!(higher.history.is_empty(), "{higher:?}");
        assert!(higher.subject_facts.is_empty());
        assert!(higher.contacts.is_empty(), "the contact is indexed already");

        let lower = step(
            store,
            &[decoded_at(1, erasure(), 0, 0), decoded_at(2, sent(), 0, 1)],
        );
        let written: Vec<(u32, u64)> = lower
            .subject_facts
            .iter()
            .filter_map(|(_, fact)| fact.position.as_ref())
            .chain(lower.history.iter().map(|e| &e.position))
            .map(|p| (p.partition, p.offset))
            .collect();
        assert_eq!(written, vec![(0, 0), (0, 1)]);
        let history = store.history(&organisation, &subject).expect("history");
        let mut stored: Vec<(u128, u32, u64, Vec<u8>)> = history
            .iter()
            .map(|e| {
                let p = &e.position;
                (
                    e.event_id.0.as_u128(),
                    p.partition,
                    p.offset,
                    e.stored_bytes.clone(),
                )
            })
            .collect();
        stored.sort_unstable();
        assert_eq!(stored, vec![(1, 0, 0, vec![1, 0]), (2, 0, 1, vec![2, 1])]);
        let state = store
            .subject_state(&organisation, &subject)
            .expect("read")
            .expect("state");
        let positions: Vec<_> = state
            .facts
            .facts()
            .iter()
            .map(|f| f.position.as_ref().map(|p| (p.partition, p.offset)))
            .collect();
        assert_eq!(positions, vec![Some((0, 0))], "the state is the history's");
    }

    #[test]
    fn a_lower_copy_in_a_later_batch_wins_in_memory() {
        a_later_batchs_lower_copy_wins(&MemoryStore::new());
    }

    #[test]
    fn a_lower_copy_in_a_later_batch_wins_in_sled() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SledStore::open(dir.path()).expect("open");
        a_later_batchs_lower_copy_wins(&store);
    }

    fn opt_out_for(address: &str) -> Fact {
        Fact::OptOutRecorded(consent_domain::event::OptOutRecorded {
            channels: vec![Channel::Email],
            all_channels: false,
            received_via: consent_domain::vocabulary::OptOutMethod::UnsubscribeLink,
            contact_point: Some(ContactPoint {
                kind: ContactKind::Email,
                value: ContactValue::clear(address),
            }),
        })
    }

    #[test]
    fn an_address_fact_goes_to_its_address_and_to_its_subject_where_it_has_one() {
        let store = MemoryStore::new();
        let organisation = OrganisationId::new("acme");
        let mut address_only = decoded(1, opt_out_for("ada@example.com"), 0);
        address_only.event.subject = None;
        let with_subject = decoded(2, opt_out_for("ada@example.com"), 1);
        let mut elsewhere = decoded(3, opt_out_for("bob@example.com"), 2);
        elsewhere.subject_here = false;
        step(&store, &[address_only, with_subject, elsewhere]);

        let ada = store
            .address_state(&organisation, &ContactValue::clear("ada@example.com"))
            .expect("read")
            .expect("state");
        let ids: Vec<u128> = ada.facts.facts().iter().map(|f| f.id.0.as_u128()).collect();
        assert_eq!(ids, vec![1, 2]);
        let bob = store
            .address_state(&organisation, &ContactValue::clear("bob@example.com"))
            .expect("read")
            .expect("the address part is folded wherever the subject is");
        assert_eq!(bob.facts.facts().len(), 1);
        // Only the fact with a subject owned here is in its state and history.
        let subject = SubjectId::new("s-1");
        let history: Vec<u128> = store
            .history(&organisation, &subject)
            .expect("history")
            .iter()
            .map(|e| e.event_id.0.as_u128())
            .collect();
        assert_eq!(history, vec![2]);
        let state = store
            .subject_state(&organisation, &subject)
            .expect("read")
            .expect("state");
        assert_eq!(state.facts.facts().len(), 1);
    }

    #[test]
    fn a_contact_is_indexed_once_per_subject() {
        let store = MemoryStore::new();
        let first = step(&store, &[decoded(1, sent(), 0), decoded(2, sent(), 1)]);
        assert_eq!(first.contacts.len(), 1);
        let again = step(&store, &[decoded(3, sent(), 2)]);
        assert!(again.contacts.is_empty());
    }
}
