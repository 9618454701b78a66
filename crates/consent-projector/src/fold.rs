//! One batch of events folded onto the stored view: the writes of one
//! [`ViewBatch`].
//!
//! The result depends only on the set of events the view has seen, never
//! on their delivery order or on how they were cut into batches:
//!
//! * states: [`SubjectState::apply`] / [`OrganisationState::apply`] are
//!   idempotent and order-independent (the copy of an event at the lowest
//!   log position wins);
//! * history: one entry per (organisation, subject, event id), the copy at
//!   the lowest log position, like the states;
//! * addresses: [`AddressState::apply`], likewise, for every fact that
//!   names an address ([`consent_domain::Fact::address`]), with or without
//!   a subject; an address-only fact has no subject history (it is in the
//!   log and its partition's tree like every record, and in its address's
//!   state);
//! * contacts: every contact point carried by any subject-scoped record
//!   read, a union.
//!
//! Reads per event are what sled charges most for after writes, so the fold
//! avoids the ones it can answer otherwise: the stored history entry of a
//! subject fact is known from the subject's stored state (see
//! [`stored_history_position`]), and a contact point is looked up by its
//! exact key ([`ViewStore::contact_recorded`]), not by reading every
//! subject of the contact point.

use crate::decode::DecodedEvent;
use consent_domain::event::FactScope;
use consent_domain::fold::Applied;
use consent_domain::vocabulary::ContactPoint;
use consent_domain::{
    AddressState, EventId, EventPosition, OrganisationId, OrganisationState, SubjectId,
    SubjectState,
};
use consent_store::{HistoryEntry, StoreError, StoredOffsets, ViewBatch, ViewStore};
use std::collections::{BTreeMap, BTreeSet};

/// A state as loaded from the store and as the batch leaves it.
struct Touched<S> {
    loaded: Option<S>,
    current: S,
}

/// What folding a batch produced, besides the writes.
#[derive(Debug, Default)]
pub struct FoldOutcome {
    pub batch: ViewBatch,
    pub events: u64,
    pub conflicts: u64,
}

type SubjectKey = (OrganisationId, SubjectId);
type AddressKey = (OrganisationId, String);

/// Folds `events` onto the states in `store`, reading each touched key once,
/// and returns the batch that writes the changes and `offsets`.
pub fn fold_batch(
    store: &dyn ViewStore,
    events: &[DecodedEvent],
    offsets: StoredOffsets,
) -> Result<FoldOutcome, StoreError> {
    let mut subjects: BTreeMap<SubjectKey, Touched<SubjectState>> = BTreeMap::new();
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
                    None => {
                        let loaded = store.subject_state(&event.organisation, subject)?;
                        let current = loaded.clone().unwrap_or_default();
                        subjects.entry(key).or_insert(Touched { loaded, current })
                    }
                };
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
        // Only a subject fact's stored history follows its stored state;
        // messages sent are in history alone.
        let loaded = matches!(
            event.fact.scope(),
            FactScope::Subject | FactScope::SubjectOrAddress
        )
        .then(|| subjects.get(&key).map(|touched| &touched.loaded))
        .flatten();
        record_history(store, &mut history, &key, loaded, decoded)?;
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

    let batch = ViewBatch {
        subjects: subjects
            .into_iter()
            .filter(|(_, t)| t.loaded.as_ref() != Some(&t.current))
            .map(|(key, t)| (key, t.current))
            .collect(),
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
/// `loaded` is the subject's state as stored before this batch, if the
/// event is a subject fact (whose state the fold has loaded).
fn record_history(
    store: &dyn ViewStore,
    history: &mut BTreeMap<(SubjectKey, EventId), HistorySlot>,
    key: &SubjectKey,
    loaded: Option<&Option<SubjectState>>,
    decoded: &DecodedEvent,
) -> Result<(), StoreError> {
    let event = &decoded.event;
    let slot_key = (key.clone(), event.id);
    let slot = match history.get_mut(&slot_key) {
        Some(slot) => slot,
        None => {
            let lowest = match loaded.and_then(|state| stored_history_position(state, &event.id)) {
                Some(known) => known,
                None => store
                    .history_entry(&key.0, &key.1, &event.id)?
                    .map(|entry| entry.position),
            };
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

/// The position of the stored history entry of subject fact `event`, read
/// from the subject's stored state instead of the history (`None`: ask the
/// store).
///
/// Every batch writes a subject fact's state and its history entry
/// together, and both keep the copy at the lowest log position, so the
/// stored state holds the event exactly when the history does, at the same
/// position: absent from a stored (or absent) state means no entry. A fact
/// recorded without a position (never written by the projector) leaves the
/// answer to the store.
fn stored_history_position(
    state: &Option<SubjectState>,
    event: &EventId,
) -> Option<Option<EventPosition>> {
    let Some(state) = state else {
        return Some(None);
    };
    match state.facts.facts().iter().find(|fact| &fact.id == event) {
        None => Some(None),
        Some(fact) => fact.position.clone().map(Some),
    }
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
    use consent_store::MemoryStore;
    use consent_store_sled::SledStore;

    fn decoded(id: u128, fact: Fact, offset: u64) -> DecodedEvent {
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
                partition: 0,
                offset,
            },
            stored_bytes: vec![u8::try_from(offset).unwrap_or(0)],
            subject_here: true,
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
                value: "a@example.com".to_owned(),
            }),
            sole_charitable_purpose: false,
        })
    }

    /// Folds `events` as one batch and applies it; returns what it wrote.
    fn step(store: &dyn ViewStore, events: &[DecodedEvent]) -> ViewBatch {
        let outcome = fold_batch(store, events, StoredOffsets::new()).expect("fold");
        store.apply(outcome.batch.clone()).expect("apply");
        outcome.batch
    }

    /// Without the history get, the stored entry's position comes from the
    /// stored state (subject facts) or the store (messages sent): a copy
    /// delivered again at a higher position writes nothing, one at a lower
    /// position replaces the stored entry, in both cases.
    fn a_later_batchs_lower_copy_wins(store: &dyn ViewStore) {
        let (organisation, subject) = (OrganisationId::new("acme"), SubjectId::new("s-1"));
        step(store, &[decoded(1, erasure(), 5), decoded(2, sent(), 6)]);

        let higher = step(store, &[decoded(1, erasure(), 9), decoded(2, sent(), 9)]);
        assert!(higher.history.is_empty(), "{higher:?}");
        assert!(higher.subjects.is_empty());
        assert!(higher.contacts.is_empty(), "the contact is indexed already");

        let lower = step(store, &[decoded(1, erasure(), 2), decoded(2, sent(), 3)]);
        let offsets: Vec<u64> = lower.history.iter().map(|e| e.position.offset).collect();
        assert_eq!(offsets, vec![2, 3]);
        let history = store.history(&organisation, &subject).expect("history");
        let mut stored: Vec<(u128, u64)> = history
            .iter()
            .map(|e| (e.event_id.0.as_u128(), e.position.offset))
            .collect();
        stored.sort_unstable();
        assert_eq!(stored, vec![(1, 2), (2, 3)]);
        let state = store
            .subject_state(&organisation, &subject)
            .expect("read")
            .expect("state");
        let positions: Vec<_> = state
            .facts
            .facts()
            .iter()
            .map(|f| f.position.as_ref().map(|p| p.offset))
            .collect();
        assert_eq!(positions, vec![Some(2)], "the state follows the history");
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
                value: address.to_owned(),
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
            .address_state(&organisation, "ada@example.com")
            .expect("read")
            .expect("state");
        let ids: Vec<u128> = ada.facts.facts().iter().map(|f| f.id.0.as_u128()).collect();
        assert_eq!(ids, vec![1, 2]);
        let bob = store
            .address_state(&organisation, "bob@example.com")
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
