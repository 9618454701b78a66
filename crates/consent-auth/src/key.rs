//! API keys and their hashes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Every key starts with this, so a leaked key is recognisable (secret
/// scanners, logs).
pub const KEY_PREFIX: &str = "clk_";

/// A new API key: the secret a caller presents. It is shown once, when
/// created, and never stored; only its [`KeyHash`] is.
pub struct ApiKey {
    secret: String,
}

impl ApiKey {
    /// The key of 32 random bytes (drawn by the caller from the operating
    /// system: this crate reads no randomness).
    pub fn from_random_bytes(bytes: &[u8; 32]) -> Self {
        Self {
            secret: format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)),
        }
    }

    /// The secret, as the caller sends it after `Bearer `.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    pub fn hash(&self) -> KeyHash {
        KeyHash::of(&self.secret)
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("id", &self.hash().id())
            .finish()
    }
}

/// The SHA-256 of a key's text: what the key file stores.
#[derive(Clone, Copy)]
pub struct KeyHash([u8; 32]);

impl KeyHash {
    /// The hash of a presented key (any text: an unknown key simply
    /// matches no stored hash).
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// From its 64 lowercase or uppercase hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// A short public name of the key (its hash's first 12 hex digits), to
    /// list and revoke it by; it reveals nothing of the secret.
    pub fn id(&self) -> String {
        hex::encode(&self.0[..6])
    }

    /// Equality in time independent of where the hashes differ.
    pub fn matches(&self, other: &KeyHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl std::fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyHash({})", self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_256_random_bits_with_a_recognisable_prefix() {
        let key = ApiKey::from_random_bytes(&[7; 32]);
        let secret = key.secret();
        assert!(secret.starts_with("clk_"));
        let decoded = URL_SAFE_NO_PAD
            .decode(&secret[KEY_PREFIX.len()..])
            .expect("base64url");
        assert_eq!(decoded, vec![7; 32]);
        assert_ne!(
            ApiKey::from_random_bytes(&[8; 32]).secret(),
            secret,
            "different bytes, different keys"
        );
    }

    #[test]
    fn the_hash_is_the_sha256_of_the_key_text() {
        // sha256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            KeyHash::of("abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let key = ApiKey::from_random_bytes(&[1; 32]);
        let hash = KeyHash::from_hex(&key.hash().to_hex()).expect("hex round trip");
        assert!(hash.matches(&KeyHash::of(key.secret())));
        assert!(!hash.matches(&KeyHash::of("clk_other")));
        assert!(KeyHash::from_hex("not hex").is_none());
        assert!(KeyHash::from_hex("abcd").is_none(), "too short");
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let key = ApiKey::from_random_bytes(&[9; 32]);
        let shown = format!("{key:?}");
        assert!(
            !shown.contains(&key.secret()[KEY_PREFIX.len()..]),
            "{shown}"
        );
        assert!(shown.contains(&key.hash().id()));
    }
}
