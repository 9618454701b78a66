use crate::ownership::OwnedPartitions;
use std::time::Duration;

/// How the projector reads and retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectorConfig {
    /// Most records read, folded and committed in one step (one atomic
    /// write of the view).
    pub batch_size: usize,
    /// How long one step waits for records when the log has none.
    pub poll_wait: Duration,
    /// Append records that cannot be decoded or validated to the layout's
    /// dead-letter topic. When false they are only logged and counted;
    /// either way their offsets are consumed and the stream goes on.
    pub dead_letters: bool,
    /// First pause of [`crate::Projector::run`] after a failed step; doubles
    /// on each further failure up to `retry_max`.
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// The partitions this instance owns (see [`OwnedPartitions`]): every
    /// partition by default. The view's stored offsets cover exactly the
    /// topic-partitions this makes it follow; a view built for another
    /// ownership is refused at start.
    pub ownership: OwnedPartitions,
}

impl Default for ProjectorConfig {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            poll_wait: Duration::from_millis(500),
            dead_letters: true,
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(30),
            ownership: OwnedPartitions::All,
        }
    }
}
