//! Where the ledger keeps its data and which log it uses: the one place
//! that chooses implementations.

use anyhow::Context;
use consent_kafka::{KafkaConfig, KafkaLog};
use consent_log::embedded::EmbeddedLog;
use consent_log::{EventLog, LogLayout};
use consent_projector::{OwnedPartitions, ProjectorConfig};
use consent_store::ViewStore;
use consent_store_sled::SledStore;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args, Clone)]
pub struct StorageArgs {
    /// Directory for the view (and the embedded log when no Kafka is configured).
    #[arg(long, env = "CONSENT_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Kafka bootstrap servers (host:port,...). Without it the ledger keeps an embedded durable log in the data directory.
    #[arg(long, env = "CONSENT_KAFKA_BROKERS")]
    pub kafka_brokers: Option<String>,
    /// Prefix of the topic names (`PREFIX.grants`, `PREFIX.commerce`, ...).
    #[arg(long, env = "CONSENT_TOPIC_PREFIX", default_value = "consent")]
    pub topic_prefix: String,
    /// Partitions per topic (fixed once the log exists).
    #[arg(long, env = "CONSENT_PARTITIONS", default_value_t = 8)]
    pub partitions: u32,
    /// Replication factor of topics the ledger creates in Kafka.
    #[arg(long, env = "CONSENT_KAFKA_REPLICATION", default_value_t = KafkaConfig::DEFAULT_REPLICATION_FACTOR)]
    pub kafka_replication: u16,
    /// Extra librdkafka settings, KEY=VALUE (e.g. security.protocol=ssl); repeatable. The environment
    /// variable takes several, separated by `;`.
    #[arg(long = "kafka-setting", env = "CONSENT_KAFKA_SETTINGS", value_delimiter = ';', value_parser = parse_setting)]
    pub kafka_settings: Vec<(String, String)>,
    /// Bound on one append's acknowledgement by Kafka, in seconds.
    #[arg(
        long,
        env = "CONSENT_KAFKA_DELIVERY_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub kafka_delivery_timeout_secs: u64,
    /// The partitions this instance owns: `all` (a full replica), or a list such as `0-3,6`. It projects
    /// and answers checks and histories only for subjects on those partitions (421 for the others; appends
    /// are accepted for any subject). A view is built for one set: changing it needs `rebuild`.
    #[arg(long, env = "CONSENT_OWN_PARTITIONS", default_value_t = OwnedPartitions::All)]
    pub own_partitions: OwnedPartitions,
}

fn parse_setting(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))
}

impl StorageArgs {
    pub fn layout(&self) -> LogLayout {
        LogLayout::new(self.topic_prefix.clone(), self.partitions)
    }

    /// The projector's settings: the defaults, following the owned
    /// partitions. Fails when they name a partition the layout lacks.
    pub fn projector_config(&self) -> anyhow::Result<ProjectorConfig> {
        let layout = self.layout();
        if let Some(partition) = self.own_partitions.outside(&layout) {
            anyhow::bail!(
                "--own-partitions {} names partition {partition}, but the log has partitions 0-{} (--partitions {})",
                self.own_partitions,
                layout.partitions.saturating_sub(1),
                layout.partitions
            );
        }
        Ok(ProjectorConfig {
            ownership: self.own_partitions.clone(),
            ..ProjectorConfig::default()
        })
    }

    pub fn view_dir(&self) -> PathBuf {
        self.data_dir.join("view")
    }

    /// Opens the log: Kafka when brokers are configured, else the embedded
    /// log under `DATA_DIR/log`.
    pub async fn open_log(&self) -> anyhow::Result<Arc<dyn EventLog>> {
        let layout = self.layout();
        match &self.kafka_brokers {
            Some(brokers) => {
                let mut config = KafkaConfig::new(brokers.clone(), layout);
                config.replication_factor = self.kafka_replication;
                config.extra = self.kafka_settings.clone();
                config.delivery_timeout = Duration::from_secs(self.kafka_delivery_timeout_secs);
                tracing::info!(brokers = %brokers, "using the Kafka log");
                let log = KafkaLog::open(config)
                    .await
                    .with_context(|| format!("opening the Kafka log at {brokers}"))?;
                Ok(Arc::new(log))
            }
            None => {
                let dir = self.data_dir.join("log");
                tracing::info!(dir = %dir.display(), "no Kafka configured: using the embedded log");
                let log = EmbeddedLog::open(&dir, layout)
                    .with_context(|| format!("opening the embedded log in {}", dir.display()))?;
                Ok(Arc::new(log))
            }
        }
    }

    /// Opens the sled view under `DATA_DIR/view`.
    pub fn open_view(&self) -> anyhow::Result<Arc<dyn ViewStore>> {
        let dir = self.view_dir();
        let store = SledStore::open(&dir).with_context(|| {
            format!(
                "opening the view in {} (is another consent-ledger using this data directory?)",
                dir.display()
            )
        })?;
        Ok(Arc::new(store))
    }
}

/// The settings a `--config` TOML file may give `serve`: one key per
/// option, named as the long flag with `_` for `-` (`--grpc-listen` is
/// `grpc_listen`). A value here is used only when neither the flag nor its
/// environment variable gives one: flag > environment > file > default.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub listen: Option<std::net::SocketAddr>,
    pub grpc_listen: Option<std::net::SocketAddr>,
    pub shutdown_timeout_secs: Option<u64>,
    pub ready_max_lag: Option<u64>,
    pub data_dir: Option<PathBuf>,
    pub kafka_brokers: Option<String>,
    pub topic_prefix: Option<String>,
    pub partitions: Option<u32>,
    pub kafka_replication: Option<u16>,
    /// librdkafka settings, as a table: `kafka_settings = { "security.protocol" = "ssl" }`.
    pub kafka_settings: Option<std::collections::BTreeMap<String, String>>,
    pub kafka_delivery_timeout_secs: Option<u64>,
    pub own_partitions: Option<String>,
    pub checkpoint_key: Option<PathBuf>,
    pub checkpoint_origin: Option<String>,
    pub checkpoint_interval_secs: Option<u64>,
    pub api_keys: Option<PathBuf>,
    pub insecure_no_auth: Option<bool>,
    pub public_url: Option<String>,
    pub unsubscribe_key: Option<PathBuf>,
    pub sms_webhook_secret: Option<String>,
    /// Receiving numbers and their organisations, as a table:
    /// `sms_numbers = { "+447700900999" = "acme-cycles" }`.
    pub sms_numbers: Option<std::collections::BTreeMap<String, String>>,
    /// The keys (docs/OPERATIONS.md, "Keys"): a file's path, never a value.
    pub contact_digest_key: Option<PathBuf>,
    /// `sqlite` or a `postgres://` URL (no password in it).
    pub subject_key_store: Option<String>,
    pub subject_key_store_password_file: Option<PathBuf>,
}

impl ConfigFile {
    /// Reads and parses `path`; an unknown key or a value of the wrong type
    /// is an error naming the key and the line.
    pub fn read(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in the config file {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        Ok(toml::from_str(text)?)
    }
}

/// Whether the option `id` may be taken from the config file: the command
/// line and the environment gave it no value.
pub fn file_may_set(matches: Option<&clap::ArgMatches>, id: &str) -> bool {
    use clap::parser::ValueSource;
    !matches!(
        matches.and_then(|m| m.value_source(id)),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

impl StorageArgs {
    /// Takes from `file` every storage setting the command line and the
    /// environment left at its default.
    pub fn apply_file(
        &mut self,
        file: &ConfigFile,
        matches: Option<&clap::ArgMatches>,
    ) -> anyhow::Result<()> {
        let may = |id: &str| file_may_set(matches, id);
        if let (Some(value), true) = (&file.data_dir, may("data_dir")) {
            self.data_dir = value.clone();
        }
        if let (Some(value), true) = (&file.kafka_brokers, may("kafka_brokers")) {
            self.kafka_brokers = Some(value.clone());
        }
        if let (Some(value), true) = (&file.topic_prefix, may("topic_prefix")) {
            self.topic_prefix = value.clone();
        }
        if let (Some(value), true) = (file.partitions, may("partitions")) {
            self.partitions = value;
        }
        if let (Some(value), true) = (file.kafka_replication, may("kafka_replication")) {
            self.kafka_replication = value;
        }
        if let (Some(value), true) = (&file.kafka_settings, may("kafka_settings")) {
            self.kafka_settings = value
                .iter()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect();
        }
        if let (Some(value), true) = (
            file.kafka_delivery_timeout_secs,
            may("kafka_delivery_timeout_secs"),
        ) {
            self.kafka_delivery_timeout_secs = value;
        }
        if let (Some(value), true) = (&file.own_partitions, may("own_partitions")) {
            self.own_partitions = value
                .parse()
                .map_err(|error| anyhow::anyhow!("own_partitions = {value:?}: {error}"))?;
        }
        Ok(())
    }
}
