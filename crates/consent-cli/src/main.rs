//! `consent-ledger`: the consent ledger's command line.
//!
//! The composition root: the only place that picks implementations (the
//! embedded log or Kafka, the sled view) from configuration.

/// mimalloc as the global allocator: see the workspace Cargo.toml and
/// docs/PERFORMANCE.md ("Issue #14: one check per call") for why.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod api_key;
mod api_key_reload;
mod append;
mod check;
mod client;
mod console_setup;
mod esp_setup;
mod evidence_setup;
mod export;
mod generate;
mod history;
mod import;
mod intake_setup;
mod key_source;
mod keys;
mod probe;
mod rebuild;
mod replay;
mod report;
mod sealing_setup;
mod serve;
mod settings;
mod side_view;
mod suppressions;
mod traces;
mod verify;
mod webhooks;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "consent-ledger",
    version,
    about = "An event-sourced consent ledger for direct-marketing compliance (UK PECR / UK GDPR)."
)]
struct Cli {
    /// Log output format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "CONSENT_LOG_FORMAT")]
    log_format: LogFormat,

    /// Send OpenTelemetry traces over OTLP/HTTP (protobuf) to this collector base URL (`/v1/traces` is appended). Off when neither this nor OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set.
    #[arg(long, global = true, value_name = "URL")]
    otlp_endpoint: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the ledger: the log, the projector and the HTTP API.
    Serve(serve::ServeArgs),
    /// Append facts from an NDJSON file (one consent.v1.Envelope per line, proto3 JSON) to a running ledger.
    Append(append::AppendArgs),
    /// Import an existing list (an ESP's suppression export, a TPS/CTPS file) as facts; re-runnable.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Ask a running ledger whether a message may be sent.
    Check(check::CheckArgs),
    /// Show a subject's events, and the decision at a given time.
    History(history::HistoryArgs),
    /// Print an organisation's suppression list (every page) from a running ledger, as NDJSON or CSV.
    Suppressions(suppressions::SuppressionsArgs),
    /// Drop the view and rebuild it from the log (the ledger must not be running).
    Rebuild(rebuild::RebuildArgs),
    /// List the rule sets a running ledger decides by, with their citations.
    RuleSets(client::ServerArgs),
    /// Decide the whole history again under another rule set or similarity map and report what changes (reads the log only).
    Replay(replay::ReplayArgs),
    /// Make a side view's similarity maps live: appends them as the organisations' facts, effective from a time.
    Promote(side_view::PromoteArgs),
    /// Ask a running ledger for an evidence bundle (one subject, a campaign or a time range) and write it to a file.
    Export(export::ExportArgs),
    /// Sign a checkpoint of a running ledger now and print it (the signed note).
    Checkpoint(client::ServerArgs),
    /// Check an evidence bundle offline: signatures, proofs, and that every decision recomputes (exit 0 PASS, 4 FAIL).
    Verify(verify::VerifyArgs),
    /// Verify an evidence bundle offline and draw the regulator's report from it: HTML, and PDF with --pdf (headless Chromium).
    Report(report::ReportArgs),
    /// Write a deterministic, seeded data set of facts as NDJSON (for `append` and benchmarks).
    Generate(generate::GenerateArgs),
    /// Create, list or revoke API keys (per organisation, or the admin) in the key file `serve` reads.
    ApiKey(api_key::ApiKeyArgs),
    /// Create the shared secret key files (checkpoint key, unsubscribe token secret) in a directory.
    Keys(keys::KeysArgs),
    /// GET a URL and exit 0 when it answers 2xx, 1 otherwise (a container health check without curl).
    Probe(probe::ProbeArgs),
    /// The opt-out webhooks' dead letters: list them, or push them again.
    #[command(subcommand)]
    Webhooks(webhooks::WebhooksCommand),
}

fn main() -> std::process::ExitCode {
    restore_default_sigpipe();
    // The matches say where each setting came from (flag, environment or
    // default), which `serve` needs to layer its config file under them.
    if let Err(error) = settings::refuse_secrets_on_command_line(std::env::args_os()) {
        eprintln!("error: {error:#}");
        return std::process::ExitCode::FAILURE;
    }
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let cli =
        <Cli as clap::FromArgMatches>::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let serve_matches = matches.subcommand_matches("serve").cloned();
    let traces = match init_tracing(cli.log_format, cli.otlp_endpoint.as_deref()) {
        Ok(traces) => traces,
        Err(error) => {
            eprintln!("error: {error:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args, serve_matches.as_ref()).await,
            Command::Append(args) => append::run(args).await,
            Command::Import(command) => import::run(command).await,
            Command::Check(args) => check::run(args).await,
            Command::History(args) => history::run(args).await,
            Command::Suppressions(args) => suppressions::run(args).await,
            Command::Rebuild(args) => rebuild::run(args).await,
            Command::RuleSets(args) => client::print_rule_sets(args).await,
            Command::Replay(args) => replay::run(args).await,
            Command::Export(args) => export::run(args).await,
            Command::Promote(args) => side_view::promote(args).await,
            Command::Checkpoint(args) => export::checkpoint(args).await,
            Command::Verify(args) => verify::run(args).await,
            Command::Report(args) => report::run(args).await,
            Command::Generate(args) => generate::run(args).await,
            Command::ApiKey(args) => api_key::run(args).await,
            Command::Keys(args) => keys::run(args).await,
            Command::Probe(args) => probe::run(args).await,
            Command::Webhooks(command) => webhooks::run(command).await,
        }
    });
    // Everything has stopped: export the spans still buffered.
    drop(runtime);
    traces.shutdown();
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The tracing subscriber: logs on stderr filtered by `CONSENT_LOG`, and
/// the OpenTelemetry layer when traces are on ([`traces`]).
fn init_tracing(format: LogFormat, otlp_endpoint: Option<&str>) -> anyhow::Result<traces::Traces> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{Layer, Registry};

    let endpoint = traces::resolve_endpoint(otlp_endpoint, |name| std::env::var(name).ok())?;
    let filter = EnvFilter::try_from_env("CONSENT_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Text => logs.with_filter(filter).boxed(),
        LogFormat::Json => logs.json().with_filter(filter).boxed(),
    };
    let (traces, spans) = traces::Traces::start::<Registry>(&endpoint)?;
    let layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> =
        std::iter::once(logs).chain(spans).collect();
    tracing_subscriber::registry().with(layers).init();
    if let traces::TracesEndpoint::Url(url) = &endpoint {
        tracing::info!(endpoint = %url, "sending traces over OTLP/HTTP");
    }
    Ok(traces)
}

/// Rust ignores SIGPIPE, so `consent-ledger check ... | head -1` would make
/// `println!` panic on the closed pipe. A command-line tool should instead
/// end quietly, as other Unix tools do.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists;
    // SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
