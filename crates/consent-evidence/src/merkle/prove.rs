//! Proof generation, RFC 9162 2.1.3.1 (`PATH`) and 2.1.4.1 (`PROOF`,
//! `SUBPROOF`), over the stored perfect-subtree nodes of a [`NodeStore`].
//!
//! The functions follow the RFC's recursive definitions over leaf ranges
//! `[start, end)`; the only difference is where `MTH(D[a:b])` comes from:
//! a perfect, aligned range is one stored node, and any other range is
//! split at the RFC's largest power of two and computed from stored nodes
//! ([`subtree_root`]).
//!
//! Cost: every range the recursion meets is a perfect aligned subtree (one
//! stored node), except at most one range on the tree's ragged right edge
//! (once a proof descends to the left of a split, everything below is
//! perfect), which is built from at most log2(n) stored peaks. So a proof
//! costs at most about 2 log2(n) node reads and log2(n) hashes whatever the
//! tree size; nothing is recomputed from the leaves.

use super::frontier::NodeReadError;
use super::hash::{empty_root, node_hash, Hash};
use super::store::{NodeAddress, NodeStore};

/// Why a proof could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum ProofError<E> {
    #[error("leaf index {index} is not in a tree of {tree_size} leaves")]
    LeafIndexBeyondTreeSize { index: u64, tree_size: u64 },
    #[error("a consistency proof goes from a smaller tree to a larger one, not {old_size} to {new_size}")]
    SizesOutOfOrder { old_size: u64, new_size: u64 },
    #[error(transparent)]
    Node(#[from] NodeReadError<E>),
}

/// The root `MTH(D[0:tree_size])` of the first `tree_size` leaves of the
/// stored tree (the root a checkpoint of that size signs).
pub fn root_at<S: NodeStore>(store: &S, tree_size: u64) -> Result<Hash, NodeReadError<S::Error>> {
    if tree_size == 0 {
        return Ok(empty_root());
    }
    subtree_root(store, 0, tree_size)
}

/// The inclusion proof (audit path) of leaf `leaf_index` in the tree of the
/// first `tree_size` leaves: RFC 9162 `PATH(m, D[n])`, deepest sibling
/// first.
pub fn inclusion_proof<S: NodeStore>(
    store: &S,
    leaf_index: u64,
    tree_size: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if leaf_index >= tree_size {
        return Err(ProofError::LeafIndexBeyondTreeSize {
            index: leaf_index,
            tree_size,
        });
    }
    let mut proof = Vec::new();
    path(store, leaf_index, 0, tree_size, &mut proof)?;
    Ok(proof)
}

/// The consistency proof from the tree of the first `old_size` leaves to
/// the tree of the first `new_size`: RFC 9162 `PROOF(m, D[n])`. Empty when
/// `old_size` is 0 or equal to `new_size` (nothing to prove).
pub fn consistency_proof<S: NodeStore>(
    store: &S,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if old_size > new_size {
        return Err(ProofError::SizesOutOfOrder { old_size, new_size });
    }
    let mut proof = Vec::new();
    if old_size > 0 && old_size < new_size {
        subproof(store, old_size, 0, new_size, true, &mut proof)?;
    }
    Ok(proof)
}

/// `MTH(D[start:end])` for a non-empty range, from stored nodes.
///
/// A perfect aligned range is one stored node; any other is split at the
/// largest power of two below its size, as RFC 9162 2.1.1 defines MTH.
pub fn subtree_root<S: NodeStore>(
    store: &S,
    start: u64,
    end: u64,
) -> Result<Hash, NodeReadError<S::Error>> {
    let size = end - start;
    if size.is_power_of_two() && start % size == 0 {
        // A power of two below 2^64 has fewer than 64 trailing zeros.
        let level = u8::try_from(size.trailing_zeros()).unwrap_or(u8::MAX);
        let address = NodeAddress::new(level, start / size);
        return match store.node(address) {
            Ok(Some(hash)) => Ok(hash),
            Ok(None) => Err(NodeReadError::Missing(address)),
            Err(error) => Err(NodeReadError::Store(error)),
        };
    }
    let split = start + largest_power_of_two_below(size);
    let left = subtree_root(store, start, split)?;
    let right = subtree_root(store, split, end)?;
    Ok(node_hash(&left, &right))
}

/// The largest power of two strictly smaller than `n`, for `n >= 2`
/// (RFC 9162's `k`).
pub(crate) fn largest_power_of_two_below(n: u64) -> u64 {
    1 << (u64::BITS - 1 - (n - 1).leading_zeros())
}

/// `PATH(m, D[start:end])` with `m` an absolute leaf index in the range.
fn path<S: NodeStore>(
    store: &S,
    m: u64,
    start: u64,
    end: u64,
    proof: &mut Vec<Hash>,
) -> Result<(), NodeReadError<S::Error>> {
    if end - start == 1 {
        return Ok(());
    }
    let split = start + largest_power_of_two_below(end - start);
    if m < split {
        path(store, m, start, split, proof)?;
        proof.push(subtree_root(store, split, end)?);
    } else {
        path(store, m, split, end, proof)?;
        proof.push(subtree_root(store, start, split)?);
    }
    Ok(())
}

/// `SUBPROOF(m, D[start:end], b)` with `m` a size relative to `start`.
fn subproof<S: NodeStore>(
    store: &S,
    m: u64,
    start: u64,
    end: u64,
    complete: bool,
    proof: &mut Vec<Hash>,
) -> Result<(), NodeReadError<S::Error>> {
    let n = end - start;
    if m == n {
        if !complete {
            proof.push(subtree_root(store, start, end)?);
        }
        return Ok(());
    }
    let k = largest_power_of_two_below(n);
    if m <= k {
        subproof(store, m, start, start + k, complete, proof)?;
        proof.push(subtree_root(store, start + k, end)?);
    } else {
        subproof(store, m - k, start + k, end, false, proof)?;
        proof.push(subtree_root(store, start, start + k)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_is_the_largest_power_of_two_below_n() {
        let cases = [
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (8, 4),
            (9, 8),
            (u64::MAX, 1 << 63),
        ];
        for (n, k) in cases {
            assert_eq!(largest_power_of_two_below(n), k, "n = {n}");
        }
    }
}
