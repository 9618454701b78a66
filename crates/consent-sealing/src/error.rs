use consent_schema::ValidationError;
use thiserror::Error;

use crate::key_store::KeyStoreError;

#[derive(Debug, Error)]
pub enum SealError {
    /// A contact value in an event is invalid; names the field.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("the subject key store failed: {0}")]
    KeyStore(#[from] KeyStoreError),
    #[error("the operating system gave no random bytes: {0}")]
    Random(String),
    /// Encryption failed, or a ciphertext did not open (wrong key, wrong
    /// subject, or altered).
    #[error("a sealed value does not open with this key")]
    Cipher,
}
