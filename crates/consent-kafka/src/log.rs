//! [`KafkaLog`]: the [`EventLog`] over Kafka topics.

use crate::config::KafkaConfig;
use crate::context::LogContext;
use crate::error::log_error;
use crate::offsets::watermarks;
use crate::reader::KafkaReader;
use crate::topics::ensure_topics;
use consent_log::partitioner::partition_for;
use consent_log::{
    AppendRecord, EndOffsets, EventLog, LogError, LogLayout, LogPosition, LogReader, StartOffsets,
};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::future_producer::OwnedDeliveryResult;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// Extra time, beyond the delivery timeout, that `append` gives librdkafka
/// to report a timed-out delivery before giving up on it by itself.
const DELIVERY_REPORT_GRACE: Duration = Duration::from_secs(5);

/// The event log over a Kafka cluster.
///
/// One producer is shared by every `append`; each reader has its own
/// consumer. Cheap to share behind an `Arc`.
pub struct KafkaLog {
    config: Arc<KafkaConfig>,
    /// Replaced by a fresh producer after a fatal error or a delivery
    /// timeout (see `replace_producer`).
    producer: RwLock<FutureProducer<LogContext>>,
}

impl std::fmt::Debug for KafkaLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaLog")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl KafkaLog {
    /// Connects to the cluster, creates the layout's topics where absent
    /// and checks their partition counts (see [`crate::KafkaConfig`]).
    ///
    /// Fails with [`LogError::Unavailable`] when the cluster does not answer
    /// within the request timeout, [`LogError::Settings`] (naming the
    /// setting) when the settings cannot connect (TLS trust, SASL login or
    /// mechanism, protocol), and [`LogError::LayoutMismatch`] when an
    /// existing topic has another partition count than the layout.
    pub async fn open(config: KafkaConfig) -> Result<Self, LogError> {
        if config.layout.partitions == 0 {
            return Err(LogError::LayoutMismatch(
                "a log layout needs at least one partition".to_owned(),
            ));
        }
        if config.replication_factor == 0 {
            return Err(LogError::LayoutMismatch(
                "the replication factor must be at least 1".to_owned(),
            ));
        }
        crate::connection::probe(&config).await?;
        ensure_topics(&config).await?;
        let producer = create_producer(&config)?;
        tracing::info!(
            brokers = %config.brokers,
            topic_prefix = %config.layout.topic_prefix,
            partitions = config.layout.partitions,
            "opened the Kafka event log"
        );
        Ok(Self {
            config: Arc::new(config),
            producer: RwLock::new(producer),
        })
    }

    /// The configuration this log was opened with.
    pub fn config(&self) -> &KafkaConfig {
        &self.config
    }

    fn producer(&self) -> FutureProducer<LogContext> {
        self.producer
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether `topic` is one of the layout's topics, dead letters included.
    fn is_log_topic(&self, topic: &str) -> bool {
        self.config.layout.has_topic(topic)
            || topic == self.config.layout.dead_letter_topic()
            || self.config.layout.has_derived_topic(topic)
    }

    /// Replaces the producer with a fresh one (a new producer id, sequence
    /// numbers from zero) when `failed` may be unable to deliver again:
    ///
    /// * after a fatal error, which makes librdkafka refuse every record;
    /// * after a delivery timed out: librdkafka then bumps the producer
    ///   epoch on its own and renumbers, which some Kafka-protocol brokers
    ///   (tansu 0.6) reject with an unknown server error for good. The
    ///   timed-out records were reported as failed and are no longer
    ///   queued, so a fresh producer loses nothing and is correct on any
    ///   broker.
    ///
    /// Does nothing when another append already replaced `failed`. The old
    /// producer is dropped on the blocking pool (dropping waits for its
    /// polling thread and flushes briefly).
    fn replace_producer(&self, failed: FutureProducer<LogContext>, timed_out: bool) {
        let fatal = failed.client().fatal_error();
        if fatal.is_none() && !timed_out {
            return;
        }
        let mut current = self
            .producer
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if current.client().native_ptr() != failed.client().native_ptr() {
            return;
        }
        match &fatal {
            Some((code, reason)) => {
                tracing::error!(%code, reason, "Kafka producer hit a fatal error; replacing it")
            }
            None => tracing::info!("a delivery to Kafka timed out; starting a fresh producer"),
        }
        match create_producer(&self.config) {
            Ok(fresh) => {
                let old = std::mem::replace(&mut *current, fresh);
                drop(current);
                tokio::task::spawn_blocking(move || drop((old, failed)));
            }
            Err(error) => tracing::error!(%error, "could not replace the Kafka producer"),
        }
    }

    async fn enqueue(
        &self,
        producer: &FutureProducer<LogContext>,
        records: &[AppendRecord],
        deadline: Instant,
    ) -> Result<Vec<DeliveryFuture>, LogError> {
        let partitions = self.config.layout.partitions;
        let mut pending = Vec::with_capacity(records.len());
        for record in records {
            let partition = partition_for(&record.key, partitions);
            let partition = i32::try_from(partition).map_err(|_| {
                LogError::Backend(format!(
                    "partition {partition} does not fit Kafka's partition id"
                ))
            })?;
            let headers =
                record
                    .headers
                    .iter()
                    .fold(OwnedHeaders::new(), |headers, (key, value)| {
                        headers.insert(Header {
                            key,
                            value: Some(value),
                        })
                    });
            let mut message = FutureRecord::to(&record.topic)
                .partition(partition)
                .key(&record.key)
                .payload(&record.payload)
                .headers(headers);
            // The producer queue (librdkafka `queue.buffering.max.*`) only
            // fills when appends outrun the cluster; wait for room until
            // the deadline rather than fail a burst at once.
            loop {
                match producer.send_result(message) {
                    Ok(delivery) => {
                        pending.push(delivery);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned))
                        if Instant::now() < deadline =>
                    {
                        message = returned;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err((error, _)) => return Err(self.delivery_error(record, &error)),
                }
            }
        }
        Ok(pending)
    }

    fn delivery_error(&self, record: &AppendRecord, error: &KafkaError) -> LogError {
        let topic = &record.topic;
        match error.rdkafka_error_code() {
            Some(RDKafkaErrorCode::MessageTimedOut) => LogError::Unavailable(format!(
                "appending to {topic}: no acknowledgement from Kafka at {} within {:?} \
                 (is the cluster up?): {error}",
                self.config.brokers, self.config.delivery_timeout
            )),
            Some(RDKafkaErrorCode::MessageSizeTooLarge | RDKafkaErrorCode::InvalidMessageSize) => {
                LogError::RecordTooLarge {
                    size: record_size(record),
                    limit: self.config.max_record_bytes(),
                }
            }
            _ => log_error(
                &format!("appending to {topic}"),
                &self.config.brokers,
                error,
            ),
        }
    }

    fn position_of(
        &self,
        record: &AppendRecord,
        delivery: OwnedDeliveryResult,
    ) -> Result<LogPosition, LogError> {
        match delivery {
            Ok(delivery) => {
                let partition = u32::try_from(delivery.partition).map_err(|_| {
                    LogError::Backend(format!("Kafka reported partition {}", delivery.partition))
                })?;
                let offset = u64::try_from(delivery.offset).map_err(|_| {
                    LogError::Backend(format!(
                        "Kafka acknowledged a record on {}/{partition} without an offset",
                        record.topic
                    ))
                })?;
                Ok(LogPosition::new(record.topic.clone(), partition, offset))
            }
            Err((error, _)) => Err(self.delivery_error(record, &error)),
        }
    }
}

/// The bytes a record takes in a Kafka message: key, payload and headers.
fn record_size(record: &AppendRecord) -> usize {
    record.key.len()
        + record.payload.len()
        + record
            .headers
            .iter()
            .map(|(key, value)| key.len() + value.len())
            .sum::<usize>()
}

fn create_producer(config: &KafkaConfig) -> Result<FutureProducer<LogContext>, LogError> {
    config
        .producer_config()
        .create_with_context(LogContext::new("producer"))
        .map_err(|error| log_error("creating the Kafka producer", &config.brokers, &error))
}

#[async_trait::async_trait]
impl EventLog for KafkaLog {
    fn layout(&self) -> &LogLayout {
        &self.config.layout
    }

    /// Sends every record (to the partitioner's partition), then waits for
    /// every delivery report; the positions come back in input order.
    ///
    /// Fails with [`LogError::Unavailable`] after about the delivery timeout
    /// when the cluster cannot acknowledge, never later.
    async fn append(&self, records: Vec<AppendRecord>) -> Result<Vec<LogPosition>, LogError> {
        if let Some(record) = records.iter().find(|r| !self.is_log_topic(&r.topic)) {
            return Err(LogError::UnknownTopic(record.topic.clone()));
        }
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let started = Instant::now();
        let deadline = started + self.config.delivery_timeout;
        let producer = self.producer();
        let pending = match self.enqueue(&producer, &records, deadline).await {
            Ok(pending) => pending,
            Err(error) => {
                self.replace_producer(producer, false);
                return Err(error);
            }
        };

        // Every report is awaited even after a failure, so no delivery is
        // still pending when this returns.
        let mut positions = Vec::with_capacity(records.len());
        let mut first_error = None;
        let mut timed_out = false;
        let report_deadline = tokio::time::Instant::from_std(deadline + DELIVERY_REPORT_GRACE);
        for (record, delivery) in records.iter().zip(pending) {
            let result = match tokio::time::timeout_at(report_deadline, delivery).await {
                Ok(Ok(delivery)) => {
                    timed_out |= matches!(
                        &delivery,
                        Err((error, _)) if error.rdkafka_error_code()
                            == Some(RDKafkaErrorCode::MessageTimedOut)
                    );
                    self.position_of(record, delivery)
                }
                Ok(Err(_canceled)) => Err(LogError::Backend(
                    "the Kafka producer shut down before acknowledging".to_owned(),
                )),
                Err(_elapsed) => {
                    timed_out = true;
                    Err(LogError::Unavailable(format!(
                        "appending to {}: no delivery report from Kafka at {} within {:?}",
                        record.topic,
                        self.config.brokers,
                        self.config.delivery_timeout + DELIVERY_REPORT_GRACE
                    )))
                }
            };
            match result {
                Ok(position) => positions.push(position),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            None => Ok(positions),
            Some(error) => {
                tracing::warn!(
                    %error,
                    records = records.len(),
                    elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    "append to Kafka failed"
                );
                self.replace_producer(producer, timed_out);
                Err(error)
            }
        }
    }

    async fn reader(&self, start: StartOffsets) -> Result<Box<dyn LogReader>, LogError> {
        for tp in start.keys() {
            if !self.is_log_topic(&tp.topic) {
                return Err(LogError::UnknownTopic(tp.topic.clone()));
            }
            if tp.partition >= self.config.layout.partitions {
                return Err(LogError::UnknownPartition(tp.clone()));
            }
        }
        let reader = KafkaReader::open(Arc::clone(&self.config), start).await?;
        Ok(Box::new(reader))
    }

    /// High watermarks of every event-family topic-partition, all read
    /// within one request timeout.
    async fn end_offsets(&self) -> Result<EndOffsets, LogError> {
        let producer = self.producer();
        let config = Arc::clone(&self.config);
        tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + config.request_timeout;
            let mut ends = BTreeMap::new();
            for tp in config.layout.topic_partitions() {
                let (_low, high) = watermarks(producer.client(), &config, &tp, deadline)?;
                ends.insert(tp, high);
            }
            Ok(ends)
        })
        .await
        .map_err(|error| LogError::Backend(format!("end offsets task failed: {error}")))?
    }
}
