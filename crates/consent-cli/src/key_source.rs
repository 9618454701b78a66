//! Where each of `serve`'s keys comes from (docs/OPERATIONS.md, "Keys"),
//! one scheme for all of them:
//!
//! * `--<name> PATH` or `CONSENT_<NAME>_FILE=PATH` (or the config file's
//!   `<name>`): a file the operator provides, e.g. a mounted Kubernetes
//!   Secret. It must exist: a key named explicitly is never generated.
//! * `CONSENT_<NAME>=VALUE`: the key itself, in the environment only (a
//!   Secret as an environment variable); never a flag, which `ps` shows.
//! * neither: the default file in the data directory, generated on first
//!   start where the key is one the ledger makes.
//!
//! Giving both a file and a value is refused: which one wins would be a
//! guess.

use anyhow::bail;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The names of one key's settings.
#[derive(Clone, Copy, Debug)]
pub struct KeySetting {
    /// What the key is, for messages ("contact-digest key").
    pub what: &'static str,
    /// The flag naming a file (`--contact-digest-key`).
    pub flag: &'static str,
    /// The environment variable naming a file.
    pub file_env: &'static str,
    /// The environment variable holding the value itself.
    pub value_env: &'static str,
}

/// Where a key was found.
pub enum KeySource {
    /// The value itself, from the environment variable `variable`.
    Value {
        variable: &'static str,
        text: Zeroizing<String>,
    },
    /// A file the operator named (it exists).
    Named { path: PathBuf },
    /// The default file in the data directory (it may not exist yet).
    Default { path: PathBuf },
}

impl KeySource {
    /// The file the key is read from, when it is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            KeySource::Value { .. } => None,
            KeySource::Named { path } | KeySource::Default { path } => Some(path),
        }
    }
}

impl KeySetting {
    /// Where the key comes from: the value variable read from the process
    /// environment, `named` from the flag, its `_FILE` variable or the
    /// config file, else `default`.
    pub fn resolve(&self, named: Option<&Path>, default: PathBuf) -> anyhow::Result<KeySource> {
        let value = std::env::var(self.value_env).ok().map(Zeroizing::new);
        self.resolve_from(value, named, default)
    }

    /// [`KeySetting::resolve`] with the value variable's content given.
    pub fn resolve_from(
        &self,
        value: Option<Zeroizing<String>>,
        named: Option<&Path>,
        default: PathBuf,
    ) -> anyhow::Result<KeySource> {
        let value = value.filter(|text| !text.trim().is_empty());
        match (value, named) {
            (Some(_), Some(path)) => bail!(
                "the {} is given twice: by {} and by {} ({}) = {}; give one",
                self.what,
                self.value_env,
                self.flag,
                self.file_env,
                path.display()
            ),
            (Some(text), None) => Ok(KeySource::Value {
                variable: self.value_env,
                text,
            }),
            (None, Some(path)) => {
                if !path.exists() {
                    bail!(
                        "{} ({}) names {}, which does not exist: a {} named explicitly is never \
                         generated; provide the file (or the value in {}), or leave the setting \
                         out to use the data directory's",
                        self.flag,
                        self.file_env,
                        path.display(),
                        self.what,
                        self.value_env
                    );
                }
                Ok(KeySource::Named {
                    path: path.to_owned(),
                })
            }
            (None, None) => Ok(KeySource::Default { path: default }),
        }
    }

    /// The setting a key from `source` came from, for messages.
    pub fn describe(&self, source: &KeySource) -> String {
        match source {
            KeySource::Value { variable, .. } => format!("{variable} (environment)"),
            KeySource::Named { path } => {
                format!("{} ({}) = {}", self.flag, self.file_env, path.display())
            }
            KeySource::Default { path } => {
                format!("{} (the default; or {})", path.display(), self.flag)
            }
        }
    }

    /// The error for a value that is not a key, with a hint when it looks
    /// like a path (these variables held paths before they held values).
    pub fn not_a_key(&self, source: &KeySource, expected: &str) -> anyhow::Error {
        let hint = match source {
            KeySource::Value { text, .. }
                if text.trim().starts_with('/') || Path::new(text.trim()).exists() =>
            {
                format!(
                    "; it looks like a path: {} holds the key itself, name a file with {} or {}",
                    self.value_env, self.file_env, self.flag
                )
            }
            _ => String::new(),
        };
        anyhow::anyhow!(
            "{} does not hold a {}: expected {expected}{hint}",
            self.describe(source),
            self.what
        )
    }
}

/// The contact-digest key.
pub const CONTACT_DIGEST_KEY: KeySetting = KeySetting {
    what: "contact-digest key",
    flag: "--contact-digest-key",
    file_env: "CONSENT_CONTACT_DIGEST_KEY_FILE",
    value_env: "CONSENT_CONTACT_DIGEST_KEY",
};

/// The unsubscribe token secret.
pub const UNSUBSCRIBE_KEY: KeySetting = KeySetting {
    what: "unsubscribe token secret",
    flag: "--unsubscribe-key",
    file_env: "CONSENT_UNSUBSCRIBE_KEY_FILE",
    value_env: "CONSENT_UNSUBSCRIBE_KEY",
};

/// The checkpoint signing key.
pub const CHECKPOINT_KEY: KeySetting = KeySetting {
    what: "checkpoint signing key",
    flag: "--checkpoint-key",
    file_env: "CONSENT_CHECKPOINT_KEY_FILE",
    value_env: "CONSENT_CHECKPOINT_KEY",
};

/// The API key file (hashes of the API keys).
pub const API_KEYS: KeySetting = KeySetting {
    what: "API key file",
    flag: "--api-keys",
    file_env: "CONSENT_API_KEYS_FILE",
    value_env: "CONSENT_API_KEYS",
};

/// The subject key store's database password.
pub const SUBJECT_KEY_STORE_PASSWORD: KeySetting = KeySetting {
    what: "subject key store password",
    flag: "--subject-key-store-password-file",
    file_env: "CONSENT_SUBJECT_KEY_STORE_PASSWORD_FILE",
    value_env: "CONSENT_SUBJECT_KEY_STORE_PASSWORD",
};

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Option<Zeroizing<String>> {
        Some(Zeroizing::new(text.to_owned()))
    }

    #[test]
    fn a_key_comes_from_one_place_and_a_named_file_must_exist() {
        let dir = tempfile::tempdir().expect("tempdir");
        let default = dir.path().join("contact-digest.key");
        let setting = CONTACT_DIGEST_KEY;

        let source = setting
            .resolve_from(None, None, default.clone())
            .expect("the default");
        assert!(matches!(&source, KeySource::Default { path } if *path == default));

        let source = setting
            .resolve_from(value("ab"), None, default.clone())
            .expect("the value");
        assert!(
            matches!(&source, KeySource::Value { variable: "CONSENT_CONTACT_DIGEST_KEY", text } if text.as_str() == "ab")
        );
        assert_eq!(
            setting.describe(&source),
            "CONSENT_CONTACT_DIGEST_KEY (environment)"
        );
        assert!(
            matches!(
                setting.resolve_from(value("  "), None, default.clone()),
                Ok(KeySource::Default { .. })
            ),
            "an empty variable is no value"
        );

        let missing = dir.path().join("secrets/digest.key");
        let error = setting
            .resolve_from(None, Some(&missing), default.clone())
            .err()
            .expect("a named file must exist")
            .to_string();
        assert!(
            error.contains("--contact-digest-key")
                && error.contains("CONSENT_CONTACT_DIGEST_KEY_FILE")
                && error.contains("secrets/digest.key")
                && error.contains("never generated"),
            "{error}"
        );

        let present = dir.path().join("present.key");
        std::fs::write(&present, "x").expect("write");
        assert!(matches!(
            setting.resolve_from(None, Some(&present), default.clone()),
            Ok(KeySource::Named { .. })
        ));
        let error = setting
            .resolve_from(value("ab"), Some(&present), default)
            .err()
            .expect("both is refused")
            .to_string();
        assert!(
            error.contains("CONSENT_CONTACT_DIGEST_KEY") && error.contains("--contact-digest-key"),
            "{error}"
        );
    }

    #[test]
    fn a_path_in_a_value_variable_is_explained() {
        let source = KeySource::Value {
            variable: CHECKPOINT_KEY.value_env,
            text: Zeroizing::new("/run/secrets/checkpoint.key".to_owned()),
        };
        let error = CHECKPOINT_KEY
            .not_a_key(&source, "a signed-note private key")
            .to_string();
        assert!(
            error.contains("looks like a path") && error.contains("CONSENT_CHECKPOINT_KEY_FILE"),
            "{error}"
        );
    }
}
