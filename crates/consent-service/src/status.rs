//! What the ledger can say about itself: its rule sets, and how the view
//! and the log are doing.

use crate::ledger::Ledger;
use consent_log::EndOffsets;
use consent_projector::{Lag, OwnedPartitions, ProjectionStatus};
use consent_schema::{rule_set_to_proto, v1};

/// The ledger's health, as an operator reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerStatus {
    /// The projector's committed offsets and counters (dead letters,
    /// conflicts, events applied).
    pub projection: ProjectionStatus,
    /// The log's end offsets of the topic-partitions the projector
    /// follows, when it answered.
    pub log_end_offsets: Option<EndOffsets>,
    /// How far the view is behind the log, when the log answered.
    pub lag: Option<Lag>,
    /// Why the log could not be reached, when it could not.
    pub log_error: Option<String>,
    /// The partitions this instance owns.
    pub owned_partitions: OwnedPartitions,
}

impl LedgerStatus {
    /// Whether the log answered a request for its end offsets.
    pub fn log_reachable(&self) -> bool {
        self.log_end_offsets.is_some()
    }
}

impl Ledger {
    /// The rule sets the ledger can decide with, oldest first, each with
    /// its rules and their citations.
    pub fn rule_sets(&self) -> Vec<v1::RuleSetDescription> {
        self.inner
            .catalogue
            .all()
            .iter()
            .map(rule_set_to_proto)
            .collect()
    }

    /// The projection's progress and the view's lag, asking the log for its
    /// end offsets now (bounded by the freshness probe timeout; the answer
    /// also refreshes the cache checks measure their freshness with).
    pub async fn status(&self) -> LedgerStatus {
        let handle = &self.inner.projection;
        let projection = handle.status();
        let owned_partitions = handle.ownership().clone();
        match self.inner.end_offsets.probe().await {
            Ok(end) => {
                let end = handle.followed_offsets(&end);
                LedgerStatus {
                    lag: Some(consent_projector::lag(&projection.applied, &end)),
                    projection,
                    log_end_offsets: Some(end),
                    log_error: None,
                    owned_partitions,
                }
            }
            Err(error) => LedgerStatus {
                projection,
                log_end_offsets: None,
                lag: None,
                log_error: Some(error.to_string()),
                owned_partitions,
            },
        }
    }
}
