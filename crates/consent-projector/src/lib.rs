//! The projector: the fold from the log to the view.
//!
//! [`Projector`] reads records from the event-family topic-partitions of
//! the log's layout that its instance follows ([`OwnedPartitions`]: all of
//! them for a full replica), decodes and validates them (`consent-schema`), folds
//! them into per-subject and per-organisation state (`consent-domain`),
//! and writes the new states, history entries, contact index entries and
//! the next offsets to the view store in one atomic
//! [`consent_store::ViewStore::apply`], together with the new nodes and
//! frontiers of each topic-partition's RFC 9162 Merkle tree (leaf `i` =
//! the record at offset `i`, see `consent_evidence::ledger_head`). The
//! view is therefore always
//! exactly "the log up to the stored offsets", and a restart resumes from
//! there.
//!
//! Every fact that stops marketing (an opt-out, objection, withdrawal,
//! told-not-to-call, erasure, suppression) also gives a notice on the
//! layout's opt-out feed topic ([`opt_out_feed`]), appended before the
//! batch is committed: at least once, rebuildable, with no gap.
//!
//! Records that cannot be read go to the dead-letter topic
//! ([`dead_letter`]); events whose id was seen with other content are
//! counted as conflicts. [`ProjectionHandle`] lets the rest of the service
//! read the progress and wait for its own appends to be applied
//! (read-your-writes); [`Projection`] hands a ledger the log, the view and
//! the handle of one projector together.
//!
//! Architecture invariant: the projector is the only writer of the view,
//! and writes nothing that is not derived from the log.

mod batch;
mod config;
pub mod dead_letter;
mod decode;
mod error;
mod handle;
pub mod opt_out_feed;
mod ownership;
mod projection;
mod projector;
mod status;
mod trees;

pub use config::ProjectorConfig;
pub use error::ProjectorError;
pub use handle::{ProjectionHandle, WaitTimeout};
pub use ownership::{OwnedPartitions, ParseOwnedPartitionsError};
pub use projection::Projection;
pub use projector::{BatchSummary, Projector, StepOutcome};
pub use status::{lag, FailureCause, Lag, ProjectionFailure, ProjectionProgress, ProjectionStatus};
