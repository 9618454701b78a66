//! The stored RFC 9162 tree of one topic-partition, as a
//! [`NodeStore`] for proof generation.

use crate::{StoreError, ViewStore};
use consent_evidence::merkle::{Hash, NodeAddress, NodeStore};
use consent_log::TopicPartition;

/// The nodes one topic-partition's tree has in a [`ViewStore`]: what
/// [`consent_evidence::inclusion_proof`], [`consent_evidence::consistency_proof`]
/// and [`consent_evidence::root_at`] read.
#[derive(Clone, Copy, Debug)]
pub struct PartitionNodes<'a, S: ?Sized> {
    store: &'a S,
    partition: &'a TopicPartition,
}

impl<'a, S: ViewStore + ?Sized> PartitionNodes<'a, S> {
    pub fn new(store: &'a S, partition: &'a TopicPartition) -> Self {
        Self { store, partition }
    }
}

impl<S: ViewStore + ?Sized> NodeStore for PartitionNodes<'_, S> {
    type Error = StoreError;

    fn node(&self, address: NodeAddress) -> Result<Option<Hash>, StoreError> {
        self.store.merkle_node(self.partition, address)
    }
}
