//! The intake secret's key file: the only IO in this crate.
//!
//! The file holds one line, the 32-byte secret in base64url without
//! padding, drawn from the operating system's random source. As with the
//! checkpoint key (`consent_evidence::keyfile`):
//!
//! * [`generate_secret_file`] creates it with mode 0600 and never
//!   overwrites one (a replaced secret silently invalidates every
//!   unsubscribe link already sent);
//! * [`load_secret_file`] refuses a file that group or others can read or
//!   write, so a secret leaked through permissions is noticed, not used.

use crate::token::{IntakeSecret, SECRET_BYTES};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use consent_secret_file::{read_secret, write_new_secret};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Largest secret file read; a real one is 44 bytes.
const MAX_FILE_BYTES: u64 = 1024;

/// Why the secret file could not be created or used.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    /// Reading or writing the file, its permissions or its size. A secret
    /// is never overwritten: every unsubscribe link sent would stop working.
    #[error("intake {0}")]
    File(#[from] consent_secret_file::SecretFileError),
    #[error(
        "intake secret file {0} does not hold a secret: expected one line of base64url, 32 bytes"
    )]
    Invalid(PathBuf),
    #[error("no random secret could be drawn from the operating system: {0}")]
    Random(String),
}

/// Creates a new secret at `path` (mode 0600, never overwriting), synced
/// before returning.
pub fn generate_secret_file(path: &Path) -> Result<IntakeSecret, SecretFileError> {
    let mut bytes = Zeroizing::new([0u8; SECRET_BYTES]);
    getrandom::fill(bytes.as_mut_slice()).map_err(|e| SecretFileError::Random(e.to_string()))?;
    let secret = IntakeSecret::from_bytes(*bytes);
    let text = Zeroizing::new(URL_SAFE_NO_PAD.encode(secret.as_bytes()));
    write_new_secret(path, &text)?;
    Ok(secret)
}

/// Loads the secret from a file made by [`generate_secret_file`].
pub fn load_secret_file(path: &Path) -> Result<IntakeSecret, SecretFileError> {
    let text = read_secret(path, MAX_FILE_BYTES)?;
    parse_secret(&text).ok_or_else(|| SecretFileError::Invalid(path.to_owned()))
}

/// The secret in the text of a secret file (one line of base64url, 32
/// bytes; surrounding white space ignored), e.g. from an environment
/// variable; `None` when it is not one.
pub fn parse_secret(text: &str) -> Option<IntakeSecret> {
    let bytes = Zeroizing::new(URL_SAFE_NO_PAD.decode(text.trim()).ok()?);
    let bytes: [u8; SECRET_BYTES] = bytes.as_slice().try_into().ok()?;
    Some(IntakeSecret::from_bytes(bytes))
}

/// Loads the secret at `path`, or creates it (and its directory) when
/// there is none: what `serve` does on first start.
pub fn load_or_generate_secret_file(path: &Path) -> Result<IntakeSecret, SecretFileError> {
    if path.exists() {
        return load_secret_file(path);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| {
            consent_secret_file::SecretFileError::Io {
                path: dir.to_owned(),
                source,
            }
        })?;
    }
    generate_secret_file(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::UnsubscribeClaim;
    use consent_domain::vocabulary::Channel;
    use consent_domain::{EventId, OrganisationId, SubjectId, Timestamp};
    use std::fs;

    fn claim() -> UnsubscribeClaim {
        UnsubscribeClaim {
            organisation: OrganisationId::new("o"),
            subject: SubjectId::new("s"),
            message_id: "m".to_owned(),
            channel: Channel::Sms,
            send_event: EventId(uuid::Uuid::from_u128(1)),
            issued_at: Timestamp::from_unix_micros(0),
        }
    }

    #[test]
    fn a_generated_secret_is_private_reloads_and_is_never_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("keys/unsubscribe.key");
        let secret = load_or_generate_secret_file(&path).expect("generated");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let token = secret.mint(&claim());
        let reloaded = load_or_generate_secret_file(&path).expect("reloaded");
        assert_eq!(reloaded.verify(&token).map(|v| v.claim), Ok(claim()));
        assert!(matches!(
            generate_secret_file(&path),
            Err(SecretFileError::File(
                consent_secret_file::SecretFileError::AlreadyExists(_)
            ))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_readable_secret_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("unsubscribe.key");
        generate_secret_file(&path).expect("generated");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(matches!(
            load_secret_file(&path),
            Err(SecretFileError::File(
                consent_secret_file::SecretFileError::TooOpen { mode: 0o644, .. }
            ))
        ));
    }

    #[test]
    fn a_file_without_a_secret_is_invalid() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("unsubscribe.key");
        write_new_secret(&path, "not a secret").expect("written");
        assert!(matches!(
            load_secret_file(&path),
            Err(SecretFileError::Invalid(_))
        ));
    }
}
