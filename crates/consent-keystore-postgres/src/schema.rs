//! The tables, created on first connect by whichever instance gets there
//! first (an advisory lock keeps two first starts from racing), and the
//! layout version every later connect checks.

use consent_sealing::KeyStoreError;

/// The layout version this code reads and writes.
pub const FORMAT_VERSION: i32 = 1;

/// The advisory lock taken while creating the tables (an arbitrary
/// constant: "consent" in ASCII).
const MIGRATION_LOCK: i64 = 0x0063_6f6e_7365_6e74;

const CREATE: &str = "
CREATE TABLE IF NOT EXISTS consent_keystore_format (
    singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS consent_subject_key (
    organisation TEXT NOT NULL,
    subject TEXT NOT NULL,
    key BYTEA CHECK (octet_length(key) = 32),
    erasure TEXT,
    PRIMARY KEY (organisation, subject),
    CHECK ((key IS NULL) <> (erasure IS NULL))
);
CREATE TABLE IF NOT EXISTS consent_sealed_digest (
    organisation TEXT NOT NULL,
    subject TEXT NOT NULL,
    digest BYTEA NOT NULL CHECK (octet_length(digest) = 32),
    PRIMARY KEY (organisation, subject, digest)
);
";

/// Creates the tables when absent and checks the layout version.
pub(crate) async fn migrate(client: &mut tokio_postgres::Client) -> Result<(), KeyStoreError> {
    let tx = client.transaction().await.map_err(backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(backend)?;
    tx.batch_execute(CREATE).await.map_err(backend)?;
    tx.execute(
        "INSERT INTO consent_keystore_format (version) VALUES ($1) ON CONFLICT DO NOTHING",
        &[&FORMAT_VERSION],
    )
    .await
    .map_err(backend)?;
    let version: i32 = tx
        .query_one("SELECT version FROM consent_keystore_format", &[])
        .await
        .map_err(backend)?
        .get(0);
    tx.commit().await.map_err(backend)?;
    if version != FORMAT_VERSION {
        return Err(KeyStoreError::Corrupt(format!(
            "the subject key tables have layout version {version}; this ledger reads version {FORMAT_VERSION}"
        )));
    }
    Ok(())
}

pub(crate) fn backend(error: tokio_postgres::Error) -> KeyStoreError {
    KeyStoreError::Backend(describe(&error))
}

/// The error with its database message, when there is one (the plain
/// `Display` of a server error is just "db error").
pub(crate) fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("PostgreSQL: {} ({})", db.message(), db.code().code()),
        None => match std::error::Error::source(error) {
            Some(source) => format!("PostgreSQL: {error}: {source}"),
            None => format!("PostgreSQL: {error}"),
        },
    }
}
