//! `WaitForPositions`: read-your-writes without a check.
//!
//! The ledger waits for positions only inside a check, so this waits on the
//! projection the ledger reads (the same [`ProjectionHandle`] it was built
//! with) and refuses, as a check's `wait_for` does, positions the view will
//! never apply: those on a partition another instance owns
//! (`FAILED_PRECONDITION`) or on no topic-partition of the log
//! (`INVALID_ARGUMENT`). A timeout is the check's `DEADLINE_EXCEEDED`.

use crate::status::{invalid_argument, status_from, wrong_partition};
use consent_log::{LogPosition, TopicPartition};
use consent_projector::ProjectionHandle;
use consent_schema::v1;
use consent_service::{Ledger, LedgerError};
use std::collections::BTreeSet;
use std::time::Duration;
use tonic::Status;

/// The longest wait a request may ask for, in milliseconds.
pub const MAX_WAIT_MS: u32 = 60_000;

/// Waits until the view behind `projection` has applied every position of
/// `request`; answers with the last applied position of each awaited
/// topic-partition.
pub async fn wait_for_positions(
    ledger: &Ledger,
    projection: &ProjectionHandle,
    request: v1::WaitRequest,
) -> Result<v1::WaitResponse, Status> {
    let timeout = match request.timeout_ms {
        0 => ledger.config().wait_timeout,
        ms if ms > MAX_WAIT_MS => {
            return Err(invalid_argument(
                "timeout_ms",
                format!("at most {MAX_WAIT_MS} ms, not {ms}"),
            ))
        }
        ms => Duration::from_millis(u64::from(ms)),
    };
    let mut positions = Vec::with_capacity(request.positions.len());
    for (index, position) in request.positions.into_iter().enumerate() {
        let position = LogPosition::from(position);
        if !projection.follows(&position.topic_partition()) {
            return Err(unfollowed(projection, index, &position));
        }
        positions.push(position);
    }
    projection
        .wait_for(&positions, timeout)
        .await
        .map_err(|timeout| status_from(LedgerError::from(timeout)))?;

    let awaited: BTreeSet<TopicPartition> =
        positions.iter().map(LogPosition::topic_partition).collect();
    let applied = projection.applied_offsets();
    Ok(v1::WaitResponse {
        applied: awaited
            .into_iter()
            .filter_map(|partition| {
                // Committed offsets are the next to read; the wait above
                // saw each beyond an awaited offset, so it is at least 1.
                let next = applied.get(&partition)?.checked_sub(1)?;
                Some(v1::LogPosition::from(LogPosition::new(
                    partition.topic,
                    partition.partition,
                    next,
                )))
            })
            .collect(),
    })
}

/// Why the view will never apply `position`.
fn unfollowed(projection: &ProjectionHandle, index: usize, position: &LogPosition) -> Status {
    let ownership = projection.ownership();
    if ownership.owns(position.partition) {
        invalid_argument(
            format!("positions[{index}]"),
            format!("{position} is not on a topic-partition of the log"),
        )
    } else {
        wrong_partition(
            position.partition,
            format!(
                "positions[{index}]: the awaited position {position} is on partition {}, which this instance does not own (it owns partitions {ownership}); wait on the instance that owns partition {}",
                position.partition, position.partition
            ),
        )
    }
}
