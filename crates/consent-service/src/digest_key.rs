//! One contact-digest key per log: every instance appending to a log must
//! make the same digests, or suppression and contact matching miss across
//! instances (docs/OPERATIONS.md, "Keys").
//!
//! The log itself says which key its digests are made with: the first
//! record under [`consent_schema::CONTACT_DIGEST_KEY_RECORD`] on the
//! reference topic holds the key's fingerprint
//! ([`consent_sealing::ContactDigestKey::fingerprint`], never the key). An
//! instance starting on the log reads it: the same fingerprint, it goes
//! on; another, it refuses to start; none yet, it appends its own and reads
//! again, so when two instances start at once on an empty log the first
//! record in the partition wins and the other then refuses. A record that
//! lost such a race stays in the log, read past like every ledger record.

use consent_log::partitioner::partition_for;
use consent_log::{AppendRecord, EventLog, LogError, LogPosition, StartOffsets, TopicPartition};
use consent_schema::EventFamily;
use consent_schema::{
    contact_digest_key_fingerprint, contact_digest_key_payload, CONTACT_DIGEST_KEY_RECORD,
};
use std::time::{Duration, Instant};

/// What the log said about the contact-digest key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DigestKeyCheck {
    /// The log records this key's fingerprint, at this position.
    Matches(LogPosition),
    /// The log recorded none: this instance's is now the first, here.
    Recorded(LogPosition),
}

/// Why an instance may not seal with its key on this log.
#[derive(Debug, thiserror::Error)]
pub enum DigestKeyError {
    #[error(
        "the log's contact digests are made with another key: the log records key fingerprint \
         {recorded} (at {position}), this instance's key has fingerprint {ours}"
    )]
    Mismatch {
        recorded: String,
        ours: String,
        position: LogPosition,
    },
    #[error("the contact-digest key record at {0} is not one this ledger reads")]
    Unreadable(LogPosition),
    #[error("reading the contact-digest key record: {0}")]
    Log(#[from] LogError),
    #[error("the log did not return {partition} up to offset {end} within {waited:?}")]
    Stalled {
        partition: TopicPartition,
        end: u64,
        waited: Duration,
    },
}

/// Checks `fingerprint` against the one the log records, recording it
/// when the log has none. `wait` bounds each read of the partition.
pub async fn settle_contact_digest_key(
    log: &dyn EventLog,
    fingerprint: &[u8; 32],
    wait: Duration,
) -> Result<DigestKeyCheck, DigestKeyError> {
    let layout = log.layout();
    let partition = TopicPartition::new(
        EventFamily::Reference.topic(layout),
        partition_for(CONTACT_DIGEST_KEY_RECORD, layout.partitions),
    );
    let recorded = match first_recorded(log, &partition, wait).await? {
        Some(found) => return compare(found, fingerprint, false),
        None => {
            let positions = log
                .append(vec![AppendRecord {
                    topic: partition.topic.clone(),
                    key: CONTACT_DIGEST_KEY_RECORD.to_vec(),
                    payload: contact_digest_key_payload(fingerprint),
                    headers: vec![(
                        crate::EVENT_KIND_HEADER.to_owned(),
                        b"ledger.contact_digest_key".to_vec(),
                    )],
                }])
                .await?;
            tracing::info!(position = ?positions.first(), "recorded the contact-digest key's fingerprint in the log");
            // Another instance may have recorded its own first.
            first_recorded(log, &partition, wait).await?
        }
    };
    match recorded {
        Some(found) => compare(found, fingerprint, true),
        None => Err(DigestKeyError::Log(LogError::Backend(format!(
            "the contact-digest key record appended to {partition} cannot be read back"
        )))),
    }
}

fn compare(
    (recorded, position): ([u8; 32], LogPosition),
    ours: &[u8; 32],
    just_appended: bool,
) -> Result<DigestKeyCheck, DigestKeyError> {
    if recorded != *ours {
        return Err(DigestKeyError::Mismatch {
            recorded: hex(&recorded),
            ours: hex(ours),
            position,
        });
    }
    Ok(if just_appended {
        DigestKeyCheck::Recorded(position)
    } else {
        DigestKeyCheck::Matches(position)
    })
}

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The first fingerprint record in `partition`, reading from its start up
/// to its end as it is now.
async fn first_recorded(
    log: &dyn EventLog,
    partition: &TopicPartition,
    wait: Duration,
) -> Result<Option<([u8; 32], LogPosition)>, DigestKeyError> {
    let end = log
        .end_offsets()
        .await?
        .get(partition)
        .copied()
        .unwrap_or(0);
    if end == 0 {
        return Ok(None);
    }
    let start: StartOffsets = [(partition.clone(), 0)].into_iter().collect();
    let mut reader = log.reader(start).await?;
    let mut last_progress = Instant::now();
    loop {
        let batch = reader.next_batch(1024, Duration::from_millis(200)).await?;
        if batch.is_empty() {
            if last_progress.elapsed() > wait {
                return Err(DigestKeyError::Stalled {
                    partition: partition.clone(),
                    end,
                    waited: wait,
                });
            }
            continue;
        }
        last_progress = Instant::now();
        for record in batch {
            if record.position.topic_partition() != *partition {
                continue;
            }
            if record.key == CONTACT_DIGEST_KEY_RECORD {
                return match contact_digest_key_fingerprint(&record.payload) {
                    Some(fingerprint) => Ok(Some((fingerprint, record.position))),
                    None => Err(DigestKeyError::Unreadable(record.position)),
                };
            }
            if record.position.offset + 1 >= end {
                return Ok(None);
            }
        }
    }
}
