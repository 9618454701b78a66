//! Read-your-writes without a check: waiting until the view has applied
//! given log positions (`WaitForPositions`).
//!
//! As a check's `wait_for`, a wait refuses at once the positions the view
//! will never apply: on a partition another instance owns
//! ([`LedgerError::UnfollowedPosition`]), or on no topic-partition of the
//! log ([`LedgerError::Invalid`] naming `positions[i]`). A wait that does
//! not end in time is [`LedgerError::WaitTimeout`].

use crate::error::LedgerError;
use crate::ledger::Ledger;
use consent_log::{LogPosition, TopicPartition};
use consent_schema::{v1, ValidationError};
use std::collections::BTreeSet;
use std::time::Duration;

/// The longest wait a request may ask for, in milliseconds.
pub const MAX_WAIT_MS: u32 = 60_000;

impl Ledger {
    /// Waits until the view has applied every position of `request`, for
    /// at most its `timeout_ms` (0: the configured
    /// [`wait_timeout`](crate::LedgerConfig::wait_timeout); more than
    /// [`MAX_WAIT_MS`] is refused, naming `timeout_ms`). Answers with the
    /// last applied position of each awaited topic-partition.
    pub async fn wait_for(
        &self,
        request: v1::WaitRequest,
    ) -> Result<v1::WaitResponse, LedgerError> {
        let timeout = match request.timeout_ms {
            0 => self.inner.config.wait_timeout,
            ms if ms > MAX_WAIT_MS => {
                return Err(LedgerError::invalid(
                    None,
                    ValidationError::new(
                        "timeout_ms",
                        format!("at most {MAX_WAIT_MS} ms, not {ms}"),
                    ),
                ))
            }
            ms => Duration::from_millis(u64::from(ms)),
        };
        let projection = &self.inner.projection;
        let mut positions = Vec::with_capacity(request.positions.len());
        for (index, position) in request.positions.into_iter().enumerate() {
            let position = LogPosition::from(position);
            if !projection.follows(&position.topic_partition()) {
                return Err(self.unfollowed(index, position));
            }
            positions.push(position);
        }
        projection.wait_for(&positions, timeout).await?;

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

    /// Why the view will never apply `position`, the `index`-th awaited.
    fn unfollowed(&self, index: usize, position: LogPosition) -> LedgerError {
        let ownership = self.inner.projection.ownership();
        if ownership.owns(position.partition) {
            LedgerError::invalid(
                None,
                ValidationError::new(
                    format!("positions[{index}]"),
                    format!("{position} is not on a topic-partition of the log"),
                ),
            )
        } else {
            LedgerError::UnfollowedPosition {
                index,
                partition: position.partition,
                position,
                owned: ownership.to_string(),
            }
        }
    }
}
