use crate::StoredOffsets;
use consent_domain::fold::Recorded;
use consent_domain::vocabulary::{ContactPoint, ContactValue};
use consent_domain::{
    AddressState, EventId, EventPosition, Fact, OrganisationId, OrganisationState, SubjectId,
    Timestamp,
};
use consent_evidence::merkle::{Frontier, Hash, NodeAddress};
use consent_log::TopicPartition;
use serde::{Deserialize, Serialize};

/// One event in a subject's history: where it is in the log and the exact
/// bytes stored there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub organisation: OrganisationId,
    pub subject: SubjectId,
    pub occurred_at: Timestamp,
    pub event_id: EventId,
    pub position: EventPosition,
    /// The record's payload exactly as stored in the log.
    pub stored_bytes: Vec<u8>,
}

impl HistoryEntry {
    /// The history entry of `subject`'s `fact`, read at `position` with the
    /// record's `stored_bytes`: a subject's facts are its history.
    pub fn of_fact(
        organisation: &OrganisationId,
        subject: &SubjectId,
        fact: &Recorded<Fact>,
        position: &EventPosition,
        stored_bytes: Vec<u8>,
    ) -> HistoryEntry {
        HistoryEntry {
            organisation: organisation.clone(),
            subject: subject.clone(),
            occurred_at: fact.occurred_at,
            event_id: fact.id,
            position: position.clone(),
            stored_bytes,
        }
    }
}

/// Everything one projector step writes, applied atomically.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ViewBatch {
    /// Facts new to their subject, or replacing the stored copy of the same
    /// event id (the fold keeps the copy at the lowest log position). A
    /// subject's state is the set of its stored facts
    /// ([`consent_domain::fold::FactSet::from_recorded`]): no batch rewrites
    /// a whole state.
    pub subject_facts: Vec<((OrganisationId, SubjectId), Recorded<Fact>)>,
    /// New full states of the organisations the batch touched.
    pub organisations: Vec<(OrganisationId, OrganisationState)>,
    /// New full states of the addresses the batch touched: (organisation,
    /// address as [`consent_domain::Fact::address`] gives it).
    pub addresses: Vec<((OrganisationId, ContactValue), AddressState)>,
    /// History entries of events no subject state holds (messages sent).
    /// An entry replaces the stored entry of the same (organisation,
    /// subject, event id). A subject's history is these and its facts, each
    /// with the bytes of its record (see `records`).
    pub history: Vec<HistoryEntry>,
    /// Contact-point index entries to add (the index only grows).
    pub contacts: Vec<(ContactPoint, OrganisationId, SubjectId)>,
    /// The offsets consumed after this batch (next offset to read), for
    /// every topic-partition the view follows. Replaces the stored offsets.
    pub offsets: StoredOffsets,
    /// Completed nodes of the topic-partitions' RFC 9162 trees
    /// ([`Frontier::append`]'s results). Nodes are immutable: a node
    /// written again has the same hash.
    pub merkle_nodes: Vec<(TopicPartition, NodeAddress, Hash)>,
    /// The topic-partitions' tree frontiers after this batch. Each replaces
    /// the stored frontier of its topic-partition.
    pub merkle_frontiers: Vec<(TopicPartition, Frontier)>,
    /// The records this batch adds to the trees, as stored in the log: the
    /// new leaves of each topic-partition, in offset order. Every position a
    /// stored fact or history entry names is among the records of this
    /// batch or an earlier one: a store keeps an event's bytes once, here,
    /// and serves [`HistoryEntry::stored_bytes`] from them (and may hash the
    /// trees' lowest nodes from them instead of keeping them).
    pub records: Vec<RecordRun>,
}

/// Records of one topic-partition at consecutive offsets from
/// `first_offset`, exactly as the log stores them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordRun {
    pub partition: TopicPartition,
    pub first_offset: u64,
    pub payloads: Vec<Vec<u8>>,
}
