//! The two operations, each one transaction on the worker's connection.

use crate::schema::{backend, describe};
use consent_domain::{EventId, OrganisationId, SubjectId};
use consent_sealing::{
    Digest, KeyState, KeyStoreError, Prepared, SealingBatch, SubjectKey, SubjectOf,
    SUBJECT_KEY_BYTES,
};
use std::collections::BTreeSet;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Transaction};

/// How often a transaction that lost a deadlock or a serialization
/// conflict to another instance is tried again.
const ATTEMPTS: usize = 5;

/// [`consent_sealing::SubjectKeyStore::prepare`] in one transaction,
/// retried when PostgreSQL aborted it for a deadlock with another instance.
///
/// Each subject of the batch is taken in sorted order (so two instances
/// lock rows in one order) and its row locked before its digests are
/// recorded: an erasure and a seal of one subject on two instances are
/// serialised, and the erasure's suppressions hold every digest recorded
/// before it.
pub(crate) async fn prepare(
    client: &mut Client,
    batch: &SealingBatch,
) -> Result<Prepared, KeyStoreError> {
    let mut attempt = 1;
    loop {
        match prepare_once(client, batch).await {
            Ok(prepared) => return Ok(prepared),
            Err(Failure::Retry(error)) if attempt < ATTEMPTS => {
                tracing::info!(error = %describe(&error), attempt, "subject key transaction conflicted with another instance; retrying");
                attempt += 1;
            }
            Err(Failure::Retry(error)) => return Err(backend(error)),
            Err(Failure::Fatal(error)) => return Err(error),
        }
    }
}

enum Failure {
    Retry(tokio_postgres::Error),
    Fatal(KeyStoreError),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(error: tokio_postgres::Error) -> Self {
        let retry = matches!(
            error.code(),
            Some(code) if *code == SqlState::T_R_DEADLOCK_DETECTED
                || *code == SqlState::T_R_SERIALIZATION_FAILURE
        );
        if retry {
            Failure::Retry(error)
        } else {
            Failure::Fatal(backend(error))
        }
    }
}

impl From<KeyStoreError> for Failure {
    fn from(error: KeyStoreError) -> Self {
        Failure::Fatal(error)
    }
}

async fn prepare_once(client: &mut Client, batch: &SealingBatch) -> Result<Prepared, Failure> {
    let tx = client.transaction().await?;
    let subjects: BTreeSet<&SubjectOf> =
        batch.digests.keys().chain(batch.erasures.keys()).collect();
    let mut prepared = Prepared::default();
    for who in subjects {
        let (organisation, subject) = (who.0.as_str(), who.1.as_str());
        let key = match batch.erasures.get(who) {
            Some(erasure) => {
                // Locks the row (waiting for another instance's seal of
                // the subject to commit), destroys the key, keeps the
                // first erasure's id.
                tx.execute(
                    "INSERT INTO consent_subject_key (organisation, subject, key, erasure)
                     VALUES ($1, $2, NULL, $3)
                     ON CONFLICT (organisation, subject) DO UPDATE
                     SET key = NULL, erasure = COALESCE(consent_subject_key.erasure, EXCLUDED.erasure)",
                    &[&organisation, &subject, &erasure.to_string()],
                )
                .await?;
                None
            }
            None => {
                let candidate =
                    SubjectKey::generate().map_err(|e| KeyStoreError::Backend(e.to_string()))?;
                tx.execute(
                    "INSERT INTO consent_subject_key (organisation, subject, key, erasure)
                     VALUES ($1, $2, $3, NULL)
                     ON CONFLICT (organisation, subject) DO NOTHING",
                    &[&organisation, &subject, &candidate.as_bytes().as_slice()],
                )
                .await?;
                // Whoever created the row, its key (or its erasure) now,
                // locked until commit.
                let row = tx
                    .query_one(
                        "SELECT key FROM consent_subject_key
                         WHERE organisation = $1 AND subject = $2 FOR UPDATE",
                        &[&organisation, &subject],
                    )
                    .await?;
                row.get::<_, Option<Vec<u8>>>(0)
                    .map(|bytes| subject_key(who, &bytes))
                    .transpose()?
            }
        };
        if let Some(digests) = batch.digests.get(who) {
            let digests: Vec<&[u8]> = digests.iter().map(|d| d.as_slice()).collect();
            tx.execute(
                "INSERT INTO consent_sealed_digest (organisation, subject, digest)
                 SELECT $1, $2, unnest($3::bytea[])
                 ON CONFLICT DO NOTHING",
                &[&organisation, &subject, &digests],
            )
            .await?;
            prepared.keys.insert(who.clone(), key);
        }
        if batch.erasures.contains_key(who) {
            prepared
                .suppressed
                .insert(who.clone(), digests_of(&tx, who).await?);
        }
    }
    tx.commit().await?;
    Ok(prepared)
}

/// [`consent_sealing::SubjectKeyStore::key`].
pub(crate) async fn key(
    client: &Client,
    organisation: &OrganisationId,
    subject: &SubjectId,
) -> Result<KeyState, KeyStoreError> {
    let row = client
        .query_opt(
            "SELECT key, erasure FROM consent_subject_key WHERE organisation = $1 AND subject = $2",
            &[&organisation.as_str(), &subject.as_str()],
        )
        .await
        .map_err(backend)?;
    let Some(row) = row else {
        return Ok(KeyState::Unknown);
    };
    let who = (organisation.clone(), subject.clone());
    match (
        row.get::<_, Option<Vec<u8>>>(0),
        row.get::<_, Option<String>>(1),
    ) {
        (_, Some(erasure)) => Ok(KeyState::Erased {
            erasure: erasure_id(&who, &erasure)?,
        }),
        (Some(bytes), None) => Ok(KeyState::Live(subject_key(&who, &bytes)?)),
        (None, None) => Err(KeyStoreError::Corrupt(format!(
            "{}/{} has neither a key nor an erasure",
            who.0, who.1
        ))),
    }
}

async fn digests_of(
    client: &Transaction<'_>,
    who: &SubjectOf,
) -> Result<BTreeSet<Digest>, Failure> {
    let rows = client
        .query(
            "SELECT digest FROM consent_sealed_digest WHERE organisation = $1 AND subject = $2",
            &[&who.0.as_str(), &who.1.as_str()],
        )
        .await?;
    let mut digests = BTreeSet::new();
    for row in rows {
        let bytes: Vec<u8> = row.get(0);
        let digest = Digest::try_from(bytes.as_slice()).map_err(|_| {
            KeyStoreError::Corrupt(format!(
                "a digest of {}/{} is {} bytes, not 32",
                who.0,
                who.1,
                bytes.len()
            ))
        })?;
        digests.insert(digest);
    }
    Ok(digests)
}

fn subject_key(who: &SubjectOf, bytes: &[u8]) -> Result<SubjectKey, KeyStoreError> {
    <[u8; SUBJECT_KEY_BYTES]>::try_from(bytes)
        .map(SubjectKey::from_bytes)
        .map_err(|_| {
            KeyStoreError::Corrupt(format!(
                "the key of {}/{} is {} bytes, not {SUBJECT_KEY_BYTES}",
                who.0,
                who.1,
                bytes.len()
            ))
        })
}

fn erasure_id(who: &SubjectOf, text: &str) -> Result<EventId, KeyStoreError> {
    uuid::Uuid::parse_str(text).map(EventId).map_err(|_| {
        KeyStoreError::Corrupt(format!(
            "the erasure of {}/{} is not an event id: {text:?}",
            who.0, who.1
        ))
    })
}
