//! Where subject keys live: the one piece of ledger state outside the log.

use crate::subject_key::SubjectKey;
use consent_domain::{EventId, OrganisationId, SubjectId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use thiserror::Error;

/// A subject of an organisation.
pub type SubjectOf = (OrganisationId, SubjectId);

/// A contact digest (HMAC-SHA256).
pub type Digest = [u8; 32];

#[derive(Debug, Error)]
pub enum KeyStoreError {
    #[error("the subject key store cannot be used: {0}")]
    Backend(String),
    #[error("the subject key store is damaged: {0}")]
    Corrupt(String),
}

/// A subject's key, as the store knows it.
#[derive(Clone, Debug)]
pub enum KeyState {
    Live(SubjectKey),
    /// Destroyed by this erasure request.
    Erased {
        erasure: EventId,
    },
    /// Nothing was ever sealed for the subject.
    Unknown,
}

/// What one append asks of the key store, in one transaction.
#[derive(Clone, Debug, Default)]
pub struct SealingBatch {
    /// The digests each subject's events in the append carry.
    pub digests: BTreeMap<SubjectOf, BTreeSet<Digest>>,
    /// Subjects whose erasure the append records, with the erasure's id.
    pub erasures: BTreeMap<SubjectOf, EventId>,
}

/// The key store's answer to a [`SealingBatch`].
#[derive(Debug, Default)]
pub struct Prepared {
    /// The key to seal each subject's values under; `None` when the subject
    /// is erased (then only digests are stored).
    pub keys: BTreeMap<SubjectOf, Option<SubjectKey>>,
    /// For each erasure in the batch, every digest ever recorded for the
    /// subject: what goes on the suppression list.
    pub suppressed: BTreeMap<SubjectOf, BTreeSet<Digest>>,
}

/// Subject keys and the digests sealed for each subject.
///
/// Invariants an implementation keeps: a destroyed key is gone for good
/// (its bytes overwritten where the medium allows) and is never created
/// again for the same subject; [`SubjectKeyStore::prepare`] is atomic (all
/// of it or none) and durable when it returns.
pub trait SubjectKeyStore: Send + Sync {
    /// Records the digests, creates the keys of new subjects, destroys the
    /// keys of the erased ones, and answers with the keys to seal under and
    /// the digests to suppress. Retrying the same batch gives the same
    /// suppressions.
    fn prepare(&self, batch: &SealingBatch) -> Result<Prepared, KeyStoreError>;

    /// The subject's key, to read its sealed values back.
    fn key(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<KeyState, KeyStoreError>;

    /// Whether every instance of the ledger on the same log uses this one
    /// store (a shared database), so that any instance may seal and erase
    /// for any subject. `false` (the default) for a store private to one
    /// instance (the SQLite file, memory): then only the instance owning a
    /// subject's partition holds its key.
    fn is_shared(&self) -> bool {
        false
    }
}

/// A key store in memory: for tests and tools that must not persist keys.
/// A process restart destroys every key (every sealed value becomes
/// unreadable; decisions are unaffected).
#[derive(Debug, Default)]
pub struct MemoryKeyStore {
    inner: Mutex<MemoryKeys>,
}

#[derive(Debug, Default)]
struct MemoryKeys {
    keys: BTreeMap<SubjectOf, SubjectKey>,
    erased: BTreeMap<SubjectOf, EventId>,
    digests: BTreeMap<SubjectOf, BTreeSet<Digest>>,
}

impl SubjectKeyStore for MemoryKeyStore {
    fn prepare(&self, batch: &SealingBatch) -> Result<Prepared, KeyStoreError> {
        let mut keys = self
            .inner
            .lock()
            .map_err(|_| KeyStoreError::Backend("a thread panicked holding the keys".to_owned()))?;
        let keys = &mut *keys;
        // New keys first, into a scratch map: an error leaves nothing half done.
        let mut created = BTreeMap::new();
        for subject in batch.digests.keys() {
            let erased = keys.erased.contains_key(subject) || batch.erasures.contains_key(subject);
            if !erased && !keys.keys.contains_key(subject) {
                let key =
                    SubjectKey::generate().map_err(|e| KeyStoreError::Backend(e.to_string()))?;
                created.insert(subject.clone(), key);
            }
        }
        keys.keys.extend(created);
        for (subject, digests) in &batch.digests {
            keys.digests
                .entry(subject.clone())
                .or_default()
                .extend(digests.iter().copied());
        }
        let mut prepared = Prepared::default();
        for (subject, erasure) in &batch.erasures {
            keys.keys.remove(subject);
            keys.erased.entry(subject.clone()).or_insert(*erasure);
            prepared.suppressed.insert(
                subject.clone(),
                keys.digests.get(subject).cloned().unwrap_or_default(),
            );
        }
        for subject in batch.digests.keys() {
            prepared
                .keys
                .insert(subject.clone(), keys.keys.get(subject).cloned());
        }
        Ok(prepared)
    }

    fn key(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<KeyState, KeyStoreError> {
        let keys = self
            .inner
            .lock()
            .map_err(|_| KeyStoreError::Backend("a thread panicked holding the keys".to_owned()))?;
        let id = (organisation.clone(), subject.clone());
        Ok(match (keys.keys.get(&id), keys.erased.get(&id)) {
            (_, Some(erasure)) => KeyState::Erased { erasure: *erasure },
            (Some(key), None) => KeyState::Live(key.clone()),
            (None, None) => KeyState::Unknown,
        })
    }
}
