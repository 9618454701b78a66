//! The hashes of RFC 9162 section 2.1.1, with SHA-256.
//!
//! * leaf hash: `SHA-256(0x00 || leaf)`
//! * node hash: `SHA-256(0x01 || left || right)`
//! * the hash of the empty tree: `SHA-256("")`
//!
//! The one-byte prefixes keep a leaf from ever being read as a node (the
//! second-preimage attack on plain Merkle trees).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::fmt;

/// Length of every hash in the tree, in bytes.
pub const HASH_LEN: usize = 32;

const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// A SHA-256 value in the tree: a leaf hash, a node hash or a root.
///
/// Shown (`Display`, serde) in standard padded base64, the encoding of the
/// root hash line of a checkpoint; `Debug` shows hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash([u8; HASH_LEN]);

impl Hash {
    pub const fn from_bytes(bytes: [u8; HASH_LEN]) -> Self {
        Self(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; HASH_LEN] {
        &self.0
    }

    /// Standard padded base64 (RFC 4648 section 4), 44 characters.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Parses standard padded base64 of exactly 32 bytes. Non-canonical
    /// encodings (non-zero trailing bits, missing padding) are refused, so a
    /// hash has exactly one text form.
    pub fn from_base64(text: &str) -> Result<Self, HashDecodeError> {
        let bytes = STANDARD
            .decode(text)
            .map_err(|_| HashDecodeError::NotBase64)?;
        let bytes: [u8; HASH_LEN] = bytes
            .try_into()
            .map_err(|bytes: Vec<u8>| HashDecodeError::WrongLength(bytes.len()))?;
        Ok(Self(bytes))
    }

    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

/// Why a text is not a [`struct@Hash`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashDecodeError {
    #[error("not canonical standard base64")]
    NotBase64,
    #[error("a hash is {HASH_LEN} bytes, found {0}")]
    WrongLength(usize),
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Hash::from_base64(&text).map_err(serde::de::Error::custom)
    }
}

/// `SHA-256("")`: the root of the tree with no leaves (RFC 9162 2.1.1).
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

/// `SHA-256(0x00 || leaf)`: the hash of one leaf's bytes.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(leaf);
    Hash(hasher.finalize().into())
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left.0);
    hasher.update(right.0);
    Hash(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            empty_root().to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn base64_round_trips_and_refuses_other_lengths() {
        let hash = leaf_hash(b"x");
        assert_eq!(Hash::from_base64(&hash.to_base64()), Ok(hash));
        assert_eq!(
            Hash::from_base64("AAAA"),
            Err(HashDecodeError::WrongLength(3))
        );
        assert_eq!(
            Hash::from_base64("not base64!"),
            Err(HashDecodeError::NotBase64)
        );
    }
}
