use consent_domain::rules::UnknownRuleSet;
use consent_log::{LogError, LogPosition};
use consent_schema::{DecodeError, ValidationError};
use consent_store::StoreError;
use std::time::Duration;

/// Why a ledger operation failed.
///
/// Each variant is one answer a client can act on: fix the request
/// ([`Invalid`](Self::Invalid), [`RecordTooLarge`](Self::RecordTooLarge),
/// [`UnknownRuleSet`](Self::UnknownRuleSet)), retry later
/// ([`LogUnavailable`](Self::LogUnavailable),
/// [`WaitTimeout`](Self::WaitTimeout)), or call an operator
/// ([`Store`](Self::Store), [`StoredRecord`](Self::StoredRecord)).
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// A request item is not a fact or question the ledger can decide on.
    /// `error.field` is the full path in the request message, e.g.
    /// `events[2].consent_given.channels[0]`; `index` is the item's index
    /// in a multi-item request.
    #[error("{error}")]
    Invalid {
        index: Option<usize>,
        error: ValidationError,
    },
    /// An event is too large for the log, once encoded.
    #[error("event {index} is too large for the log: {size} bytes encoded (limit {limit})")]
    RecordTooLarge {
        index: usize,
        size: usize,
        limit: usize,
    },
    /// The log did not acknowledge the append (or could not be read). For an
    /// append, nothing is acknowledged; a prefix may have been stored, so a
    /// retry should send the same event ids.
    #[error("the event log is unavailable: {0}")]
    LogUnavailable(#[source] LogError),
    /// The requested rule set does not exist, or none is in force at the
    /// check's time.
    #[error(transparent)]
    UnknownRuleSet(#[from] UnknownRuleSet),
    /// The view did not apply the awaited positions in time.
    #[error("the view has not applied {} of the awaited log positions after {} ms{}", pending.len(), waited.as_millis(), if *projector_stopped { " (the projector has stopped)" } else { "" })]
    WaitTimeout {
        pending: Vec<LogPosition>,
        waited: Duration,
        projector_stopped: bool,
    },
    /// The request is about a subject on a partition this instance does not
    /// own (see `--own-partitions`), or waits for a position on a
    /// topic-partition it does not follow: another instance answers it.
    #[error("{what} is on partition {partition}, which this instance does not own (it owns partitions {owned} of 0-{last}); send the request to the instance that owns partition {partition} (GET /v1/routing names a subject's partition)", last = partitions.saturating_sub(1))]
    WrongPartition {
        /// What is misdirected, e.g. `subject cust-42 of acme-motors`.
        what: String,
        partition: u32,
        /// The log's partition count.
        partitions: u32,
        /// The partitions this instance owns, e.g. `0-3,6`.
        owned: String,
    },
    /// This ledger was started without a checkpoint key, so it cannot sign
    /// checkpoints or export evidence.
    #[error("evidence is not enabled on this ledger (no checkpoint key configured)")]
    EvidenceDisabled,
    /// An export could not be made.
    #[error("export failed: {0}")]
    Export(#[from] consent_export::ExportError),
    /// Writing an answer (e.g. a CSV) failed.
    #[error("writing the output failed: {0}")]
    Output(String),
    /// The subject key store failed: nothing was appended.
    #[error("subject key store error: {0}")]
    KeyStore(String),
    /// The view store failed to read.
    #[error("view store error: {0}")]
    Store(#[from] StoreError),
    /// The view holds bytes that are not an envelope: the view must be
    /// rebuilt from the log.
    #[error("the view holds an undecodable record for event {event_id} at {position}: {source}; rebuild the view from the log")]
    StoredRecord {
        event_id: String,
        position: String,
        #[source]
        source: DecodeError,
    },
}

impl LedgerError {
    pub(crate) fn invalid(index: Option<usize>, error: ValidationError) -> Self {
        LedgerError::Invalid { index, error }
    }
}

impl From<consent_projector::WaitTimeout> for LedgerError {
    fn from(timeout: consent_projector::WaitTimeout) -> Self {
        LedgerError::WaitTimeout {
            pending: timeout.pending,
            waited: timeout.waited,
            projector_stopped: timeout.projector_stopped,
        }
    }
}
