//! How far the view lags the log, measured without a log call per check.
//!
//! Checks read the log's end offsets from a cache that is refreshed in the
//! background at most every [`FreshnessConfig::refresh_interval`]: a check
//! that finds the cache older than that starts one refresh (never more than
//! one at a time) and answers with what the cache holds. Only the very first
//! check, before any probe has finished, waits for one, and only up to
//! [`FreshnessConfig::probe_timeout`].
//!
//! Invariant: a log that cannot be reached never makes a check fail; the
//! check reports `measured = false` instead.

use consent_log::{EndOffsets, EventLog, LogError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// Timing of the end-offset cache.
#[derive(Clone, Copy, Debug)]
pub struct FreshnessConfig {
    /// A cached value older than this starts a background refresh.
    pub refresh_interval: Duration,
    /// A cached value older than this is not reported as a measurement.
    pub max_age: Duration,
    /// How long one probe of the log's end offsets may take.
    pub probe_timeout: Duration,
}

impl Default for FreshnessConfig {
    fn default() -> Self {
        Self {
            refresh_interval: Duration::from_millis(100),
            max_age: Duration::from_secs(5),
            probe_timeout: Duration::from_secs(2),
        }
    }
}

/// The log's end offsets, cached.
pub(crate) struct EndOffsetsCache {
    log: Arc<dyn EventLog>,
    config: FreshnessConfig,
    latest: Mutex<Latest>,
    refreshing: AtomicBool,
    /// The first probe, which concurrent first checks share.
    first_probe: OnceCell<()>,
}

#[derive(Default)]
struct Latest {
    /// The last successful probe and when it finished.
    measured: Option<(Instant, Arc<EndOffsets>)>,
    /// Whether the last finished probe failed.
    last_failed: bool,
    /// When the last probe finished, successful or not: refreshes are at
    /// least the refresh interval apart, also while the log is down.
    probed_at: Option<Instant>,
    /// While probes fail: when the first failed probe since the last
    /// success finished, and the last error.
    unreachable: Option<(Instant, String)>,
}

impl EndOffsetsCache {
    pub(crate) fn new(log: Arc<dyn EventLog>, config: FreshnessConfig) -> Self {
        Self {
            log,
            config,
            latest: Mutex::new(Latest::default()),
            refreshing: AtomicBool::new(false),
            first_probe: OnceCell::new(),
        }
    }

    /// The end offsets to measure a check's lag against, or `None` when the
    /// log could not be reached recently. Starts a background refresh when
    /// the cached value is older than the refresh interval.
    pub(crate) async fn current(self: &Arc<Self>) -> Option<Arc<EndOffsets>> {
        // First use: measure once inline, shared by concurrent callers, so
        // that the first answers are measured too; bounded by the probe
        // timeout. Its outcome is in `latest` either way.
        self.first_probe
            .get_or_init(|| async {
                let _ = self.probe().await;
            })
            .await;
        let (value, needs_refresh) = {
            let latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
            let age = latest.measured.as_ref().map(|(at, _)| at.elapsed());
            let needs_refresh = latest
                .probed_at
                .is_none_or(|at| at.elapsed() >= self.config.refresh_interval);
            let value = match (&latest.measured, age) {
                (Some((_, offsets)), Some(age))
                    if !latest.last_failed && age < self.config.max_age =>
                {
                    Some(Arc::clone(offsets))
                }
                _ => None,
            };
            (value, needs_refresh)
        };
        if needs_refresh && !self.refreshing.swap(true, Ordering::AcqRel) {
            let cache = Arc::clone(self);
            tokio::spawn(async move {
                // The outcome is recorded in the cache (and logged) by `probe`.
                let _ = cache.probe().await;
                cache.refreshing.store(false, Ordering::Release);
            });
        }
        value
    }

    /// While the log's last probes failed: since when, and the last error.
    /// Starts a refresh first if one is due (without waiting for it), so
    /// that repeated calls follow the log even when no check runs.
    pub(crate) async fn unreachable_since(self: &Arc<Self>) -> Option<(Instant, String)> {
        let _ = self.current().await;
        self.latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .unreachable
            .clone()
    }

    /// Asks the log for its end offsets now (bounded by the probe timeout)
    /// and records the outcome in the cache.
    pub(crate) async fn probe(&self) -> Result<EndOffsets, LogError> {
        let outcome =
            match tokio::time::timeout(self.config.probe_timeout, self.log.end_offsets()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(LogError::Unavailable(format!(
                    "no answer to an end-offsets request within {} ms",
                    self.config.probe_timeout.as_millis()
                ))),
            };
        let mut latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        latest.probed_at = Some(Instant::now());
        match &outcome {
            Ok(offsets) => {
                latest.measured = Some((Instant::now(), Arc::new(offsets.clone())));
                latest.last_failed = false;
                latest.unreachable = None;
            }
            Err(error) => {
                if !latest.last_failed {
                    tracing::warn!(%error, "cannot read the log's end offsets; view lag is not measured");
                }
                latest.last_failed = true;
                let since = latest
                    .unreachable
                    .as_ref()
                    .map_or_else(Instant::now, |(since, _)| *since);
                latest.unreachable = Some((since, error.to_string()));
            }
        }
        outcome
    }
}
