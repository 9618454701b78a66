//! Evidence from a running ledger.
//!
//! | module | what |
//! | --- | --- |
//! | [`checkpoints`] | [`Checkpointer`]: signs checkpoints over the projection's partition heads (on a schedule and on demand) and keeps them in an append-only archive |
//! | [`archive`] | [`CheckpointArchive`]: the directory of signed checkpoint notes |
//! | [`scope`] | what an export covers: one subject, a campaign, a time range |
//! | [`exporter`] | [`Exporter`]: assembles a sealed evidence bundle from the view (history, proofs) and the log (organisation facts) |
//! | [`fetch`] | reading records at given positions from the log |
//! | [`eligibility`] | a CSV of every subject's current eligibility for one message |
//!
//! Invariant: reads the log and the view, never writes to either. A
//! bundle's decisions are computed from exactly the records it carries,
//! with `consent-audit`, so that what the ledger exports is what a verifier
//! recomputes.

pub mod addresses;
pub mod archive;
pub mod checkpoints;
pub mod eligibility;
pub mod error;
pub mod exporter;
pub mod fetch;
pub mod scope;

pub use archive::{ArchiveError, CheckpointArchive};
pub use checkpoints::{Checkpointer, SignedCheckpoint};
pub use eligibility::{eligibility_csv, EligibilityError, ELIGIBILITY_CSV_HEADER};
pub use error::ExportError;
pub use exporter::Exporter;
pub use scope::{ExportRequest, ExportScope, STATUS_CHANNELS};
