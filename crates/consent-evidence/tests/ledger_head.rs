//! The ledger head and partition-head proofs against a naive implementation
//! written from RFC 9162 2.1.1 (MTH) and 2.1.3.1 (PATH) and from the
//! documented "consent-ledger partition head v1" layout, hashing with
//! `sha2` directly: it shares no code with the crate.

use consent_evidence::merkle::empty_root;
use consent_evidence::{
    ledger_head, verify_partition_head, Hash, LedgerHead, PartitionHead, PartitionHeadRejection,
};
use consent_log::TopicPartition;
use sha2::{Digest, Sha256};

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    Hash::from_bytes(hasher.finalize().into())
}

fn rfc_k(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]).
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

/// PATH(m, D[n]).
fn path(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
    if d.len() == 1 {
        return Vec::new();
    }
    let k = rfc_k(d.len());
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

/// The documented layout, written out by hand.
fn naive_encoding(topic: &str, partition: u32, size: u64, root: &Hash) -> Vec<u8> {
    let mut out = vec![0x01];
    out.extend_from_slice(
        &u16::try_from(topic.len())
            .expect("a short topic")
            .to_be_bytes(),
    );
    out.extend_from_slice(topic.as_bytes());
    out.extend_from_slice(&partition.to_be_bytes());
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(root.as_bytes());
    out
}

/// `n` partition heads over two topics, given in a scrambled order.
fn heads(n: usize) -> Vec<PartitionHead> {
    let mut heads: Vec<PartitionHead> = (0..n)
        .map(|i| {
            let topic = if i % 2 == 0 {
                "led.grants"
            } else {
                "led.optouts"
            };
            let root = sha256(&[&(i as u64).to_be_bytes()]);
            PartitionHead::new(
                TopicPartition::new(topic, u32::try_from(i / 2).expect("a small partition")),
                i as u64 * 3,
                root,
            )
        })
        .collect();
    heads.reverse();
    heads.rotate_left(n / 3);
    heads
}

/// The naive leaves, in (topic, partition) order.
fn naive_leaves(heads: &[PartitionHead]) -> Vec<Vec<u8>> {
    let mut sorted = heads.to_vec();
    sorted.sort_by(|a, b| {
        (a.partition.topic.as_bytes(), a.partition.partition)
            .cmp(&(b.partition.topic.as_bytes(), b.partition.partition))
    });
    sorted
        .iter()
        .map(|h| {
            naive_encoding(
                &h.partition.topic,
                h.partition.partition,
                h.tree_size,
                &h.root,
            )
        })
        .collect()
}

#[test]
fn the_ledger_head_is_mth_over_sorted_partition_heads() {
    assert_eq!(ledger_head(&[]).unwrap(), empty_root());
    for n in 1..=40 {
        let heads = heads(n);
        let leaves = naive_leaves(&heads);
        assert_eq!(ledger_head(&heads).unwrap(), mth(&leaves), "n = {n}");
    }
}

#[test]
fn each_partition_head_is_proven_with_the_rfc_path() {
    for n in 1..=40 {
        let heads = heads(n);
        let leaves = naive_leaves(&heads);
        let ledger = LedgerHead::new(heads.clone()).unwrap();
        let root = ledger.root();
        for head in &heads {
            let proof = ledger.prove(&head.partition).expect("covered");
            let index = usize::try_from(proof.index).unwrap();
            assert_eq!(proof.heads, n as u64);
            assert_eq!(
                leaves[index],
                naive_encoding(
                    &head.partition.topic,
                    head.partition.partition,
                    head.tree_size,
                    &head.root
                )
            );
            assert_eq!(proof.path, path(index, &leaves), "n = {n}, index = {index}");
            verify_partition_head(head, &proof, &root).expect("verifies");
        }
        assert!(ledger
            .prove(&TopicPartition::new("led.grants", 999))
            .is_none());
    }
}

#[test]
fn a_changed_head_does_not_verify() {
    let heads = heads(7);
    let ledger = LedgerHead::new(heads.clone()).unwrap();
    let root = ledger.root();
    let head = &heads[2];
    let proof = ledger.prove(&head.partition).unwrap();

    let mut grown = head.clone();
    grown.tree_size += 1;
    let mut rerooted = head.clone();
    rerooted.root = sha256(&[b"other"]);
    let mut moved = head.clone();
    moved.partition.partition += 100;
    for changed in [grown, rerooted, moved] {
        assert!(matches!(
            verify_partition_head(&changed, &proof, &root),
            Err(PartitionHeadRejection::Proof(_))
        ));
    }
}
