//! Published values this implementation must reproduce:
//!
//! * the RFC 6962 / RFC 9162 reference tree of 8 leaves (leaf data "",
//!   0x00, 0x10, 0x2021, 0x3031, 0x40414243, 0x5051525354555657,
//!   0x606162...6f) with the roots of its first 1 to 8 leaves and the
//!   inclusion and consistency proofs published with it by Google's
//!   certificate-transparency and transparency-dev/merkle test data;
//! * the signed-note example of Go's golang.org/x/mod/sumdb/note
//!   documentation (the PeterNeumann key and note), and the verifier key
//!   and note of the C2SP signed-note specification's example.
//!
//! Values are data only (hex and base64 strings), read from those sources.

use consent_evidence::merkle::{
    consistency_proof, empty_root, inclusion_proof, leaf_hash, root_at, verify_consistency,
    verify_inclusion, Hash, MemoryNodeStore,
};
use consent_evidence::note::SignedNote;
use consent_evidence::{CheckpointSigner, VerifierKey};

fn h(hex_text: &str) -> Hash {
    let bytes: [u8; 32] = hex::decode(hex_text).unwrap().try_into().unwrap();
    Hash::from_bytes(bytes)
}

fn reference_leaves() -> Vec<Vec<u8>> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|leaf| hex::decode(leaf).unwrap())
    .collect()
}

/// Roots of the first 1..=8 leaves.
const REFERENCE_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn reference_store() -> MemoryNodeStore {
    MemoryNodeStore::from_leaf_hashes(reference_leaves().iter().map(|leaf| leaf_hash(leaf)))
        .unwrap()
}

#[test]
fn empty_tree_root() {
    assert_eq!(
        empty_root(),
        h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(root_at(&reference_store(), 0).unwrap(), empty_root());
}

#[test]
fn reference_tree_roots() {
    let store = reference_store();
    for (i, expected) in REFERENCE_ROOTS.iter().enumerate() {
        let size = i as u64 + 1;
        assert_eq!(
            root_at(&store, size).unwrap(),
            h(expected),
            "root of {size} leaves"
        );
    }
}

#[test]
fn reference_inclusion_proofs() {
    // (leaf index, tree size, proof)
    let vectors: [(u64, u64, &[&str]); 5] = [
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    let store = reference_store();
    let leaves = reference_leaves();
    for (index, size, proof) in vectors {
        let expected: Vec<Hash> = proof.iter().map(|p| h(p)).collect();
        assert_eq!(
            inclusion_proof(&store, index, size).unwrap(),
            expected,
            "leaf {index} of {size}"
        );
        let root = h(REFERENCE_ROOTS[small(size) - 1]);
        let leaf = leaf_hash(&leaves[small(index)]);
        assert_eq!(
            verify_inclusion(index, size, &leaf, &expected, &root),
            Ok(())
        );
    }
}

#[test]
fn reference_consistency_proofs() {
    // (old size, new size, proof)
    let vectors: [(u64, u64, &[&str]); 5] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            6,
            7,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    let store = reference_store();
    for (old_size, new_size, proof) in vectors {
        let expected: Vec<Hash> = proof.iter().map(|p| h(p)).collect();
        assert_eq!(
            consistency_proof(&store, old_size, new_size).unwrap(),
            expected,
            "{old_size} to {new_size}"
        );
        let old_root = h(REFERENCE_ROOTS[small(old_size) - 1]);
        let new_root = h(REFERENCE_ROOTS[small(new_size) - 1]);
        assert_eq!(
            verify_consistency(old_size, new_size, &old_root, &new_root, &expected),
            Ok(())
        );
    }
}

const GO_NOTE_TEXT: &str =
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";

#[test]
fn go_sumdb_note_example_is_reproduced_byte_for_byte() {
    let signer = CheckpointSigner::from_private_key_text(
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
    )
    .unwrap();
    assert_eq!(
        signer.verifier_key().to_string(),
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    );
    let note = SignedNote::sign(GO_NOTE_TEXT, &[&signer]).unwrap();
    assert_eq!(
        note,
        format!(
            "{GO_NOTE_TEXT}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        )
    );
}

#[test]
fn c2sp_signed_note_example_verifies() {
    let key: VerifierKey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
        .parse()
        .unwrap();
    let note = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
    let parsed = SignedNote::parse(note).unwrap();
    assert_eq!(parsed.text(), "This is an example message.\n");
    assert_eq!(
        parsed.verify(std::slice::from_ref(&key)).unwrap(),
        vec![key]
    );
}

/// A tree size or index of these small vectors, as an index.
fn small(n: u64) -> usize {
    usize::try_from(n).expect("a small tree")
}
