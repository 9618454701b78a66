//! The key file: one `[[key]]` table per API key, holding its SHA-256 and
//! its principal, never the key itself.
//!
//! ```toml
//! [[key]]
//! sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//! organisation = "acme-cycles"
//! created = "2025-06-01T12:00:00Z"
//! note = "CRM sync"
//!
//! [[key]]
//! sha256 = "..."
//! admin = true
//! ```
//!
//! Revoking a key is deleting its table (`consent-ledger api-key revoke
//! ID`); the server reads the file when it starts.

use crate::key::KeyHash;
use crate::principal::Principal;
use consent_domain::OrganisationId;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The largest key file read, in bytes (about 50 000 keys).
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// One stored key.
#[derive(Clone, Debug)]
pub struct KeyEntry {
    pub hash: KeyHash,
    pub principal: Principal,
    /// When it was created (informational, as the CLI wrote it).
    pub created: Option<String>,
    /// What it is for (informational).
    pub note: Option<String>,
}

/// The stored form of an entry.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredEntry {
    sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    organisation: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    admin: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StoredFile {
    #[serde(default, rename = "key")]
    keys: Vec<StoredEntry>,
}

/// A key file that cannot be used; the server refuses to start on one.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read the API key file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the API key file {0} is too large to be a key file")]
    TooLarge(PathBuf),
    #[error("the API key file is not valid TOML of `[[key]]` tables: {0}")]
    Syntax(String),
    #[error("key[{index}].{field}: {reason}")]
    Invalid {
        index: usize,
        field: &'static str,
        reason: String,
    },
}

impl KeyEntry {
    /// The entry as a `[[key]]` table, to append to a key file.
    pub fn to_toml(&self) -> String {
        let file = StoredFile {
            keys: vec![self.stored()],
        };
        toml::to_string(&file).unwrap_or_default()
    }

    fn stored(&self) -> StoredEntry {
        let (organisation, admin) = match &self.principal {
            Principal::Organisation(id) => (Some(id.as_str().to_owned()), false),
            Principal::Admin => (None, true),
        };
        StoredEntry {
            sha256: self.hash.to_hex(),
            organisation,
            admin,
            created: self.created.clone(),
            note: self.note.clone(),
        }
    }

    fn from_stored(index: usize, stored: StoredEntry) -> Result<Self, KeyFileError> {
        let invalid = |field, reason: &str| KeyFileError::Invalid {
            index,
            field,
            reason: reason.to_owned(),
        };
        let hash = KeyHash::from_hex(&stored.sha256)
            .ok_or_else(|| invalid("sha256", "must be 64 hex digits (a SHA-256)"))?;
        let principal = match (stored.organisation, stored.admin) {
            (Some(_), true) => {
                return Err(invalid(
                    "admin",
                    "a key is either an organisation's or the admin's, not both",
                ))
            }
            (Some(organisation), false) if organisation.is_empty() => {
                return Err(invalid("organisation", "must not be empty"))
            }
            (Some(organisation), false) => {
                Principal::Organisation(OrganisationId::new(organisation))
            }
            (None, true) => Principal::Admin,
            (None, false) => {
                return Err(invalid(
                    "organisation",
                    "required (or `admin = true` for the admin key)",
                ))
            }
        };
        Ok(Self {
            hash,
            principal,
            created: stored.created,
            note: stored.note,
        })
    }
}

/// The keys a server accepts.
#[derive(Clone, Debug, Default)]
pub struct KeyRing {
    entries: Vec<KeyEntry>,
}

impl KeyRing {
    /// Reads the key file at `path`.
    pub fn read(path: &Path) -> Result<Self, KeyFileError> {
        let io = |source| KeyFileError::Io {
            path: path.to_owned(),
            source,
        };
        let length = std::fs::metadata(path).map_err(io)?.len();
        if length > MAX_FILE_BYTES {
            return Err(KeyFileError::TooLarge(path.to_owned()));
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        Self::parse(&text)
    }

    /// Parses a key file's text; every entry must be valid and every hash
    /// distinct.
    pub fn parse(text: &str) -> Result<Self, KeyFileError> {
        let file: StoredFile =
            toml::from_str(text).map_err(|error| KeyFileError::Syntax(error.to_string()))?;
        let mut entries: Vec<KeyEntry> = Vec::with_capacity(file.keys.len());
        for (index, stored) in file.keys.into_iter().enumerate() {
            let entry = KeyEntry::from_stored(index, stored)?;
            if entries.iter().any(|e| e.hash.matches(&entry.hash)) {
                return Err(KeyFileError::Invalid {
                    index,
                    field: "sha256",
                    reason: "the same key is listed twice".to_owned(),
                });
            }
            entries.push(entry);
        }
        Ok(Self { entries })
    }

    pub fn entries(&self) -> &[KeyEntry] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The principal of the presented key `secret`, if it is one of these
    /// keys. Its hash is compared with every stored hash, each in constant
    /// time, whether or not an earlier one matched.
    pub fn principal_of(&self, secret: &str) -> Option<&Principal> {
        let presented = KeyHash::of(secret);
        let mut found = None;
        for entry in &self.entries {
            if entry.hash.matches(&presented) && found.is_none() {
                found = Some(&entry.principal);
            }
        }
        found
    }

    /// The ring without the keys whose id ([`KeyHash::id`]) is `id`; how
    /// many were removed.
    pub fn without(&self, id: &str) -> (Self, usize) {
        let kept: Vec<KeyEntry> = self
            .entries
            .iter()
            .filter(|entry| entry.hash.id() != id)
            .cloned()
            .collect();
        let removed = self.entries.len() - kept.len();
        (Self { entries: kept }, removed)
    }

    /// The whole file's text.
    pub fn to_toml(&self) -> String {
        self.entries
            .iter()
            .map(KeyEntry::to_toml)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ApiKey;

    fn entry(key: &ApiKey, principal: Principal) -> KeyEntry {
        KeyEntry {
            hash: key.hash(),
            principal,
            created: Some("2025-06-01T12:00:00Z".to_owned()),
            note: Some("CRM \"sync\"".to_owned()),
        }
    }

    #[test]
    fn a_written_file_reads_back_and_knows_its_keys_by_their_secret_only() {
        let acme = ApiKey::from_random_bytes(&[1; 32]);
        let admin = ApiKey::from_random_bytes(&[2; 32]);
        let text = format!(
            "# API keys\n{}\n{}",
            entry(&acme, Principal::Organisation(OrganisationId::new("acme"))).to_toml(),
            entry(&admin, Principal::Admin).to_toml()
        );
        assert!(!text.contains(acme.secret()), "the secret is never stored");
        let ring = KeyRing::parse(&text).expect("valid file");
        assert_eq!(ring.entries().len(), 2);
        assert_eq!(
            ring.principal_of(acme.secret()),
            Some(&Principal::Organisation(OrganisationId::new("acme")))
        );
        assert_eq!(ring.principal_of(admin.secret()), Some(&Principal::Admin));
        assert_eq!(ring.principal_of("clk_unknown"), None);
        assert_eq!(
            ring.principal_of(&acme.hash().to_hex()),
            None,
            "the hash is not a key"
        );
        assert_eq!(ring.entries()[0].note.as_deref(), Some("CRM \"sync\""));

        let (revoked, removed) = ring.without(&acme.hash().id());
        assert_eq!(removed, 1);
        assert_eq!(revoked.principal_of(acme.secret()), None);
        let reread = KeyRing::parse(&revoked.to_toml()).expect("rewritten file");
        assert_eq!(reread.principal_of(admin.secret()), Some(&Principal::Admin));
    }

    #[test]
    fn an_empty_file_has_no_keys() {
        assert!(KeyRing::parse("").expect("empty").is_empty());
        assert!(KeyRing::parse("# nothing yet\n")
            .expect("comment")
            .is_empty());
    }

    #[test]
    fn bad_entries_are_refused_naming_the_entry_and_field() {
        let hash = KeyHash::of("k").to_hex();
        for (text, expected) in [
            (format!("[[key]]\nsha256 = \"{hash}\""), "key[0].organisation: required"),
            (
                format!("[[key]]\nsha256 = \"{hash}\"\norganisation = \"a\"\nadmin = true"),
                "key[0].admin",
            ),
            (
                format!("[[key]]\nsha256 = \"{hash}\"\norganisation = \"\""),
                "key[0].organisation: must not be empty",
            ),
            (
                "[[key]]\nsha256 = \"abc\"\nadmin = true".to_owned(),
                "key[0].sha256",
            ),
            (
                format!("[[key]]\nsha256 = \"{hash}\"\nadmin = true\n[[key]]\nsha256 = \"{hash}\"\norganisation = \"b\""),
                "key[1].sha256: the same key is listed twice",
            ),
            (
                format!("[[key]]\nsha256 = \"{hash}\"\nadmin = true\nsecret = \"x\""),
                "unknown field",
            ),
        ] {
            let error = KeyRing::parse(&text).expect_err(&text).to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn reading_a_missing_file_names_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("api-keys.toml");
        let error = KeyRing::read(&path).expect_err("missing").to_string();
        assert!(error.contains("api-keys.toml"), "{error}");
    }
}
