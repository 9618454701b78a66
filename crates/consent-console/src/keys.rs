//! The key file, as the Keys page administers it: a small trait, because
//! where the keys live (a file in the data directory, named by
//! `--api-keys`) is the composition root's business (consent-cli
//! implements it over the same code as `consent-ledger api-key`).

use consent_auth::{KeyEntry, Principal};

/// A key just created: its secret is shown once, and stored nowhere.
pub struct NewKey {
    /// Its public id ([`consent_auth::KeyHash::id`]).
    pub id: String,
    /// The key itself, as the caller will send it.
    pub secret: String,
}

/// Why the key file could not be read or changed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyAdministrationError(pub String);

/// The server's API keys: list, create, revoke. A change applies to
/// every API (and every console session) at once.
pub trait KeyAdministration: Send + Sync + 'static {
    /// Every key of the key file (hashes and principals; no secret).
    fn list(&self) -> Result<Vec<KeyEntry>, KeyAdministrationError>;
    /// Creates a key for `principal`, with `note` saying what it is for.
    fn create(
        &self,
        principal: Principal,
        note: Option<String>,
    ) -> Result<NewKey, KeyAdministrationError>;
    /// Revokes the key of id `id`; whether there was one.
    fn revoke(&self, id: &str) -> Result<bool, KeyAdministrationError>;
}
