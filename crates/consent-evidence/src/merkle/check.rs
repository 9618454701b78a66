//! Proof verification, step by step as RFC 9162 2.1.3.2 (inclusion) and
//! 2.1.4.2 (consistency) write it. Needs nothing but the proof, the sizes
//! and the roots: this is what a regulator's verifier runs.
//!
//! The sizes must come from signed checkpoints: as in RFC 9162, a proof
//! alone does not pin the tree size (the same path can fit two sizes whose
//! trees have the same shape along it), the signed root and size do.

use super::hash::{empty_root, node_hash, Hash};

/// Why a proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofFailure {
    #[error("leaf index {index} is not in a tree of {tree_size} leaves")]
    LeafIndexBeyondTreeSize { index: u64, tree_size: u64 },
    #[error("the first tree ({old_size} leaves) is larger than the second ({new_size})")]
    SizesOutOfOrder { old_size: u64, new_size: u64 },
    #[error("the proof has more hashes than a tree of this size needs")]
    ProofTooLong,
    #[error("the proof has fewer hashes than a tree of this size needs")]
    ProofTooShort,
    #[error("the proof leads to root {computed}, not the expected {expected}")]
    RootMismatch { computed: Hash, expected: Hash },
    #[error("the proof leads to first-tree root {computed}, not the expected {expected}")]
    OldRootMismatch { computed: Hash, expected: Hash },
    #[error("the proof leads to second-tree root {computed}, not the expected {expected}")]
    NewRootMismatch { computed: Hash, expected: Hash },
}

/// Verifies that `leaf_hash` is leaf `leaf_index` of the tree of
/// `tree_size` leaves with root `root` (RFC 9162 2.1.3.2).
pub fn verify_inclusion(
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofFailure> {
    let computed = root_from_inclusion_proof(leaf_index, tree_size, leaf_hash, proof)?;
    if computed != *root {
        return Err(ProofFailure::RootMismatch {
            computed,
            expected: *root,
        });
    }
    Ok(())
}

/// The root an inclusion proof leads to (RFC 9162 2.1.3.2 steps 1 to 5,
/// without the final comparison).
pub fn root_from_inclusion_proof(
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
) -> Result<Hash, ProofFailure> {
    // 1. Compare leaf_index from the inclusion_proof_v2 structure against
    //    tree_size. If leaf_index is greater than or equal to tree_size, then
    //    fail the proof verification.
    if leaf_index >= tree_size {
        return Err(ProofFailure::LeafIndexBeyondTreeSize {
            index: leaf_index,
            tree_size,
        });
    }
    // 2. Set fn to leaf_index and sn to tree_size - 1.
    let mut f_n = leaf_index;
    let mut s_n = tree_size - 1;
    // 3. Set r to hash.
    let mut r = *leaf_hash;
    // 4. For each value p in the inclusion_path array:
    for p in proof {
        // a. If sn is 0, then stop the iteration and fail the proof
        //    verification.
        if s_n == 0 {
            return Err(ProofFailure::ProofTooLong);
        }
        // b. If LSB(fn) is set, or if fn is equal to sn, then:
        if f_n & 1 == 1 || f_n == s_n {
            // i. Set r to HASH(0x01 || p || r).
            r = node_hash(p, &r);
            // ii. If LSB(fn) is not set, then right-shift both fn and sn
            //     equally until either LSB(fn) is set or fn is 0.
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            // Otherwise: Set r to HASH(0x01 || r || p).
            r = node_hash(&r, p);
        }
        // c. Finally, right-shift both fn and sn one time.
        f_n >>= 1;
        s_n >>= 1;
    }
    // 5. Compare sn to 0 (the caller compares r to the root).
    if s_n != 0 {
        return Err(ProofFailure::ProofTooShort);
    }
    Ok(r)
}

/// Verifies that the tree of `old_size` leaves with root `old_root` is a
/// prefix of the tree of `new_size` leaves with root `new_root` (RFC 9162
/// 2.1.4.2).
///
/// The RFC's algorithm covers `0 < old_size < new_size`. The edges are
/// decided as the definitions imply: equal sizes need an empty proof and
/// equal roots; an empty first tree needs an empty proof and the empty
/// tree's root (`SHA-256("")`), since it is a prefix of every tree.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofFailure> {
    if old_size > new_size {
        return Err(ProofFailure::SizesOutOfOrder { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofFailure::ProofTooLong);
        }
        let (computed, expected) = if old_size == 0 {
            (empty_root(), *old_root)
        } else {
            (*new_root, *old_root)
        };
        if computed != expected {
            return Err(ProofFailure::OldRootMismatch { computed, expected });
        }
        return Ok(());
    }
    // 1. If consistency_path is an empty array, stop and fail the proof
    //    verification.
    let Some((first, rest)) = proof.split_first() else {
        return Err(ProofFailure::ProofTooShort);
    };
    // 2. If first is an exact power of 2, then prepend first_hash to the
    //    consistency_path array.
    let (seed, path): (&Hash, &[Hash]) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (first, rest)
    };
    // 3. Set fn to first - 1 and sn to second - 1.
    let mut f_n = old_size - 1;
    let mut s_n = new_size - 1;
    // 4. If LSB(fn) is set, then right-shift both fn and sn equally until
    //    LSB(fn) is not set.
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    // 5. Set both fr and sr to the first value in the consistency_path array.
    let mut f_r = *seed;
    let mut s_r = *seed;
    // 6. For each subsequent value c in the consistency_path array:
    for c in path {
        // a. If sn is 0, then stop the iteration and fail the proof
        //    verification.
        if s_n == 0 {
            return Err(ProofFailure::ProofTooLong);
        }
        // b. If LSB(fn) is set, or if fn is equal to sn, then:
        if f_n & 1 == 1 || f_n == s_n {
            // i. Set fr to HASH(0x01 || c || fr).
            f_r = node_hash(c, &f_r);
            // ii. Set sr to HASH(0x01 || c || sr).
            s_r = node_hash(c, &s_r);
            // iii. If LSB(fn) is not set, then right-shift both fn and sn
            //      equally until either LSB(fn) is set or fn is 0.
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            // Otherwise: i. Set sr to HASH(0x01 || sr || c).
            s_r = node_hash(&s_r, c);
        }
        // c. Finally, right-shift both fn and sn one time.
        f_n >>= 1;
        s_n >>= 1;
    }
    // 7. Verify that fr equals first_hash, sr equals second_hash, and sn is 0.
    if s_n != 0 {
        return Err(ProofFailure::ProofTooShort);
    }
    if f_r != *old_root {
        return Err(ProofFailure::OldRootMismatch {
            computed: f_r,
            expected: *old_root,
        });
    }
    if s_r != *new_root {
        return Err(ProofFailure::NewRootMismatch {
            computed: s_r,
            expected: *new_root,
        });
    }
    Ok(())
}
