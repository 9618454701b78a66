//! `WaitForPositions`: read-your-writes without a check, the ledger's
//! [`Ledger::wait_for`]. Its refusals are the ledger's: a position on a
//! partition another instance owns is `FAILED_PRECONDITION`, one on no
//! topic-partition of the log `INVALID_ARGUMENT` naming `positions[i]`, a
//! wait beyond [`MAX_WAIT_MS`] `INVALID_ARGUMENT` naming `timeout_ms`, and
//! a timeout the check's `DEADLINE_EXCEEDED`.

use crate::error::status_from;
use consent_schema::v1;
use consent_service::Ledger;
use tonic::Status;

pub use consent_service::MAX_WAIT_MS;

/// Waits until the ledger's view has applied every position of `request`;
/// answers with the last applied position of each awaited topic-partition.
pub async fn wait_for_positions(
    ledger: &Ledger,
    request: v1::WaitRequest,
) -> Result<v1::WaitResponse, Status> {
    ledger.wait_for(request).await.map_err(status_from)
}
