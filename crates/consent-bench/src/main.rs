//! `consent-bench`: the consent ledger's measured-performance suite.
//!
//! Generates a seeded data set (consent-generator), appends it to an
//! embedded log, and measures, each against a raw baseline taken in the
//! same run: projection into the sled view, in-process checks, HTTP and
//! gRPC checks on loopback, batch and streamed decisions, a PostgreSQL peer
//! (when `--postgres` names one), a replay under the other rule set, the
//! Kafka path and opt-out latency through the tansu test broker, the
//! view's bytes on disk, and an ESP webhook's latency to a refused check
//! against the real `consent-ledger` binary. Prints the outcomes as JSON and, with `--report`,
//! writes docs/PERFORMANCE.md. `scripts/bench.sh` runs it end to end.

/// mimalloc as the global allocator: see the workspace Cargo.toml and
/// docs/PERFORMANCE.md ("Issue #14: one check per call") for why; counted
/// while the replay runs (`heap`).
#[global_allocator]
static GLOBAL: heap::CountingMiMalloc = heap::CountingMiMalloc;

mod api;
mod checks;
mod dataset;
mod heap;
mod kafka;
mod load;
mod measure;
mod outcome;
mod postgres;
mod projection;
mod replay;
mod report;
mod webhook;

use anyhow::Context;
use clap::Parser;
use consent_generator::{CheckSampler, GeneratorConfig};
use consent_log::EventLog;
use consent_service::Ledger;
use outcome::Outcome;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "consent-bench",
    about = "Measure the consent ledger against raw baselines and a PostgreSQL peer."
)]
struct Args {
    /// A tiny run (seconds): small data, short loads. For the test suite.
    #[arg(long)]
    smoke: bool,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Subjects (default 1,000,000; 200 with --smoke).
    #[arg(long)]
    subjects: Option<u64>,
    /// Events (default 10,000,000; 3,000 with --smoke).
    #[arg(long)]
    events: Option<u64>,
    /// Seconds each API load runs (default 10; 1 with --smoke).
    #[arg(long)]
    load_seconds: Option<u64>,
    /// Concurrent callers of the unary API loads and of the PostgreSQL peer.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Records sent through Kafka (default 5,000; 300 with --smoke).
    #[arg(long)]
    kafka_records: Option<usize>,
    /// Opt-outs timed through Kafka (default 50; 5 with --smoke).
    #[arg(long)]
    opt_outs: Option<usize>,
    /// A PostgreSQL connection string (e.g. `host=/tmp/pg port=5432 user=bench dbname=bench`); the peer is not run without one.
    #[arg(long, env = "CONSENT_BENCH_POSTGRES")]
    postgres: Option<String>,
    /// Skip the Kafka benchmarks.
    #[arg(long)]
    no_kafka: bool,
    /// Run only these benchmarks (comma-separated: projection, check, api,
    /// postgres, replay, disk, kafka, webhook); the projection always runs,
    /// as the others read its view. For iterating on one figure: without api or
    /// postgres the run stops after the check, replay and disk figures,
    /// prints them, and writes no report. `--only webhook` alone runs only
    /// the ESP webhook latency against the real binary (no data set).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// ESP webhooks timed end to end, each way (default 200; 10 with --smoke).
    #[arg(long)]
    webhooks: Option<usize>,
    /// The `consent-ledger` binary the webhook benchmark serves (default: the
    /// one beside consent-bench, from the same build).
    #[arg(long)]
    ledger_bin: Option<PathBuf>,
    /// Where the logs and views go (default: a temporary directory).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Write the outcomes as JSON here (also printed on standard output).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write docs/PERFORMANCE.md here.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Markdown appended to the report (the analysis of what limits each figure).
    #[arg(long)]
    analysis: Option<PathBuf>,
    /// The command line to name in the report.
    #[arg(long, default_value = "bash scripts/bench.sh")]
    command: String,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CONSENT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,consent_bench=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let begun = Instant::now();
    let smoke = args.smoke;
    let config = GeneratorConfig {
        seed: args.seed,
        subjects: args.subjects.unwrap_or(if smoke { 200 } else { 1_000_000 }),
        events: args
            .events
            .unwrap_or(if smoke { 3_000 } else { 10_000_000 }),
        organisations: None,
    };
    let load_time = Duration::from_secs(args.load_seconds.unwrap_or(if smoke { 1 } else { 10 }));
    let check_count = if smoke { 2_000 } else { 200_000 };
    let stream_checks = if smoke { 20_000 } else { 300_000 };
    let temporary = tempfile::Builder::new()
        .prefix("consent-bench-")
        .tempdir()?;
    let work = args
        .work_dir
        .clone()
        .unwrap_or_else(|| temporary.path().to_owned());
    std::fs::create_dir_all(&work)?;
    let wants = |name: &str| args.only.is_empty() || args.only.iter().any(|only| only == name);
    let webhooks = args.webhooks.unwrap_or(if smoke { 10 } else { 200 });
    if args.only == ["webhook"] {
        let outcome = webhook_outcome(args.ledger_bin.as_deref(), &work, webhooks).await;
        let json = serde_json::json!({ "outcomes": [outcome.to_json()] });
        let text = serde_json::to_string_pretty(&json)?;
        println!("{text}");
        if let Some(path) = &args.json {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
        }
        // One figure is not a report: docs/PERFORMANCE.md is left as it is.
        return Ok(());
    }
    let layout = consent_schema::ledger_layout("bench", 8);
    let mut outcomes: Vec<Outcome> = Vec::new();

    tracing::info!(
        events = config.events,
        subjects = config.subjects,
        "generating and appending"
    );
    let dataset = dataset::build(config, &work.join("log"), layout.clone()).await?;
    let log: Arc<dyn EventLog> = dataset.log.clone();

    tracing::info!("projecting (raw baseline)");
    let (raw_seconds, raw_records, raw_db) =
        projection::raw_baseline(log.clone(), &work.join("raw")).await?;
    tracing::info!("projecting (ledger)");
    let view_dir = work.join("view");
    let projected = projection::project(log.clone(), &view_dir).await?;
    outcomes.push(projection::throughput_outcome(
        &projected,
        (raw_seconds, raw_records),
    ));
    tracing::info!(
        projector_seconds = projected.seconds,
        raw_seconds,
        "projected"
    );

    let requests: Arc<Vec<_>> = Arc::new(CheckSampler::new(config, 1).take(10_000).collect());
    let ledger = Ledger::new(projected.projector.projection());
    let mut in_process_rate = f64::NAN;
    if wants("check") {
        tracing::info!("in-process checks");
        let raw_tree = raw_db.open_tree("raw")?;
        let in_process =
            checks::in_process(&ledger, &raw_tree, requests.clone(), check_count).await?;
        in_process_rate = in_process
            .figures
            .iter()
            .find(|f| f.name.starts_with("checks/s"))
            .map_or(f64::NAN, |f| f.value);
        outcomes.push(in_process);
    }
    if !(wants("api") || wants("postgres")) {
        if wants("replay") {
            outcomes.push(replay::replay(log.clone()).await?);
        }
        outcomes.push(projection::disk_outcome(
            &view_dir,
            projected.events,
            dataset.raw_bytes,
        )?);
        let json = serde_json::json!({
            "outcomes": outcomes.iter().map(Outcome::to_json).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }

    tracing::info!("API checks");
    let servers = api::Servers::start(ledger.clone()).await?;
    let mut figures = api::measure(
        &servers,
        requests.clone(),
        args.concurrency,
        load_time,
        stream_checks,
    )
    .await?;
    servers.stop();
    let api_outcomes = api::outcomes(&mut figures, in_process_rate, args.concurrency);
    outcomes.extend(api_outcomes);

    outcomes.push(match &args.postgres {
        None => Outcome::skipped(
            "postgres",
            "PostgreSQL peer",
            "no --postgres connection string (scripts/bench.sh starts a throwaway cluster)",
        ),
        Some(url) => {
            tracing::info!("PostgreSQL peer");
            postgres_outcome(
                url,
                log.clone(),
                &requests,
                &figures,
                args.concurrency,
                load_time,
            )
            .await
            .unwrap_or_else(|error| {
                Outcome::skipped("postgres", "PostgreSQL peer", format!("failed: {error:#}"))
            })
        }
    });

    tracing::info!("replay");
    outcomes.push(replay::replay(log.clone()).await?);

    let disk = projection::disk_outcome(&view_dir, projected.events, dataset.raw_bytes)?;
    outcomes.push(disk);
    drop(ledger);
    drop(projected);

    if args.no_kafka {
        outcomes.push(Outcome::skipped(
            "kafka-projection",
            "Projection through Kafka (tansu test broker)",
            "--no-kafka",
        ));
        outcomes.push(Outcome::skipped(
            "opt-out",
            "Opt-out appended, then honoured by checks, through Kafka",
            "--no-kafka",
        ));
    } else {
        tracing::info!("Kafka");
        let sizes = kafka::KafkaSizes {
            records: args
                .kafka_records
                .unwrap_or(if smoke { 300 } else { 5_000 }),
            opt_outs: args.opt_outs.unwrap_or(if smoke { 5 } else { 50 }),
        };
        match kafka::measure(log.clone(), layout.clone(), &work, sizes, &requests).await {
            Ok(kafka) => outcomes.extend(kafka),
            Err(error) => {
                let why = format!("failed: {error:#}");
                outcomes.push(Outcome::skipped(
                    "kafka-projection",
                    "Projection through Kafka (tansu test broker)",
                    why.clone(),
                ));
                outcomes.push(Outcome::skipped(
                    "opt-out",
                    "Opt-out appended, then honoured by checks, through Kafka",
                    why,
                ));
            }
        }
    }

    if wants("webhook") {
        tracing::info!("ESP webhook latency");
        outcomes.push(webhook_outcome(args.ledger_bin.as_deref(), &work, webhooks).await);
    }

    let json = serde_json::json!({
        "seed": config.seed,
        "subjects": config.subjects,
        "events": dataset.events,
        "raw_bytes": dataset.raw_bytes,
        "outcomes": outcomes.iter().map(Outcome::to_json).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&json)?;
    println!("{text}");
    if let Some(path) = &args.json {
        std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.report {
        let analysis = match &args.analysis {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
            None => String::new(),
        };
        let info = report::RunInfo {
            command: args.command.clone(),
            subjects: config.subjects,
            events: dataset.events,
            organisations: config.organisation_count(),
            seed: config.seed,
            raw_bytes: dataset.raw_bytes,
            generate_seconds: dataset.generate_time.as_secs_f64(),
            append_seconds: dataset.append_time.as_secs_f64(),
            total_seconds: begun.elapsed().as_secs_f64(),
        };
        let markdown = report::markdown(&measure::Machine::describe(), &info, &outcomes, &analysis);
        std::fs::write(path, markdown).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The ESP webhook benchmark, or why it did not run.
async fn webhook_outcome(
    binary: Option<&std::path::Path>,
    work: &std::path::Path,
    webhooks: usize,
) -> Outcome {
    let title = "ESP webhook received, then a check refused (SendGrid, the real binary)";
    let Some(binary) = webhook::ledger_binary(binary) else {
        return Outcome::skipped(
            "webhook",
            title,
            "no consent-ledger binary beside consent-bench (cargo build -p consent-cli) and no --ledger-bin",
        );
    };
    webhook::measure(&binary, work, webhooks)
        .await
        .unwrap_or_else(|error| Outcome::skipped("webhook", title, format!("failed: {error:#}")))
}

async fn postgres_outcome(
    url: &str,
    log: Arc<dyn EventLog>,
    requests: &Arc<Vec<consent_schema::v1::CheckRequest>>,
    api: &api::ApiFigures,
    concurrency: usize,
    load_time: Duration,
) -> anyhow::Result<Outcome> {
    let client = postgres::connect(url).await?;
    let loaded = postgres::load(&client, log).await?;
    let questions: Arc<Vec<_>> = Arc::new(requests.iter().map(postgres::question).collect());
    let peer = postgres::measure(url, questions, concurrency, load_time).await?;
    let mut outcome = Outcome::new("postgres", "The same checks answered by a PostgreSQL peer");
    outcome.figure("rows loaded", loaded.rows as f64, "rows");
    outcome.figure("load (COPY + ANALYZE)", loaded.seconds, "s");
    outcome.figure(
        "tables and indexes on disk",
        loaded.table_bytes as f64,
        "bytes",
    );
    let unary = peer.unary.rate();
    let pipelined = peer.pipelined.rate();
    outcome.figure("PostgreSQL, one query per call", unary, "checks/s");
    outcome.figure(
        format!(
            "PostgreSQL, {} queries pipelined per connection",
            postgres::PIPELINE
        ),
        pipelined,
        "checks/s",
    );
    outcome.figure(
        "allowed share of sampled checks",
        peer.allowed_share,
        "fraction",
    );
    let ledger_unary = api.grpc_unary.rate().max(api.http_unary.rate());
    // The same "best batch API" as the batch benchmark's (either form).
    let ledger_batch = api.best_batch();
    outcome.figure(
        "ledger, one check per call (best API)",
        ledger_unary,
        "checks/s",
    );
    outcome.figure("ledger, batch or stream (best)", ledger_batch, "checks/s");
    outcome.figure(
        "ledger batch/PostgreSQL pipelined",
        ledger_batch / pipelined.max(unary),
        "x",
    );
    // Issue #14: one check per call against one query per call, the full
    // decision against the peer's five booleans.
    let ratio = ledger_unary / unary;
    outcome.ratio(
        ratio,
        "PostgreSQL's one query per call, on the same questions, same machine, same load generator",
    );
    outcome.target(
        "one check per call at least 3x PostgreSQL's one query per call",
        ratio >= 3.0,
    );
    outcome.note(format!(
        "{concurrency} connections; bench/postgres/check.sql answers a subset of the ledger's rules (objection, opt-out, consent and withdrawal, soft opt-in with similarity) and returns five booleans, where the ledger returns the full decision with rules, reasons and evidence; the ratio is one call against one query (the best of HTTP and gRPC), and the batch figure compares the best batch API (full or with omitTexts) with the pipelined peer"
    ));
    Ok(outcome)
}
