//! Each endpoint's position in the feed: the next offset to push per feed
//! partition, in `DATA_DIR/webhooks/{endpoint}/position.json`, written
//! atomically (a temporary file, fsync, rename, fsync of the folder) after
//! each notice delivered or dead-lettered (the records passed over, other
//! organisations', at the end of each read of the feed). A restart resumes
//! there, so at worst the last notice is pushed again (at least once).

use crate::error::StoreError;
use consent_log::TopicPartition;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const FILE: &str = "position.json";
const FORMAT: u32 = 1;

/// Next offset to push, per feed partition.
pub type Positions = BTreeMap<TopicPartition, u64>;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    format: u32,
    next_offsets: Vec<StoredOffset>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredOffset {
    topic: String,
    partition: u32,
    next_offset: u64,
}

/// One endpoint's stored position.
#[derive(Clone, Debug)]
pub struct PositionStore {
    dir: PathBuf,
}

impl PositionStore {
    /// The position kept in `dir` (created when first saved).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    /// The stored positions; empty before the first save.
    pub fn load(&self) -> Result<Positions, StoreError> {
        let path = self.path();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Positions::new())
            }
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        let stored: Stored =
            serde_json::from_slice(&bytes).map_err(|error| StoreError::Corrupt {
                path: path.clone(),
                reason: error.to_string(),
            })?;
        if stored.format != FORMAT {
            return Err(StoreError::Corrupt {
                path,
                reason: format!("unknown format {}", stored.format),
            });
        }
        Ok(stored
            .next_offsets
            .into_iter()
            .map(|o| (TopicPartition::new(o.topic, o.partition), o.next_offset))
            .collect())
    }

    /// Replaces the stored positions with `positions`, durably.
    pub fn save(&self, positions: &Positions) -> Result<(), StoreError> {
        let stored = Stored {
            format: FORMAT,
            next_offsets: positions
                .iter()
                .map(|(tp, &next_offset)| StoredOffset {
                    topic: tp.topic.clone(),
                    partition: tp.partition,
                    next_offset,
                })
                .collect(),
        };
        let bytes = serde_json::to_vec_pretty(&stored).map_err(|error| StoreError::Corrupt {
            path: self.path(),
            reason: error.to_string(),
        })?;
        write_atomically(&self.dir, FILE, &bytes)
    }
}

/// Writes `dir/name` atomically and durably: `dir/name.tmp`, fsync,
/// rename, fsync of `dir` (created if absent).
pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    use std::io::Write;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| StoreError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let temp = dir.join(format!("{name}.tmp"));
    let mut file = std::fs::File::create(&temp).map_err(io(&temp))?;
    file.write_all(bytes).map_err(io(&temp))?;
    file.sync_all().map_err(io(&temp))?;
    let path = dir.join(name);
    std::fs::rename(&temp, &path).map_err(io(&path))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_position_loads_back_and_none_is_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = PositionStore::new(dir.path().join("acme-crm"));
        assert_eq!(store.load().expect("load"), Positions::new());
        let positions: Positions = [
            (TopicPartition::new("consent.opt-out-feed", 0), 12),
            (TopicPartition::new("consent.opt-out-feed", 3), 0),
        ]
        .into_iter()
        .collect();
        store.save(&positions).expect("save");
        assert_eq!(store.load().expect("load"), positions);
    }

    #[test]
    fn an_unreadable_position_is_an_error_not_a_fresh_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(FILE), b"{").expect("write");
        let error = PositionStore::new(dir.path()).load().expect_err("corrupt");
        assert!(error.to_string().contains("position.json"), "{error}");
    }
}
