//! Records the projector cannot read go to the dead-letter topic, with why
//! and where from, so that nothing is lost and the stream goes on.
//!
//! A dead letter keeps the original key, payload and headers, after four
//! headers of its own (values are UTF-8 text, numbers in decimal):
//!
//! * `dead_letter.reason`: why the record could not be projected;
//! * `dead_letter.origin_topic`, `dead_letter.origin_partition`,
//!   `dead_letter.origin_offset`: where it was read.
//!
//! At least once: the append happens before the batch is committed with
//! the view. A crash between the two, or a rebuild of the view, appends the
//! same record again; the origin headers identify duplicates.

use consent_log::{AppendRecord, LogRecord};

/// Why the record could not be projected.
pub const REASON: &str = "dead_letter.reason";
/// The topic the record was read from.
pub const ORIGIN_TOPIC: &str = "dead_letter.origin_topic";
/// The partition the record was read from.
pub const ORIGIN_PARTITION: &str = "dead_letter.origin_partition";
/// The offset the record was read from.
pub const ORIGIN_OFFSET: &str = "dead_letter.origin_offset";

/// The dead-letter record of `record`: the original key, payload and
/// headers, after the four `dead_letter.*` headers.
pub(crate) fn record(record: &LogRecord, topic: String, reason: &str) -> AppendRecord {
    let origin = &record.position;
    let mut headers = vec![
        (REASON.to_owned(), reason.as_bytes().to_vec()),
        (ORIGIN_TOPIC.to_owned(), origin.topic.as_bytes().to_vec()),
        (
            ORIGIN_PARTITION.to_owned(),
            origin.partition.to_string().into_bytes(),
        ),
        (
            ORIGIN_OFFSET.to_owned(),
            origin.offset.to_string().into_bytes(),
        ),
    ];
    headers.extend(record.headers.iter().cloned());
    AppendRecord {
        topic,
        key: record.key.clone(),
        payload: record.payload.clone(),
        headers,
    }
}
