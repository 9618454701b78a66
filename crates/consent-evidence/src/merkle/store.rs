//! Where the tree's nodes are kept: the [`NodeStore`] trait and an in-memory
//! implementation.
//!
//! The tree is append-only, so a *perfect* subtree (2^level leaves starting
//! at a multiple of 2^level) never changes once its last leaf is appended.
//! Those are the only nodes ever stored: the leaf hashes (level 0) and every
//! completed interior node, about two hashes per leaf. Every other hash the
//! RFC's definitions need (the roots of the ragged right edge of a tree of
//! any size) is computed from O(log n) stored nodes, so proofs for any
//! tree size up to the stored one come from the same store.

use super::frontier::{Frontier, TreeFull};
use super::hash::Hash;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::fmt;

/// A perfect subtree: the `2^level` leaves starting at leaf
/// `index * 2^level`. Level 0 addresses a single leaf; `index` then is the
/// leaf index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeAddress {
    pub level: u8,
    pub index: u64,
}

impl NodeAddress {
    pub const fn new(level: u8, index: u64) -> Self {
        Self { level, index }
    }

    /// The leaf with this index.
    pub const fn leaf(index: u64) -> Self {
        Self { level: 0, index }
    }

    /// A stable 9-byte key (level, then big-endian index) whose byte order
    /// is the order of the addresses: convenient for key-value stores.
    pub fn to_key(&self) -> [u8; 9] {
        let mut key = [0u8; 9];
        key[0] = self.level;
        key[1..].copy_from_slice(&self.index.to_be_bytes());
        key
    }

    /// The inverse of [`NodeAddress::to_key`]; `None` if not 9 bytes.
    pub fn from_key(key: &[u8]) -> Option<Self> {
        let (&level, index) = key.split_first()?;
        let index: [u8; 8] = index.try_into().ok()?;
        Some(Self::new(level, u64::from_be_bytes(index)))
    }
}

impl fmt::Display for NodeAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "level {} index {}", self.level, self.index)
    }
}

/// Read access to the stored perfect-subtree hashes of one append-only tree.
///
/// Implementations return the hash stored for `address`, or `None` when
/// nothing is stored there (the subtree is not complete yet, or the store
/// lost it). They must never return a hash other than the one
/// [`Frontier::append`] produced for that address: stored nodes are
/// immutable.
pub trait NodeStore {
    type Error: std::error::Error + Send + Sync + 'static;

    fn node(&self, address: NodeAddress) -> Result<Option<Hash>, Self::Error>;
}

impl<S: NodeStore + ?Sized> NodeStore for &S {
    type Error = S::Error;

    fn node(&self, address: NodeAddress) -> Result<Option<Hash>, Self::Error> {
        (**self).node(address)
    }
}

/// The whole tree in memory: one `Vec` of hashes per level.
///
/// The model for tests, and the way to prove things about a list of leaf
/// hashes held in memory (e.g. a bundle's verifier rebuilding a small tree).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryNodeStore {
    /// `levels[l][i]` is the node at level `l`, index `i`.
    levels: Vec<Vec<Hash>>,
    frontier: Frontier,
}

impl MemoryNodeStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The tree of these leaf hashes, in order.
    pub fn from_leaf_hashes(leaf_hashes: impl IntoIterator<Item = Hash>) -> Result<Self, TreeFull> {
        let mut store = Self::new();
        for leaf_hash in leaf_hashes {
            store.append(leaf_hash)?;
        }
        Ok(store)
    }

    /// Appends a leaf hash, storing every node it completes; returns the
    /// new leaf's index.
    pub fn append(&mut self, leaf_hash: Hash) -> Result<u64, TreeFull> {
        let index = self.frontier.size();
        for (address, hash) in self.frontier.append(leaf_hash)? {
            let level = usize::from(address.level);
            if self.levels.len() <= level {
                self.levels.resize_with(level + 1, Vec::new);
            }
            // Nodes of one level complete in index order, so each new one is
            // the next in its level's vector.
            if let Some(nodes) = self.levels.get_mut(level) {
                nodes.push(hash);
            }
        }
        Ok(index)
    }

    /// Number of leaves.
    pub fn tree_size(&self) -> u64 {
        self.frontier.size()
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }
}

impl NodeStore for MemoryNodeStore {
    type Error = Infallible;

    fn node(&self, address: NodeAddress) -> Result<Option<Hash>, Infallible> {
        let index = usize::try_from(address.index).ok();
        Ok(index.and_then(|index| {
            self.levels
                .get(usize::from(address.level))
                .and_then(|nodes| nodes.get(index))
                .copied()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_keys_sort_like_addresses_and_round_trip() {
        let a = NodeAddress::new(0, 300);
        let b = NodeAddress::new(1, 2);
        assert!(a < b && a.to_key() < b.to_key());
        assert_eq!(NodeAddress::from_key(&b.to_key()), Some(b));
        assert_eq!(NodeAddress::from_key(&[1, 2]), None);
    }
}
