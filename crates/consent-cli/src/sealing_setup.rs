//! Sealing for `serve` (docs/ERASURE.md, docs/OPERATIONS.md "Keys"): the
//! contact-digest key and the subject key store.
//!
//! * The digest key: `--contact-digest-key PATH` /
//!   `CONSENT_CONTACT_DIGEST_KEY_FILE`, or the value in
//!   `CONSENT_CONTACT_DIGEST_KEY`, or `<data dir>/contact-digest.key`
//!   (mode 0600, generated on first start). Its fingerprint is recorded in
//!   the log on first use, and an instance whose key is not the log's
//!   refuses to start.
//! * The subject key store: `<data dir>/subject-keys.sqlite` (one
//!   instance), or the PostgreSQL database every instance shares
//!   (`--subject-key-store postgres://...`).
//!
//! Both are outside the log and outside the rebuildable view: back them
//! up (the digest key like the checkpoint key; the key store on the
//! retention of erasure).

use crate::key_source::{KeySource, CONTACT_DIGEST_KEY, SUBJECT_KEY_STORE_PASSWORD};
use anyhow::Context;
use consent_keystore_postgres::{ConnectSettings, PostgresKeyStore};
use consent_keystore_sqlite::SqliteKeyStore;
use consent_log::EventLog;
use consent_sealing::{ContactDigestKey, Sealer, SubjectKeyStore, CONTACT_DIGEST_KEY_BYTES};
use consent_secret_file::{read_secret, write_new_secret};
use consent_service::{settle_contact_digest_key, DigestKeyCheck, DigestKeyError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// The digest key file's name in the data directory.
pub const DIGEST_KEY_FILE: &str = "contact-digest.key";

/// How long reading the log's digest key record may stall.
const LOG_WAIT: Duration = Duration::from_secs(30);

/// The sealing settings of `serve`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct SealingArgs {
    /// The contact-digest key file (64 hex digits; every instance on one log must use the same key).
    /// Or the value itself in the environment variable CONSENT_CONTACT_DIGEST_KEY. Default:
    /// `<data dir>/contact-digest.key`, generated on first start; a file named here is never generated.
    #[arg(long, env = "CONSENT_CONTACT_DIGEST_KEY_FILE")]
    pub contact_digest_key: Option<PathBuf>,
    /// Where subject keys live: `sqlite` (`<data dir>/subject-keys.sqlite`, one instance) or a PostgreSQL
    /// URL every instance shares (postgres://USER@HOST:PORT/DB, no password in it: give the password in
    /// CONSENT_SUBJECT_KEY_STORE_PASSWORD or a file named by --subject-key-store-password-file).
    #[arg(long, env = "CONSENT_SUBJECT_KEY_STORE_URL")]
    pub subject_key_store: Option<String>,
    /// A file holding the subject key store's database password (or the value itself in
    /// CONSENT_SUBJECT_KEY_STORE_PASSWORD).
    #[arg(long, env = "CONSENT_SUBJECT_KEY_STORE_PASSWORD_FILE")]
    pub subject_key_store_password_file: Option<PathBuf>,
}

/// Loads (or, by default, creates on first start) the digest key, checks
/// it against the log's, and opens the subject key store.
pub async fn open_sealer(
    args: &SealingArgs,
    data_dir: &Path,
    log: &dyn EventLog,
) -> anyhow::Result<Sealer> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let source = CONTACT_DIGEST_KEY.resolve(
        args.contact_digest_key.as_deref(),
        data_dir.join(DIGEST_KEY_FILE),
    )?;
    let digest_key = load_digest_key(&source)?;
    let setting = CONTACT_DIGEST_KEY.describe(&source);
    match settle_contact_digest_key(log, &digest_key.fingerprint(), LOG_WAIT).await {
        Ok(DigestKeyCheck::Matches(position)) => {
            tracing::info!(key = %setting, %position, "the contact-digest key is the log's");
        }
        Ok(DigestKeyCheck::Recorded(position)) => {
            tracing::info!(key = %setting, %position, "the log had no contact-digest key: recorded this key's fingerprint; every instance on this log must use this key");
        }
        Err(error @ DigestKeyError::Mismatch { .. }) => anyhow::bail!(
            "the contact-digest key from {setting} is not the one this log was sealed under: \
             {error}. Give every instance the same key ({} / {} / {}); a key of its own would \
             make digests that match nothing recorded before",
            CONTACT_DIGEST_KEY.flag,
            CONTACT_DIGEST_KEY.file_env,
            CONTACT_DIGEST_KEY.value_env
        ),
        Err(error) => return Err(error).context("checking the contact-digest key against the log"),
    }
    let keys = open_key_store(args, data_dir)?;
    Ok(Sealer::new(digest_key, keys))
}

/// The subject key store the settings name.
fn open_key_store(args: &SealingArgs, data_dir: &Path) -> anyhow::Result<Arc<dyn SubjectKeyStore>> {
    let named = args
        .subject_key_store
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "sqlite");
    let Some(url) = named else {
        anyhow::ensure!(
            args.subject_key_store_password_file.is_none(),
            "--subject-key-store-password-file is given, but the subject key store is the SQLite \
             file (set --subject-key-store / CONSENT_SUBJECT_KEY_STORE_URL to a postgres:// URL)"
        );
        let store_path = data_dir.join(consent_keystore_sqlite::FILE_NAME);
        let keys = SqliteKeyStore::open(&store_path).with_context(|| {
            format!("cannot open the subject key store {}", store_path.display())
        })?;
        tracing::info!(key_store = %store_path.display(), "contact values are sealed; erasure destroys subject keys (this instance's store)");
        return Ok(Arc::new(keys));
    };
    anyhow::ensure!(
        url.starts_with("postgres://") || url.starts_with("postgresql://"),
        "--subject-key-store (CONSENT_SUBJECT_KEY_STORE_URL) must be `sqlite` or a postgres:// URL"
    );
    let mut settings = ConnectSettings::new(url);
    let password = SUBJECT_KEY_STORE_PASSWORD.resolve(
        args.subject_key_store_password_file.as_deref(),
        PathBuf::new(),
    )?;
    match &password {
        KeySource::Value { text, .. } => settings = settings.password(text.trim()),
        KeySource::Named { path } => {
            let text = read_secret(path, 4096).with_context(|| {
                format!(
                    "cannot use {}",
                    SUBJECT_KEY_STORE_PASSWORD.describe(&password)
                )
            })?;
            settings = settings.password(text.trim_end_matches(['\n', '\r']));
        }
        KeySource::Default { .. } => {}
    }
    let shown = settings.redacted_url();
    let keys = PostgresKeyStore::connect(&settings).with_context(|| {
        format!(
            "cannot open the shared subject key store {shown} (--subject-key-store / \
             CONSENT_SUBJECT_KEY_STORE_URL; password from {} or {})",
            SUBJECT_KEY_STORE_PASSWORD.value_env, SUBJECT_KEY_STORE_PASSWORD.file_env
        )
    })?;
    tracing::info!(key_store = %shown, "contact values are sealed; subject keys are shared by every instance (any instance seals and erases)");
    Ok(Arc::new(keys))
}

/// The digest key from its source; the default file is generated when
/// absent (and only the default file).
fn load_digest_key(source: &KeySource) -> anyhow::Result<ContactDigestKey> {
    let text = match source {
        KeySource::Value { text, .. } => text.clone(),
        KeySource::Named { path } => read_secret(path, 1024)
            .with_context(|| format!("cannot use {}", CONTACT_DIGEST_KEY.describe(source)))?,
        KeySource::Default { path } if path.exists() => {
            read_secret(path, 1024).with_context(|| format!("cannot use {}", path.display()))?
        }
        KeySource::Default { path } => return generate_digest_key(path),
    };
    let bytes = Zeroizing::new(hex::decode(text.trim()).ok().unwrap_or_default());
    let bytes: [u8; CONTACT_DIGEST_KEY_BYTES] = bytes.as_slice().try_into().map_err(|_| {
        CONTACT_DIGEST_KEY.not_a_key(
            source,
            &format!("one line of {} hex digits", CONTACT_DIGEST_KEY_BYTES * 2),
        )
    })?;
    Ok(ContactDigestKey::from_bytes(bytes))
}

fn generate_digest_key(path: &Path) -> anyhow::Result<ContactDigestKey> {
    let mut bytes = Zeroizing::new([0u8; CONTACT_DIGEST_KEY_BYTES]);
    getrandom::fill(bytes.as_mut_slice())
        .map_err(|e| anyhow::anyhow!("no random bytes from the operating system: {e}"))?;
    write_new_secret(path, &Zeroizing::new(hex::encode(bytes.as_slice())))
        .with_context(|| format!("cannot create {}", path.display()))?;
    tracing::warn!(key_file = %path.display(), "no contact-digest key: generated one (back it up: suppression compares digests made with it; other instances on this log need the same key)");
    Ok(ContactDigestKey::from_bytes(*bytes))
}
