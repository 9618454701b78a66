//! The subject key store ([`SubjectKeyStore`]) on PostgreSQL, shared by
//! every instance of one ledger (docs/ERASURE.md, "Several instances").
//!
//! With a key store per instance (the SQLite file), a subject's key lives
//! only on the instance that sealed its values, so an erasure on another
//! instance would leave it alive there. One database that every instance
//! uses holds one key per subject: any instance may seal, and an erasure
//! destroys the key for all of them at once.
//!
//! Tables (in the connection's `search_path`; see [`schema`]):
//!
//! ```text
//! consent_keystore_format(version)                      layout version, 1 row
//! consent_subject_key(organisation, subject) -> key | erasure
//!                                                       one row per subject: a live key, or the
//!                                                       erasure that destroyed it (never both)
//! consent_sealed_digest(organisation, subject, digest)  the suppression list's source
//! ```
//!
//! A subject's state is one row, so two instances preparing at once are
//! serialised by that row's lock: a new subject's key is created by
//! `INSERT ... ON CONFLICT DO NOTHING` and read back `FOR UPDATE` (the
//! winner's key, for both), and an erasure is an upsert that nulls the key
//! and keeps the first erasure id. Subjects are locked in one order (the
//! batch's sorted order), and a deadlock or serialization failure is
//! retried; see [`prepare`](store::prepare).
//!
//! The trait is synchronous (the sealer is pure and SQLite is synchronous),
//! and it is called from async code. The store therefore runs the async
//! `tokio-postgres` client on a thread of its own, with its own
//! single-threaded runtime, and each call waits for that thread's answer on
//! a channel ([`worker`]): a call never starts a runtime inside the
//! caller's, whatever thread it comes from.

mod schema;
mod store;
mod worker;

#[cfg(feature = "test-support")]
pub mod test_support;

use consent_domain::{OrganisationId, SubjectId};
use consent_sealing::{KeyState, KeyStoreError, Prepared, SealingBatch, SubjectKeyStore};
use std::time::Duration;

pub use schema::FORMAT_VERSION;

/// How to reach the database: a `postgres://` URL (or key=value string),
/// and the password when the URL does not hold it (it should not: a URL
/// on a command line is visible in `ps`).
#[derive(Clone)]
pub struct ConnectSettings {
    pub url: String,
    pub password: Option<String>,
    /// Bound on connecting, and on each call's answer.
    pub timeout: Duration,
}

impl ConnectSettings {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            password: None,
            timeout: Duration::from_secs(10),
        }
    }

    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// The URL with any password in it replaced by `***`, for messages.
    pub fn redacted_url(&self) -> String {
        redact(&self.url)
    }

    fn config(&self) -> Result<tokio_postgres::Config, KeyStoreError> {
        let mut config: tokio_postgres::Config = self.url.parse().map_err(|error| {
            KeyStoreError::Backend(format!(
                "{} is not a PostgreSQL connection string: {error}",
                self.redacted_url()
            ))
        })?;
        if let Some(password) = &self.password {
            config.password(password.as_bytes());
        }
        config.connect_timeout(self.timeout);
        if config.get_application_name().is_none() {
            config.application_name("consent-ledger");
        }
        Ok(config)
    }
}

impl std::fmt::Debug for ConnectSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectSettings")
            .field("url", &self.redacted_url())
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// `postgres://user:secret@host/db` as `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Subject keys in a PostgreSQL database every instance shares.
pub struct PostgresKeyStore {
    worker: worker::Worker,
    timeout: Duration,
}

impl PostgresKeyStore {
    /// Connects, creates the tables when absent (or checks their layout
    /// version), and keeps the connection on a thread of its own. Fails
    /// when the database cannot be reached or logged into within the
    /// settings' timeout.
    pub fn connect(settings: &ConnectSettings) -> Result<Self, KeyStoreError> {
        let config = settings.config()?;
        let worker = worker::Worker::start(config, settings.redacted_url(), settings.timeout)?;
        Ok(Self {
            worker,
            timeout: settings.timeout,
        })
    }
}

impl SubjectKeyStore for PostgresKeyStore {
    fn prepare(&self, batch: &SealingBatch) -> Result<Prepared, KeyStoreError> {
        self.worker
            .call(worker::What::Prepare(batch.clone()), self.timeout)
            .and_then(worker::Answer::into_prepared)
    }

    fn key(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> Result<KeyState, KeyStoreError> {
        self.worker
            .call(
                worker::What::Key(organisation.clone(), subject.clone()),
                self.timeout,
            )
            .and_then(worker::Answer::into_key)
    }

    fn is_shared(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_the_url_is_never_shown() {
        assert_eq!(
            redact("postgres://consent:s3cret@db.internal:5432/ledger"),
            "postgres://consent:***@db.internal:5432/ledger"
        );
        assert_eq!(
            redact("postgres://consent@db.internal/ledger"),
            "postgres://consent@db.internal/ledger"
        );
        let settings = ConnectSettings::new("postgres://u:pw@h/d").password("other");
        let shown = format!("{settings:?}");
        assert!(
            !shown.contains("pw@") && !shown.contains("other"),
            "{shown}"
        );
    }
}
