//! From log record to domain event, or to a dead letter.

use consent_domain::event::FactScope;
use consent_domain::{Event, EventPosition};
use consent_log::LogRecord;

/// A record that decoded and validated: the event, where it was read and
/// its exact stored bytes.
#[derive(Clone, Debug)]
pub struct DecodedEvent {
    pub event: Event,
    pub position: EventPosition,
    pub stored_bytes: Vec<u8>,
    /// Whether this instance folds the subject part of the event (its
    /// subject's state, history and contact index): true unless the event
    /// is about an address and a subject this instance does not own (see
    /// [`crate::OwnedPartitions::owns_subject`]). The address part is
    /// folded everywhere.
    pub subject_here: bool,
    /// The notice the fact gives the opt-out feed, if it stops marketing
    /// (`consent_schema::opt_out_notice`, from the stored envelope).
    pub opt_out_notice: Option<consent_schema::v1::OptOutNotice>,
}

/// Decodes and validates a record's payload; `Err` is the dead-letter
/// reason.
pub fn decode_record(record: &LogRecord) -> Result<DecodedEvent, String> {
    let envelope = consent_schema::decode_envelope(&record.payload)
        .map_err(|error| format!("undecodable: {error}"))?;
    let event =
        consent_schema::event_from_proto(&envelope).map_err(|error| format!("invalid: {error}"))?;
    // event_from_proto guarantees this; the fold relies on it. A fact
    // about an address may name no subject (an imported suppression list).
    if event.subject.is_none()
        && !matches!(
            event.fact.scope(),
            FactScope::Organisation | FactScope::SubjectOrAddress
        )
    {
        return Err(format!(
            "invalid: `{}` without a subject",
            event.fact.kind()
        ));
    }
    Ok(DecodedEvent {
        opt_out_notice: consent_schema::opt_out_notice(&envelope, &record.position),
        event,
        position: consent_schema::event_position(&record.position),
        stored_bytes: record.payload.clone(),
        subject_here: true,
    })
}
