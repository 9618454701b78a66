//! The subject key store ([`SubjectKeyStore`]) in one SQLite file,
//! `<data dir>/subject-keys.sqlite` (docs/ERASURE.md).
//!
//! Why SQLite and not the sled view: the view is disposable (rebuilt from
//! the log whenever sled 0.34 loses or damages it), the keys are not: they
//! are the one piece of state the log cannot give back. SQLite gives
//! atomic, durable transactions (`synchronous = FULL`) and, with
//! `secure_delete = ON`, overwrites the bytes of a deleted key in the file
//! instead of leaving them in a free page. What SQLite cannot reach -
//! copies in the filesystem's or the device's own journals, backups of the
//! file - the operator covers by keeping the data directory on an encrypted
//! volume and the file's backups on the same retention as erasure
//! (docs/ERASURE.md, "Backups").
//!
//! Tables (`PRAGMA user_version` = [`FORMAT_VERSION`]):
//!
//! ```text
//! subject_key(organisation, subject) -> key (32 bytes)        live keys
//! erased_subject(organisation, subject) -> erasure event id   never keyed again
//! sealed_digest(organisation, subject, digest)                the suppression list's source
//! ```

use consent_domain::{EventId, OrganisationId, SubjectId};
use consent_sealing::{
    Digest, KeyState, KeyStoreError, Prepared, SealingBatch, SubjectKey, SubjectKeyStore,
    SUBJECT_KEY_BYTES,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;

/// The layout version this code reads and writes.
pub const FORMAT_VERSION: i64 = 1;

/// The file name inside the data directory.
pub const FILE_NAME: &str = "subject-keys.sqlite";

/// Subject keys in a SQLite file.
pub struct SqliteKeyStore {
    connection: Mutex<Connection>,
}

impl SqliteKeyStore {
    /// Opens (creating when absent, readable by the owner only) the key
    /// store at `path`.
    pub fn open(path: &Path) -> Result<Self, KeyStoreError> {
        let connection = Connection::open(path).map_err(backend)?;
        restrict_to_owner(path)?;
        connection
            .execute_batch(
                "PRAGMA secure_delete = ON;
                 PRAGMA journal_mode = DELETE;
                 PRAGMA synchronous = FULL;",
            )
            .map_err(backend)?;
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(backend)?;
        match version {
            0 => connection
                .execute_batch(&format!(
                    "BEGIN;
                     CREATE TABLE subject_key (
                         organisation TEXT NOT NULL, subject TEXT NOT NULL, key BLOB NOT NULL,
                         PRIMARY KEY (organisation, subject)) WITHOUT ROWID;
                     CREATE TABLE erased_subject (
                         organisation TEXT NOT NULL, subject TEXT NOT NULL, erasure TEXT NOT NULL,
                         PRIMARY KEY (organisation, subject)) WITHOUT ROWID;
                     CREATE TABLE sealed_digest (
                         organisation TEXT NOT NULL, subject TEXT NOT NULL, digest BLOB NOT NULL,
                         PRIMARY KEY (organisation, subject, digest)) WITHOUT ROWID;
                     PRAGMA user_version = {FORMAT_VERSION};
                     COMMIT;"
                ))
                .map_err(backend)?,
            FORMAT_VERSION => {}
            other => {
                return Err(KeyStoreError::Corrupt(format!(
                    "{} has layout version {other}; this ledger reads version {FORMAT_VERSION}",
                    path.display()
                )))
            }
        }
        Ok(Self {
            connection: Mutex::new(connection),
        })
    }

    fn connection(&self) -> Result<std::sync::MutexGuard<'_, Connection>, KeyStoreError> {
        self.connection.lock().map_err(|_| {
            KeyStoreError::Backend("a thread panicked holding the key store".to_owned())
        })
    }
}

impl SubjectKeyStore for SqliteKeyStore {
    fn prepare(&self, batch: &SealingBatch) -> Result<Prepared, KeyStoreError> {
        let mut connection = self.connection()?;
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        for ((organisation, subject), digests) in &batch.digests {
            for digest in digests {
                tx.execute(
                    "INSERT OR IGNORE INTO sealed_digest (organisation, subject, digest) VALUES (?1, ?2, ?3)",
                    params![organisation.as_str(), subject.as_str(), digest.as_slice()],
                )
                .map_err(backend)?;
            }
            let erased = batch
                .erasures
                .contains_key(&(organisation.clone(), subject.clone()))
                || erasure_of(&tx, organisation, subject)?.is_some();
            if !erased && key_of(&tx, organisation, subject)?.is_none() {
                let key =
                    SubjectKey::generate().map_err(|e| KeyStoreError::Backend(e.to_string()))?;
                tx.execute(
                    "INSERT INTO subject_key (organisation, subject, key) VALUES (?1, ?2, ?3)",
                    params![
                        organisation.as_str(),
                        subject.as_str(),
                        key.as_bytes().as_slice()
                    ],
                )
                .map_err(backend)?;
            }
        }
        let mut prepared = Prepared::default();
        for ((organisation, subject), erasure) in &batch.erasures {
            tx.execute(
                "DELETE FROM subject_key WHERE organisation = ?1 AND subject = ?2",
                params![organisation.as_str(), subject.as_str()],
            )
            .map_err(backend)?;
            tx.execute(
                "INSERT OR IGNORE INTO erased_subject (organisation, subject, erasure) VALUES (?1, ?2, ?3)",
                params![organisation.as_str(), subject.as_str(), erasure.to_string()],
            )
            .map_err(backend)?;
            prepared.suppressed.insert(
                (organisation.clone(), subject.clone()),
                digests_of(&tx, organisation, subject)?,
            );
        }
        for (organisation, subject) in batch.digests.keys() {
            prepared.keys.insert(
                (organisation.clone(), subject.clone()),
                key_of(&tx, organisation, subject)?,
            );
        }
        tx.commit().map_err(backend)?;
        Ok(prepared)
    }

    fn key(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<KeyState, KeyStoreError> {
        let connection = self.connection()?;
        if let Some(erasure) = erasure_of(&connection, organisation, subject)? {
            return Ok(KeyState::Erased { erasure });
        }
        Ok(match key_of(&connection, organisation, subject)? {
            Some(key) => KeyState::Live(key),
            None => KeyState::Unknown,
        })
    }
}

fn key_of(
    connection: &Connection,
    organisation: &OrganisationId,
    subject: &SubjectId,
) -> Result<Option<SubjectKey>, KeyStoreError> {
    let bytes: Option<Vec<u8>> = connection
        .query_row(
            "SELECT key FROM subject_key WHERE organisation = ?1 AND subject = ?2",
            params![organisation.as_str(), subject.as_str()],
            |row| row.get(0),
        )
        .optional()
        .map_err(backend)?;
    bytes
        .map(|bytes| {
            <[u8; SUBJECT_KEY_BYTES]>::try_from(bytes.as_slice())
                .map(SubjectKey::from_bytes)
                .map_err(|_| {
                    KeyStoreError::Corrupt(format!(
                        "the key of {organisation}/{subject} is {} bytes, not {SUBJECT_KEY_BYTES}",
                        bytes.len()
                    ))
                })
        })
        .transpose()
}

fn erasure_of(
    connection: &Connection,
    organisation: &OrganisationId,
    subject: &SubjectId,
) -> Result<Option<EventId>, KeyStoreError> {
    let text: Option<String> = connection
        .query_row(
            "SELECT erasure FROM erased_subject WHERE organisation = ?1 AND subject = ?2",
            params![organisation.as_str(), subject.as_str()],
            |row| row.get(0),
        )
        .optional()
        .map_err(backend)?;
    text.map(|text| {
        uuid::Uuid::parse_str(&text).map(EventId).map_err(|_| {
            KeyStoreError::Corrupt(format!(
                "the erasure of {organisation}/{subject} is not an event id: {text:?}"
            ))
        })
    })
    .transpose()
}

fn digests_of(
    connection: &Connection,
    organisation: &OrganisationId,
    subject: &SubjectId,
) -> Result<BTreeSet<Digest>, KeyStoreError> {
    let mut statement = connection
        .prepare("SELECT digest FROM sealed_digest WHERE organisation = ?1 AND subject = ?2")
        .map_err(backend)?;
    let rows = statement
        .query_map(params![organisation.as_str(), subject.as_str()], |row| {
            row.get::<_, Vec<u8>>(0)
        })
        .map_err(backend)?;
    let mut digests = BTreeSet::new();
    for row in rows {
        let bytes = row.map_err(backend)?;
        let digest = Digest::try_from(bytes.as_slice()).map_err(|_| {
            KeyStoreError::Corrupt(format!(
                "a digest of {organisation}/{subject} is {} bytes, not 32",
                bytes.len()
            ))
        })?;
        digests.insert(digest);
    }
    Ok(digests)
}

fn backend(error: rusqlite::Error) -> KeyStoreError {
    KeyStoreError::Backend(error.to_string())
}

#[cfg(unix)]
fn restrict_to_owner(path: &Path) -> Result<(), KeyStoreError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
        KeyStoreError::Backend(format!(
            "cannot restrict {} to its owner: {e}",
            path.display()
        ))
    })
}

#[cfg(not(unix))]
fn restrict_to_owner(_path: &Path) -> Result<(), KeyStoreError> {
    Ok(())
}
