//! The efficient tree, proof generation and proof verification checked
//! against a deliberately naive implementation written straight from the
//! definitions of RFC 9162 section 2.1 (MTH, PATH, PROOF, SUBPROOF), for
//! every tree size from 1 to 64 and every index or size pair.
//!
//! The naive side hashes with `sha2` directly and splits with a loop, so it
//! shares no code with the crate.

// Index loops mirror the RFC's D[m], D[k:n] notation.
#![allow(clippy::needless_range_loop)]

use consent_evidence::merkle::{
    consistency_proof, inclusion_proof, leaf_hash, root_at, subtree_root, verify_consistency,
    verify_inclusion, Frontier, Hash, MemoryNodeStore, NodeAddress, NodeStore,
};
use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::convert::Infallible;

/// The RFC's `k`: the largest power of two smaller than `n` (n > 1).
fn rfc_k(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    Hash::from_bytes(hasher.finalize().into())
}

/// MTH(D[n]), RFC 9162 2.1.1.
fn mth(d: &[Vec<u8>]) -> Hash {
    match d.len() {
        0 => sha256(&[]),
        1 => sha256(&[&[0x00], &d[0]]),
        n => {
            let k = rfc_k(n);
            sha256(&[&[0x01], mth(&d[..k]).as_bytes(), mth(&d[k..]).as_bytes()])
        }
    }
}

/// PATH(m, D[n]), RFC 9162 2.1.3.1.
fn path(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
    let n = d.len();
    if n == 1 {
        return Vec::new();
    }
    let k = rfc_k(n);
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

/// PROOF(m, D[n]) = SUBPROOF(m, D[n], true), RFC 9162 2.1.4.1.
fn proof(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
    subproof(m, d, true)
}

fn subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { Vec::new() } else { vec![mth(d)] };
    }
    let k = rfc_k(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

/// Distinct leaf data of varied lengths (one empty leaf included).
fn leaves(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| match i {
            0 => Vec::new(),
            i => [
                &u32::try_from(i).expect("small").to_be_bytes()[..],
                &vec![0x5a; i % 7],
            ]
            .concat(),
        })
        .collect()
}

fn store_of(data: &[Vec<u8>]) -> MemoryNodeStore {
    MemoryNodeStore::from_leaf_hashes(data.iter().map(|leaf| leaf_hash(leaf))).unwrap()
}

const MAX_SIZE: usize = 64;

#[test]
fn roots_match_mth_for_every_size() {
    let data = leaves(MAX_SIZE);
    let store = store_of(&data);
    let mut frontier = Frontier::new();
    assert_eq!(frontier.root(), mth(&[]));
    for n in 1..=MAX_SIZE {
        frontier.append(leaf_hash(&data[n - 1])).unwrap();
        let expected = mth(&data[..n]);
        assert_eq!(frontier.root(), expected, "frontier root, n = {n}");
        assert_eq!(
            root_at(&store, n as u64).unwrap(),
            expected,
            "stored root, n = {n}"
        );
        assert_eq!(
            Frontier::load(&store, n as u64).unwrap().root(),
            expected,
            "reloaded frontier, n = {n}"
        );
        assert_eq!(store_of(&data[..n]).root(), expected, "store root, n = {n}");
    }
}

#[test]
fn every_subtree_root_matches_mth() {
    let data = leaves(MAX_SIZE);
    let store = store_of(&data);
    for start in 0..MAX_SIZE {
        for end in start + 1..=MAX_SIZE {
            assert_eq!(
                subtree_root(&store, start as u64, end as u64).unwrap(),
                mth(&data[start..end]),
                "D[{start}:{end}]"
            );
        }
    }
}

#[test]
fn inclusion_proofs_match_path_and_verify_for_every_leaf_and_size() {
    let data = leaves(MAX_SIZE);
    let store = store_of(&data);
    let roots: Vec<Hash> = (0..=MAX_SIZE).map(|n| mth(&data[..n])).collect();
    for n in 1..=MAX_SIZE {
        let root = roots[n];
        for m in 0..n {
            let expected = path(m, &data[..n]);
            let generated = inclusion_proof(&store, m as u64, n as u64).unwrap();
            assert_eq!(generated, expected, "PATH({m}, D[{n}])");
            let leaf = leaf_hash(&data[m]);
            assert_eq!(
                verify_inclusion(m as u64, n as u64, &leaf, &generated, &root),
                Ok(()),
                "verify PATH({m}, D[{n}])"
            );
            // The same proof does not prove any other leaf at this index,
            // nor this leaf at any other index, nor in any other tree size.
            for other in 0..n {
                if other != m {
                    let wrong_leaf = leaf_hash(&data[other]);
                    assert!(
                        verify_inclusion(m as u64, n as u64, &wrong_leaf, &generated, &root)
                            .is_err()
                    );
                    assert!(
                        verify_inclusion(other as u64, n as u64, &leaf, &generated, &root).is_err()
                    );
                }
            }
            for other_size in 1..=MAX_SIZE {
                if other_size != n {
                    let other_root = roots[other_size];
                    assert!(
                        verify_inclusion(
                            m as u64,
                            other_size as u64,
                            &leaf,
                            &generated,
                            &other_root
                        )
                        .is_err(),
                        "PATH({m}, D[{n}]) accepted for size {other_size}"
                    );
                }
            }
        }
    }
}

#[test]
fn consistency_proofs_match_proof_and_verify_for_every_size_pair() {
    let data = leaves(MAX_SIZE);
    let store = store_of(&data);
    let roots: Vec<Hash> = (0..=MAX_SIZE).map(|n| mth(&data[..n])).collect();
    for n in 1..=MAX_SIZE {
        let new_root = roots[n];
        for m in 0..=n {
            let old_root = roots[m];
            let generated = consistency_proof(&store, m as u64, n as u64).unwrap();
            let expected = if m == 0 || m == n {
                Vec::new()
            } else {
                proof(m, &data[..n])
            };
            assert_eq!(generated, expected, "PROOF({m}, D[{n}])");
            assert_eq!(
                verify_consistency(m as u64, n as u64, &old_root, &new_root, &generated),
                Ok(()),
                "verify PROOF({m}, D[{n}])"
            );
            // Not a proof for any other pair of sizes of this tree.
            for other_m in 0..=n {
                if other_m != m && !generated.is_empty() {
                    let other_root = roots[other_m];
                    assert!(
                        verify_consistency(
                            other_m as u64,
                            n as u64,
                            &other_root,
                            &new_root,
                            &generated
                        )
                        .is_err(),
                        "PROOF({m}, D[{n}]) accepted for {other_m}"
                    );
                }
            }
        }
    }
}

#[test]
fn mutated_proofs_fail_for_every_size_pair() {
    let data = leaves(MAX_SIZE);
    let store = store_of(&data);
    for n in 1..=MAX_SIZE {
        let new_root = mth(&data[..n]);
        for m in 0..n {
            let leaf = leaf_hash(&data[m]);
            let inclusion = inclusion_proof(&store, m as u64, n as u64).unwrap();
            for mutated in mutations(&inclusion, &new_root) {
                assert!(
                    verify_inclusion(m as u64, n as u64, &leaf, &mutated, &new_root).is_err(),
                    "mutated PATH({m}, D[{n}]) accepted"
                );
            }
            if m == 0 {
                continue;
            }
            let old_root = mth(&data[..m]);
            let consistency = consistency_proof(&store, m as u64, n as u64).unwrap();
            for mutated in mutations(&consistency, &old_root) {
                assert!(
                    verify_consistency(m as u64, n as u64, &old_root, &new_root, &mutated).is_err(),
                    "mutated PROOF({m}, D[{n}]) accepted"
                );
            }
            // Swapped or wrong roots.
            assert!(
                verify_consistency(m as u64, n as u64, &new_root, &old_root, &consistency).is_err()
                    || old_root == new_root
            );
            assert!(
                verify_consistency(m as u64, n as u64, &leaf, &new_root, &consistency).is_err()
            );
            assert!(
                verify_consistency(m as u64, n as u64, &old_root, &leaf, &consistency).is_err()
            );
        }
    }
}

/// Every single-bit flip, a dropped hash at each place, an extra hash at
/// each end (including a copy of a root).
fn mutations(proof: &[Hash], root: &Hash) -> Vec<Vec<Hash>> {
    let mut out = Vec::new();
    for i in 0..proof.len() {
        for bit in [0usize, 100, 255] {
            let mut mutated = proof.to_vec();
            let mut bytes = *mutated[i].as_bytes();
            bytes[bit / 8] ^= 1 << (bit % 8);
            mutated[i] = Hash::from_bytes(bytes);
            out.push(mutated);
        }
        let mut dropped = proof.to_vec();
        dropped.remove(i);
        out.push(dropped);
    }
    for extra in [*root, Hash::from_bytes([0; 32])] {
        let mut appended = proof.to_vec();
        appended.push(extra);
        out.push(appended);
        let mut prepended = vec![extra];
        prepended.extend_from_slice(proof);
        out.push(prepended);
    }
    out
}

/// A store that counts reads, to check the documented proof cost.
struct CountingStore<'a> {
    inner: &'a MemoryNodeStore,
    reads: Cell<u64>,
}

impl NodeStore for CountingStore<'_> {
    type Error = Infallible;

    fn node(&self, address: NodeAddress) -> Result<Option<Hash>, Infallible> {
        self.reads.set(self.reads.get() + 1);
        self.inner.node(address)
    }
}

#[test]
fn proofs_cost_logarithmic_reads() {
    // 2^16 + 2^10 + 3 leaves: a ragged right edge with several peaks.
    let size: u64 = (1 << 16) + (1 << 10) + 3;
    let store =
        MemoryNodeStore::from_leaf_hashes((0..size).map(|i| leaf_hash(&i.to_be_bytes()))).unwrap();
    let counting = CountingStore {
        inner: &store,
        reads: Cell::new(0),
    };
    let log2 = u64::from(u64::BITS - size.leading_zeros());
    for (m, n) in [
        (0, size),
        (5, size),
        (size - 1, size),
        (1 << 15, size),
        (66_000, size - 1),
    ] {
        counting.reads.set(0);
        inclusion_proof(&counting, m, n).unwrap();
        assert!(
            counting.reads.get() <= 2 * log2,
            "inclusion {m} of {n}: {} reads",
            counting.reads.get()
        );
        counting.reads.set(0);
        consistency_proof(&counting, m, n).unwrap();
        assert!(
            counting.reads.get() <= 2 * log2,
            "consistency {m} to {n}: {} reads",
            counting.reads.get()
        );
    }
}
