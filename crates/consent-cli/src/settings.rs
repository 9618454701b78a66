//! Where the ledger keeps its data and which log it uses: the one place
//! that chooses implementations.

use anyhow::Context;
use consent_kafka::{KafkaConfig, KafkaLog};
use consent_log::{EventLog, LogLayout};
use consent_log_embedded::{EmbeddedLog, EmbeddedLogConfig};
use consent_projector::{OwnedPartitions, ProjectorConfig};
use consent_store::ViewStore;
use consent_store_sled::{SledStore, StoreMemory};
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
    /// A file of librdkafka settings that hold secrets, one `KEY=VALUE` per line (`sasl.password=...`,
    /// `ssl.key.password=...`; `#` starts a comment), mode 0600 (a mounted Kubernetes Secret). Applied after
    /// `--kafka-setting`. Secrets are refused as flags, which every user of `ps` can read.
    #[arg(long, env = "CONSENT_KAFKA_SECRETS_FILE")]
    pub kafka_secrets_file: Option<PathBuf>,
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
    /// sled's page cache for the view, in MiB (sled's own default is 1024).
    #[arg(long, env = "CONSENT_VIEW_CACHE_MIB", default_value_t = 256)]
    pub view_cache_mib: u64,
    /// Decoded subject and organisation states kept in memory for checks, in MiB of encoded state.
    #[arg(long, env = "CONSENT_STATE_CACHE_MIB", default_value_t = 48)]
    pub state_cache_mib: u64,
    /// The embedded log's offset index, in MiB over all its partition files (sparser when full).
    #[arg(long, env = "CONSENT_LOG_INDEX_MIB", default_value_t = 16)]
    pub log_index_mib: u64,
}

/// `value` MiB in bytes, or an error naming the setting.
fn mib_to_bytes(setting: &str, value: u64) -> anyhow::Result<usize> {
    value
        .checked_mul(1 << 20)
        .and_then(|bytes| usize::try_from(bytes).ok())
        .ok_or_else(|| {
            anyhow::anyhow!("{setting} = {value} MiB is more than this machine can address")
        })
}

/// The largest Kafka secrets file read (it holds a few settings, perhaps
/// a PEM key).
const MAX_SECRETS_FILE_BYTES: u64 = 64 * 1024;

/// Refuses a secret librdkafka setting (`sasl.password`, `ssl.key.pem`,
/// ...) given as a `--kafka-setting` flag: the command line of a process is
/// visible to every user of the machine (`ps`, `/proc/PID/cmdline`).
pub fn refuse_secrets_on_command_line(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> anyhow::Result<()> {
    let args: Vec<String> = args
        .into_iter()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let values = args.iter().enumerate().filter_map(|(index, arg)| {
        if let Some(value) = arg.strip_prefix("--kafka-setting=") {
            Some(value)
        } else if arg == "--kafka-setting" {
            args.get(index + 1).map(String::as_str)
        } else {
            None
        }
    });
    for value in values {
        let key = value.split_once('=').map_or(value, |(key, _)| key).trim();
        if consent_kafka::is_secret_setting(key) {
            anyhow::bail!(
                "--kafka-setting {key}=...: a secret on the command line can be read by every user \
                 of this machine (ps); put it in the file named by --kafka-secrets-file \
                 (CONSENT_KAFKA_SECRETS_FILE) or in the environment variable CONSENT_KAFKA_SETTINGS"
            );
        }
    }
    Ok(())
}

/// Parses a Kafka secrets file: `KEY=VALUE` lines, blank lines and `#`
/// comments. An error names the line.
fn parse_secrets_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut settings = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let setting = parse_setting(line).map_err(|_| {
            format!(
                "line {}: not KEY=VALUE (the value is not shown: it may be a secret)",
                index + 1
            )
        })?;
        settings.push(setting);
    }
    Ok(settings)
}

fn parse_setting(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))
}

impl StorageArgs {
    pub fn layout(&self) -> LogLayout {
        consent_schema::ledger_layout(self.topic_prefix.clone(), self.partitions)
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
                if let Some(path) = &self.kafka_secrets_file {
                    let text = consent_secret_file::read_secret(path, MAX_SECRETS_FILE_BYTES)
                        .with_context(|| format!("--kafka-secrets-file {}", path.display()))?;
                    let secrets = parse_secrets_file(&text).map_err(|error| {
                        anyhow::anyhow!("--kafka-secrets-file {}: {error}", path.display())
                    })?;
                    config.extra.extend(secrets);
                }
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
                let config = EmbeddedLogConfig {
                    index_memory_bytes: mib_to_bytes("log_index_mib", self.log_index_mib)?,
                };
                let log = EmbeddedLog::open_with(&dir, layout, config)
                    .with_context(|| format!("opening the embedded log in {}", dir.display()))?;
                Ok(Arc::new(log))
            }
        }
    }

    /// The view's cache sizes from the settings.
    pub fn store_memory(&self) -> anyhow::Result<StoreMemory> {
        let view = mib_to_bytes("view_cache_mib", self.view_cache_mib)?;
        let states = mib_to_bytes("state_cache_mib", self.state_cache_mib)?;
        Ok(StoreMemory::new(view as u64, states))
    }

    /// Opens the sled view under `DATA_DIR/view`.
    pub fn open_view(&self) -> anyhow::Result<Arc<dyn ViewStore>> {
        let dir = self.view_dir();
        let memory = self.store_memory()?;
        let store = SledStore::open_with(&dir, memory).with_context(|| {
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
    /// The file of secret librdkafka settings (never the secrets themselves).
    pub kafka_secrets_file: Option<PathBuf>,
    pub own_partitions: Option<String>,
    pub view_cache_mib: Option<u64>,
    pub state_cache_mib: Option<u64>,
    pub log_index_mib: Option<u64>,
    pub unhealthy_after_secs: Option<u64>,
    /// An ISO 3166-1 alpha-2 code: `phone_region = "GB"`.
    pub phone_region: Option<String>,
    pub max_clock_skew_secs: Option<u64>,
    pub checkpoint_key: Option<PathBuf>,
    pub checkpoint_origin: Option<String>,
    pub checkpoint_interval_secs: Option<u64>,
    pub api_keys: Option<PathBuf>,
    pub insecure_no_auth: Option<bool>,
    pub api_keys_reload_secs: Option<u64>,
    pub public_url: Option<String>,
    pub unsubscribe_key: Option<PathBuf>,
    pub sms_webhook_secret: Option<String>,
    /// Receiving numbers and their organisations, as a table:
    /// `sms_numbers = { "+447700900999" = "acme-cycles" }`.
    pub sms_numbers: Option<std::collections::BTreeMap<String, String>>,
    /// The ESP webhooks' settings file (a path; it holds the secrets).
    pub esp_webhooks: Option<PathBuf>,
    /// The keys (docs/OPERATIONS.md, "Keys"): a file's path, never a value.
    pub contact_digest_key: Option<PathBuf>,
    /// `sqlite` or a `postgres://` URL (no password in it).
    pub subject_key_store: Option<String>,
    pub subject_key_store_password_file: Option<PathBuf>,
    /// The webhooks file (docs/INTEGRATION.md, "Opt-outs out").
    pub webhooks: Option<PathBuf>,
    pub webhook_max_tries: Option<u32>,
    pub webhook_initial_backoff_ms: Option<u64>,
    pub webhook_max_backoff_secs: Option<u64>,
    pub webhook_timeout_secs: Option<u64>,
    /// The console (docs/CONSOLE.md).
    pub console_secure_cookies: Option<bool>,
    pub console_session_idle_secs: Option<u64>,
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
        if let (Some(value), true) = (&file.kafka_secrets_file, may("kafka_secrets_file")) {
            self.kafka_secrets_file = Some(value.clone());
        }
        if let Some(secret) = file
            .kafka_settings
            .iter()
            .flatten()
            .map(|(key, _)| key)
            .find(|key| consent_kafka::is_secret_setting(key))
        {
            anyhow::bail!(
                "kafka_settings.{secret:?}: a secret does not belong in the config file; put it in \
                 the file named by kafka_secrets_file (mode 0600) or in CONSENT_KAFKA_SETTINGS"
            );
        }
        if let (Some(value), true) = (file.view_cache_mib, may("view_cache_mib")) {
            self.view_cache_mib = value;
        }
        if let (Some(value), true) = (file.state_cache_mib, may("state_cache_mib")) {
            self.state_cache_mib = value;
        }
        if let (Some(value), true) = (file.log_index_mib, may("log_index_mib")) {
            self.log_index_mib = value;
        }
        if let (Some(value), true) = (&file.own_partitions, may("own_partitions")) {
            self.own_partitions = value
                .parse()
                .map_err(|error| anyhow::anyhow!("own_partitions = {value:?}: {error}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<std::ffi::OsString> {
        list.iter().map(|arg| (*arg).into()).collect()
    }

    #[test]
    fn the_deploy_example_config_reads_with_the_webhook_settings() {
        let file = ConfigFile::parse(include_str!("../../../deploy/consent-ledger.toml"))
            .expect("deploy/consent-ledger.toml reads");
        assert_eq!(file.webhook_max_tries, Some(20));
        assert_eq!(file.webhook_initial_backoff_ms, Some(1000));
        assert_eq!(file.webhook_max_backoff_secs, Some(600));
        assert_eq!(file.webhook_timeout_secs, Some(10));
        assert_eq!(
            file.webhooks, None,
            "commented out: nothing pushed by default"
        );
    }

    #[test]
    fn a_secret_flag_is_refused_naming_where_secrets_go() {
        for line in [
            &[
                "consent-ledger",
                "serve",
                "--kafka-setting",
                "sasl.password=hunter2",
            ][..],
            &[
                "consent-ledger",
                "serve",
                "--kafka-setting=ssl.key.password=x",
            ][..],
            &[
                "consent-ledger",
                "rebuild",
                "--kafka-setting",
                "sasl.oauthbearer.client.secret=s",
            ][..],
        ] {
            let error = refuse_secrets_on_command_line(args(line))
                .expect_err("a secret flag is refused")
                .to_string();
            assert!(error.contains("--kafka-secrets-file"), "{error}");
            assert!(!error.contains("hunter2"), "{error}");
        }
        refuse_secrets_on_command_line(args(&[
            "consent-ledger",
            "serve",
            "--kafka-setting",
            "security.protocol=sasl_ssl",
            "--kafka-setting=sasl.username=ledger",
        ]))
        .expect("settings that are not secret are taken as flags");
    }

    #[test]
    fn a_secrets_file_is_key_value_lines_with_comments() {
        let settings = parse_secrets_file(
            "# the ledger's Kafka login\n\nsasl.password = p=ss\nssl.key.password=k\n",
        )
        .expect("parsed");
        assert_eq!(
            settings,
            vec![
                ("sasl.password".to_owned(), "p=ss".to_owned()),
                ("ssl.key.password".to_owned(), "k".to_owned()),
            ]
        );
        let error = parse_secrets_file("sasl.password=x\nhunter2\n").expect_err("refused");
        assert!(error.starts_with("line 2:"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn a_config_file_may_not_hold_a_secret_setting() {
        let file = ConfigFile::parse(
            "kafka_brokers = \"b:9093\"\nkafka_settings = { \"sasl.password\" = \"x\" }\n",
        )
        .expect("parsed");
        #[derive(clap::Parser)]
        struct Storage {
            #[command(flatten)]
            storage: StorageArgs,
        }
        let mut storage = <Storage as clap::Parser>::parse_from(["consent-ledger"]).storage;
        let error = storage.apply_file(&file, None).expect_err("refused");
        assert!(error.to_string().contains("kafka_secrets_file"), "{error}");
    }
}
