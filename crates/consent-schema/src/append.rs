//! Completing and validating an envelope before it is appended to the log.

use crate::error::ValidationError;
use crate::event::{event_from_proto, event_to_proto, SCHEMA_VERSION};
use crate::timestamp::timestamp_to_proto;
use crate::v1;
use consent_domain::{Event, Timestamp};

/// Fills in what the ledger owns, then validates:
///
/// * `event_id`, when empty, becomes `new_id()` (the server passes a UUIDv7
///   generator); a producer-supplied id is kept, which makes retries
///   idempotent;
/// * `recorded_at`, when absent, becomes `now`;
/// * `schema_version` 0 becomes [`SCHEMA_VERSION`].
///
/// Returns the envelope to store and the event it means. The envelope is the
/// canonical form of the event (`event_to_proto(&event)`): UUID in canonical
/// text, contact points normalised, timestamps at microsecond precision. So
/// what is stored decodes and validates to exactly the returned event.
///
/// The clock and the id generator are arguments so that this stays
/// deterministic under test.
pub fn prepare_for_append(
    envelope: v1::Envelope,
    now: Timestamp,
    new_id: impl FnOnce() -> uuid::Uuid,
) -> Result<(v1::Envelope, Event), ValidationError> {
    let mut envelope = envelope;
    if envelope.event_id.is_empty() {
        envelope.event_id = new_id().to_string();
    }
    if envelope.recorded_at.is_none() {
        envelope.recorded_at = Some(timestamp_to_proto(now));
    }
    if envelope.schema_version == 0 {
        envelope.schema_version = SCHEMA_VERSION;
    }
    let event = event_from_proto(&envelope)?;
    Ok((event_to_proto(&event), event))
}
