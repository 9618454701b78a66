//! The view in memory: the model every other store is tested against, and
//! a real store for tests of other crates.

use crate::{HistoryEntry, StoreError, StoredOffsets, ViewBatch, ViewStore};
use consent_domain::vocabulary::ContactPoint;
use consent_domain::{
    EventId, OrganisationId, OrganisationState, SubjectId, SubjectState, Timestamp,
};
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
    organisations: BTreeMap<OrganisationId, OrganisationState>,
    /// Per subject, entries by `(occurred_at, event id)`.
    history: BTreeMap<SubjectKey, BTreeMap<(Timestamp, EventId), HistoryEntry>>,
    contacts: BTreeMap<ContactPoint, BTreeSet<SubjectKey>>,
    offsets: Option<StoredOffsets>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, View> {
        // Nothing under the lock panics on data (only on allocation
        // failure), so a poisoned lock still guards a consistent view.
        self.view.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, View> {
        self.view.write().unwrap_or_else(|poisoned| poisoned.into_inner())
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

    fn history(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        let key = (organisation.clone(), subject.clone());
        Ok(self
            .read()
            .history
            .get(&key)
            .map(|entries| entries.values().cloned().collect())
            .unwrap_or_default())
    }

    fn history_entry(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
        event: &EventId,
    ) -> Result<Option<HistoryEntry>, StoreError> {
        let key = (organisation.clone(), subject.clone());
        Ok(self
            .read()
            .history
            .get(&key)
            .and_then(|entries| entries.values().find(|e| &e.event_id == event))
            .cloned())
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

    fn apply(&self, batch: ViewBatch) -> Result<(), StoreError> {
        let mut view = self.write();
        for (key, state) in batch.subjects {
            view.subjects.insert(key, state);
        }
        for (organisation, state) in batch.organisations {
            view.organisations.insert(organisation, state);
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
            view.contacts.entry(contact).or_default().insert((organisation, subject));
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
