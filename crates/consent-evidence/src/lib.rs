//! Tamper evidence for the ledger's log.
//!
//! Every record in the log is a leaf of its topic-partition's append-only
//! Merkle tree, built exactly as RFC 9162 (Certificate Transparency v2)
//! defines it; the ledger head is the RFC 9162 root over the partition
//! heads; the log signs checkpoints (every partition head, the ledger head,
//! the time) in the C2SP tlog-checkpoint format with ed25519; an evidence
//! bundle carries records with their inclusion proofs, a signed checkpoint,
//! optionally consistency proofs to a checkpoint published earlier, and the
//! decisions;
//! [`verify_bundle`] checks all of it with nothing but the bundle and the
//! log's published keys.
//!
//! | module | what |
//! | --- | --- |
//! | [`merkle`] | RFC 9162 hashes, the append-only [`Frontier`], the [`NodeStore`] trait, proof generation and verification |
//! | [`leaf`] | the leaf encoding of a record ("consent-ledger leaf v1") and leaf order |
//! | [`ledger_head`] | one tree per topic-partition, the partition head encoding ("consent-ledger partition head v1") and the ledger head over them |
//! | [`key`] | signing and verifier keys, key ids, publishing and rotation |
//! | [`note`] | C2SP signed notes |
//! | [`checkpoint`] | signed checkpoints |
//! | [`manifest`] | the signed statement of a bundle's exact contents |
//! | [`bundle`] | the evidence bundle file |
//! | [`verify`] | [`verify_bundle`], its report and the decision-recompute hook |
//! | [`keyfile`] | the key file (the crate's only IO) |
//!
//! # How the ledger uses it
//!
//! Each followed topic-partition of the log has its own tree (see
//! [`ledger_head`] for why): the projector hashes each record it consumes
//! with [`leaf::record_leaf_hash`], appends it to its partition's
//! [`Frontier`] (leaf index = the record's offset) and writes the completed
//! nodes ([`Frontier::append`]'s result) and the frontier in the same
//! atomic write as the view. The ledger head ([`ledger_head()`]) is the
//! RFC 9162 root over the partition heads; checkpoints sign it. Proofs for
//! any tree size up to the stored one come from the stored nodes
//! ([`inclusion_proof`], [`consistency_proof`], [`root_at`]).
//!
//! Invariant: pure, apart from [`keyfile`]. No clock (times are arguments),
//! no randomness outside key generation, no async.

pub mod bundle;
pub mod checkpoint;
pub mod digest;
pub mod finding;
pub mod key;
pub mod keyfile;
pub mod leaf;
pub mod ledger_head;
pub mod manifest;
pub mod merkle;
pub mod note;
pub mod verify;

pub use bundle::{
    BundleContents, BundleSealError, ConsistencyEvidence, EvidenceBundle, IncludedRecord,
    PartitionConsistency, BUNDLE_FORMAT_V1,
};
pub use checkpoint::{Checkpoint, CheckpointError};
pub use finding::{Finding, SignedDocument};
pub use key::{CheckpointSigner, KeyError, KeyId, VerifierKey};
pub use keyfile::{generate_key_file, load_key_file, KeyFileError};
pub use leaf::{encode_leaf, record_leaf_hash, LeafError};
pub use ledger_head::{
    ledger_head, verify_partition_head, LedgerHead, PartitionHead, PartitionHeadError,
    PartitionHeadProof, PartitionHeadRejection,
};
pub use manifest::{Manifest, ManifestField};
pub use merkle::{
    consistency_proof, inclusion_proof, root_at, verify_consistency, verify_inclusion, Frontier,
    Hash, MemoryNodeStore, NodeAddress, NodeReadError, NodeStore, ProofError, ProofFailure,
};
pub use verify::{
    verify_bundle, verify_bundle_json, DecisionCheck, DecisionContext, DecisionFinding,
    ProvenRecord, VerificationReport,
};
