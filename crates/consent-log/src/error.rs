use crate::position::TopicPartition;

/// Everything that can go wrong in a log, for every implementation.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("log I/O error at {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("log is corrupt at {path}: {reason}")]
    Corrupt { path: String, reason: String },
    #[error("unknown topic {0:?}: not in the log layout")]
    UnknownTopic(String),
    #[error("unknown topic-partition {0}")]
    UnknownPartition(TopicPartition),
    #[error("offset {offset} of {partition} is out of range (log end is {end})")]
    OffsetOutOfRange {
        partition: TopicPartition,
        offset: u64,
        end: u64,
    },
    #[error("log layout mismatch: {0}")]
    LayoutMismatch(String),
    #[error("record too large: {size} bytes (limit {limit})")]
    RecordTooLarge { size: usize, limit: usize },
    #[error("log unavailable: {0}")]
    Unavailable(String),
    /// The log cannot be reached with the settings given (a TLS certificate
    /// not trusted, a login refused, a mechanism not offered): no retry
    /// cures it; the message names the setting to change.
    #[error("log connection settings: {0}")]
    Settings(String),
    #[error("log backend error: {0}")]
    Backend(String),
}
