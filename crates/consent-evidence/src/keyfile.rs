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
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Largest key file read; a real one is under 200 bytes.
const MAX_KEY_FILE_BYTES: u64 = 4096;

/// Why a key file could not be created or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("key file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("key file {0} already exists; refusing to overwrite a signing key")]
    AlreadyExists(PathBuf),
    #[error(
        "key file {path} is accessible to group or others (mode {mode:o}); run chmod 600 on it"
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("key file {0} is too large to be a key file")]
    TooLarge(PathBuf),
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
    let io_error = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = create_private(path).map_err(|source| match source.kind() {
        io::ErrorKind::AlreadyExists => KeyFileError::AlreadyExists(path.to_owned()),
        _ => io_error(source),
    })?;
    let text = signer.to_private_key_text();
    file.write_all(text.as_bytes()).map_err(io_error)?;
    file.write_all(b"\n").map_err(io_error)?;
    file.sync_all().map_err(io_error)?;
    Ok(signer)
}

/// Loads the signer from a key file made by [`generate_key_file`].
pub fn load_key_file(path: &Path) -> Result<CheckpointSigner, KeyFileError> {
    let io_error = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let metadata = file.metadata().map_err(io_error)?;
    check_private(path, &metadata)?;
    if metadata.len() > MAX_KEY_FILE_BYTES {
        return Err(KeyFileError::TooLarge(path.to_owned()));
    }
    let mut text = Zeroizing::new(String::new());
    file.take(MAX_KEY_FILE_BYTES)
        .read_to_string(&mut text)
        .map_err(io_error)?;
    CheckpointSigner::from_private_key_text(&text).map_err(|source| KeyFileError::Invalid {
        path: path.to_owned(),
        source,
    })
}

#[cfg(unix)]
fn create_private(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(unix)]
fn check_private(path: &Path, metadata: &fs::Metadata) -> Result<(), KeyFileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::TooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _metadata: &fs::Metadata) -> Result<(), KeyFileError> {
    Ok(())
}
