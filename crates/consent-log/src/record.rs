use crate::position::LogPosition;

/// A record to append: its topic, the routing key and the exact
/// bytes to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendRecord {
    pub topic: String,
    /// Routing key; records with equal keys land on the same partition.
    pub key: Vec<u8>,
    /// The stored bytes, kept exactly as given.
    pub payload: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
}

/// A record read back from the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    pub position: LogPosition,
    pub key: Vec<u8>,
    pub payload: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
    /// Milliseconds since the Unix epoch at which the log stored the record.
    pub timestamp_ms: i64,
}
