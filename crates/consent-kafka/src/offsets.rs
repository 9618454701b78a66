//! Reading a partition's watermarks (first and next offsets).

use crate::config::KafkaConfig;
use crate::error::log_error;
use consent_log::{LogError, TopicPartition};
use rdkafka::client::{Client, ClientContext};
use std::time::Instant;

/// The low watermark (first stored offset) and high watermark (offset the
/// next record will get) of `tp`, asked of its leader before `deadline`.
///
/// Blocking: call from `spawn_blocking`. Fails with
/// [`LogError::Unavailable`] when the leader does not answer in time.
pub(crate) fn watermarks<C: ClientContext>(
    client: &Client<C>,
    config: &KafkaConfig,
    tp: &TopicPartition,
    deadline: Instant,
) -> Result<(u64, u64), LogError> {
    let what = format!("reading the offsets of {tp}");
    let remaining = deadline.saturating_duration_since(Instant::now());
    if remaining.is_zero() {
        return Err(LogError::Unavailable(format!(
            "{what}: Kafka at {} did not answer within {:?}",
            config.brokers, config.request_timeout
        )));
    }
    let partition =
        i32::try_from(tp.partition).map_err(|_| LogError::UnknownPartition(tp.clone()))?;
    let (low, high) = client
        .fetch_watermarks(&tp.topic, partition, remaining)
        .map_err(|error| log_error(&what, &config.brokers, &error))?;
    let low = u64::try_from(low)
        .map_err(|_| LogError::Backend(format!("{what}: Kafka reported low watermark {low}")))?;
    let high = u64::try_from(high)
        .map_err(|_| LogError::Backend(format!("{what}: Kafka reported high watermark {high}")))?;
    Ok((low, high))
}
