//! Completing and validating an envelope before it is appended to the log.

use crate::entry::{event_times, numbers_to_e164, EntryRules};
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
/// * `schema_version` 0 becomes [`SCHEMA_VERSION`];
/// * telephone numbers in the national format of `rules.phone_region`
///   become E.164 (an invalid one is refused naming its field).
///
/// Besides what [`event_from_proto`] refuses, it refuses an event from the
/// future or from an absurd date (see [`EntryRules`]): `occurred_at` more
/// than `rules.max_clock_skew` after `recorded_at`, `recorded_at` more than
/// that after `now`, a timestamp before 1990 or from 2200.
///
/// Returns the envelope to store and the event it means. The envelope is the
/// canonical form of the event (`event_to_proto(&event)`): UUID in canonical
/// text, contact points normalised, timestamps at microsecond precision. So
/// what is stored decodes and validates to exactly the returned event.
///
/// The time of receipt and the id generator are arguments so that this stays
/// deterministic under test.
pub fn prepare_for_append(
    envelope: v1::Envelope,
    now: Timestamp,
    new_id: impl FnOnce() -> uuid::Uuid,
    rules: &EntryRules,
) -> Result<(v1::Envelope, Event), ValidationError> {
    let mut envelope = envelope;
    numbers_to_e164(envelope.payload.as_mut(), rules.phone_region)?;
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
    event_times(&event, now, rules)?;
    Ok((event_to_proto(&event), event))
}
