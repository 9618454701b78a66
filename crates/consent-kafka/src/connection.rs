//! Why a connection to the cluster failed, in terms of the settings an
//! operator can change.
//!
//! librdkafka retries a refused TLS handshake or a failed SASL login for
//! ever and reports each attempt to the client context, while the call that
//! needed the connection only times out. [`ConnectionTrouble`] keeps the
//! last such report of a client, and [`diagnose`] turns it into a sentence
//! that names the setting to look at, so that startup fails with "check
//! `ssl.ca.location`" rather than "timed out".

use crate::config::KafkaConfig;
use crate::context::LogContext;
use crate::error::log_error;
use consent_log::LogError;
use rdkafka::producer::{BaseProducer, Producer};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Connects to the cluster once, as the log's first act: Ok when the
/// brokers answer a metadata request within the request timeout.
///
/// Fails with [`LogError::Settings`] as soon as librdkafka reports a fault
/// of the settings (a certificate not trusted, a login refused, a mechanism
/// not offered), naming the setting; with [`LogError::Unavailable`] and the
/// last connection error when the brokers did not answer in time. The
/// probe is a producer client only because a producer's `poll` serves
/// librdkafka's logs and errors, where these faults are reported; it sends
/// nothing.
pub(crate) async fn probe(config: &KafkaConfig) -> Result<(), LogError> {
    let context = LogContext::new("probe");
    let trouble = context.trouble.clone();
    let client: BaseProducer<LogContext> = config
        .admin_config()
        .create_with_context(context)
        .map_err(|error| log_error("connecting to Kafka", &config.brokers, &error))?;
    let timeout = config.request_timeout;
    let brokers = config.brokers.clone();
    tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + timeout;
        loop {
            let answered = client
                .client()
                .fetch_metadata(None, Duration::from_millis(250));
            // Serves the logs and errors of the attempt (into `trouble`).
            client.poll(Duration::from_millis(50));
            let error = match answered {
                Ok(_) => return Ok(()),
                Err(error) => error,
            };
            if let Some(fault) = trouble.settings_fault() {
                return Err(LogError::Settings(format!("Kafka at {brokers}: {fault}")));
            }
            if Instant::now() >= deadline {
                let last = trouble
                    .last()
                    .map(|report| format!(" (last connection error: {report})"))
                    .unwrap_or_default();
                return Err(LogError::Unavailable(format!(
                    "Kafka at {brokers} did not answer within {} ms: {error}{last}; check that \
                     the brokers are up and reachable at these addresses, and that \
                     `security.protocol` matches their listener (`ssl` or `sasl_ssl` for TLS; a \
                     TLS listener drops a plain-text client without saying why)",
                    timeout.as_millis()
                )));
            }
        }
    })
    .await
    .map_err(|error| LogError::Backend(format!("the connection probe failed: {error}")))?
}

/// The recent connection errors librdkafka reported for one client.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConnectionTrouble {
    recent: Arc<Mutex<VecDeque<String>>>,
}

impl ConnectionTrouble {
    /// How many reports are kept: librdkafka follows a specific failure
    /// ("certificate verify failed") with generic ones ("1/1 brokers are
    /// down"), which must not hide it.
    const KEPT: usize = 16;

    pub(crate) fn record(&self, report: &str) {
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if recent.len() == Self::KEPT {
            recent.pop_front();
        }
        recent.push_back(report.to_owned());
    }

    /// The most telling recent report: the newest that is not a mere count
    /// of brokers down, else the newest.
    pub(crate) fn last(&self) -> Option<String> {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        recent
            .iter()
            .rev()
            .find(|report| !report.contains("brokers are down"))
            .or_else(|| recent.back())
            .cloned()
    }

    /// The newest recent report [`diagnose`] recognises, with what it
    /// means: a fault of the settings, which no retry will cure.
    pub(crate) fn settings_fault(&self) -> Option<String> {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        recent.iter().rev().find_map(|report| {
            diagnose(report).map(|hint| format!("{hint} (librdkafka: {report})"))
        })
    }
}

/// What a librdkafka connection error says about the client's settings, or
/// `None` when it says nothing the settings can cure (a broker that is down,
/// a network that drops packets).
pub(crate) fn diagnose(report: &str) -> Option<&'static str> {
    let text = report.to_ascii_lowercase();
    let has = |needle: &str| text.contains(needle);
    if has("certificate verify failed") || has("unable to get local issuer certificate") {
        return Some(
            "the broker's TLS certificate is not signed by a CA this client trusts: set \
             `ssl.ca.location` to the PEM file of the CA that signed it (or check the one set)",
        );
    }
    if has("hostname mismatch") || has("certificate is not valid for") {
        return Some(
            "the broker's TLS certificate does not name the host in the bootstrap servers: \
             connect by a name the certificate holds, or check \
             `ssl.endpoint.identification.algorithm`",
        );
    }
    if has("ssl handshake failed") || has("ssl: ") && has("handshake") {
        return Some(
            "the TLS handshake with the broker failed: check `security.protocol` (`ssl` or \
             `sasl_ssl` only for a TLS listener) and the `ssl.*` settings",
        );
    }
    if has("incorrect security.protocol") || has("connecting to a ssl listener") {
        return Some(
            "the broker did not answer in plain text: it is probably a TLS listener; set \
             `security.protocol` to `ssl` or `sasl_ssl`",
        );
    }
    if has("unsupported sasl mechanism")
        || has("sasl mechanism") && has("not supported")
        || has("unsupported hash function")
    {
        return Some(
            "the broker does not offer the SASL mechanism asked for: check `sasl.mechanisms` \
             against the mechanisms the listener enables",
        );
    }
    if has("sasl authentication error")
        || has("authentication failed")
        || has("invalid credentials")
    {
        return Some(
            "the broker refused the SASL login: check `sasl.username` and `sasl.password` (and \
             that `sasl.mechanisms` is the one the user was created for)",
        );
    }
    if has("sasl") && (has("handshake") || has("illegal")) {
        return Some(
            "the SASL handshake failed: check `security.protocol` (`sasl_plaintext` or \
             `sasl_ssl`) and `sasl.mechanisms`",
        );
    }
    if has("failed to resolve") || has("name or service not known") {
        return Some("a bootstrap server's host name does not resolve: check the brokers setting");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_ca_names_the_ca_setting() {
        let report = "ssl://127.0.0.1:9093/bootstrap: SSL handshake failed: error:0A000086:SSL \
                      routines::certificate verify failed: broker certificate could not be \
                      verified, verify that ssl.ca.location is correctly configured or root CA \
                      certificates are installed (install ca-certificates package) (after 4ms in \
                      state SSL_HANDSHAKE)";
        assert!(diagnose(report).is_some_and(|hint| hint.contains("`ssl.ca.location`")));
    }

    #[test]
    fn a_refused_login_names_the_credentials() {
        let report = "sasl_ssl://127.0.0.1:9093/bootstrap: SASL authentication error: \
                      Authentication failed during authentication due to invalid credentials \
                      with SASL mechanism SCRAM-SHA-512 (after 12ms in state AUTH_REQ)";
        let hint = diagnose(report).expect("diagnosed");
        assert!(hint.contains("`sasl.username`") && hint.contains("`sasl.password`"));
    }

    #[test]
    fn an_unknown_mechanism_names_the_mechanism_setting() {
        let report = "sasl_plaintext://127.0.0.1:9092/bootstrap: Broker: Unsupported SASL \
                      mechanism: SASL PLAIN mechanism handshake failed: Broker: Unsupported SASL \
                      mechanism: broker's supported mechanisms: SCRAM-SHA-512";
        assert!(diagnose(report).is_some_and(|hint| hint.contains("`sasl.mechanisms`")));
    }

    #[test]
    fn plain_text_to_a_tls_listener_names_the_protocol() {
        let report =
            "127.0.0.1:9093/bootstrap: Disconnected while requesting ApiVersion: might be \
                      caused by incorrect security.protocol configuration (connecting to a SSL \
                      listener?) or broker version is < 0.10 (see api.version.request) (after \
                      2ms in state APIVERSION_QUERY)";
        assert!(diagnose(report).is_some_and(|hint| hint.contains("`security.protocol`")));
    }

    #[test]
    fn a_broker_that_is_down_is_not_a_settings_fault() {
        let report = "127.0.0.1:9092/bootstrap: Connect to ipv4#127.0.0.1:9092 failed: Connection \
                      refused (after 0ms in state CONNECT)";
        assert_eq!(diagnose(report), None);
        let trouble = ConnectionTrouble::default();
        trouble.record(report);
        trouble.record("1/1 brokers are down");
        assert_eq!(trouble.settings_fault(), None);
        assert_eq!(trouble.last().as_deref(), Some(report));
    }

    #[test]
    fn a_settings_fault_is_found_behind_later_generic_reports() {
        let trouble = ConnectionTrouble::default();
        trouble.record("ssl://b:9093/bootstrap: SSL handshake failed: certificate verify failed");
        for _ in 0..3 {
            trouble.record("1/1 brokers are down");
        }
        let fault = trouble.settings_fault().expect("found");
        assert!(fault.contains("`ssl.ca.location`"), "{fault}");
    }
}
