//! Checkpoint signing keys, in the C2SP signed-note key formats.
//!
//! A log signs with an ed25519 key named by the log's origin (e.g.
//! `ledger.example.org/consent`). The key's id is the C2SP signed-note key
//! id, the first four bytes of `SHA-256(name || 0x0A || 0x01 || public key)`
//! read as a big-endian `u32`; every signature line of a checkpoint names
//! the key's name and id, so a verifier knows which key to use.
//!
//! Two text forms (compatible with Go's `golang.org/x/mod/sumdb/note`):
//!
//! * the verifier key, which is published:
//!   `<name>+<8 hex digits of key id>+<base64(0x01 || 32-byte public key)>`;
//! * the private key, kept in the key file (see [`crate::keyfile`]):
//!   `PRIVATE+KEY+<name>+<key id>+<base64(0x01 || 32-byte seed)>`.
//!
//! # Publishing and rotating keys
//!
//! The verifier key is printed by `consent-ledger` (from the key file) and
//! published where regulators can fetch it independently of any bundle
//! (the operator's website and the DPO's records; it is also in every
//! export's verification instructions). A bundle never carries the key it
//! is checked with: the verifier is given trusted keys.
//!
//! To rotate: generate a new key file for the same origin (a new key id),
//! publish the new verifier key next to the old one, switch the ledger to
//! the new key, and keep the old verifier key published (marked retired)
//! for as long as bundles and checkpoints signed with it must verify.
//! During the overlap checkpoints may carry signatures by both keys (a
//! signed note holds several). Verifiers trust every published key of the
//! origin; a retired key's private half is destroyed.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;
use zeroize::Zeroizing;

/// The C2SP signed-note signature type of ed25519.
pub const ED25519_SIGNATURE_TYPE: u8 = 0x01;

const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// A key's C2SP signed-note id (shown as 8 lower-case hex digits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub u32);

impl KeyId {
    /// `SHA-256(name || 0x0A || 0x01 || public key)[:4]`, big-endian.
    pub fn of(name: &str, public_key: &VerifyingKey) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(name.as_bytes());
        hasher.update([b'\n', ED25519_SIGNATURE_TYPE]);
        hasher.update(public_key.as_bytes());
        let digest = hasher.finalize();
        Self(u32::from_be_bytes([
            digest[0], digest[1], digest[2], digest[3],
        ]))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// A key text or key name that is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("a key name must be non-empty, without spaces, '+' or control characters: {0:?}")]
    InvalidName(String),
    #[error("a verifier key is <name>+<key id>+<base64 key>, not {0:?}")]
    MalformedVerifierKey(String),
    #[error("a private key is PRIVATE+KEY+<name>+<key id>+<base64 seed>")]
    MalformedPrivateKey,
    #[error("not an ed25519 key (signature type 0x01, 32 bytes)")]
    NotEd25519,
    #[error("not a valid ed25519 public key")]
    InvalidPublicKey,
    #[error("the key id {stated} does not match the key (computed {computed})")]
    KeyIdMismatch { stated: String, computed: KeyId },
}

/// Checks a key name as C2SP signed-note defines it: non-empty, no Unicode
/// white space, no `+`; control characters are refused too.
pub fn validate_key_name(name: &str) -> Result<(), KeyError> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '+');
    if valid {
        Ok(())
    } else {
        Err(KeyError::InvalidName(name.to_owned()))
    }
}

/// A public key that verifies a log's checkpoints: its name (the log's
/// origin), id and ed25519 key.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    id: KeyId,
    key: VerifyingKey,
}

impl VerifierKey {
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, KeyError> {
        validate_key_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            id: KeyId::of(name, &key),
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn id(&self) -> KeyId {
        self.id
    }

    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The raw 32-byte public key in standard base64.
    pub fn public_key_base64(&self) -> String {
        STANDARD.encode(self.key.as_bytes())
    }

    /// `name+keyid`: how findings and reports name a key.
    pub fn label(&self) -> String {
        format!("{}+{}", self.name, self.id)
    }

    /// Whether `signature` is this key's ed25519 signature of `message`
    /// (strict verification: no malleable or small-order forms).
    pub fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.key
            .verify_strict(message, &Signature::from_bytes(signature))
            .is_ok()
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut typed = [0u8; 33];
        typed[0] = ED25519_SIGNATURE_TYPE;
        typed[1..].copy_from_slice(self.key.as_bytes());
        write!(f, "{}+{}+{}", self.name, self.id, STANDARD.encode(typed))
    }
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

impl FromStr for VerifierKey {
    type Err = KeyError;

    /// Parses `<name>+<key id>+<base64(0x01 || key)>`, checking the id.
    fn from_str(text: &str) -> Result<Self, KeyError> {
        let malformed = || KeyError::MalformedVerifierKey(text.to_owned());
        // Names hold no '+', ids are hex; base64 may contain '+'.
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(malformed());
        };
        let typed = STANDARD.decode(key).map_err(|_| malformed())?;
        let key = match typed.split_first() {
            Some((&ED25519_SIGNATURE_TYPE, key)) => {
                <[u8; 32]>::try_from(key).map_err(|_| KeyError::NotEd25519)?
            }
            _ => return Err(KeyError::NotEd25519),
        };
        let key = VerifyingKey::from_bytes(&key).map_err(|_| KeyError::InvalidPublicKey)?;
        let verifier = VerifierKey::new(name, key)?;
        check_stated_id(id, verifier.id)?;
        Ok(verifier)
    }
}

impl Serialize for VerifierKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for VerifierKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

fn check_stated_id(stated: &str, computed: KeyId) -> Result<(), KeyError> {
    let matches =
        stated.len() == 8 && u32::from_str_radix(stated, 16).is_ok_and(|id| KeyId(id) == computed);
    if matches {
        Ok(())
    } else {
        Err(KeyError::KeyIdMismatch {
            stated: stated.to_owned(),
            computed,
        })
    }
}

/// The private key a log signs checkpoints (and evidence manifests) with.
///
/// `Debug` shows the name and key id only; the seed is wiped from memory
/// when the signer is dropped.
pub struct CheckpointSigner {
    name: String,
    key: SigningKey,
}

impl CheckpointSigner {
    /// The signer with this name (the log's origin) and 32-byte ed25519 seed.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, KeyError> {
        validate_key_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            key: SigningKey::from_bytes(seed),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> KeyId {
        KeyId::of(&self.name, &self.key.verifying_key())
    }

    /// The public half, to publish.
    pub fn verifier_key(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            id: self.key_id(),
            key: self.key.verifying_key(),
        }
    }

    /// The ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// `PRIVATE+KEY+<name>+<key id>+<base64(0x01 || seed)>`: the key file's
    /// content. Wiped from memory when dropped.
    pub fn to_private_key_text(&self) -> Zeroizing<String> {
        let mut typed = Zeroizing::new([0u8; 33]);
        typed[0] = ED25519_SIGNATURE_TYPE;
        typed[1..].copy_from_slice(self.key.as_bytes());
        Zeroizing::new(format!(
            "{PRIVATE_KEY_PREFIX}{}+{}+{}",
            self.name,
            self.key_id(),
            STANDARD.encode(typed.as_slice())
        ))
    }

    /// Parses the key file's content (surrounding white space ignored),
    /// checking the key id against the name and key.
    pub fn from_private_key_text(text: &str) -> Result<Self, KeyError> {
        let rest = text
            .trim()
            .strip_prefix(PRIVATE_KEY_PREFIX)
            .ok_or(KeyError::MalformedPrivateKey)?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(seed)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(KeyError::MalformedPrivateKey);
        };
        let typed = Zeroizing::new(
            STANDARD
                .decode(seed)
                .map_err(|_| KeyError::MalformedPrivateKey)?,
        );
        let seed: Zeroizing<[u8; 32]> = match typed.split_first() {
            Some((&ED25519_SIGNATURE_TYPE, seed)) => {
                Zeroizing::new(<[u8; 32]>::try_from(seed).map_err(|_| KeyError::NotEd25519)?)
            }
            _ => return Err(KeyError::NotEd25519),
        };
        let signer = Self::from_seed(name, &seed)?;
        check_stated_id(id, signer.key_id())?;
        Ok(signer)
    }
}

impl fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CheckpointSigner({}+{})", self.name, self.key_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> CheckpointSigner {
        CheckpointSigner::from_seed("ledger.example/consent", &[7; 32]).unwrap()
    }

    #[test]
    fn verifier_key_text_round_trips_and_checks_the_id() {
        let verifier = signer().verifier_key();
        let text = verifier.to_string();
        assert_eq!(text.parse::<VerifierKey>(), Ok(verifier.clone()));
        let wrong_id = text.replacen(&verifier.id().to_string(), "00000000", 1);
        assert!(matches!(
            wrong_id.parse::<VerifierKey>(),
            Err(KeyError::KeyIdMismatch { .. })
        ));
    }

    #[test]
    fn private_key_text_round_trips() {
        let signer = signer();
        let text = signer.to_private_key_text();
        let parsed = CheckpointSigner::from_private_key_text(&text).unwrap();
        assert_eq!(parsed.verifier_key(), signer.verifier_key());
        assert!(format!("{parsed:?}").starts_with("CheckpointSigner(ledger.example/consent+"));
    }

    #[test]
    fn names_with_spaces_or_plus_are_refused() {
        for name in ["", "a b", "a+b", "a\tb"] {
            assert!(validate_key_name(name).is_err(), "{name:?}");
        }
    }

    #[test]
    fn signatures_verify_only_with_the_signing_key() {
        let signer = signer();
        let signature = signer.sign(b"message");
        assert!(signer.verifier_key().verifies(b"message", &signature));
        assert!(!signer.verifier_key().verifies(b"massage", &signature));
        let other = CheckpointSigner::from_seed("ledger.example/consent", &[8; 32]).unwrap();
        assert!(!other.verifier_key().verifies(b"message", &signature));
    }
}
