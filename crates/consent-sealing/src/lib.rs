//! Sealing contact values, so that erasure can be carried out in an
//! immutable log (UK GDPR Art 17; docs/ERASURE.md).
//!
//! The log keeps every fact forever and cannot be edited, so the ledger
//! never writes an address or a telephone number into it. At the append
//! edge each contact value is replaced by a `SealedValue`:
//!
//! * a **digest**: HMAC-SHA256 under the ledger's contact-digest key of the
//!   organisation id and the normalised value ([`ContactDigestKey`]). The
//!   rules compare digests (the same address has the same digest within one
//!   organisation), so the view, the decisions and the evidence never hold
//!   an address, and the view stays rebuildable from the log alone;
//! * a **ciphertext**: the value under the subject's own key
//!   ([`SubjectKey`], XChaCha20-Poly1305), so the organisation can read its
//!   own records back while the subject is not erased.
//!
//! Erasure destroys the subject's key in the key store
//! ([`SubjectKeyStore`]): every ciphertext of the subject becomes noise,
//! wherever copies of the log are. The digests stay, and the erasure adds
//! them to the organisation's suppression list (`ContactsSuppressed`), so
//! the address is never marketed to again.
//!
//! The key store is the one piece of ledger state that is not in the log
//! (it cannot be: a key in the log could never be destroyed). Losing it
//! loses no decision - decisions read digests - only the ability to show
//! the addresses of subjects not yet erased.
//!
//! Pure apart from drawing random keys and nonces from the OS.

#[cfg(feature = "conformance")]
pub mod conformance;
mod digest;
mod envelope;
mod error;
mod key_store;
mod subject_key;

pub use digest::{ContactDigestKey, CONTACT_DIGEST_KEY_BYTES};
pub use envelope::{unseal_envelope, Sealer, Unsealed};
pub use error::SealError;
pub use key_store::{
    Digest, KeyState, KeyStoreError, MemoryKeyStore, Prepared, SealingBatch, SubjectKeyStore,
    SubjectOf,
};
pub use subject_key::{SubjectKey, SUBJECT_KEY_BYTES};
