//! Webhook push of the opt-out feed (consent-webhook-push): the settings
//! `serve` starts the pushers with, and `consent-ledger webhooks`, the
//! operator's commands on the dead letters (list, push again).

use anyhow::Context;
use consent_log::EventLog;
use consent_webhook_push::{
    dead_letter_store, load_endpoints, retry_dead_letters, Endpoint, EndpointPusher, HttpTransport,
    PushSettings, RetryPolicy, Transport,
};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// `serve`'s webhook settings.
#[derive(clap::Args, Clone)]
pub struct WebhookArgs {
    /// The webhooks file: `[[endpoint]]` tables of name, organisation, url and secret_file (docs/INTEGRATION.md,
    /// "Opt-outs out"). Without one, nothing is pushed.
    #[arg(long, env = "CONSENT_WEBHOOKS_FILE")]
    pub webhooks: Option<PathBuf>,
    /// Tries of one notice before it is dead-lettered.
    #[arg(long, env = "CONSENT_WEBHOOK_MAX_TRIES", default_value_t = RetryPolicy::default().max_tries)]
    pub webhook_max_tries: u32,
    /// The wait after a first failed try, in milliseconds; it doubles with each further failure.
    #[arg(
        long,
        env = "CONSENT_WEBHOOK_INITIAL_BACKOFF_MS",
        default_value_t = 1000
    )]
    pub webhook_initial_backoff_ms: u64,
    /// The longest wait between two tries, in seconds.
    #[arg(long, env = "CONSENT_WEBHOOK_MAX_BACKOFF_SECS", default_value_t = 600)]
    pub webhook_max_backoff_secs: u64,
    /// How long one try may take before it counts as failed, in seconds.
    #[arg(long, env = "CONSENT_WEBHOOK_TIMEOUT_SECS", default_value_t = 10)]
    pub webhook_timeout_secs: u64,
}

impl WebhookArgs {
    fn settings(&self) -> anyhow::Result<PushSettings> {
        if self.webhook_max_tries == 0 {
            anyhow::bail!("--webhook-max-tries must be at least 1");
        }
        Ok(PushSettings {
            policy: RetryPolicy {
                max_tries: self.webhook_max_tries,
                initial_backoff: Duration::from_millis(self.webhook_initial_backoff_ms),
                max_backoff: Duration::from_secs(self.webhook_max_backoff_secs),
            },
            ..PushSettings::default()
        })
    }

    fn transport(&self) -> anyhow::Result<HttpTransport> {
        HttpTransport::new(Duration::from_secs(self.webhook_timeout_secs.max(1)))
            .context("building the webhook HTTP client")
    }
}

/// Starts one pusher per endpoint of the webhooks file, each following the
/// feed partitions `owned`, until `stopping` says stop. None without a file.
pub fn spawn_pushers(
    args: &WebhookArgs,
    log: Arc<dyn EventLog>,
    owned: &BTreeSet<u32>,
    data_dir: &Path,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let Some(file) = &args.webhooks else {
        return Ok(Vec::new());
    };
    let endpoints = load_endpoints(file).context("--webhooks")?;
    let settings = args.settings()?;
    let transport: Arc<dyn Transport> = Arc::new(args.transport()?);
    tracing::info!(
        endpoints = endpoints.len(),
        max_tries = settings.policy.max_tries,
        patience_secs = settings.policy.patience().as_secs(),
        "pushing the opt-out feed to webhooks"
    );
    Ok(endpoints
        .into_iter()
        .map(|endpoint| {
            let pusher = EndpointPusher::new(
                endpoint,
                Arc::clone(&log),
                owned,
                Arc::clone(&transport),
                data_dir,
                settings,
            );
            tokio::spawn(pusher.run(stopping.clone()))
        })
        .collect())
}

#[derive(clap::Subcommand)]
pub enum WebhooksCommand {
    /// List the notices an endpoint never took (dead letters), as NDJSON.
    DeadLetters(DeadLettersArgs),
    /// Push each dead letter once more, freshly signed; those delivered are removed.
    Retry(RetryArgs),
}

#[derive(clap::Args)]
pub struct DeadLettersArgs {
    /// The ledger's data directory (dead letters are under DATA_DIR/webhooks/{endpoint}/dead-letters).
    #[arg(long, env = "CONSENT_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Only this endpoint's (default: every endpoint's).
    #[arg(long)]
    pub endpoint: Option<String>,
}

#[derive(clap::Args)]
pub struct RetryArgs {
    #[command(flatten)]
    pub dead_letters: DeadLettersArgs,
    /// The webhooks file (for each endpoint's URL and secret).
    #[arg(long, env = "CONSENT_WEBHOOKS_FILE")]
    pub webhooks: PathBuf,
    /// How long one try may take, in seconds.
    #[arg(long, env = "CONSENT_WEBHOOK_TIMEOUT_SECS", default_value_t = 10)]
    pub webhook_timeout_secs: u64,
}

pub async fn run(command: WebhooksCommand) -> anyhow::Result<ExitCode> {
    match command {
        WebhooksCommand::DeadLetters(args) => list(&args),
        WebhooksCommand::Retry(args) => retry(&args).await,
    }
}

/// The endpoint names with a folder under DATA_DIR/webhooks.
fn endpoint_names(args: &DeadLettersArgs) -> anyhow::Result<Vec<String>> {
    if let Some(name) = &args.endpoint {
        consent_webhook_push::endpoints::check_name(name)
            .map_err(|reason| anyhow::anyhow!("--endpoint {reason}"))?;
        return Ok(vec![name.clone()]);
    }
    let dir = args.data_dir.join("webhooks");
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error).with_context(|| format!("reading {}", dir.display())),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        if entry.path().is_dir() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

fn list(args: &DeadLettersArgs) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let mut count = 0usize;
    for name in endpoint_names(args)? {
        for letter in dead_letter_store(&args.data_dir, &name).list()? {
            serde_json::to_writer(&mut out, &letter)?;
            writeln!(out)?;
            count += 1;
        }
    }
    eprintln!("{count} dead letter(s)");
    Ok(ExitCode::SUCCESS)
}

async fn retry(args: &RetryArgs) -> anyhow::Result<ExitCode> {
    let endpoints: Vec<Endpoint> = load_endpoints(&args.webhooks).context("--webhooks")?;
    let transport = HttpTransport::new(Duration::from_secs(args.webhook_timeout_secs.max(1)))
        .context("building the webhook HTTP client")?;
    let mut failed = 0usize;
    for name in endpoint_names(&args.dead_letters)? {
        let store = dead_letter_store(&args.dead_letters.data_dir, &name);
        let Some(endpoint) = endpoints.iter().find(|e| e.name == name) else {
            let waiting = store.list()?.len();
            if waiting > 0 {
                eprintln!("{name}: {waiting} dead letter(s), but the webhooks file has no endpoint {name:?}; kept");
                failed += waiting;
            }
            continue;
        };
        let report = retry_dead_letters(endpoint, &store, &transport).await?;
        eprintln!(
            "{name}: {} delivered, {} failed again",
            report.delivered.len(),
            report.failed.len()
        );
        for (event_id, reason) in &report.failed {
            eprintln!("  {event_id}: {reason}");
        }
        failed += report.failed.len();
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
