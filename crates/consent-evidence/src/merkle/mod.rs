//! The Merkle tree of RFC 9162 (Certificate Transparency v2), section 2.1,
//! exactly as published, with SHA-256.
//!
//! * [`hash`]: leaf, node and empty-tree hashes (the 0x00 / 0x01 prefixes).
//! * [`Frontier`]: the O(log n) append-only state (root of the tree, and
//!   the nodes each appended leaf completes).
//! * [`NodeStore`]: where those nodes are kept (sled in the projector,
//!   [`MemoryNodeStore`] in memory).
//! * proof generation ([`inclusion_proof`], [`consistency_proof`],
//!   [`root_at`]) and verification ([`verify_inclusion`],
//!   [`verify_consistency`]).
//!
//! Invariant: pure. No IO, no clock, no randomness.

mod check;
mod frontier;
pub mod hash;
mod prove;
mod store;

pub use check::{root_from_inclusion_proof, verify_consistency, verify_inclusion, ProofFailure};
pub use frontier::{peak_addresses, Frontier, NodeReadError, TreeFull, WrongPeakCount};
pub use hash::{empty_root, leaf_hash, node_hash, Hash, HashDecodeError, HASH_LEN};
pub use prove::{consistency_proof, inclusion_proof, root_at, subtree_root, ProofError};
pub use store::{MemoryNodeStore, NodeAddress, NodeStore};
