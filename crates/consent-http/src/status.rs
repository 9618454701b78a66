//! The `/v1/status` document. Not a `consent.v1` message: it reports on the
//! running process (offsets, counters), not on facts.

use consent_service::LedgerStatus;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The status as JSON, field names in camelCase like the API's messages:
///
/// ```json
/// {"ownedPartitions": "all", "logReachable": true, "logError": null, "recordsBehind": 0,
///  "eventsApplied": 12, "deadLetters": 0, "conflicts": 0, "batches": 3,
///  "partitions": [{"topic": "consent.grants", "partition": 0,
///                  "appliedOffset": 4, "endOffset": 4, "recordsBehind": 0}]}
/// ```
///
/// `endOffset` and the `recordsBehind` fields are null when the log could
/// not be reached. `partitions` lists the topic-partitions the projector
/// follows; `ownedPartitions` is `all` or a list such as `0-3,6`.
pub fn status_document(status: &LedgerStatus) -> Value {
    let projection = &status.projection;
    let partitions: BTreeSet<_> = projection
        .applied
        .keys()
        .chain(status.log_end_offsets.iter().flat_map(|end| end.keys()))
        .collect();
    let partitions: Vec<Value> = partitions
        .into_iter()
        .map(|partition| {
            json!({
                "topic": partition.topic,
                "partition": partition.partition,
                "appliedOffset": projection.applied.get(partition),
                "endOffset": status.log_end_offsets.as_ref().and_then(|end| end.get(partition)),
                "recordsBehind": status.lag.as_ref().and_then(|lag| lag.partitions.get(partition)),
            })
        })
        .collect();
    json!({
        "ownedPartitions": status.owned_partitions.to_string(),
        "logReachable": status.log_reachable(),
        "logError": status.log_error,
        "recordsBehind": status.lag.as_ref().map(|lag| lag.total),
        "eventsApplied": projection.events_applied,
        "deadLetters": projection.dead_letters,
        "conflicts": projection.conflicts,
        "batches": projection.batches,
        "partitions": partitions,
    })
}
