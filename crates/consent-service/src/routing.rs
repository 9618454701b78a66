//! Which partition a subject's facts are on, and whether this instance owns
//! it: the answer a router in front of partition-owning instances needs.

use crate::error::LedgerError;
use crate::ledger::Ledger;
use consent_domain::{OrganisationId, SubjectId};
use consent_log::partitioner::partition_for;
use consent_log::LogPosition;
use consent_schema::routing_key;
use std::fmt::Display;

/// Where one subject's facts are in the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routing {
    /// The partition of the subject's routing key (Kafka's murmur2, the
    /// same number on every topic).
    pub partition: u32,
    /// The log's partition count.
    pub partitions: u32,
    /// Whether this instance owns that partition and so answers for the
    /// subject.
    pub owned: bool,
}

impl Ledger {
    /// The partition of `subject` of `organisation`, and whether this
    /// instance owns it.
    pub fn routing(&self, organisation: &OrganisationId, subject: &SubjectId) -> Routing {
        let partitions = self.inner.log.layout().partitions;
        let partition = partition_for(&routing_key(organisation, Some(subject)), partitions);
        Routing {
            partition,
            partitions,
            owned: self.inner.projection.ownership().owns(partition),
        }
    }

    /// Refuses a request about a subject this instance does not answer for.
    /// `prefix` places the request in an enclosing message (`checks[2]: `).
    pub(crate) fn ensure_owned(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
        prefix: impl Display,
    ) -> Result<(), LedgerError> {
        let routing = self.routing(organisation, subject);
        if routing.owned {
            return Ok(());
        }
        Err(self.wrong_partition(
            format!("{prefix}subject {subject} of {organisation}"),
            routing.partition,
        ))
    }

    /// Refuses to wait for positions the projector does not read: they
    /// would never be applied here.
    pub(crate) fn ensure_followed(
        &self,
        positions: &[LogPosition],
        prefix: impl Display,
    ) -> Result<(), LedgerError> {
        match positions
            .iter()
            .find(|p| !self.inner.projection.follows(&p.topic_partition()))
        {
            None => Ok(()),
            Some(position) => Err(self.wrong_partition(
                format!("{prefix}the awaited position {position}"),
                position.partition,
            )),
        }
    }

    fn wrong_partition(&self, what: String, partition: u32) -> LedgerError {
        LedgerError::WrongPartition {
            what,
            partition,
            partitions: self.inner.log.layout().partitions,
            owned: self.inner.projection.ownership().to_string(),
        }
    }
}
