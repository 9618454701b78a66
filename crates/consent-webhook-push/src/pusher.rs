//! One endpoint's pusher: follows the opt-out feed from the endpoint's
//! stored position, pushes each notice of its organisation (signed), tries
//! again with the [`RetryPolicy`]'s backoff, dead-letters a notice after
//! its last try, and moves its stored position past a notice only once it
//! was delivered or dead-lettered. Each endpoint has its own pusher, reader
//! and position, so an endpoint that is down holds back only its own
//! notices.

use crate::dead_letters::{DeadLetter, DeadLetterStore};
use crate::endpoints::Endpoint;
use crate::error::StoreError;
use crate::metrics;
use crate::policy::{AfterFailure, RetryPolicy};
use crate::position::{PositionStore, Positions};
use crate::signature::{sign, EVENT_ID_HEADER, SIGNATURE_HEADER};
use crate::transport::Transport;
use consent_log::{EventLog, LogReader, LogRecord, TopicPartition};
use consent_schema::v1;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// How the pushers read the feed and retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PushSettings {
    pub policy: RetryPolicy,
    /// How long one read of the feed waits for new notices.
    pub poll_wait: Duration,
    /// Most feed records read at once.
    pub batch_size: usize,
}

impl Default for PushSettings {
    fn default() -> Self {
        Self {
            policy: RetryPolicy::default(),
            poll_wait: Duration::from_millis(500),
            batch_size: 100,
        }
    }
}

/// The folder of an endpoint's stored position and dead letters:
/// `DATA_DIR/webhooks/{name}`.
pub fn endpoint_dir(data_dir: &Path, endpoint: &str) -> std::path::PathBuf {
    data_dir.join("webhooks").join(endpoint)
}

/// An endpoint's dead letters under `data_dir`.
pub fn dead_letter_store(data_dir: &Path, endpoint: &str) -> DeadLetterStore {
    DeadLetterStore::new(endpoint_dir(data_dir, endpoint).join("dead-letters"))
}

/// The request of one try: the signature and event id headers, made at
/// `now`, over `body`.
pub fn request_headers(
    endpoint: &Endpoint,
    event_id: &str,
    body: &[u8],
    now: SystemTime,
) -> Vec<(&'static str, String)> {
    let timestamp = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    vec![
        ("content-type", "application/json".to_owned()),
        (SIGNATURE_HEADER, sign(&endpoint.secret, timestamp, body)),
        (EVENT_ID_HEADER, event_id.to_owned()),
    ]
}

/// The body pushed for `notice`: its proto3 JSON mapping (what
/// `consent.v1.OptOutNotice` reads as in JSON).
pub fn notice_body(notice: &v1::OptOutNotice) -> Vec<u8> {
    serde_json::to_vec(notice).unwrap_or_else(|_| unreachable!("a notice always serialises"))
}

/// How one feed record ended.
enum Pushed {
    /// Not this endpoint's (another organisation's, or not a notice).
    PassedOver,
    Delivered,
    DeadLettered,
    /// Shutdown came first: not delivered, position not moved.
    Stopped,
}

/// Follows the feed for one endpoint.
pub struct EndpointPusher {
    endpoint: Endpoint,
    log: Arc<dyn EventLog>,
    partitions: Vec<TopicPartition>,
    transport: Arc<dyn Transport>,
    positions: PositionStore,
    dead_letters: DeadLetterStore,
    settings: PushSettings,
}

impl EndpointPusher {
    /// A pusher of `endpoint`, reading the feed partitions `owned` of
    /// `log`'s layout (all of them for a ledger of one instance), its
    /// position and dead letters under `data_dir`.
    pub fn new(
        endpoint: Endpoint,
        log: Arc<dyn EventLog>,
        owned: &BTreeSet<u32>,
        transport: Arc<dyn Transport>,
        data_dir: &Path,
        settings: PushSettings,
    ) -> Self {
        let topic = consent_schema::opt_out_feed_topic(log.layout());
        let partitions = owned
            .iter()
            .map(|&p| TopicPartition::new(topic.clone(), p))
            .collect();
        let dir = endpoint_dir(data_dir, &endpoint.name);
        Self {
            positions: PositionStore::new(&dir),
            dead_letters: dead_letter_store(data_dir, &endpoint.name),
            endpoint,
            log,
            partitions,
            transport,
            settings,
        }
    }

    /// The stored position, with offset 0 for feed partitions it has none
    /// for (a new endpoint gets the feed from its beginning).
    fn start_positions(&self) -> Result<Positions, StoreError> {
        let stored = self.positions.load()?;
        Ok(self
            .partitions
            .iter()
            .map(|tp| (tp.clone(), stored.get(tp).copied().unwrap_or(0)))
            .collect())
    }

    /// Pushes until `shutdown` says stop. Log outages and unwritable
    /// positions are logged and retried; nothing here ends the loop but
    /// shutdown.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let name = self.endpoint.name.clone();
        metrics::register(&name);
        tracing::info!(endpoint = %name, organisation = %self.endpoint.organisation, "pushing the opt-out feed to a webhook (its URL is not logged: it may hold a token)");
        let mut pause = Duration::from_millis(200);
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.follow(&mut shutdown).await {
                Ok(()) => break,
                Err(error) => {
                    tracing::warn!(endpoint = %name, %error, retry_in_ms = pause.as_millis(), "the webhook pusher cannot read the feed or store its position; retrying");
                    if sleep_or_stop(pause, &mut shutdown).await {
                        break;
                    }
                    pause = pause.saturating_mul(2).min(Duration::from_secs(30));
                }
            }
        }
        tracing::info!(endpoint = %name, "the webhook pusher stopped");
    }

    /// Reads and pushes from the stored position until shutdown (`Ok`) or
    /// a failure of the log or the position store (`Err`).
    async fn follow(&self, shutdown: &mut watch::Receiver<bool>) -> Result<(), String> {
        let mut positions = self.start_positions().map_err(|e| e.to_string())?;
        let mut reader: Box<dyn LogReader> = self
            .log
            .reader(positions.clone())
            .await
            .map_err(|e| format!("opening the feed: {e}"))?;
        loop {
            let batch = tokio::select! {
                batch = reader.next_batch(self.settings.batch_size, self.settings.poll_wait) => batch.map_err(|e| format!("reading the feed: {e}"))?,
                _ = shutdown.changed() => return Ok(()),
            };
            if batch.is_empty() {
                metrics::lag(&self.endpoint.name, 0.0);
                continue;
            }
            // Passed-over records (other organisations') move the position
            // too, stored with the next push or at the end of the batch: one
            // write per batch, not per record, for a busy feed.
            let mut unsaved = false;
            for record in batch {
                let next = record.position.offset.saturating_add(1);
                let pushed = match self.push_record(&record, shutdown).await? {
                    Pushed::Stopped => {
                        if unsaved {
                            self.save(&positions)?;
                        }
                        return Ok(());
                    }
                    Pushed::PassedOver => false,
                    Pushed::Delivered | Pushed::DeadLettered => true,
                };
                positions.insert(record.position.topic_partition(), next);
                unsaved = true;
                if pushed {
                    self.save(&positions)?;
                    unsaved = false;
                }
            }
            if unsaved {
                self.save(&positions)?;
            }
        }
    }

    fn save(&self, positions: &Positions) -> Result<(), String> {
        self.positions
            .save(positions)
            .map_err(|e| format!("storing the position: {e}"))
    }

    /// Pushes one feed record if it is a notice for this endpoint's
    /// organisation (others are passed over).
    async fn push_record(
        &self,
        record: &LogRecord,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Pushed, String> {
        let notice = match consent_schema::decode_opt_out_notice(&record.payload) {
            Ok(notice) => notice,
            Err(error) => {
                tracing::warn!(endpoint = %self.endpoint.name, position = %record.position, %error, "a feed record is not an OptOutNotice; passed over");
                return Ok(Pushed::PassedOver);
            }
        };
        if notice.organisation_id != self.endpoint.organisation {
            return Ok(Pushed::PassedOver);
        }
        let body = notice_body(&notice);
        let mut failed_tries = 0u32;
        loop {
            if let Some(recorded) = notice.recorded_at {
                let age = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
                    .saturating_sub(u64::try_from(recorded.seconds).unwrap_or(0));
                #[allow(clippy::cast_precision_loss)] // seconds of lag, far below 2^52
                metrics::lag(&self.endpoint.name, age as f64);
            }
            let headers = request_headers(
                &self.endpoint,
                &notice.source_event_id,
                &body,
                SystemTime::now(),
            );
            let tried = tokio::select! {
                tried = self.transport.post(&self.endpoint.url, headers, body.clone()) => tried,
                _ = shutdown.changed() => return Ok(Pushed::Stopped),
            };
            let reason = match tried {
                Ok(()) => {
                    metrics::delivered(&self.endpoint.name);
                    tracing::debug!(endpoint = %self.endpoint.name, event_id = %notice.source_event_id, "delivered an opt-out notice");
                    return Ok(Pushed::Delivered);
                }
                Err(reason) => reason,
            };
            failed_tries = failed_tries.saturating_add(1);
            let now = SystemTime::now();
            match self.settings.policy.after_failure(failed_tries, now) {
                AfterFailure::RetryAt(at) => {
                    metrics::retried(&self.endpoint.name);
                    let wait = at.duration_since(now).unwrap_or_default();
                    tracing::warn!(endpoint = %self.endpoint.name, event_id = %notice.source_event_id, tries = failed_tries, retry_in_ms = wait.as_millis(), %reason, "a webhook push failed; retrying");
                    if sleep_or_stop(wait, shutdown).await {
                        return Ok(Pushed::Stopped);
                    }
                }
                AfterFailure::DeadLetter => {
                    let letter = DeadLetter {
                        endpoint: self.endpoint.name.clone(),
                        organisation: notice.organisation_id.clone(),
                        source_event_id: notice.source_event_id.clone(),
                        feed_topic: record.position.topic.clone(),
                        feed_partition: record.position.partition,
                        feed_offset: record.position.offset,
                        tries: failed_tries,
                        last_error: reason.clone(),
                        dead_lettered_at: now
                            .duration_since(SystemTime::UNIX_EPOCH)
                            .map_or(0, |d| d.as_secs()),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    };
                    self.dead_letters
                        .put(&letter)
                        .map_err(|e| format!("storing a dead letter: {e}"))?;
                    metrics::dead_lettered(&self.endpoint.name);
                    tracing::error!(endpoint = %self.endpoint.name, event_id = %notice.source_event_id, tries = failed_tries, %reason, "a webhook push failed every try; dead-lettered (`consent-ledger webhooks dead-letters`)");
                    return Ok(Pushed::DeadLettered);
                }
            }
        }
    }
}

/// Sleeps `wait`; true when shutdown came first.
async fn sleep_or_stop(wait: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(wait) => false,
        changed = shutdown.changed() => changed.is_err() || *shutdown.borrow(),
    }
}

/// What [`retry_dead_letters`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetryReport {
    /// Delivered now, and removed from the dead letters.
    pub delivered: Vec<String>,
    /// Failed again (source event id, why), and kept.
    pub failed: Vec<(String, String)>,
}

/// Pushes each of `endpoint`'s dead letters once more, freshly signed;
/// those delivered are removed, the others kept.
pub async fn retry_dead_letters(
    endpoint: &Endpoint,
    store: &DeadLetterStore,
    transport: &dyn Transport,
) -> Result<RetryReport, StoreError> {
    let mut report = RetryReport::default();
    for letter in store.list()? {
        let body = letter.body.clone().into_bytes();
        let headers = request_headers(endpoint, &letter.source_event_id, &body, SystemTime::now());
        match transport.post(&endpoint.url, headers, body).await {
            Ok(()) => {
                store.remove(&letter)?;
                metrics::delivered(&endpoint.name);
                report.delivered.push(letter.source_event_id);
            }
            Err(reason) => report.failed.push((letter.source_event_id, reason)),
        }
    }
    Ok(report)
}
