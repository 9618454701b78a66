//! Files that hold a secret (a signing key, a MAC key): created with mode
//! 0600 and never overwritten, and refused when group or others can read
//! or write them (as ssh does), so a key that leaked through permissions
//! is noticed rather than used. The contents are the caller's.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// A secret file that could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("secret file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("secret file {0} already exists; refusing to overwrite a secret")]
    AlreadyExists(PathBuf),
    #[error(
        "secret file {path} is accessible to group or others (mode {mode:o}); run chmod 600 on it"
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("secret file {0} is larger than any secret file this ledger writes")]
    TooLarge(PathBuf),
}

/// Creates `path` with mode 0600 (never overwriting), writes `text` and a
/// newline, and syncs it before returning.
pub fn write_new_secret(path: &Path, text: &str) -> Result<(), SecretFileError> {
    let io_error = |source| SecretFileError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = create_private(path).map_err(|source| match source.kind() {
        io::ErrorKind::AlreadyExists => SecretFileError::AlreadyExists(path.to_owned()),
        _ => io_error(source),
    })?;
    file.write_all(text.as_bytes()).map_err(io_error)?;
    file.write_all(b"\n").map_err(io_error)?;
    file.sync_all().map_err(io_error)
}

/// Reads a secret file of at most `max_bytes`, refusing one that group or
/// others can access. The text is wiped from memory when dropped.
pub fn read_secret(path: &Path, max_bytes: u64) -> Result<Zeroizing<String>, SecretFileError> {
    let io_error = |source| SecretFileError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let metadata = file.metadata().map_err(io_error)?;
    check_private(path, &metadata)?;
    if metadata.len() > max_bytes {
        return Err(SecretFileError::TooLarge(path.to_owned()));
    }
    let mut text = Zeroizing::new(String::new());
    file.take(max_bytes)
        .read_to_string(&mut text)
        .map_err(io_error)?;
    Ok(text)
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
fn check_private(path: &Path, metadata: &fs::Metadata) -> Result<(), SecretFileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SecretFileError::TooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _metadata: &fs::Metadata) -> Result<(), SecretFileError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_private_never_overwritten_and_refused_when_opened_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("secret");
        write_new_secret(&path, "s3cret").expect("write");
        assert_eq!(read_secret(&path, 64).expect("read").as_str(), "s3cret\n");
        assert!(matches!(
            write_new_secret(&path, "other"),
            Err(SecretFileError::AlreadyExists(_))
        ));
        assert!(matches!(
            read_secret(&path, 3),
            Err(SecretFileError::TooLarge(_))
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
            assert!(matches!(
                read_secret(&path, 64),
                Err(SecretFileError::TooOpen { mode: 0o640, .. })
            ));
        }
    }
}
