use std::path::PathBuf;

/// A position or dead letter that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} cannot be read: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}
