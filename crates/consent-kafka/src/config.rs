//! Connection and behaviour settings of a [`crate::KafkaLog`].

use consent_log::LogLayout;
use rdkafka::ClientConfig;
use std::time::Duration;

/// How to reach the Kafka cluster and which topics make up the log.
///
/// Settings the ledger's guarantees depend on (idempotence, `acks=all`,
/// manual offsets) are set by this crate; `extra` is applied after them, so
/// an operator can tune librdkafka (security, buffering) but can also break
/// those guarantees: keep `extra` to settings the guarantees do not rest on.
///
/// Its `Debug` form never shows the value of a secret setting
/// ([`is_secret_setting`]), so a config can be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct KafkaConfig {
    /// Bootstrap servers: a comma-separated `host:port` list.
    pub brokers: String,
    /// The topics and their partition count.
    pub layout: LogLayout,
    /// Replication factor of the topics this log creates (existing topics
    /// are used as they are). 3 in production; 1 on a single test broker.
    pub replication_factor: u16,
    /// The `client.id` the brokers see in their logs and quotas.
    pub client_id: String,
    /// librdkafka settings passed through as they are, e.g.
    /// `("security.protocol", "ssl")`; applied after this crate's own.
    pub extra: Vec<(String, String)>,
    /// Bound on a metadata, admin or offsets request, e.g. `end_offsets`.
    pub request_timeout: Duration,
    /// Bound on one append: how long a record may wait, queued or in
    /// flight, for its acknowledgement (librdkafka `message.timeout.ms`).
    /// An append to an unreachable cluster fails after about this long.
    pub delivery_timeout: Duration,
}

/// Whether the librdkafka setting `key` holds a secret (a password, a
/// private key, an OAuth client secret): its value must come from a file or
/// the environment, and is never logged.
pub fn is_secret_setting(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.contains("password")
        || key.contains("secret")
        || key == "ssl.key.pem"
        || key == "ssl_key"
        || key == "sasl.oauthbearer.config"
}

impl std::fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let extra: Vec<(&str, &str)> = self
            .extra
            .iter()
            .map(|(key, value)| {
                let shown = if is_secret_setting(key) {
                    "<redacted>"
                } else {
                    value.as_str()
                };
                (key.as_str(), shown)
            })
            .collect();
        f.debug_struct("KafkaConfig")
            .field("brokers", &self.brokers)
            .field("layout", &self.layout)
            .field("replication_factor", &self.replication_factor)
            .field("client_id", &self.client_id)
            .field("extra", &extra)
            .field("request_timeout", &self.request_timeout)
            .field("delivery_timeout", &self.delivery_timeout)
            .finish()
    }
}

impl KafkaConfig {
    /// Default bound on metadata, admin and offsets requests.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
    /// Default bound on an append's acknowledgement.
    pub const DEFAULT_DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default replication factor of created topics.
    pub const DEFAULT_REPLICATION_FACTOR: u16 = 3;
    /// Longest a reader's fetch waits at the broker when no new record is
    /// there (librdkafka `fetch.wait.max.ms`, whose own default is 500 ms).
    ///
    /// An opt-out must be honoured as soon as it is recorded. Apache Kafka
    /// answers a waiting fetch as soon as a record arrives, so for it this
    /// bound only sets how often an idle reader asks again. But a broker
    /// that holds every fetch for the whole wait delays each record by up
    /// to that long. The tansu test broker does this: the opt-out
    /// benchmark's p99 was 507 ms with 500 ms (p50 268 ms), and 116 / 115 ms
    /// with 50 / 20 ms on a loaded machine (p50 55 / 45 ms). 20 ms bounds
    /// that delay at the cost of at most 50 empty fetches a second per
    /// broker while idle.
    /// `extra` can still set `fetch.wait.max.ms`.
    pub const READER_FETCH_WAIT: Duration = Duration::from_millis(20);

    /// A configuration with the default timeouts, replication factor 3 and
    /// client id `consent-ledger`.
    pub fn new(brokers: impl Into<String>, layout: LogLayout) -> Self {
        Self {
            brokers: brokers.into(),
            layout,
            replication_factor: Self::DEFAULT_REPLICATION_FACTOR,
            client_id: "consent-ledger".to_owned(),
            extra: Vec::new(),
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            delivery_timeout: Self::DEFAULT_DELIVERY_TIMEOUT,
        }
    }

    /// The producer's `message.max.bytes`: the largest record it will send
    /// (librdkafka's default unless `extra` sets it).
    pub fn max_record_bytes(&self) -> usize {
        const LIBRDKAFKA_DEFAULT: usize = 1_000_000;
        self.extra
            .iter()
            .rev()
            .find(|(key, _)| key == "message.max.bytes")
            .and_then(|(_, value)| value.parse().ok())
            .unwrap_or(LIBRDKAFKA_DEFAULT)
    }

    /// Settings every client of this log shares.
    fn common(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.brokers)
            .set("client.id", &self.client_id)
            // Reconnect within a couple of seconds once a broker is back,
            // instead of librdkafka's default back-off of up to 10 s.
            .set("reconnect.backoff.max.ms", "2000")
            .set(
                "socket.connection.setup.timeout.ms",
                millis(self.request_timeout),
            );
        config
    }

    fn with_extra(&self, mut config: ClientConfig) -> ClientConfig {
        for (key, value) in &self.extra {
            config.set(key, value);
        }
        config
    }

    /// The producer: idempotent, acknowledged by all in-sync replicas,
    /// zstd-compressed, bounded by [`Self::delivery_timeout`].
    pub(crate) fn producer_config(&self) -> ClientConfig {
        let mut config = self.common();
        config
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("compression.type", "zstd")
            .set("message.timeout.ms", millis(self.delivery_timeout))
            .set(
                "request.timeout.ms",
                millis(self.request_timeout.min(self.delivery_timeout)),
            );
        self.with_extra(config)
    }

    /// A reader's consumer: manual assignment only, nothing committed, and
    /// an error (not a silent jump) when a start offset is out of range.
    ///
    /// librdkafka needs a `group.id` to assign partitions at all; the group
    /// is never joined (no subscription) and no offset is ever committed.
    pub(crate) fn consumer_config(&self) -> ClientConfig {
        let mut config = self.common();
        config
            .set("group.id", format!("{}.reader", self.client_id))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .set("auto.offset.reset", "error")
            .set("session.timeout.ms", "6000")
            .set("heartbeat.interval.ms", "2000")
            .set("fetch.wait.max.ms", millis(Self::READER_FETCH_WAIT));
        self.with_extra(config)
    }

    /// The admin client that creates and checks topics.
    pub(crate) fn admin_config(&self) -> ClientConfig {
        self.with_extra(self.common())
    }
}

/// A duration as librdkafka's millisecond setting, at least 1 ms.
fn millis(duration: Duration) -> String {
    duration.as_millis().max(1).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> KafkaConfig {
        KafkaConfig::new(
            "broker-1:9092,broker-2:9092",
            LogLayout::new("consent", 8, ["grants"]),
        )
    }

    #[test]
    fn producer_waits_for_all_in_sync_replicas_idempotently_within_the_delivery_timeout() {
        let mut config = config();
        config.delivery_timeout = Duration::from_secs(7);
        let producer = config.producer_config();
        assert_eq!(
            producer.get("bootstrap.servers"),
            Some("broker-1:9092,broker-2:9092")
        );
        assert_eq!(producer.get("enable.idempotence"), Some("true"));
        assert_eq!(producer.get("acks"), Some("all"));
        assert_eq!(producer.get("compression.type"), Some("zstd"));
        assert_eq!(producer.get("message.timeout.ms"), Some("7000"));
    }

    #[test]
    fn readers_never_commit_and_never_skip_silently() {
        let consumer = config().consumer_config();
        assert_eq!(consumer.get("enable.auto.commit"), Some("false"));
        assert_eq!(consumer.get("enable.auto.offset.store"), Some("false"));
        assert_eq!(consumer.get("auto.offset.reset"), Some("error"));
    }

    #[test]
    fn extra_settings_pass_through_after_the_crates_own() {
        let mut config = config();
        config.extra = vec![
            ("security.protocol".to_owned(), "ssl".to_owned()),
            ("message.max.bytes".to_owned(), "2000000".to_owned()),
        ];
        assert_eq!(
            config.producer_config().get("security.protocol"),
            Some("ssl")
        );
        assert_eq!(
            config.consumer_config().get("security.protocol"),
            Some("ssl")
        );
        assert_eq!(config.admin_config().get("security.protocol"), Some("ssl"));
        assert_eq!(config.max_record_bytes(), 2_000_000);
    }

    #[test]
    fn readers_wait_at_most_20_ms_at_the_broker_unless_told_otherwise() {
        assert_eq!(
            config().consumer_config().get("fetch.wait.max.ms"),
            Some("20")
        );
        let mut config = config();
        config.extra = vec![("fetch.wait.max.ms".to_owned(), "500".to_owned())];
        assert_eq!(
            config.consumer_config().get("fetch.wait.max.ms"),
            Some("500")
        );
    }

    #[test]
    fn secrets_are_never_shown_by_debug() {
        let mut config = config();
        config.extra = vec![
            ("sasl.username".to_owned(), "ledger".to_owned()),
            ("sasl.password".to_owned(), "hunter2".to_owned()),
            (
                "ssl.key.pem".to_owned(),
                "-----BEGIN PRIVATE KEY-----".to_owned(),
            ),
            (
                "sasl.oauthbearer.client.secret".to_owned(),
                "s3cret".to_owned(),
            ),
        ];
        let shown = format!("{config:?}");
        assert!(shown.contains("ledger"), "{shown}");
        for secret in ["hunter2", "BEGIN PRIVATE KEY", "s3cret"] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
    }

    #[test]
    fn default_limit_on_record_size_is_librdkafkas() {
        assert_eq!(config().max_record_bytes(), 1_000_000);
    }
}
