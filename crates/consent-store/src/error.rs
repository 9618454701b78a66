/// Errors of every view store implementation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("view store engine error: {0}")]
    Engine(String),
    #[error(
        "view store holds undecodable data under {key}: {reason}; rebuild the view from the log"
    )]
    Corrupt { key: String, reason: String },
    #[error("view format version {found} is not supported (expected {expected}); rebuild the view from the log")]
    FormatVersion { found: u32, expected: u32 },
}
