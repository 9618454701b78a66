//! The ledger's view store on sled 0.34.
//!
//! **The view is a disposable cache.** sled 0.34 has known
//! space-amplification and crash-recovery issues. Nothing in this store is
//! the record of anything: the log is. If the view is lost, damaged, of an
//! older format, or simply suspect, delete it and rebuild it from the log
//! with `consent-ledger rebuild`. Errors that call for that are
//! [`StoreError::FormatVersion`] and [`StoreError::Corrupt`].
//!
//! [`SledStore`] implements [`ViewStore`]; the key layout is in `keys.rs`.
//! Values are postcard-encoded domain types; a value that does not decode is
//! reported as [`StoreError::Corrupt`] naming its key, never a panic.

mod keys;

use consent_domain::vocabulary::ContactPoint;
use consent_domain::{
    EventId, EventPosition, OrganisationId, OrganisationState, SubjectId, SubjectState,
};
use consent_evidence::merkle::{Frontier, Hash, NodeAddress, HASH_LEN};
use consent_log::TopicPartition;
use consent_store::{HistoryEntry, StoreError, StoredOffsets, ViewBatch, ViewStore};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The format of the stored view. Bump it whenever a key layout or a stored
/// type changes; a view of another version is refused with
/// [`StoreError::FormatVersion`] and must be rebuilt. Version 2 added the
/// per-partition Merkle trees (`T` and `F` keys). Version 3 stores a
/// history entry as its position and stored bytes only (the rest is in its
/// key, not repeated in the value).
pub const VIEW_FORMAT_VERSION: u32 = 3;

/// Removes done per batch when clearing the view.
const CLEAR_CHUNK: usize = 10_000;

/// A [`ViewStore`] in one sled database directory.
///
/// # Atomicity
///
/// Everything lives in **one** sled tree (`view`), with a tag byte per kind
/// of record (see `keys.rs`), and [`ViewStore::apply`] writes a whole batch -
/// states, history, indexes, tree nodes and frontiers, and the offsets - with one
/// [`sled::Tree::apply_batch`]. sled recovers a batch of one tree
/// atomically (the batch is sealed in its log as one unit), which is
/// exactly the guarantee a multi-tree `Transactional` commit relies on as
/// well; the single batch was chosen because it is at least as fast (2,000
/// batches of 200 writes: 6.1 s against 6.2 s for a five-tree transaction
/// on the development machine), copies nothing into a transaction overlay,
/// has no conflict-retry loop, and rests on the simplest, documented
/// promise ("atomically apply multiple inserts and removes").
///
/// `apply` and `clear` are serialised by a writer lock: `apply` reads the
/// history-by-id index before building its batch, which is only correct
/// with one writer.
///
/// # Durability
///
/// sled writes its log in the background (every 500 ms by default) and on
/// [`ViewStore::flush`] and drop. A crash may lose the last batches; it
/// never splits one, so the stored offsets always match the stored data and
/// the projector resumes from them.
pub struct SledStore {
    db: sled::Db,
    tree: sled::Tree,
    writer: Mutex<()>,
}

impl fmt::Debug for SledStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledStore")
            .field("tree", &self.tree.name())
            .finish_non_exhaustive()
    }
}

impl SledStore {
    /// Opens (or creates) the view in the directory `path`.
    ///
    /// A new view is stamped with [`VIEW_FORMAT_VERSION`]; an existing view
    /// of another version, or one with data but no version, is refused with
    /// [`StoreError::FormatVersion`].
    ///
    /// sled releases its directory lock from background IO threads shortly
    /// after the last handle is dropped, so a reopen in the same process
    /// may find it still held: `open` retries for up to
    /// [`LOCK_RETRY_FOR`] before reporting the lock error (which is also
    /// what a second process opening the same view gets).
    pub fn open(path: &Path) -> Result<SledStore, StoreError> {
        let db = open_db(path)?;
        let tree = db.open_tree("view").map_err(engine)?;
        let store = SledStore {
            db,
            tree,
            writer: Mutex::new(()),
        };
        store.check_format_version()?;
        tracing::debug!(path = %path.display(), "opened the sled view store");
        Ok(store)
    }

    fn check_format_version(&self) -> Result<(), StoreError> {
        let key = keys::format_version();
        match self.tree.get(&key).map_err(engine)? {
            Some(stored) => {
                let found: [u8; 4] =
                    stored
                        .as_ref()
                        .try_into()
                        .map_err(|_| StoreError::Corrupt {
                            key: keys::display(&key),
                            reason: format!("a format version is 4 bytes, found {}", stored.len()),
                        })?;
                let found = u32::from_be_bytes(found);
                if found != VIEW_FORMAT_VERSION {
                    return Err(StoreError::FormatVersion {
                        found,
                        expected: VIEW_FORMAT_VERSION,
                    });
                }
                Ok(())
            }
            None if self.tree.is_empty() => {
                self.tree
                    .insert(key, &VIEW_FORMAT_VERSION.to_be_bytes())
                    .map_err(engine)?;
                self.db.flush().map_err(engine)?;
                Ok(())
            }
            // Data without a version predates versioning: not readable.
            None => Err(StoreError::FormatVersion {
                found: 0,
                expected: VIEW_FORMAT_VERSION,
            }),
        }
    }

    fn write_lock(&self) -> MutexGuard<'_, ()> {
        // The lock guards no data; a panic while holding it leaves nothing
        // half-done in memory (sled's batch is all or nothing).
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get_decoded<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.tree.get(key).map_err(engine)? {
            Some(bytes) => decode(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Where the stored history entry of an event is, if any: its full key.
    fn stored_history_key(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
        event: &EventId,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let index_key = keys::history_by_id(organisation, subject, event);
        let Some(occurred_at) = self.tree.get(&index_key).map_err(engine)? else {
            return Ok(None);
        };
        let occurred_at =
            keys::decode_timestamp(&occurred_at).ok_or_else(|| StoreError::Corrupt {
                key: keys::display(&index_key),
                reason: format!(
                    "expected an 8-byte timestamp, found {} bytes",
                    occurred_at.len()
                ),
            })?;
        Ok(Some(keys::history(
            organisation,
            subject,
            occurred_at,
            event,
        )))
    }
}

impl ViewStore for SledStore {
    fn subject_state(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<Option<SubjectState>, StoreError> {
        self.get_decoded(&keys::subject(organisation, subject))
    }

    fn organisation_state(
        &self,
        organisation: &OrganisationId,
    ) -> Result<Option<OrganisationState>, StoreError> {
        self.get_decoded(&keys::organisation(organisation))
    }

    fn history(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        let prefix = keys::history_prefix(organisation, subject);
        let mut entries = Vec::new();
        for item in self.tree.scan_prefix(&prefix) {
            let (key, value) = item.map_err(engine)?;
            if key.len() != prefix.len() + keys::TIMESTAMP_LEN + keys::EVENT_ID_LEN {
                return Err(StoreError::Corrupt {
                    key: keys::display(&key),
                    reason: "a history key ends with a timestamp and an event id".to_owned(),
                });
            }
            entries.push(history_entry_from(organisation, subject, &key, &value)?);
        }
        Ok(entries)
    }

    fn history_entry(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
        event: &EventId,
    ) -> Result<Option<HistoryEntry>, StoreError> {
        let Some(key) = self.stored_history_key(organisation, subject, event)? else {
            return Ok(None);
        };
        match self.tree.get(&key).map_err(engine)? {
            Some(value) => history_entry_from(organisation, subject, &key, &value).map(Some),
            None => Err(StoreError::Corrupt {
                key: keys::display(&key),
                reason: "the history index names an entry that is missing".to_owned(),
            }),
        }
    }

    fn subjects_of(&self, organisation: &OrganisationId) -> Result<Vec<SubjectId>, StoreError> {
        let prefix = keys::history_organisation_prefix(organisation);
        let mut subjects = Vec::new();
        let mut from = prefix.clone();
        // One seek per subject: after reading a subject's first entry,
        // jump past all of its entries.
        while let Some(item) = self.tree.range(from.as_slice()..).next() {
            let (key, _) = item.map_err(engine)?;
            if !key.starts_with(&prefix) {
                break;
            }
            let subject = key
                .get(prefix.len()..)
                .and_then(keys::history_subject)
                .ok_or_else(|| StoreError::Corrupt {
                    key: keys::display(&key),
                    reason: "a history key names a subject".to_owned(),
                })?;
            from = keys::history_after_subject(organisation, &subject);
            subjects.push(subject);
        }
        subjects.sort();
        Ok(subjects)
    }

    fn subjects_by_contact(
        &self,
        contact: &ContactPoint,
    ) -> Result<Vec<(OrganisationId, SubjectId)>, StoreError> {
        let prefix = keys::contact_prefix(contact);
        let mut subjects = Vec::new();
        for item in self.tree.scan_prefix(&prefix) {
            let (key, _) = item.map_err(engine)?;
            let pair = key
                .get(prefix.len()..)
                .and_then(keys::contact_subject)
                .ok_or_else(|| StoreError::Corrupt {
                    key: keys::display(&key),
                    reason: "a contact key ends with an organisation and a subject".to_owned(),
                })?;
            subjects.push(pair);
        }
        // Key order is identifier order except for escaped control bytes.
        subjects.sort();
        Ok(subjects)
    }

    fn offsets(&self) -> Result<Option<StoredOffsets>, StoreError> {
        self.get_decoded(&keys::offsets())
    }

    fn merkle_node(
        &self,
        partition: &TopicPartition,
        address: NodeAddress,
    ) -> Result<Option<Hash>, StoreError> {
        let key = keys::merkle_node(partition, address);
        let Some(stored) = self.tree.get(&key).map_err(engine)? else {
            return Ok(None);
        };
        let bytes: [u8; HASH_LEN] =
            stored
                .as_ref()
                .try_into()
                .map_err(|_| StoreError::Corrupt {
                    key: keys::display(&key),
                    reason: format!("a tree node is {HASH_LEN} bytes, found {}", stored.len()),
                })?;
        Ok(Some(Hash::from_bytes(bytes)))
    }

    fn merkle_frontier(&self, partition: &TopicPartition) -> Result<Option<Frontier>, StoreError> {
        self.get_decoded(&keys::merkle_frontier(partition))
    }

    fn apply(&self, batch: ViewBatch) -> Result<(), StoreError> {
        let _writer = self.write_lock();
        let mut writes = sled::Batch::default();
        for ((organisation, subject), state) in &batch.subjects {
            writes.insert(keys::subject(organisation, subject), encode(state)?);
        }
        for (organisation, state) in &batch.organisations {
            writes.insert(keys::organisation(organisation), encode(state)?);
        }
        // History key per event index key, as this batch leaves it.
        let mut placed: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
        for entry in &batch.history {
            let (organisation, subject) = (&entry.organisation, &entry.subject);
            let index_key = keys::history_by_id(organisation, subject, &entry.event_id);
            let key = keys::history(organisation, subject, entry.occurred_at, &entry.event_id);
            let previous = match placed.get(&index_key) {
                Some(previous) => Some(previous.clone()),
                None => self.stored_history_key(organisation, subject, &entry.event_id)?,
            };
            if let Some(previous) = previous.filter(|previous| previous != &key) {
                writes.remove(previous);
            }
            writes.insert(
                key.clone(),
                encode(&(&entry.position, &entry.stored_bytes))?,
            );
            writes.insert(
                index_key.clone(),
                &keys::encode_timestamp(entry.occurred_at)[..],
            );
            placed.insert(index_key, key);
        }
        for (contact, organisation, subject) in &batch.contacts {
            writes.insert(keys::contact(contact, organisation, subject), &[][..]);
        }
        for (partition, address, hash) in &batch.merkle_nodes {
            writes.insert(keys::merkle_node(partition, *address), &hash.as_bytes()[..]);
        }
        for (partition, frontier) in &batch.merkle_frontiers {
            writes.insert(keys::merkle_frontier(partition), encode(frontier)?);
        }
        writes.insert(keys::offsets(), encode(&batch.offsets)?);
        self.tree.apply_batch(writes).map_err(engine)
    }

    /// Removes the offsets first, and makes that durable, before removing
    /// anything else: a crash in the middle of a clear leaves an
    /// uninitialised view (which the projector clears again before
    /// rebuilding), never offsets over partial data.
    fn clear(&self) -> Result<(), StoreError> {
        let _writer = self.write_lock();
        self.tree.remove(keys::offsets()).map_err(engine)?;
        self.db.flush().map_err(engine)?;
        let version = keys::format_version();
        let mut removes = sled::Batch::default();
        let mut pending = 0;
        for key in self.tree.iter().keys() {
            let key = key.map_err(engine)?;
            if key.as_ref() == version.as_slice() {
                continue;
            }
            removes.remove(key);
            pending += 1;
            if pending == CLEAR_CHUNK {
                self.tree
                    .apply_batch(std::mem::take(&mut removes))
                    .map_err(engine)?;
                pending = 0;
            }
        }
        self.tree.apply_batch(removes).map_err(engine)?;
        self.db.flush().map_err(engine)?;
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(engine)
    }
}

/// How long [`SledStore::open`] waits for a just-dropped handle's lock.
pub const LOCK_RETRY_FOR: Duration = Duration::from_secs(3);

fn open_db(path: &Path) -> Result<sled::Db, StoreError> {
    let started = Instant::now();
    loop {
        match sled::Config::new().path(path).open() {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(error))
                if error.kind() == std::io::ErrorKind::WouldBlock
                    && started.elapsed() < LOCK_RETRY_FOR =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(error) => return Err(engine(error)),
        }
    }
}

fn engine(error: sled::Error) -> StoreError {
    StoreError::Engine(error.to_string())
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    postcard::to_stdvec(value)
        .map_err(|error| StoreError::Engine(format!("encoding failed: {error}")))
}

/// A history entry from its key (`... occurred_at(8) event_id(16)`) and
/// its value (postcard of the position and the stored bytes).
fn history_entry_from(
    organisation: &OrganisationId,
    subject: &SubjectId,
    key: &[u8],
    value: &[u8],
) -> Result<HistoryEntry, StoreError> {
    let tail = key
        .len()
        .checked_sub(keys::TIMESTAMP_LEN + keys::EVENT_ID_LEN)
        .and_then(|start| key.get(start..))
        .ok_or_else(|| StoreError::Corrupt {
            key: keys::display(key),
            reason: "a history key ends with a timestamp and an event id".to_owned(),
        })?;
    let (at, id) = tail.split_at(keys::TIMESTAMP_LEN);
    let occurred_at = keys::decode_timestamp(at).ok_or_else(|| StoreError::Corrupt {
        key: keys::display(key),
        reason: "a history key's timestamp is 8 bytes".to_owned(),
    })?;
    let event_id = uuid::Uuid::from_slice(id).map_err(|error| StoreError::Corrupt {
        key: keys::display(key),
        reason: format!("a history key's event id: {error}"),
    })?;
    let (position, stored_bytes): (EventPosition, Vec<u8>) = decode(key, value)?;
    Ok(HistoryEntry {
        organisation: organisation.clone(),
        subject: subject.clone(),
        occurred_at,
        event_id: EventId(event_id),
        position,
        stored_bytes,
    })
}

fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    postcard::from_bytes(bytes).map_err(|error| StoreError::Corrupt {
        key: keys::display(key),
        reason: error.to_string(),
    })
}
