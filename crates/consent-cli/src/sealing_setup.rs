//! Sealing for `serve` (docs/ERASURE.md): the contact-digest key
//! (`<data dir>/contact-digest.key`, mode 0600, generated on first start)
//! and the subject key store (`<data dir>/subject-keys.sqlite`). Both are
//! outside the log and outside the rebuildable view: back them up (the
//! digest key like the checkpoint key; the key store on the retention of
//! erasure).

use anyhow::Context;
use consent_keystore_sqlite::SqliteKeyStore;
use consent_sealing::{ContactDigestKey, Sealer, CONTACT_DIGEST_KEY_BYTES};
use consent_secret_file::{read_secret, write_new_secret};
use std::path::Path;
use std::sync::Arc;
use zeroize::Zeroizing;

/// The digest key file's name in the data directory.
pub const DIGEST_KEY_FILE: &str = "contact-digest.key";

/// Opens the key store and loads (or, on first start, creates) the digest
/// key under `data_dir`.
pub fn open_sealer(data_dir: &Path) -> anyhow::Result<Sealer> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let key_path = data_dir.join(DIGEST_KEY_FILE);
    let digest_key = if key_path.exists() {
        load_digest_key(&key_path)?
    } else {
        let mut bytes = Zeroizing::new([0u8; CONTACT_DIGEST_KEY_BYTES]);
        getrandom::fill(bytes.as_mut_slice())
            .map_err(|e| anyhow::anyhow!("no random bytes from the operating system: {e}"))?;
        write_new_secret(&key_path, &Zeroizing::new(hex::encode(bytes.as_slice())))
            .with_context(|| format!("cannot create {}", key_path.display()))?;
        tracing::warn!(key_file = %key_path.display(), "no contact-digest key: generated one (back it up: suppression compares digests made with it)");
        ContactDigestKey::from_bytes(*bytes)
    };
    let store_path = data_dir.join(consent_keystore_sqlite::FILE_NAME);
    let keys = SqliteKeyStore::open(&store_path)
        .with_context(|| format!("cannot open the subject key store {}", store_path.display()))?;
    tracing::info!(key_store = %store_path.display(), "contact values are sealed; erasure destroys subject keys");
    Ok(Sealer::new(digest_key, Arc::new(keys)))
}

fn load_digest_key(path: &Path) -> anyhow::Result<ContactDigestKey> {
    let text = read_secret(path, 1024).with_context(|| format!("cannot use {}", path.display()))?;
    let bytes = Zeroizing::new(hex::decode(text.trim()).ok().unwrap_or_default());
    let bytes: [u8; CONTACT_DIGEST_KEY_BYTES] = bytes.as_slice().try_into().map_err(|_| {
        anyhow::anyhow!(
            "{} does not hold a contact-digest key: expected one line of {} hex digits",
            path.display(),
            CONTACT_DIGEST_KEY_BYTES * 2
        )
    })?;
    Ok(ContactDigestKey::from_bytes(bytes))
}
