//! The view in memory: the model every other store is tested against, and
//! a real store for tests of other crates.

use crate::{HistoryEntry, StoreError, StoredOffsets, ViewBatch, ViewStore};
use consent_domain::fold::{FactSet, Recorded};
use consent_domain::vocabulary::{ContactPoint, ContactValue};
use consent_domain::{
    AddressState, EventId, Fact, OrganisationId, OrganisationState, SubjectId, SubjectState,
    Timestamp,
};
use consent_evidence::merkle::{Frontier, Hash, NodeAddress};
use consent_log::TopicPartition;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

type SubjectKey = (OrganisationId, SubjectId);

/// A [`ViewStore`] in `BTreeMap`s behind one lock. Nothing is persisted;
/// `flush` does nothing.
#[derive(Debug, Default)]
pub struct MemoryStore {
    view: RwLock<View>,
}

#[derive(Debug, Default)]
struct View {
    subjects: BTreeMap<SubjectKey, SubjectState>,
    /// Every record consumed, by position: the bytes of history.
    records: BTreeMap<(TopicPartition, u64), Vec<u8>>,
    organisations: BTreeMap<OrganisationId, OrganisationState>,
    addresses: BTreeMap<(OrganisationId, ContactValue), AddressState>,
    /// Per subject, history-only entries by `(occurred_at, event id)`.
    history: BTreeMap<SubjectKey, BTreeMap<(Timestamp, EventId), HistoryEntry>>,
    contacts: BTreeMap<ContactPoint, BTreeSet<SubjectKey>>,
    offsets: Option<StoredOffsets>,
    merkle_nodes: BTreeMap<(TopicPartition, NodeAddress), Hash>,
    merkle_frontiers: BTreeMap<TopicPartition, Frontier>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, View> {
        // Nothing under the lock panics on data (only on allocation
        // failure), so a poisoned lock still guards a consistent view.
        self.view
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, View> {
        self.view
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl View {
    /// The history entry of a subject's fact, `None` for a fact without a
    /// position (never one the projector stores).
    fn fact_entry(
        &self,
        (organisation, subject): &SubjectKey,
        fact: &Recorded<Fact>,
    ) -> Result<Option<HistoryEntry>, StoreError> {
        let Some(position) = &fact.position else {
            return Ok(None);
        };
        let partition = TopicPartition::new(position.topic.clone(), position.partition);
        let stored_bytes = self
            .records
            .get(&(partition, position.offset))
            .cloned()
            .ok_or_else(|| StoreError::Corrupt {
                key: format!("{organisation}/{subject}/{}", fact.id),
                reason: format!("no record at the fact's position {position}"),
            })?;
        Ok(Some(HistoryEntry::of_fact(
            organisation,
            subject,
            fact,
            position,
            stored_bytes,
        )))
    }
}

impl ViewStore for MemoryStore {
    fn subject_state(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<Option<SubjectState>, StoreError> {
        let key = (organisation.clone(), subject.clone());
        Ok(self.read().subjects.get(&key).cloned())
    }

    fn organisation_state(
        &self,
        organisation: &OrganisationId,
    ) -> Result<Option<OrganisationState>, StoreError> {
        Ok(self.read().organisations.get(organisation).cloned())
    }

    fn address_state(
        &self,
        organisation: &OrganisationId,
        address: &ContactValue,
    ) -> Result<Option<AddressState>, StoreError> {
        let key = (organisation.clone(), address.clone());
        Ok(self.read().addresses.get(&key).cloned())
    }

    fn address_states(
        &self,
        organisation: &OrganisationId,
        after: Option<&ContactValue>,
        limit: usize,
    ) -> Result<Vec<(ContactValue, AddressState)>, StoreError> {
        use std::ops::Bound;
        let from = match after {
            Some(after) => Bound::Excluded((organisation.clone(), after.clone())),
            // The least value: clear values come first, the empty text first of them.
            None => Bound::Included((organisation.clone(), ContactValue::clear(""))),
        };
        Ok(self
            .read()
            .addresses
            .range((from, Bound::Unbounded))
            .take_while(|((org, _), _)| org == organisation)
            .take(limit)
            .map(|((_, address), state)| (address.clone(), state.clone()))
            .collect())
    }

    fn subjects_of(&self, organisation: &OrganisationId) -> Result<Vec<SubjectId>, StoreError> {
        let view = self.read();
        let with_history = view
            .history
            .iter()
            .filter(|(_, entries)| !entries.is_empty())
            .map(|(key, _)| key);
        let with_facts = view
            .subjects
            .iter()
            .filter(|(_, state)| !state.facts.is_empty())
            .map(|(key, _)| key);
        let subjects: BTreeSet<&SubjectId> = with_history
            .chain(with_facts)
            .filter(|(org, _)| org == organisation)
            .map(|(_, subject)| subject)
            .collect();
        Ok(subjects.into_iter().cloned().collect())
    }

    fn history(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        let view = self.read();
        let key = (organisation.clone(), subject.clone());
        let mut entries: BTreeMap<(Timestamp, EventId), HistoryEntry> =
            view.history.get(&key).cloned().unwrap_or_default();
        if let Some(state) = view.subjects.get(&key) {
            for fact in state.facts.facts() {
                if let Some(entry) = view.fact_entry(&key, fact)? {
                    entries.insert((entry.occurred_at, entry.event_id), entry);
                }
            }
        }
        Ok(entries.into_values().collect())
    }

    fn history_entry(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
        event: &EventId,
    ) -> Result<Option<HistoryEntry>, StoreError> {
        let view = self.read();
        let key = (organisation.clone(), subject.clone());
        if let Some(entry) = view
            .history
            .get(&key)
            .and_then(|entries| entries.values().find(|e| &e.event_id == event))
        {
            return Ok(Some(entry.clone()));
        }
        match view.subjects.get(&key).and_then(|s| s.facts.get(*event)) {
            Some(fact) => view.fact_entry(&key, fact),
            None => Ok(None),
        }
    }

    fn subjects_by_contact(
        &self,
        contact: &ContactPoint,
    ) -> Result<Vec<(OrganisationId, SubjectId)>, StoreError> {
        Ok(self
            .read()
            .contacts
            .get(contact)
            .map(|pairs| pairs.iter().cloned().collect())
            .unwrap_or_default())
    }

    fn offsets(&self) -> Result<Option<StoredOffsets>, StoreError> {
        Ok(self.read().offsets.clone())
    }

    fn merkle_node(
        &self,
        partition: &TopicPartition,
        address: NodeAddress,
    ) -> Result<Option<Hash>, StoreError> {
        Ok(self
            .read()
            .merkle_nodes
            .get(&(partition.clone(), address))
            .copied())
    }

    fn merkle_frontier(&self, partition: &TopicPartition) -> Result<Option<Frontier>, StoreError> {
        Ok(self.read().merkle_frontiers.get(partition).cloned())
    }

    fn apply(&self, batch: ViewBatch) -> Result<(), StoreError> {
        let mut view = self.write();
        for (key, fact) in batch.subject_facts {
            let state = view.subjects.entry(key).or_default();
            let id = fact.id;
            let others = state.facts.facts().iter().filter(|f| f.id != id);
            state.facts = FactSet::from_recorded(others.cloned().chain([fact]));
        }
        for run in batch.records {
            for (offset, payload) in (run.first_offset..).zip(run.payloads) {
                view.records
                    .insert((run.partition.clone(), offset), payload);
            }
        }
        for (organisation, state) in batch.organisations {
            view.organisations.insert(organisation, state);
        }
        for (key, state) in batch.addresses {
            view.addresses.insert(key, state);
        }
        for entry in batch.history {
            let entries = view
                .history
                .entry((entry.organisation.clone(), entry.subject.clone()))
                .or_default();
            entries.retain(|_, stored| stored.event_id != entry.event_id);
            entries.insert((entry.occurred_at, entry.event_id), entry);
        }
        for (contact, organisation, subject) in batch.contacts {
            view.contacts
                .entry(contact)
                .or_default()
                .insert((organisation, subject));
        }
        for (partition, address, hash) in batch.merkle_nodes {
            view.merkle_nodes.insert((partition, address), hash);
        }
        for (partition, frontier) in batch.merkle_frontiers {
            view.merkle_frontiers.insert(partition, frontier);
        }
        view.offsets = Some(batch.offsets);
        Ok(())
    }

    fn clear(&self) -> Result<(), StoreError> {
        *self.write() = View::default();
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_domain::vocabulary::ContactKind;
    use consent_domain::EventPosition;
    use consent_log::TopicPartition;

    fn entry(event: u128, occurred_at: i64, offset: u64) -> HistoryEntry {
        HistoryEntry {
            organisation: OrganisationId::new("acme"),
            subject: SubjectId::new("s-1"),
            occurred_at: Timestamp::from_unix_micros(occurred_at),
            event_id: EventId(uuid::Uuid::from_u128(event)),
            position: EventPosition {
                topic: "consent.grants".to_owned(),
                partition: 0,
                offset,
            },
            stored_bytes: vec![1, 2, 3],
        }
    }

    fn history(store: &MemoryStore) -> Vec<HistoryEntry> {
        store
            .history(&OrganisationId::new("acme"), &SubjectId::new("s-1"))
            .expect("history")
    }

    #[test]
    fn a_view_is_uninitialised_until_the_first_batch() {
        let store = MemoryStore::new();
        assert_eq!(store.offsets().expect("offsets"), None);
        let offsets: StoredOffsets = [(TopicPartition::new("consent.grants", 0), 0)].into();
        store
            .apply(ViewBatch {
                offsets: offsets.clone(),
                ..ViewBatch::default()
            })
            .expect("apply");
        assert_eq!(store.offsets().expect("offsets"), Some(offsets));
        store.clear().expect("clear");
        assert_eq!(store.offsets().expect("offsets"), None);
    }

    #[test]
    fn history_is_in_time_order_with_one_entry_per_event() {
        let store = MemoryStore::new();
        let batch = ViewBatch {
            history: vec![entry(2, 20, 0), entry(1, 10, 1)],
            ..ViewBatch::default()
        };
        store.apply(batch).expect("apply");
        assert_eq!(history(&store), vec![entry(1, 10, 1), entry(2, 20, 0)]);

        // Event 2 again, now sorting first: it moves, it is not duplicated.
        let batch = ViewBatch {
            history: vec![entry(2, 5, 7)],
            ..ViewBatch::default()
        };
        store.apply(batch).expect("apply");
        assert_eq!(history(&store), vec![entry(2, 5, 7), entry(1, 10, 1)]);
        let found = store
            .history_entry(
                &OrganisationId::new("acme"),
                &SubjectId::new("s-1"),
                &EventId(uuid::Uuid::from_u128(2)),
            )
            .expect("lookup");
        assert_eq!(found, Some(entry(2, 5, 7)));
    }

    #[test]
    fn the_contact_index_only_grows() {
        let store = MemoryStore::new();
        let email = ContactPoint {
            kind: ContactKind::Email,
            value: ContactValue::clear("ada@example.com"),
        };
        let pair = (OrganisationId::new("acme"), SubjectId::new("s-1"));
        for _ in 0..2 {
            let batch = ViewBatch {
                contacts: vec![(email.clone(), pair.0.clone(), pair.1.clone())],
                ..ViewBatch::default()
            };
            store.apply(batch).expect("apply");
        }
        store.apply(ViewBatch::default()).expect("apply");
        assert_eq!(
            store.subjects_by_contact(&email).expect("lookup"),
            vec![pair]
        );
    }

    #[test]
    fn tree_nodes_and_frontiers_are_kept_per_partition_and_cleared() {
        use consent_evidence::merkle::{inclusion_proof, leaf_hash, root_at, verify_inclusion};
        let store = MemoryStore::new();
        let grants = TopicPartition::new("consent.grants", 0);
        let other = TopicPartition::new("consent.grants", 1);
        let mut frontier = Frontier::new();
        let mut batch = ViewBatch::default();
        for i in 0..5u8 {
            for (address, hash) in frontier.append(leaf_hash(&[i])).expect("append") {
                batch.merkle_nodes.push((grants.clone(), address, hash));
            }
        }
        batch
            .merkle_frontiers
            .push((grants.clone(), frontier.clone()));
        store.apply(batch).expect("apply");

        assert_eq!(
            store.merkle_frontier(&grants).expect("read"),
            Some(frontier.clone())
        );
        assert_eq!(store.merkle_frontier(&other).expect("read"), None);
        let nodes = crate::PartitionNodes::new(&store, &grants);
        let proof = inclusion_proof(&nodes, 3, 5).expect("proof");
        verify_inclusion(3, 5, &leaf_hash(&[3]), &proof, &frontier.root()).expect("verifies");
        assert!(root_at(&crate::PartitionNodes::new(&store, &other), 1).is_err());

        store.clear().expect("clear");
        assert_eq!(store.merkle_frontier(&grants).expect("read"), None);
        assert_eq!(
            store
                .merkle_node(&grants, NodeAddress::leaf(0))
                .expect("read"),
            None
        );
    }
}
