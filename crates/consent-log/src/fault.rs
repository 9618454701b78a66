//! A log partition that does not take appends: what a health check reports.

use crate::position::TopicPartition;
use std::time::Instant;

/// A topic-partition whose appends fail.
///
/// Set by a failed append and cleared by the next one that succeeds.
/// `fenced` means the log refuses every append there until it is reopened
/// (a restart recovers it); otherwise the next append is tried as usual and
/// may succeed once the cause (a full or failing disk) is gone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFault {
    pub partition: TopicPartition,
    /// Appends are refused until the log is reopened.
    pub fenced: bool,
    /// When the first of the failed appends since the last success failed.
    pub since: Instant,
    /// The last failure.
    pub error: String,
}
