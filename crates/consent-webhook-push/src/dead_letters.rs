//! Notices an endpoint did not take after every try: one JSON file each in
//! `DATA_DIR/webhooks/{endpoint}/dead-letters/`, named by the notice's
//! feed position, written atomically before the endpoint's position moves
//! past it. `consent-ledger webhooks dead-letters` lists them and
//! `consent-ledger webhooks retry` pushes them again (a file per letter,
//! so the running ledger adding letters and an operator retrying them
//! never write the same file).

use crate::error::StoreError;
use crate::position::write_atomically;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One notice an endpoint never took.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadLetter {
    pub endpoint: String,
    pub organisation: String,
    pub source_event_id: String,
    /// Where the notice is on the feed.
    pub feed_topic: String,
    pub feed_partition: u32,
    pub feed_offset: u64,
    /// Tries made before it was dead-lettered.
    pub tries: u32,
    /// Why the last try failed.
    pub last_error: String,
    /// When it was dead-lettered (seconds since the Unix epoch).
    pub dead_lettered_at: u64,
    /// The body that was pushed: the notice in the proto3 JSON mapping.
    pub body: String,
}

impl DeadLetter {
    fn file_name(&self) -> String {
        format!(
            "{}-{}-{}.json",
            self.feed_topic, self.feed_partition, self.feed_offset
        )
    }
}

/// One endpoint's dead letters.
#[derive(Clone, Debug)]
pub struct DeadLetterStore {
    dir: PathBuf,
}

impl DeadLetterStore {
    /// The dead letters kept in `dir` (created at the first).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Stores `letter` durably (replacing one of the same feed position:
    /// the same notice dead-lettered again after a restart).
    pub fn put(&self, letter: &DeadLetter) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(letter).map_err(|error| StoreError::Corrupt {
            path: self.dir.join(letter.file_name()),
            reason: error.to_string(),
        })?;
        write_atomically(&self.dir, &letter.file_name(), &bytes)
    }

    /// Every dead letter, in feed position order.
    pub fn list(&self) -> Result<Vec<DeadLetter>, StoreError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(StoreError::Io {
                    path: self.dir.clone(),
                    source,
                })
            }
        };
        let mut letters = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|source| StoreError::Io {
                    path: self.dir.clone(),
                    source,
                })?
                .path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
            let letter: DeadLetter =
                serde_json::from_slice(&bytes).map_err(|error| StoreError::Corrupt {
                    path: path.clone(),
                    reason: error.to_string(),
                })?;
            letters.push(letter);
        }
        letters.sort_by(|a, b| {
            (&a.feed_topic, a.feed_partition, a.feed_offset).cmp(&(
                &b.feed_topic,
                b.feed_partition,
                b.feed_offset,
            ))
        });
        Ok(letters)
    }

    /// Removes `letter` (once it was delivered after all).
    pub fn remove(&self, letter: &DeadLetter) -> Result<(), StoreError> {
        let path = self.dir.join(letter.file_name());
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(offset: u64) -> DeadLetter {
        DeadLetter {
            endpoint: "acme-crm".into(),
            organisation: "acme".into(),
            source_event_id: format!("e-{offset}"),
            feed_topic: "consent.opt-out-feed".into(),
            feed_partition: 1,
            feed_offset: offset,
            tries: 3,
            last_error: "the endpoint answered 503".into(),
            dead_lettered_at: 1_767_225_600,
            body: "{}".into(),
        }
    }

    #[test]
    fn letters_are_listed_in_feed_order_and_removed_one_by_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = DeadLetterStore::new(dir.path().join("dead-letters"));
        assert_eq!(store.list().expect("list"), []);
        for offset in [10, 2, 7] {
            store.put(&letter(offset)).expect("put");
        }
        store.put(&letter(7)).expect("the same letter again");
        assert_eq!(
            store.list().expect("list"),
            [letter(2), letter(7), letter(10)]
        );
        store.remove(&letter(7)).expect("remove");
        store.remove(&letter(7)).expect("removing twice is fine");
        assert_eq!(store.list().expect("list"), [letter(2), letter(10)]);
    }
}
