//! Routes librdkafka's logs and client errors to `tracing`.

use crate::connection::ConnectionTrouble;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;

/// The rdkafka context of every client this crate creates.
///
/// librdkafka reports connection trouble (a broker down, a refused
/// connection) here, as well as through the failing call itself; these
/// reports are logged, and the calls map their own failures to
/// [`consent_log::LogError`]. The last error or warning is also kept
/// ([`ConnectionTrouble`]), so a call that timed out can say why (a client
/// that is not polled, such as the admin client, gets its connection
/// failures only as logs).
#[derive(Clone, Debug)]
pub(crate) struct LogContext {
    /// Which client this is: `producer`, `reader` or `admin`.
    pub(crate) role: &'static str,
    pub(crate) trouble: ConnectionTrouble,
}

impl LogContext {
    pub(crate) fn new(role: &'static str) -> Self {
        Self {
            role,
            trouble: ConnectionTrouble::default(),
        }
    }
}

impl ClientContext for LogContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        let role = self.role;
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(role, facility, "librdkafka: {message}");
                self.trouble.record(message);
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(role, facility, "librdkafka: {message}");
                self.trouble.record(message);
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(role, facility, "librdkafka: {message}")
            }
            RDKafkaLogLevel::Debug => tracing::debug!(role, facility, "librdkafka: {message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let role = self.role;
        tracing::warn!(%error, role, reason, "kafka client error");
        self.trouble.record(reason);
    }
}

impl ConsumerContext for LogContext {}

/// For the connection probe's producer, which sends nothing.
impl rdkafka::producer::ProducerContext for LogContext {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &rdkafka::producer::DeliveryResult<'_>, _: Self::DeliveryOpaque) {}
}
