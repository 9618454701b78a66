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
//! Values are postcard-encoded domain types (states also compressed, see
//! `state_codec.rs`); a value that does not decode is reported as
//! [`StoreError::Corrupt`] naming its key, never a panic.

mod cache;
#[cfg(test)]
mod golden;
mod keys;
mod records;
mod state_codec;

use cache::StateCache;
use consent_domain::fold::{FactSet, Recorded};
use consent_domain::vocabulary::{ContactPoint, ContactValue};
use consent_domain::{
    AddressState, EventId, EventPosition, Fact, OrganisationId, OrganisationState, SubjectId,
    SubjectState,
};
use consent_evidence::merkle::{self, Frontier, Hash, NodeAddress, HASH_LEN};
use consent_log::TopicPartition;
use consent_store::{HistoryEntry, StoreError, StoredOffsets, ViewBatch, ViewStore};
use records::RecordBlock;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The format of the stored view. Bump it whenever a key layout or a stored
/// type changes; a view of another version is refused with
/// [`StoreError::FormatVersion`] and must be rebuilt. Version 2 added the
/// per-partition Merkle trees (`T` and `F` keys). Version 3 stores a
/// history entry as its position and stored bytes only (the rest is in its
/// key, not repeated in the value). Version 4 keys a history entry by its
/// event id (no separate index by id) and stores tree nodes in chunks of
/// [`keys::MERKLE_CHUNK`] per level. Version 5 adds the organisation's
/// suppression list to its stored state. Version 6 compresses subject and
/// organisation states (zstd frames of their postcard bytes). Version 7:
/// opt-outs and objections carry the address they were received for, TPS
/// listings their screening, and screenings are a fact of their own; the
/// view keeps a state per address of an organisation (`A` keys: what
/// suppresses an address whichever subject it is used for). Version 8 is
/// the lean view: a subject's facts are stored one per key (`S` keys: a
/// batch writes the facts it adds, never a whole state), every consumed
/// record is kept once, in blocks of consecutive offsets (`E` keys,
/// `records.rs`), history entries are kept only for events no state holds
/// (messages sent) and without their bytes, and the trees' lowest levels
/// are hashed again from the records instead of being stored. Version 9
/// stores contact values typed (`ContactValue`: a value in clear or a
/// sealed value's 32-byte digest, no longer a string with a `digest:`
/// prefix), in states and in `A` and `C` keys.
///
/// The golden test in `golden.rs` holds the SHA-256 of a sample encoded
/// under this version (every stored type, a fact of every `Fact` variant
/// with every optional field set): it fails when the encoding changes and
/// the version does not. Bump the version, then record the hash it prints
/// in its `GOLDEN`.
pub const VIEW_FORMAT_VERSION: u32 = 9;

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
/// tree-node chunks it adds nodes to before building its batch, which is
/// only correct with one writer.
///
/// # Durability
///
/// sled writes its log in the background (every 500 ms by default) and on
/// [`ViewStore::flush`] and drop. A crash may lose the last batches; it
/// never splits one, so the stored offsets always match the stored data and
/// the projector resumes from them.
///
/// # Cached states
///
/// The decoded states that checks read ([`ViewStore::shared_subject_state`],
/// [`ViewStore::shared_organisation_state`],
/// [`ViewStore::organisation_state`], [`ViewStore::shared_address_state`]
/// and [`ViewStore::address_state`]) are kept in memory, bounded by
/// [`StoreMemory`] (by default [`SUBJECT_CACHE_BYTES`],
/// [`ORGANISATION_CACHE_BYTES`] and [`ADDRESS_CACHE_BYTES`] of encoded
/// state); `apply` replaces the cached states it writes, so a read never
/// sees a state older than the tree (see `cache.rs`).
/// [`ViewStore::subject_state`], the projector's read before it folds, is
/// not cached.
pub struct SledStore {
    db: sled::Db,
    tree: sled::Tree,
    writer: Mutex<()>,
    organisations: StateCache<OrganisationState>,
    subjects: StateCache<SubjectState>,
    addresses: StateCache<AddressState>,
}

/// Encoded bytes of organisation states kept decoded in memory by default
/// (every check reads one; checks may name organisations that do not
/// exist, each cached as absent).
pub const ORGANISATION_CACHE_BYTES: usize = 16 << 20;

/// Encoded bytes of subject states kept decoded in memory by default: about
/// 20,000 subjects of ten facts. Repeated checks of a subject skip the get
/// and the decode; a campaign that checks each subject once gains nothing
/// from it.
pub const SUBJECT_CACHE_BYTES: usize = 32 << 20;

/// Encoded bytes of address states kept decoded in memory by default. A
/// check reads the state of every address the message may go to; most
/// addresses have none, and a known-absent address costs a byte.
pub const ADDRESS_CACHE_BYTES: usize = 8 << 20;

/// sled's page cache by default (sled's own default is 1 GiB).
pub const SLED_CACHE_BYTES: u64 = 256 << 20;

/// The memory a [`SledStore`] may use for caches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreMemory {
    /// sled's page cache (`sled::Config::cache_capacity`).
    pub sled_cache_bytes: u64,
    /// Encoded bytes of decoded subject states kept for checks.
    pub subject_cache_bytes: usize,
    /// Encoded bytes of decoded organisation states kept for checks.
    pub organisation_cache_bytes: usize,
    /// Encoded bytes of decoded address states kept for checks.
    pub address_cache_bytes: usize,
}

impl Default for StoreMemory {
    fn default() -> Self {
        Self {
            sled_cache_bytes: SLED_CACHE_BYTES,
            subject_cache_bytes: SUBJECT_CACHE_BYTES,
            organisation_cache_bytes: ORGANISATION_CACHE_BYTES,
            address_cache_bytes: ADDRESS_CACHE_BYTES,
        }
    }
}

impl StoreMemory {
    /// sled's cache of `view_cache_bytes`, and `state_cache_bytes` of
    /// decoded states: a third for organisations, a sixth for addresses and
    /// the rest (a half) for subjects.
    pub fn new(view_cache_bytes: u64, state_cache_bytes: usize) -> Self {
        let organisation_cache_bytes = state_cache_bytes / 3;
        let address_cache_bytes = state_cache_bytes / 6;
        Self {
            sled_cache_bytes: view_cache_bytes,
            subject_cache_bytes: state_cache_bytes - organisation_cache_bytes - address_cache_bytes,
            organisation_cache_bytes,
            address_cache_bytes,
        }
    }
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
        Self::open_with(path, StoreMemory::default())
    }

    /// [`SledStore::open`] with the given cache sizes.
    pub fn open_with(path: &Path, memory: StoreMemory) -> Result<SledStore, StoreError> {
        let db = open_db(path, memory.sled_cache_bytes)?;
        let tree = db.open_tree("view").map_err(engine)?;
        let store = SledStore {
            db,
            tree,
            writer: Mutex::new(()),
            organisations: StateCache::new(memory.organisation_cache_bytes),
            subjects: StateCache::new(memory.subject_cache_bytes),
            addresses: StateCache::new(memory.address_cache_bytes),
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

    /// Forgets every cached state (after writes the caches cannot follow,
    /// such as a clear).
    fn reset_caches(&self) {
        self.organisations.clear();
        self.subjects.clear();
        self.addresses.clear();
    }

    /// The decoded postcard value of `key` (not a state: see `get_state`).
    fn get_decoded<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.tree.get(key).map_err(engine)? {
            Some(bytes) => decode(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The decoded state stored at `key` and its encoded (uncompressed)
    /// size.
    fn get_state<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<(T, usize)>, StoreError> {
        match self.tree.get(key).map_err(engine)? {
            Some(bytes) => state_codec::decode(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The state made of the facts under `prefix` (a subject's), and their
    /// encoded size; `None` when there are none.
    fn load_subject(&self, prefix: &[u8]) -> Result<Option<(SubjectState, usize)>, StoreError> {
        let mut facts = Vec::new();
        let mut size = 0;
        for item in self.tree.scan_prefix(prefix) {
            let (key, value) = item.map_err(engine)?;
            size += value.len();
            facts.push(decode::<Recorded<Fact>>(&key, &value)?);
        }
        if facts.is_empty() {
            return Ok(None);
        }
        let state = SubjectState {
            facts: FactSet::from_recorded(facts),
        };
        Ok(Some((state, size)))
    }

    fn cached<T: DeserializeOwned>(
        &self,
        cache: &StateCache<T>,
        key: &[u8],
    ) -> Result<Option<Arc<T>>, StoreError> {
        cache.get_or_load(key, || self.get_state(key))
    }
}

impl ViewStore for SledStore {
    fn subject_state(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<Option<SubjectState>, StoreError> {
        Ok(self
            .load_subject(&keys::subject_facts(organisation, subject))?
            .map(|(state, _)| state))
    }

    fn subject_fact(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
        event: EventId,
    ) -> Result<Option<Recorded<Fact>>, StoreError> {
        self.get_decoded(&keys::subject_fact(organisation, subject, event))
    }

    fn address_state(
        &self,
        organisation: &OrganisationId,
        address: &ContactValue,
    ) -> Result<Option<AddressState>, StoreError> {
        Ok(self
            .shared_address_state(organisation, address)?
            .map(Arc::unwrap_or_clone))
    }

    fn shared_address_state(
        &self,
        organisation: &OrganisationId,
        address: &ContactValue,
    ) -> Result<Option<Arc<AddressState>>, StoreError> {
        self.cached(&self.addresses, &keys::address(organisation, address))
    }

    /// A range read from just after `after`'s key: one seek per page.
    fn address_states(
        &self,
        organisation: &OrganisationId,
        after: Option<&ContactValue>,
        limit: usize,
    ) -> Result<Vec<(ContactValue, AddressState)>, StoreError> {
        use std::ops::Bound;
        let prefix = keys::address_prefix(organisation);
        let from = match after {
            Some(after) => Bound::Excluded(keys::address(organisation, after)),
            None => Bound::Included(prefix.clone()),
        };
        let mut states = Vec::new();
        for item in self.tree.range::<Vec<u8>, _>((from, Bound::Unbounded)) {
            if states.len() >= limit {
                break;
            }
            let (key, value) = item.map_err(engine)?;
            if !key.starts_with(&prefix) {
                break;
            }
            let address = key
                .get(prefix.len()..)
                .and_then(keys::address_of)
                .ok_or_else(|| StoreError::Corrupt {
                    key: keys::display(&key),
                    reason: "an address key ends with an address".to_owned(),
                })?;
            let (state, _) = state_codec::decode(&key, &value)?;
            states.push((address, state));
        }
        Ok(states)
    }

    fn organisation_state(
        &self,
        organisation: &OrganisationId,
    ) -> Result<Option<OrganisationState>, StoreError> {
        Ok(self
            .shared_organisation_state(organisation)?
            .map(Arc::unwrap_or_clone))
    }

    fn shared_subject_state(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<Option<Arc<SubjectState>>, StoreError> {
        let prefix = keys::subject_facts(organisation, subject);
        self.subjects
            .get_or_load(&prefix, || self.load_subject(&prefix))
    }

    fn shared_organisation_state(
        &self,
        organisation: &OrganisationId,
    ) -> Result<Option<Arc<OrganisationState>>, StoreError> {
        self.cached(&self.organisations, &keys::organisation(organisation))
    }

    /// The subject's state's facts (at their positions) and its history-only
    /// entries, each with its record's bytes.
    fn history(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        let prefix = keys::history_prefix(organisation, subject);
        let mut blocks = BlockReader::new(&self.tree);
        let mut entries: BTreeMap<EventId, HistoryEntry> = BTreeMap::new();
        for item in self.tree.scan_prefix(&prefix) {
            let (key, value) = item.map_err(engine)?;
            if key.len() != prefix.len() + keys::EVENT_ID_LEN {
                return Err(StoreError::Corrupt {
                    key: keys::display(&key),
                    reason: "a history key ends with an event id".to_owned(),
                });
            }
            let entry = history_entry_from(organisation, subject, &key, &value, &mut blocks)?;
            entries.insert(entry.event_id, entry);
        }
        let prefix = keys::subject_facts(organisation, subject);
        for item in self.tree.scan_prefix(&prefix) {
            let (key, value) = item.map_err(engine)?;
            let fact: Recorded<Fact> = decode(&key, &value)?;
            let Some(position) = &fact.position else {
                continue;
            };
            let entry =
                fact_history_entry(organisation, subject, &fact, position, &key, &mut blocks)?;
            let lower = entries
                .get(&fact.id)
                .is_none_or(|held| entry.position < held.position);
            if lower {
                entries.insert(fact.id, entry);
            }
        }
        let mut entries: Vec<HistoryEntry> = entries.into_values().collect();
        entries.sort_by_key(|entry| (entry.occurred_at, entry.event_id));
        Ok(entries)
    }

    /// An entry's position is in its value: no record is read. A fact's
    /// (the rest of a subject's history) is in its stored copy.
    fn history_position(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
        event: &EventId,
    ) -> Result<Option<EventPosition>, StoreError> {
        let key = keys::history(organisation, subject, event);
        if let Some(value) = self.tree.get(&key).map_err(engine)? {
            let position = value
                .get(keys::TIMESTAMP_LEN..)
                .ok_or_else(|| StoreError::Corrupt {
                    key: keys::display(&key),
                    reason: "a history value starts with an 8-byte timestamp".to_owned(),
                })?;
            return decode(&key, position).map(Some);
        }
        Ok(self
            .subject_fact(organisation, subject, *event)?
            .and_then(|fact| fact.position))
    }

    fn history_entry(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
        event: &EventId,
    ) -> Result<Option<HistoryEntry>, StoreError> {
        let mut blocks = BlockReader::new(&self.tree);
        let key = keys::history(organisation, subject, event);
        if let Some(value) = self.tree.get(&key).map_err(engine)? {
            return history_entry_from(organisation, subject, &key, &value, &mut blocks).map(Some);
        }
        let key = keys::subject_fact(organisation, subject, *event);
        let Some(value) = self.tree.get(&key).map_err(engine)? else {
            return Ok(None);
        };
        let fact: Recorded<Fact> = decode(&key, &value)?;
        match &fact.position {
            Some(position) => {
                fact_history_entry(organisation, subject, &fact, position, &key, &mut blocks)
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    /// Subjects with a fact or a history-only entry: one seek per subject
    /// and kind of key (after a subject's first key, jump past the rest).
    fn subjects_of(&self, organisation: &OrganisationId) -> Result<Vec<SubjectId>, StoreError> {
        let mut subjects = BTreeSet::new();
        for tag in [keys::SUBJECT, keys::HISTORY] {
            let prefix = keys::organisation_subjects(tag, organisation);
            let mut from = prefix.clone();
            while let Some(item) = self.tree.range(from.as_slice()..).next() {
                let (key, _) = item.map_err(engine)?;
                if !key.starts_with(&prefix) {
                    break;
                }
                let subject = key
                    .get(prefix.len()..)
                    .and_then(keys::subject_of)
                    .ok_or_else(|| StoreError::Corrupt {
                        key: keys::display(&key),
                        reason: "a subject's key names its subject".to_owned(),
                    })?;
                from = keys::after_subject(tag, organisation, &subject);
                subjects.insert(subject);
            }
        }
        Ok(subjects.into_iter().collect())
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

    /// One exact-key lookup, where [`ViewStore::subjects_by_contact`] scans
    /// every subject of the contact point (a shared address may have many).
    fn contact_recorded(
        &self,
        contact: &ContactPoint,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<bool, StoreError> {
        self.tree
            .contains_key(keys::contact(contact, organisation, subject))
            .map_err(engine)
    }

    fn offsets(&self) -> Result<Option<StoredOffsets>, StoreError> {
        self.get_decoded(&keys::offsets())
    }

    fn merkle_node(
        &self,
        partition: &TopicPartition,
        address: NodeAddress,
    ) -> Result<Option<Hash>, StoreError> {
        if address.level < keys::LOWEST_STORED_LEVEL {
            return BlockReader::new(&self.tree).subtree_root(partition, address);
        }
        let (key, slot) = keys::merkle_chunk(partition, address);
        let Some(stored) = self.tree.get(&key).map_err(engine)? else {
            return Ok(None);
        };
        Ok(NodeChunk::decode(&key, &stored)?.get(slot))
    }

    fn merkle_frontier(&self, partition: &TopicPartition) -> Result<Option<Frontier>, StoreError> {
        self.get_decoded(&keys::merkle_frontier(partition))
    }

    fn apply(&self, batch: ViewBatch) -> Result<(), StoreError> {
        let _writer = self.write_lock();
        let mut writes = sled::Batch::default();
        // One write per fact added or replaced; the cached states of the
        // subjects they belong to are forgotten once written.
        let mut subjects = BTreeSet::new();
        for ((organisation, subject), fact) in &batch.subject_facts {
            writes.insert(
                keys::subject_fact(organisation, subject, fact.id),
                encode(fact)?,
            );
            subjects.insert(keys::subject_facts(organisation, subject));
        }
        let mut organisations = Vec::with_capacity(batch.organisations.len());
        for (organisation, state) in &batch.organisations {
            let key = keys::organisation(organisation);
            let (value, size) = state_codec::encode(state)?;
            organisations.push((key.clone(), size));
            writes.insert(key, value);
        }
        let mut addresses = Vec::with_capacity(batch.addresses.len());
        for ((organisation, address), state) in &batch.addresses {
            let key = keys::address(organisation, address);
            let (value, size) = state_codec::encode(state)?;
            addresses.push((key.clone(), size));
            writes.insert(key, value);
        }
        // Each record once, written once; history entries and the lowest
        // tree levels read it from its block.
        for run in &batch.records {
            let mut offset = run.first_offset;
            for payloads in run.payloads.chunks(keys::RECORDS_PER_BLOCK) {
                let block = RecordBlock::of(payloads.to_vec());
                writes.insert(keys::record_block(&run.partition, offset), block.encode()?);
                offset += payloads.len() as u64;
            }
        }
        // History-only entries (a subject's facts are the rest of its
        // history), keyed by event id: a later entry of the same event
        // replaces it.
        for entry in &batch.history {
            let key = keys::history(&entry.organisation, &entry.subject, &entry.event_id);
            writes.insert(key, history_value(entry)?);
        }
        for (contact, organisation, subject) in &batch.contacts {
            writes.insert(keys::contact(contact, organisation, subject), &[][..]);
        }
        // One read and one write per chunk the batch adds nodes to.
        let mut chunks: HashMap<Vec<u8>, Vec<(u32, &Hash)>> = HashMap::new();
        let stored_nodes = batch
            .merkle_nodes
            .iter()
            .filter(|(_, address, _)| address.level >= keys::LOWEST_STORED_LEVEL);
        for (partition, address, hash) in stored_nodes {
            let (key, slot) = keys::merkle_chunk(partition, *address);
            chunks.entry(key).or_default().push((slot, hash));
        }
        for (key, nodes) in chunks {
            let mut chunk = match self.tree.get(&key).map_err(engine)? {
                Some(stored) => NodeChunk::decode(&key, &stored)?,
                None => NodeChunk::default(),
            };
            for (slot, hash) in nodes {
                chunk.set(slot, hash);
            }
            writes.insert(key, chunk.encode());
        }
        for (partition, frontier) in &batch.merkle_frontiers {
            writes.insert(keys::merkle_frontier(partition), encode(frontier)?);
        }
        writes.insert(keys::offsets(), encode(&batch.offsets)?);
        let applied = self.tree.apply_batch(writes).map_err(engine);
        for key in subjects {
            self.subjects.written(&key, None);
        }
        let states = batch.organisations.into_iter().map(|(_, state)| state);
        refresh(&self.organisations, organisations, states, applied.is_ok());
        let states = batch.addresses.into_iter().map(|(_, state)| state);
        refresh(&self.addresses, addresses, states, applied.is_ok());
        applied
    }

    /// Removes the offsets first, and makes that durable, before removing
    /// anything else: a crash in the middle of a clear leaves an
    /// uninitialised view (which the projector clears again before
    /// rebuilding), never offsets over partial data.
    fn clear(&self) -> Result<(), StoreError> {
        let _writer = self.write_lock();
        self.reset_caches();
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
        self.reset_caches();
        self.db.flush().map_err(engine)?;
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(engine)
    }
}

/// How long [`SledStore::open`] waits for a just-dropped handle's lock.
pub const LOCK_RETRY_FOR: Duration = Duration::from_secs(3);

fn open_db(path: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
    let started = Instant::now();
    loop {
        match sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            .open()
        {
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

/// Tells `cache` about the states a batch wrote (`keys` with their encoded
/// sizes, in the order of `states`): the new values if the batch was
/// applied, unknown if it was not.
fn refresh<V>(
    cache: &StateCache<V>,
    keys: Vec<(Vec<u8>, usize)>,
    states: impl Iterator<Item = V>,
    applied: bool,
) {
    for ((key, bytes), state) in keys.into_iter().zip(states) {
        cache.written(&key, applied.then_some((state, bytes)));
    }
}

fn engine(error: sled::Error) -> StoreError {
    StoreError::Engine(error.to_string())
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    postcard::to_stdvec(value)
        .map_err(|error| StoreError::Engine(format!("encoding failed: {error}")))
}

/// The stored value of a history entry: `occurred_at(8)`, then postcard of
/// the position (the rest is in its key; its bytes are in its record's
/// block).
fn history_value(entry: &HistoryEntry) -> Result<Vec<u8>, StoreError> {
    let mut value = keys::encode_timestamp(entry.occurred_at).to_vec();
    postcard::to_io(&entry.position, &mut value)
        .map_err(|error| StoreError::Engine(format!("encoding failed: {error}")))?;
    Ok(value)
}

/// A history entry from its key (`... event_id(16)`), its value
/// (`occurred_at(8)`, then postcard of the position) and its record.
fn history_entry_from(
    organisation: &OrganisationId,
    subject: &SubjectId,
    key: &[u8],
    value: &[u8],
    blocks: &mut BlockReader<'_>,
) -> Result<HistoryEntry, StoreError> {
    let id = key
        .len()
        .checked_sub(keys::EVENT_ID_LEN)
        .and_then(|start| key.get(start..))
        .ok_or_else(|| StoreError::Corrupt {
            key: keys::display(key),
            reason: "a history key ends with an event id".to_owned(),
        })?;
    let (at, value) =
        value
            .split_at_checked(keys::TIMESTAMP_LEN)
            .ok_or_else(|| StoreError::Corrupt {
                key: keys::display(key),
                reason: "a history value starts with an 8-byte timestamp".to_owned(),
            })?;
    let occurred_at = keys::decode_timestamp(at).ok_or_else(|| StoreError::Corrupt {
        key: keys::display(key),
        reason: "a history value starts with an 8-byte timestamp".to_owned(),
    })?;
    let event_id = uuid::Uuid::from_slice(id).map_err(|error| StoreError::Corrupt {
        key: keys::display(key),
        reason: format!("a history key's event id: {error}"),
    })?;
    let position: EventPosition = decode(key, value)?;
    let stored_bytes = blocks
        .record_at(&position)?
        .ok_or_else(|| StoreError::Corrupt {
            key: keys::display(key),
            reason: format!("the view holds no record at the entry's position {position}"),
        })?;
    Ok(HistoryEntry {
        organisation: organisation.clone(),
        subject: subject.clone(),
        occurred_at,
        event_id: EventId(event_id),
        position,
        stored_bytes,
    })
}

/// The history entry of a subject's fact (stored at `key`), with the bytes
/// of its record at `position`.
fn fact_history_entry(
    organisation: &OrganisationId,
    subject: &SubjectId,
    fact: &Recorded<Fact>,
    position: &EventPosition,
    key: &[u8],
    blocks: &mut BlockReader<'_>,
) -> Result<HistoryEntry, StoreError> {
    let stored_bytes = blocks
        .record_at(position)?
        .ok_or_else(|| StoreError::Corrupt {
            key: keys::display(key),
            reason: format!(
                "the view holds no record at the position of fact {}: {position}",
                fact.id
            ),
        })?;
    Ok(HistoryEntry::of_fact(
        organisation,
        subject,
        fact,
        position,
        stored_bytes,
    ))
}

/// Reads records from their blocks, keeping the last block read (a
/// subject's history is in one partition, mostly in few blocks).
struct BlockReader<'t> {
    tree: &'t sled::Tree,
    /// The last block read: its partition, first offset and records.
    last: Option<(TopicPartition, u64, RecordBlock)>,
}

impl<'t> BlockReader<'t> {
    fn new(tree: &'t sled::Tree) -> Self {
        Self { tree, last: None }
    }

    /// The stored bytes of the record at `offset` of `partition`.
    fn record(
        &mut self,
        partition: &TopicPartition,
        offset: u64,
    ) -> Result<Option<&[u8]>, StoreError> {
        let held = self.last.as_ref().is_some_and(|(p, first, block)| {
            p == partition && *first <= offset && offset - first < block.len() as u64
        });
        if !held {
            let prefix = keys::record_blocks(partition);
            let at = keys::record_block(partition, offset);
            let Some(item) = self
                .tree
                .range(prefix.as_slice()..=at.as_slice())
                .next_back()
            else {
                return Ok(None);
            };
            let (key, stored) = item.map_err(engine)?;
            let first = key
                .get(prefix.len()..)
                .and_then(keys::record_block_offset)
                .ok_or_else(|| StoreError::Corrupt {
                    key: keys::display(&key),
                    reason: "a record block's key ends with its first offset".to_owned(),
                })?;
            let block = RecordBlock::decode(&key, &stored)?;
            self.last = Some((partition.clone(), first, block));
        }
        Ok(self.last.as_ref().and_then(|(_, first, block)| {
            let slot = usize::try_from(offset.checked_sub(*first)?).ok()?;
            block.get(slot)
        }))
    }

    /// The stored bytes of the record at `position`, copied.
    fn record_at(&mut self, position: &EventPosition) -> Result<Option<Vec<u8>>, StoreError> {
        let partition = TopicPartition::new(position.topic.clone(), position.partition);
        Ok(self
            .record(&partition, position.offset)?
            .map(<[u8]>::to_vec))
    }

    /// The hash of the tree node at `address`, below the stored levels,
    /// from the records it covers; `None` unless the view holds them all.
    fn subtree_root(
        &mut self,
        partition: &TopicPartition,
        address: NodeAddress,
    ) -> Result<Option<Hash>, StoreError> {
        let width = 1u64 << address.level;
        let Some(first) = address.index.checked_mul(width) else {
            return Ok(None);
        };
        let mut level = Vec::new();
        for offset in first..first.saturating_add(width) {
            let position =
                consent_log::LogPosition::new(partition.topic.clone(), partition.partition, offset);
            let Some(payload) = self.record(partition, offset)? else {
                return Ok(None);
            };
            let leaf = consent_evidence::record_leaf_hash(&position, payload).map_err(|error| {
                StoreError::Corrupt {
                    key: keys::display(&keys::record_block(partition, offset)),
                    reason: format!("the record at {position} cannot be a leaf: {error}"),
                }
            })?;
            level.push(leaf);
        }
        while level.len() > 1 {
            level = level
                .chunks_exact(2)
                .map(|pair| merkle::node_hash(&pair[0], &pair[1]))
                .collect();
        }
        Ok(level.pop())
    }
}

/// One stored chunk of a tree level: up to [`keys::MERKLE_CHUNK`] nodes.
#[derive(Default)]
struct NodeChunk {
    slots: [Option<Hash>; keys::MERKLE_CHUNK_SLOTS],
}

impl NodeChunk {
    /// `present(2)` (bit `i` = slot `i`), then the present hashes in slot
    /// order.
    fn decode(key: &[u8], bytes: &[u8]) -> Result<NodeChunk, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            key: keys::display(key),
            reason,
        };
        let (present, hashes) = bytes
            .split_first_chunk::<2>()
            .ok_or_else(|| corrupt("a tree chunk starts with a 2-byte bitmap".to_owned()))?;
        let present = u16::from_be_bytes(*present);
        let count = present.count_ones() as usize;
        if hashes.len() != count * HASH_LEN {
            return Err(corrupt(format!(
                "a tree chunk with {count} nodes has {} bytes of hashes, expected {}",
                hashes.len(),
                count * HASH_LEN
            )));
        }
        let mut chunk = NodeChunk::default();
        let mut hashes = hashes.chunks_exact(HASH_LEN);
        for (slot, node) in chunk.slots.iter_mut().enumerate() {
            if present & (1 << slot) != 0 {
                let bytes: [u8; HASH_LEN] = hashes
                    .next()
                    .and_then(|hash| hash.try_into().ok())
                    .ok_or_else(|| corrupt("a tree chunk is short of a hash".to_owned()))?;
                *node = Some(Hash::from_bytes(bytes));
            }
        }
        Ok(chunk)
    }

    fn get(&self, slot: u32) -> Option<Hash> {
        self.slots.get(slot as usize).copied().flatten()
    }

    fn set(&mut self, slot: u32, hash: &Hash) {
        if let Some(node) = self.slots.get_mut(slot as usize) {
            *node = Some(*hash);
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut present = 0u16;
        let mut bytes = vec![0, 0];
        for (slot, node) in self.slots.iter().enumerate() {
            if let Some(hash) = node {
                present |= 1 << slot;
                bytes.extend_from_slice(hash.as_bytes());
            }
        }
        bytes[..2].copy_from_slice(&present.to_be_bytes());
        bytes
    }
}

fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    postcard::from_bytes(bytes).map_err(|error| StoreError::Corrupt {
        key: keys::display(key),
        reason: error.to_string(),
    })
}
