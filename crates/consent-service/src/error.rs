use consent_domain::rules::UnknownRuleSet;
use consent_export::ExportError;
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
    /// A wait ([`crate::Ledger::wait_for`]) for a position on a partition
    /// this instance does not own: another instance applies it.
    #[error("positions[{index}]: the awaited position {position} is on partition {partition}, which this instance does not own (it owns partitions {owned}); wait on the instance that owns partition {partition}")]
    UnfollowedPosition {
        /// The position's index in the request.
        index: usize,
        position: LogPosition,
        partition: u32,
        /// The partitions this instance owns, e.g. `0-3,6`.
        owned: String,
    },
    /// This ledger was started without a checkpoint key, so it cannot sign
    /// checkpoints or export evidence.
    #[error("evidence is not enabled on this ledger (no checkpoint key configured)")]
    EvidenceDisabled,
    /// An export could not be made.
    #[error("export failed: {0}")]
    Export(#[from] ExportError),
    /// Writing an answer (e.g. a CSV) failed.
    #[error("writing the output failed: {0}")]
    Output(String),
    /// The thread an operation ran its blocking work on failed (a panic,
    /// a runtime shutting down).
    #[error("{0}")]
    Task(String),
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

/// What a [`LedgerError`] means to a client, whatever the transport: the
/// one classification of the ledger's failures. Each adapter maps a kind to
/// its own status (HTTP status and error code, gRPC code and reason); the
/// field at fault and the message are [`LedgerError::field`] and
/// [`LedgerError::client_message`].
///
/// | kind | the client should |
/// | --- | --- |
/// | [`InvalidArgument`](Self::InvalidArgument) | fix the field named |
/// | [`UnknownRuleSet`](Self::UnknownRuleSet) | ask for a rule set that exists (`rule_set_id`) |
/// | [`WrongPartition`](Self::WrongPartition) | ask the instance that owns the partition |
/// | [`LogUnavailable`](Self::LogUnavailable) | retry later: nothing was acknowledged |
/// | [`WaitTimeout`](Self::WaitTimeout) | retry later: the view is behind |
/// | [`EvidenceDisabled`](Self::EvidenceDisabled) | ask a ledger with a checkpoint key |
/// | [`ViewBehindCheckpoint`](Self::ViewBehindCheckpoint) | retry once the view has caught up |
/// | [`Internal`](Self::Internal) | call an operator (the adapter logs it) |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is not one the ledger accepts.
    InvalidArgument,
    /// The requested rule set is not in the catalogue.
    UnknownRuleSet,
    /// The request is about `partition`, which another instance owns.
    WrongPartition { partition: u32 },
    /// The log did not acknowledge an append, or could not be read.
    LogUnavailable,
    /// The view did not apply the awaited positions in time.
    WaitTimeout,
    /// The ledger has no checkpoint key: no checkpoints, no evidence.
    EvidenceDisabled,
    /// The view is behind the checkpoint an export was to be proven
    /// against.
    ViewBehindCheckpoint,
    /// The ledger's own parts failed (the view store, the key store, an
    /// export, writing an answer).
    Internal,
}

impl LedgerError {
    pub(crate) fn invalid(index: Option<usize>, error: ValidationError) -> Self {
        LedgerError::Invalid { index, error }
    }

    /// What this failure means to a client.
    pub fn kind(&self) -> ErrorKind {
        match self {
            LedgerError::Invalid { .. }
            | LedgerError::RecordTooLarge { .. }
            | LedgerError::UnknownRuleSet(UnknownRuleSet::NoneInForce { .. })
            | LedgerError::Export(
                ExportError::Invalid(_)
                | ExportError::ForeignPreviousCheckpoint(_)
                | ExportError::PreviousCheckpointAhead { .. },
            ) => ErrorKind::InvalidArgument,
            LedgerError::UnknownRuleSet(UnknownRuleSet::NotInCatalogue { .. }) => {
                ErrorKind::UnknownRuleSet
            }
            LedgerError::WrongPartition { partition, .. }
            | LedgerError::UnfollowedPosition { partition, .. } => ErrorKind::WrongPartition {
                partition: *partition,
            },
            LedgerError::LogUnavailable(_) => ErrorKind::LogUnavailable,
            LedgerError::WaitTimeout { .. } => ErrorKind::WaitTimeout,
            LedgerError::EvidenceDisabled => ErrorKind::EvidenceDisabled,
            LedgerError::Export(ExportError::ViewBehindCheckpoint(_)) => {
                ErrorKind::ViewBehindCheckpoint
            }
            LedgerError::Export(_)
            | LedgerError::Output(_)
            | LedgerError::Task(_)
            | LedgerError::KeyStore(_)
            | LedgerError::Store(_)
            | LedgerError::StoredRecord { .. } => ErrorKind::Internal,
        }
    }

    /// The request field at fault, when one is: the full path in the
    /// request message (`events[2].consent_given.channels[0]`), `events[i]`
    /// for an event too large, `rule_set_id` or `at` for a rule set that
    /// cannot be used, `previous_checkpoint` for an export's.
    pub fn field(&self) -> Option<String> {
        match self {
            LedgerError::Invalid { error, .. }
            | LedgerError::Export(ExportError::Invalid(error)) => Some(error.field.clone()),
            LedgerError::RecordTooLarge { index, .. } => Some(format!("events[{index}]")),
            LedgerError::UnknownRuleSet(UnknownRuleSet::NotInCatalogue { .. }) => {
                Some("rule_set_id".to_owned())
            }
            LedgerError::UnknownRuleSet(UnknownRuleSet::NoneInForce { .. }) => {
                Some("at".to_owned())
            }
            LedgerError::Export(
                ExportError::ForeignPreviousCheckpoint(_)
                | ExportError::PreviousCheckpointAhead { .. },
            ) => Some("previous_checkpoint".to_owned()),
            _ => None,
        }
    }

    /// The message a client is answered with: the error, and for an append
    /// the log did not acknowledge, that it may be retried.
    pub fn client_message(&self) -> String {
        match self {
            LedgerError::LogUnavailable(_) => {
                format!("{self}; nothing was acknowledged, retry later")
            }
            _ => self.to_string(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use consent_domain::rules::RuleSetId;
    use consent_log::TopicPartition;

    fn invalid(field: &str) -> LedgerError {
        LedgerError::invalid(Some(2), ValidationError::new(field, "required"))
    }

    /// Every variant, with the kind and the field the adapters answer with.
    fn cases() -> Vec<(LedgerError, ErrorKind, Option<&'static str>)> {
        let partition = TopicPartition::new("t", 1);
        vec![
            (
                invalid("events[2].subject_id"),
                ErrorKind::InvalidArgument,
                Some("events[2].subject_id"),
            ),
            (
                LedgerError::RecordTooLarge {
                    index: 3,
                    size: 2,
                    limit: 1,
                },
                ErrorKind::InvalidArgument,
                Some("events[3]"),
            ),
            (
                LedgerError::LogUnavailable(LogError::UnknownTopic("t".to_owned())),
                ErrorKind::LogUnavailable,
                None,
            ),
            (
                LedgerError::UnknownRuleSet(UnknownRuleSet::NotInCatalogue {
                    id: RuleSetId::from("uk-1066"),
                }),
                ErrorKind::UnknownRuleSet,
                Some("rule_set_id"),
            ),
            (
                LedgerError::WaitTimeout {
                    pending: Vec::new(),
                    waited: Duration::from_millis(5),
                    projector_stopped: false,
                },
                ErrorKind::WaitTimeout,
                None,
            ),
            (
                LedgerError::WrongPartition {
                    what: "subject s of o".to_owned(),
                    partition: 5,
                    partitions: 8,
                    owned: "0-3".to_owned(),
                },
                ErrorKind::WrongPartition { partition: 5 },
                None,
            ),
            (
                LedgerError::UnfollowedPosition {
                    index: 0,
                    position: LogPosition::new("t", 6, 1),
                    partition: 6,
                    owned: "0-3".to_owned(),
                },
                ErrorKind::WrongPartition { partition: 6 },
                None,
            ),
            (
                LedgerError::EvidenceDisabled,
                ErrorKind::EvidenceDisabled,
                None,
            ),
            (
                LedgerError::Export(ExportError::ViewBehindCheckpoint(partition.clone())),
                ErrorKind::ViewBehindCheckpoint,
                None,
            ),
            (
                LedgerError::Export(ExportError::PreviousCheckpointAhead {
                    partition,
                    old_size: 3,
                    new_size: 2,
                }),
                ErrorKind::InvalidArgument,
                Some("previous_checkpoint"),
            ),
            (
                LedgerError::Export(ExportError::Invalid(ValidationError::new(
                    "subject_id",
                    "required",
                ))),
                ErrorKind::InvalidArgument,
                Some("subject_id"),
            ),
            (
                LedgerError::Export(ExportError::MissingNode("n".to_owned())),
                ErrorKind::Internal,
                None,
            ),
            (
                LedgerError::Output("disk full".to_owned()),
                ErrorKind::Internal,
                None,
            ),
            (
                LedgerError::Task("task panicked".to_owned()),
                ErrorKind::Internal,
                None,
            ),
            (
                LedgerError::KeyStore("down".to_owned()),
                ErrorKind::Internal,
                None,
            ),
            (
                LedgerError::Store(StoreError::Engine("io".to_owned())),
                ErrorKind::Internal,
                None,
            ),
        ]
    }

    #[test]
    fn every_error_has_the_kind_and_field_the_adapters_answer_with() {
        for (error, kind, field) in cases() {
            assert_eq!(error.kind(), kind, "{error}");
            assert_eq!(error.field().as_deref(), field, "{error}");
        }
    }

    #[test]
    fn a_client_is_told_an_unacknowledged_append_may_be_retried() {
        let error = LedgerError::LogUnavailable(LogError::UnknownTopic("t".to_owned()));
        assert!(error
            .client_message()
            .ends_with("; nothing was acknowledged, retry later"));
        let error = invalid("channel");
        assert_eq!(error.client_message(), "invalid `channel`: required");
    }
}
