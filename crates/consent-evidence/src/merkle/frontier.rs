//! The append-only state of the tree: its "compact range" from leaf 0.
//!
//! A tree of `n` leaves is, left to right, one perfect subtree per set bit of
//! `n` (largest first): 7 = 4 + 2 + 1 leaves is the subtrees over leaves
//! [0, 4), [4, 6) and [6, 7). Those subtree roots (the *peaks*) are all that
//! is needed to append a leaf and to compute the root, so the state is
//! O(log n) hashes. The RFC 9162 root of the whole tree is the peaks folded
//! from the right: `MTH = H(p0, H(p1, ... H(p_{k-2}, p_{k-1})))`, which is
//! exactly the RFC's split at the largest power of two below `n`, applied
//! recursively.

use super::hash::{empty_root, node_hash, Hash};
use super::store::{NodeAddress, NodeStore};
use serde::{Deserialize, Serialize};

/// The peaks of a tree of `size` leaves.
///
/// Invariant (kept by every constructor): `peaks.len() == size.count_ones()`,
/// and `peaks[i]` is the root of the i-th perfect subtree from the left.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FrontierParts", into = "FrontierParts")]
pub struct Frontier {
    size: u64,
    peaks: Vec<Hash>,
}

/// A tree cannot take another leaf: it already has `u64::MAX` leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the tree is full ({} leaves)", u64::MAX)]
pub struct TreeFull;

/// Peaks that do not describe a tree of the given size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a tree of {size} leaves has {expected} peaks, found {found}")]
pub struct WrongPeakCount {
    pub size: u64,
    pub expected: u32,
    pub found: usize,
}

/// A node needed to rebuild a frontier or a proof is not in the store.
#[derive(Debug, thiserror::Error)]
pub enum NodeReadError<E> {
    #[error("the tree node at {0} is not stored")]
    Missing(NodeAddress),
    #[error("reading tree node: {0}")]
    Store(#[source] E),
}

impl Frontier {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A frontier from stored parts (see [`Frontier::peaks`]).
    pub fn from_parts(size: u64, peaks: Vec<Hash>) -> Result<Self, WrongPeakCount> {
        if u32::try_from(peaks.len()).ok() != Some(size.count_ones()) {
            return Err(WrongPeakCount {
                size,
                expected: size.count_ones(),
                found: peaks.len(),
            });
        }
        Ok(Self { size, peaks })
    }

    /// The frontier of the first `size` leaves of a stored tree, read from
    /// its peak nodes (one read per set bit of `size`). The store may hold a
    /// larger tree: nodes of perfect subtrees never change.
    pub fn load<S: NodeStore>(store: &S, size: u64) -> Result<Self, NodeReadError<S::Error>> {
        let peaks = peak_addresses(size)
            .map(|address| match store.node(address) {
                Ok(Some(hash)) => Ok(hash),
                Ok(None) => Err(NodeReadError::Missing(address)),
                Err(error) => Err(NodeReadError::Store(error)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { size, peaks })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Roots of the perfect subtrees, left (largest) to right (smallest).
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    /// The RFC 9162 root (`MTH`) of the tree; `SHA-256("")` when empty.
    pub fn root(&self) -> Hash {
        self.peaks
            .iter()
            .rev()
            .copied()
            .reduce(|right, left| node_hash(&left, &right))
            .unwrap_or_else(empty_root)
    }

    /// Appends one leaf (its [`leaf_hash`](super::hash::leaf_hash)) and
    /// returns every node that became complete, in increasing level: the
    /// leaf itself at level 0, then each parent it completed. These are the
    /// nodes a [`NodeStore`] keeps; a store writes them in the same atomic
    /// write as the new size. Costs O(log n) hashes at worst, O(1) on
    /// average.
    pub fn append(&mut self, leaf_hash: Hash) -> Result<Vec<(NodeAddress, Hash)>, TreeFull> {
        let index = self.size;
        let size = index.checked_add(1).ok_or(TreeFull)?;
        // The new leaf completes one parent per trailing one bit of its index:
        // it is the right sibling of the last peak, and so on upwards.
        let merges = index.trailing_ones() as usize;
        let merged = self
            .peaks
            .split_off(self.peaks.len().saturating_sub(merges));
        let mut completed = Vec::with_capacity(merges + 1);
        let mut node = leaf_hash;
        let mut address = NodeAddress::leaf(index);
        completed.push((address, node));
        for left in merged.iter().rev() {
            node = node_hash(left, &node);
            address = NodeAddress::new(address.level + 1, address.index >> 1);
            completed.push((address, node));
        }
        self.peaks.push(node);
        self.size = size;
        Ok(completed)
    }
}

/// The addresses of the peaks of a tree of `size` leaves, left to right.
pub fn peak_addresses(size: u64) -> impl Iterator<Item = NodeAddress> {
    let mut start = 0u64;
    (0..u64::BITS).rev().filter_map(move |level| {
        let width = 1u64 << level;
        (size & width != 0).then(|| {
            // A level of a 64-bit tree is below 64.
            let address = NodeAddress::new(u8::try_from(level).unwrap_or(u8::MAX), start >> level);
            start += width;
            address
        })
    })
}

#[derive(Serialize, Deserialize)]
struct FrontierParts {
    size: u64,
    peaks: Vec<Hash>,
}

impl TryFrom<FrontierParts> for Frontier {
    type Error = WrongPeakCount;

    fn try_from(parts: FrontierParts) -> Result<Self, WrongPeakCount> {
        Frontier::from_parts(parts.size, parts.peaks)
    }
}

impl From<Frontier> for FrontierParts {
    fn from(frontier: Frontier) -> Self {
        Self {
            size: frontier.size,
            peaks: frontier.peaks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::hash::leaf_hash;

    #[test]
    fn peaks_of_seven_leaves_are_four_two_one() {
        let addresses: Vec<_> = peak_addresses(7).collect();
        assert_eq!(
            addresses,
            vec![
                NodeAddress::new(2, 0),
                NodeAddress::new(1, 2),
                NodeAddress::new(0, 6)
            ]
        );
    }

    #[test]
    fn appending_the_fourth_leaf_completes_two_parents() {
        let mut frontier = Frontier::new();
        for i in 0..3u8 {
            frontier.append(leaf_hash(&[i])).unwrap();
        }
        let completed = frontier.append(leaf_hash(&[3])).unwrap();
        let addresses: Vec<_> = completed.iter().map(|(a, _)| *a).collect();
        assert_eq!(
            addresses,
            vec![
                NodeAddress::leaf(3),
                NodeAddress::new(1, 1),
                NodeAddress::new(2, 0)
            ]
        );
        assert_eq!(frontier.peaks().len(), 1);
        assert_eq!(frontier.root(), completed[2].1);
    }

    #[test]
    fn wrong_peak_count_is_refused() {
        assert!(Frontier::from_parts(3, vec![leaf_hash(b"")]).is_err());
    }
}
