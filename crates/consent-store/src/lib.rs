//! The current-state view of the ledger, behind a small trait.
//!
//! The view is a cache of the log: every byte in it can be recomputed by
//! folding the log from offset 0 (`consent-ledger rebuild`). It must stay
//! that way - nothing is ever written to a view that is not derived from
//! the log - because the view's engine (sled 0.34) has known space and
//! crash-recovery issues, and because a regulator is shown the log, not
//! the view.
//!
//! Invariant (TiKV's engine_traits split): this crate must not depend, even
//! transitively, on any storage engine. `consent-store-sled` implements the
//! trait; [`MemoryStore`] implements it in memory as the model for tests.
//! (`consent-evidence`, whose tree types the trait uses, is pure and
//! depends on no engine either.)
//!
//! The view also keeps one RFC 9162 tree per topic-partition (its stored
//! nodes and frontier), written with the states and offsets in the same
//! batch: like everything else here it is recomputed from the log.

mod batch;
mod error;
mod memory;
mod merkle;

pub use batch::{HistoryEntry, RecordRun, ViewBatch};
pub use error::StoreError;
pub use memory::MemoryStore;
pub use merkle::PartitionNodes;

use consent_domain::fold::Recorded;
use consent_domain::vocabulary::{ContactPoint, ContactValue};
use consent_domain::{
    AddressState, EventId, EventPosition, Fact, OrganisationId, OrganisationState, SubjectId,
    SubjectState,
};
use consent_evidence::merkle::{Frontier, Hash, NodeAddress};
use consent_log::TopicPartition;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Next offset to read per topic-partition, as recorded with the view.
pub type StoredOffsets = BTreeMap<TopicPartition, u64>;

/// The projected view. Reads may run concurrently with one writer.
///
/// Every implementation behaves like [`MemoryStore`] (the model that the
/// implementations' property tests compare against).
pub trait ViewStore: Send + Sync + 'static {
    /// State of one (organisation, subject) pair; `None` if nothing is known.
    fn subject_state(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<Option<SubjectState>, StoreError>;

    /// The stored copy of one fact of one subject, by event id: what the
    /// fold compares a new copy with. A store that keeps facts one by one
    /// answers it with one read.
    fn subject_fact(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
        event: EventId,
    ) -> Result<Option<Recorded<Fact>>, StoreError> {
        Ok(self
            .subject_state(organisation, subject)?
            .and_then(|state| state.facts.get(event).cloned()))
    }

    /// State of one organisation; `None` if nothing is known.
    fn organisation_state(
        &self,
        organisation: &OrganisationId,
    ) -> Result<Option<OrganisationState>, StoreError>;

    /// State of one address of one organisation (an address as
    /// [`consent_domain::Fact::address`] gives it); `None` if nothing is
    /// known.
    fn address_state(
        &self,
        organisation: &OrganisationId,
        address: &ContactValue,
    ) -> Result<Option<AddressState>, StoreError>;

    /// The states of `organisation`'s addresses in address order
    /// (`ContactValue`'s order), from the first address after `after` (from
    /// the first if `None`), at most `limit` of them: the organisation's
    /// suppression list, a page at a time.
    fn address_states(
        &self,
        organisation: &OrganisationId,
        after: Option<&ContactValue>,
        limit: usize,
    ) -> Result<Vec<(ContactValue, AddressState)>, StoreError>;

    /// [`ViewStore::address_state`], shared, for readers that only read it
    /// (checks); cached like [`ViewStore::shared_subject_state`].
    fn shared_address_state(
        &self,
        organisation: &OrganisationId,
        address: &ContactValue,
    ) -> Result<Option<Arc<AddressState>>, StoreError> {
        Ok(self.address_state(organisation, address)?.map(Arc::new))
    }

    /// [`ViewStore::subject_state`], shared, for readers that only read it
    /// (checks). A store may serve it from a cache of decoded states, which
    /// must never hold a state older than the last [`ViewStore::apply`].
    fn shared_subject_state(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<Option<Arc<SubjectState>>, StoreError> {
        Ok(self.subject_state(organisation, subject)?.map(Arc::new))
    }

    /// [`ViewStore::organisation_state`], shared, for readers that only
    /// read it; cached like [`ViewStore::shared_subject_state`].
    fn shared_organisation_state(
        &self,
        organisation: &OrganisationId,
    ) -> Result<Option<Arc<OrganisationState>>, StoreError> {
        Ok(self.organisation_state(organisation)?.map(Arc::new))
    }

    /// Every event recorded for one subject of one organisation: its
    /// state's facts and its history-only entries (messages sent), in
    /// `(occurred_at, event id)` order, each with its record's bytes.
    fn history(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<Vec<HistoryEntry>, StoreError>;

    /// The position of one event's history entry, if recorded: what the
    /// fold compares a message sent's new copy with. The same answer as
    /// [`ViewStore::history_entry`]'s position, which a store may give
    /// without reading the record's bytes.
    fn history_position(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
        event: &EventId,
    ) -> Result<Option<EventPosition>, StoreError> {
        Ok(self
            .history_entry(organisation, subject, event)?
            .map(|entry| entry.position))
    }

    /// The history entry of one event of one subject, if recorded.
    fn history_entry(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
        event: &EventId,
    ) -> Result<Option<HistoryEntry>, StoreError>;

    /// Every subject of one organisation with at least one fact or history
    /// entry (messages sent included), in identifier order.
    fn subjects_of(&self, organisation: &OrganisationId) -> Result<Vec<SubjectId>, StoreError>;

    /// The (organisation, subject) pairs a contact point was recorded for,
    /// in order.
    fn subjects_by_contact(
        &self,
        contact: &ContactPoint,
    ) -> Result<Vec<(OrganisationId, SubjectId)>, StoreError>;

    /// Whether `contact` was recorded for (`organisation`, `subject`): the
    /// same answer as looking for the pair in
    /// [`ViewStore::subjects_by_contact`], which a store may give with one
    /// exact lookup instead of reading every subject of the contact point
    /// (the projector asks once per contact point and subject it folds).
    fn contact_recorded(
        &self,
        contact: &ContactPoint,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<bool, StoreError> {
        Ok(self
            .subjects_by_contact(contact)?
            .iter()
            .any(|(o, s)| o == organisation && s == subject))
    }

    /// The log offsets the view has consumed (next offset to read), or
    /// `None` for a view that has never been initialised.
    fn offsets(&self) -> Result<Option<StoredOffsets>, StoreError>;

    /// The stored node at `address` of `partition`'s RFC 9162 tree, or
    /// `None` if that subtree is not complete (see [`PartitionNodes`]).
    fn merkle_node(
        &self,
        partition: &TopicPartition,
        address: NodeAddress,
    ) -> Result<Option<Hash>, StoreError>;

    /// The frontier of `partition`'s tree as last written, or `None` if
    /// none was (an empty tree). Its size equals the partition's stored
    /// offset: leaf `i` is the record at offset `i`.
    fn merkle_frontier(&self, partition: &TopicPartition) -> Result<Option<Frontier>, StoreError>;

    /// Applies a batch atomically: every state, history entry, index entry
    /// and offset in it is written, or none is.
    ///
    /// * states (subjects, organisations, addresses) replace the stored
    ///   states of their keys;
    /// * a history entry replaces the stored entry of the same
    ///   (organisation, subject, event id), wherever that one sorted: there
    ///   is at most one entry per event id and subject;
    /// * contact index entries are added (the index only grows);
    /// * tree nodes are written (they never change), and each frontier
    ///   replaces its topic-partition's;
    /// * the stored offsets become exactly `batch.offsets`, which
    ///   initialises the view if it was not.
    ///
    /// Callers apply batches from one writer at a time.
    fn apply(&self, batch: ViewBatch) -> Result<(), StoreError>;

    /// Drops the whole view (states, history, indexes, trees, offsets), leaving an
    /// uninitialised view to be rebuilt from the log.
    fn clear(&self) -> Result<(), StoreError>;

    /// Makes every applied batch durable (no-op where `apply` already is).
    fn flush(&self) -> Result<(), StoreError>;
}
