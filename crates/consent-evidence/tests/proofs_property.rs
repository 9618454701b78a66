//! Property tests on random trees: proofs between any two sizes verify,
//! and any mutation of a proof, a size or a root makes them fail.

use consent_evidence::merkle::{
    consistency_proof, inclusion_proof, leaf_hash, root_at, verify_consistency, verify_inclusion,
    Frontier, Hash, MemoryNodeStore,
};
use proptest::prelude::*;

/// A tree of random leaves, and two sizes `m <= n` within it.
fn tree_and_sizes() -> impl Strategy<Value = (Vec<Vec<u8>>, u64, u64)> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 1..600).prop_flat_map(
        |leaves| {
            let size = leaves.len() as u64;
            (Just(leaves), 0..=size)
                .prop_flat_map(move |(leaves, n)| (Just(leaves), 0..=n, Just(n)))
        },
    )
}

fn store_of(leaves: &[Vec<u8>]) -> MemoryNodeStore {
    MemoryNodeStore::from_leaf_hashes(leaves.iter().map(|leaf| leaf_hash(leaf))).unwrap()
}

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut bytes = *hash.as_bytes();
    bytes[(bit / 8) % 32] ^= 1 << (bit % 8);
    Hash::from_bytes(bytes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn consistency_proofs_verify_and_mutations_fail(
        (leaves, m, n) in tree_and_sizes(),
        pick in any::<prop::sample::Index>(),
        bit in 0usize..256,
    ) {
        let store = store_of(&leaves);
        let old_root = root_at(&store, m).unwrap();
        let new_root = root_at(&store, n).unwrap();
        let proof = consistency_proof(&store, m, n).unwrap();
        prop_assert_eq!(verify_consistency(m, n, &old_root, &new_root, &proof), Ok(()));

        // The old tree's frontier, rebuilt from the store, has the old root.
        prop_assert_eq!(Frontier::load(&store, m).unwrap().root(), old_root);

        if proof.is_empty() {
            // m == 0 or m == n: only the roots can be wrong.
            prop_assert!(verify_consistency(m, n, &flip(&old_root, bit), &new_root, &proof).is_err());
            return Ok(());
        }
        let i = pick.index(proof.len());
        let mut flipped = proof.clone();
        flipped[i] = flip(&flipped[i], bit);
        prop_assert!(verify_consistency(m, n, &old_root, &new_root, &flipped).is_err());

        let mut dropped = proof.clone();
        dropped.remove(i);
        prop_assert!(verify_consistency(m, n, &old_root, &new_root, &dropped).is_err());

        let mut extended = proof.clone();
        extended.push(new_root);
        prop_assert!(verify_consistency(m, n, &old_root, &new_root, &extended).is_err());

        prop_assert!(verify_consistency(m, n, &flip(&old_root, bit), &new_root, &proof).is_err());
        prop_assert!(verify_consistency(m, n, &old_root, &flip(&new_root, bit), &proof).is_err());
        if m > 1 {
            let smaller_root = root_at(&store, m - 1).unwrap();
            prop_assert!(verify_consistency(m - 1, n, &smaller_root, &new_root, &proof).is_err());
        }
    }

    #[test]
    fn inclusion_proofs_verify_and_mutations_fail(
        (leaves, m, n) in tree_and_sizes(),
        pick in any::<prop::sample::Index>(),
        bit in 0usize..256,
    ) {
        prop_assume!(m < n);
        let store = store_of(&leaves);
        let root = root_at(&store, n).unwrap();
        let at = usize::try_from(m).expect("a small tree");
        let leaf = leaf_hash(&leaves[at]);
        let proof = inclusion_proof(&store, m, n).unwrap();
        prop_assert_eq!(verify_inclusion(m, n, &leaf, &proof, &root), Ok(()));

        prop_assert!(verify_inclusion(m, n, &flip(&leaf, bit), &proof, &root).is_err());
        prop_assert!(verify_inclusion(m, n, &leaf, &proof, &flip(&root, bit)).is_err());
        // The same proof at the previous index fails, unless that leaf is
        // the same bytes (then the trees cannot tell them apart).
        if m > 0 && leaves[at - 1] != leaves[at] {
            prop_assert!(verify_inclusion(m - 1, n, &leaf, &proof, &root).is_err());
        }
        if !proof.is_empty() {
            let i = pick.index(proof.len());
            let mut flipped = proof.clone();
            flipped[i] = flip(&flipped[i], bit);
            prop_assert!(verify_inclusion(m, n, &leaf, &flipped, &root).is_err());
            let mut dropped = proof.clone();
            dropped.remove(i);
            prop_assert!(verify_inclusion(m, n, &leaf, &dropped, &root).is_err());
        }
        let mut extended = proof.clone();
        extended.push(root);
        prop_assert!(verify_inclusion(m, n, &leaf, &extended, &root).is_err());
    }

    #[test]
    fn the_frontier_matches_the_store_after_every_append(
        leaves in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..8), 0..300),
    ) {
        let mut frontier = Frontier::new();
        let mut store = MemoryNodeStore::new();
        for leaf in &leaves {
            let hash = leaf_hash(leaf);
            frontier.append(hash).unwrap();
            store.append(hash).unwrap();
            prop_assert_eq!(frontier.root(), root_at(&store, frontier.size()).unwrap());
            // Serialised and restored, the frontier is the same state.
            let text = serde_json::to_string(&frontier).unwrap();
            let restored: Frontier = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(&restored, &frontier);
        }
    }
}
