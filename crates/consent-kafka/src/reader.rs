//! [`KafkaReader`]: reads assigned topic-partitions from given offsets.

use crate::config::KafkaConfig;
use crate::context::LogContext;
use crate::error::{is_unavailable, log_error};
use crate::offsets::watermarks;
use consent_log::{LogError, LogPosition, LogReader, LogRecord, StartOffsets};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// What one blocking poll produced: the records taken from the consumer,
/// and the error that stopped it, if any. An error that comes with records
/// is returned by the next call, so those records are not lost.
type PollOutcome = (Vec<LogRecord>, Option<LogError>);

/// Reads records from the topic-partitions it was opened with, from the
/// offsets it was given, by manual assignment (no consumer group is joined
/// and no offset is committed).
///
/// Cancel-safe: if a `next_batch` future is dropped while the consumer is
/// being polled, the records that poll takes are returned by the next call.
pub struct KafkaReader {
    consumer: Arc<BaseConsumer<LogContext>>,
    config: Arc<KafkaConfig>,
    /// A poll running on the blocking pool, kept across cancelled calls.
    in_flight: Option<JoinHandle<PollOutcome>>,
    /// An error met after records were taken, returned by the next call.
    deferred: Option<LogError>,
}

impl std::fmt::Debug for KafkaReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaReader")
            .field("brokers", &self.config.brokers)
            .finish_non_exhaustive()
    }
}

impl KafkaReader {
    /// Creates the consumer, checks every start offset lies between its
    /// partition's first stored offset and its end, and assigns the
    /// partitions at those offsets.
    ///
    /// Fails with [`LogError::OffsetOutOfRange`] for a start offset past the
    /// end (or before the first stored record), and [`LogError::Unavailable`]
    /// when the cluster does not answer within the request timeout.
    pub(crate) async fn open(
        config: Arc<KafkaConfig>,
        start: StartOffsets,
    ) -> Result<Self, LogError> {
        let consumer: BaseConsumer<LogContext> = config
            .consumer_config()
            .create_with_context(LogContext::new("reader"))
            .map_err(|error| log_error("creating a Kafka reader", &config.brokers, &error))?;
        let consumer = Arc::new(consumer);
        let task_consumer = Arc::clone(&consumer);
        let task_config = Arc::clone(&config);
        tokio::task::spawn_blocking(move || assign(&task_consumer, &task_config, &start))
            .await
            .map_err(|error| {
                LogError::Backend(format!("reader assignment task failed: {error}"))
            })??;
        Ok(Self {
            consumer,
            config,
            in_flight: None,
            deferred: None,
        })
    }
}

/// Checks the start offsets against the watermarks, then assigns. Blocking.
fn assign(
    consumer: &BaseConsumer<LogContext>,
    config: &KafkaConfig,
    start: &StartOffsets,
) -> Result<(), LogError> {
    let deadline = Instant::now() + config.request_timeout;
    let mut assignment = TopicPartitionList::with_capacity(start.len());
    for (tp, &offset) in start {
        let (low, high) = watermarks(consumer.client(), config, tp, deadline)?;
        if offset > high || offset < low {
            return Err(LogError::OffsetOutOfRange {
                partition: tp.clone(),
                offset,
                end: high,
            });
        }
        let partition =
            i32::try_from(tp.partition).map_err(|_| LogError::UnknownPartition(tp.clone()))?;
        let kafka_offset = i64::try_from(offset).map_err(|_| LogError::OffsetOutOfRange {
            partition: tp.clone(),
            offset,
            end: high,
        })?;
        assignment
            .add_partition_offset(&tp.topic, partition, Offset::Offset(kafka_offset))
            .map_err(|error| {
                log_error("building a reader's assignment", &config.brokers, &error)
            })?;
    }
    consumer
        .assign(&assignment)
        .map_err(|error| log_error("assigning a reader's partitions", &config.brokers, &error))
}

/// Polls up to `max_records` records, waiting up to `wait` for the first.
/// Blocking.
///
/// Connection trouble (a broker down) does not end the wait: librdkafka
/// queues one such report per failed reconnect, and reports queued during
/// an outage that is already over must not hide the records behind them.
/// Only when no record came within `wait` is the last report returned, as
/// [`LogError::Unavailable`].
fn poll_batch(
    consumer: &BaseConsumer<LogContext>,
    brokers: &str,
    max_records: usize,
    wait: Duration,
) -> PollOutcome {
    let deadline = Instant::now() + wait;
    let mut records = Vec::new();
    let mut trouble = None;
    while records.len() < max_records {
        // Wait only for the first record; after that take what is there.
        let timeout = if records.is_empty() {
            deadline.saturating_duration_since(Instant::now())
        } else {
            Duration::ZERO
        };
        match consumer.poll(timeout) {
            None => {
                if !records.is_empty() || Instant::now() >= deadline {
                    break;
                }
            }
            Some(Ok(message)) => match log_record(&message) {
                Ok(record) => records.push(record),
                Err(error) => return (records, Some(error)),
            },
            Some(Err(error)) => {
                let transient = matches!(
                    &error,
                    KafkaError::MessageConsumption(code) if is_unavailable(*code)
                );
                let error = log_error("reading from Kafka", brokers, &error);
                if !transient {
                    return (records, Some(error));
                }
                tracing::debug!(%error, "Kafka connection trouble while reading");
                trouble = Some(error);
                if Instant::now() >= deadline {
                    break;
                }
            }
        }
    }
    if records.is_empty() {
        (records, trouble)
    } else {
        (records, None)
    }
}

/// Copies a consumed message into a [`LogRecord`], bytes unchanged.
fn log_record(message: &BorrowedMessage<'_>) -> Result<LogRecord, LogError> {
    let partition = u32::try_from(message.partition()).map_err(|_| {
        LogError::Backend(format!(
            "Kafka returned a record of partition {}",
            message.partition()
        ))
    })?;
    let offset = u64::try_from(message.offset()).map_err(|_| {
        LogError::Backend(format!(
            "Kafka returned a record at offset {}",
            message.offset()
        ))
    })?;
    let headers = message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|header| {
                    (
                        header.key.to_owned(),
                        header.value.unwrap_or_default().to_vec(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(LogRecord {
        position: LogPosition::new(message.topic(), partition, offset),
        key: message.key().unwrap_or_default().to_vec(),
        payload: message.payload().unwrap_or_default().to_vec(),
        headers,
        // Kafka's convention for "no timestamp" is -1; every broker since
        // 0.10 stamps records, so this is only for very old data.
        timestamp_ms: message.timestamp().to_millis().unwrap_or(-1),
    })
}

#[async_trait::async_trait]
impl LogReader for KafkaReader {
    async fn next_batch(
        &mut self,
        max_records: usize,
        wait: Duration,
    ) -> Result<Vec<LogRecord>, LogError> {
        if let Some(error) = self.deferred.take() {
            return Err(error);
        }
        let handle = match &mut self.in_flight {
            Some(handle) => handle,
            None => {
                let consumer = Arc::clone(&self.consumer);
                let brokers = self.config.brokers.clone();
                self.in_flight.insert(tokio::task::spawn_blocking(move || {
                    poll_batch(&consumer, &brokers, max_records, wait)
                }))
            }
        };
        let outcome = handle.await;
        self.in_flight = None;
        let (records, error) = outcome
            .map_err(|error| LogError::Backend(format!("reader poll task failed: {error}")))?;
        match error {
            Some(error) if records.is_empty() => Err(error),
            Some(error) => {
                self.deferred = Some(error);
                Ok(records)
            }
            None => Ok(records),
        }
    }
}
