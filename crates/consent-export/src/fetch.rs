//! Reading the records at given positions from the log: the exact stored
//! bytes of the organisation facts an export carries (subject events come
//! with their bytes from the view's history).

use consent_log::{EventLog, LogError, LogPosition, LogRecord, StartOffsets, TopicPartition};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// A record could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("the log did not return {missing} of the records asked for within {waited:?} (first: {first})")]
    Missing {
        missing: usize,
        first: LogPosition,
        waited: Duration,
    },
}

/// Reads the records at `positions` (any order, repeats allowed), waiting
/// at most `timeout` overall. Returns them by position.
pub async fn fetch_records(
    log: &dyn EventLog,
    positions: &BTreeSet<LogPosition>,
    timeout: Duration,
) -> Result<BTreeMap<LogPosition, LogRecord>, FetchError> {
    let mut wanted: BTreeMap<TopicPartition, BTreeSet<u64>> = BTreeMap::new();
    for position in positions {
        wanted
            .entry(position.topic_partition())
            .or_default()
            .insert(position.offset);
    }
    let start: StartOffsets = wanted
        .iter()
        .filter_map(|(partition, offsets)| Some((partition.clone(), *offsets.first()?)))
        .collect();
    let mut found = BTreeMap::new();
    if start.is_empty() {
        return Ok(found);
    }
    let mut reader = log.reader(start).await?;
    let began = Instant::now();
    while found.len() < positions.len() {
        let left = timeout.saturating_sub(began.elapsed());
        if left.is_zero() {
            break;
        }
        for record in reader
            .next_batch(1024, left.min(Duration::from_millis(200)))
            .await?
        {
            if positions.contains(&record.position) {
                found.insert(record.position.clone(), record);
            }
        }
    }
    if let Some(first) = positions.iter().find(|p| !found.contains_key(*p)) {
        return Err(FetchError::Missing {
            missing: positions.len() - found.len(),
            first: first.clone(),
            waited: began.elapsed(),
        });
    }
    Ok(found)
}
