use crate::StoredOffsets;
use consent_domain::vocabulary::ContactPoint;
use consent_domain::{
    AddressState, EventId, EventPosition, OrganisationId, OrganisationState, SubjectId,
    SubjectState, Timestamp,
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

/// Everything one projector step writes, applied atomically.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ViewBatch {
    /// New full states of the subjects the batch touched.
    pub subjects: Vec<((OrganisationId, SubjectId), SubjectState)>,
    /// New full states of the organisations the batch touched.
    pub organisations: Vec<(OrganisationId, OrganisationState)>,
    /// New full states of the addresses the batch touched: (organisation,
    /// address as [`consent_domain::Fact::address`] gives it).
    pub addresses: Vec<((OrganisationId, String), AddressState)>,
    /// History entries to add. An entry replaces the stored entry of the
    /// same (organisation, subject, event id).
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
}
