//! The checkpoint key file: the only IO in this crate.
//!
//! The file holds one line, the signer's private key text
//! `PRIVATE+KEY+<origin>+<key id>+<base64(0x01 || 32-byte seed)>` (the
//! format of Go's `sumdb/note`, see [`crate::key`]). The seed comes from the
//! operating system's random source.
//!
//! * [`generate_key_file`] creates the file with mode 0600 and refuses to
//!   overwrite an existing one (a lost key cannot be recovered, a replaced
//!   key silently starts a new identity);
//! * [`load_key_file`] refuses a file that group or others can read or
//!   write (as ssh does), so a key that has leaked through permissions is
//!   noticed rather than used.
//!
//! Where the file lives and how keys rotate: see [`crate::key`].

use crate::key::{CheckpointSigner, KeyError};
use consent_secret_file::{read_secret, write_new_secret, SecretFileError};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Largest key file read; a real one is under 200 bytes.
const MAX_KEY_FILE_BYTES: u64 = 4096;

/// Why a key file could not be created or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// Reading or writing the file, its permissions or its size.
    #[error(transparent)]
    File(#[from] SecretFileError),
    #[error("key file {path} does not hold a valid key: {source}")]
    Invalid {
        path: PathBuf,
        #[source]
        source: KeyError,
    },
    #[error("no random seed could be drawn from the operating system: {0}")]
    Random(String),
}

/// Creates a new key for `origin` at `path` (mode 0600, never overwriting)
/// and returns its signer. The file is synced before returning.
pub fn generate_key_file(path: &Path, origin: &str) -> Result<CheckpointSigner, KeyFileError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut_slice())
        .map_err(|error| KeyFileError::Random(error.to_string()))?;
    let signer =
        CheckpointSigner::from_seed(origin, &seed).map_err(|source| KeyFileError::Invalid {
            path: path.to_owned(),
            source,
        })?;
    write_new_secret(path, &signer.to_private_key_text())?;
    Ok(signer)
}

/// Loads the signer from a key file made by [`generate_key_file`].
pub fn load_key_file(path: &Path) -> Result<CheckpointSigner, KeyFileError> {
    let text = read_secret(path, MAX_KEY_FILE_BYTES)?;
    CheckpointSigner::from_private_key_text(&text).map_err(|source| KeyFileError::Invalid {
        path: path.to_owned(),
        source,
    })
}
