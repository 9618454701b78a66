//! Routes librdkafka's logs and client errors to `tracing`.

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;

/// The rdkafka context of every client this crate creates.
///
/// librdkafka reports connection trouble (a broker down, a refused
/// connection) here, as well as through the failing call itself; these
/// reports are logged, and the calls map their own failures to
/// [`consent_log::LogError`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct LogContext {
    /// Which client this is: `producer`, `reader` or `admin`.
    pub(crate) role: &'static str,
}

impl ClientContext for LogContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        let role = self.role;
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(role, facility, "librdkafka: {message}")
            }
            RDKafkaLogLevel::Warning => tracing::warn!(role, facility, "librdkafka: {message}"),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(role, facility, "librdkafka: {message}")
            }
            RDKafkaLogLevel::Debug => tracing::debug!(role, facility, "librdkafka: {message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let role = self.role;
        tracing::warn!(%error, role, reason, "kafka client error");
    }
}

impl ConsumerContext for LogContext {}
