//! `consent-ledger append FILE`: bulk import of facts from NDJSON.

use crate::client::{LedgerClient, ServerArgs};
use anyhow::{bail, Context};
use consent_schema::v1;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct AppendArgs {
    /// NDJSON file: one consent.v1.Envelope per line in proto3 JSON. `-` reads standard input.
    pub file: PathBuf,
    /// Events per request.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub async fn run(args: AppendArgs) -> anyhow::Result<std::process::ExitCode> {
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let client = LedgerClient::new(&args.server)?;
    let (reader, total_bytes): (Box<dyn BufRead>, Option<u64>) = if args.file.as_os_str() == "-" {
        (Box::new(BufReader::new(std::io::stdin())), None)
    } else {
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("cannot open {}", args.file.display()))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(BufReader::new(file)), size)
    };
    let progress = progress_bar(total_bytes);

    let mut batch: Vec<v1::Envelope> = Vec::with_capacity(args.batch);
    let mut batch_first_line = 1;
    let mut appended = 0_u64;
    let mut latest = LatestPositions::default();
    for (index, line) in reader.lines().enumerate() {
        let line_number = index + 1;
        let line = line.with_context(|| format!("reading line {line_number}"))?;
        progress.inc(line.len() as u64 + 1);
        if line.trim().is_empty() {
            continue;
        }
        let mut envelope: v1::Envelope = serde_json::from_str(&line).with_context(|| {
            format!("line {line_number} is not a consent.v1.Envelope in proto3 JSON")
        })?;
        // Ids are assigned here rather than by the server so that re-running
        // an interrupted import appends nothing twice: the ledger counts an
        // event id once.
        if envelope.event_id.is_empty() {
            envelope.event_id = uuid::Uuid::now_v7().to_string();
        }
        if batch.is_empty() {
            batch_first_line = line_number;
        }
        batch.push(envelope);
        if batch.len() == args.batch {
            appended += send(&client, &mut batch, batch_first_line, appended, &mut latest).await?;
            progress.set_message(format!("{appended} events appended"));
        }
    }
    if !batch.is_empty() {
        appended += send(&client, &mut batch, batch_first_line, appended, &mut latest).await?;
    }
    progress.finish_and_clear();
    tracing::info!(appended, "append finished");
    println!("{appended} events appended");
    if !latest.0.is_empty() {
        // What a check needs to see these events (read-your-writes).
        let wait_for: Vec<String> = latest
            .0
            .iter()
            .map(|((topic, partition), offset)| format!("--wait-for {topic}/{partition}@{offset}"))
            .collect();
        println!(
            "to check with these events in the view: {}",
            wait_for.join(" ")
        );
    }
    Ok(std::process::ExitCode::SUCCESS)
}

async fn send(
    client: &LedgerClient,
    batch: &mut Vec<v1::Envelope>,
    first_line: usize,
    appended_before: u64,
    latest: &mut LatestPositions,
) -> anyhow::Result<u64> {
    let request = v1::AppendRequest {
        events: std::mem::take(batch),
    };
    let count = request.events.len();
    let response = client.post("/v1/events", &request).await.with_context(|| {
        format!(
            "appending lines {first_line}..{} ({appended_before} events were appended before this batch; \
             re-running the same file is safe)",
            first_line + count - 1
        )
    })?;
    for appended in response["appended"].as_array().into_iter().flatten() {
        latest.record(&appended["position"]);
    }
    Ok(count as u64)
}

/// The highest position appended per topic-partition.
#[derive(Default)]
struct LatestPositions(BTreeMap<(String, u64), u64>);

impl LatestPositions {
    /// Records a proto3 JSON `LogPosition` (zero values are omitted there).
    fn record(&mut self, position: &serde_json::Value) {
        let Some(topic) = position["topic"].as_str() else {
            return;
        };
        let partition = position["partition"].as_u64().unwrap_or(0);
        let offset = position["offset"]
            .as_str()
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let entry = self
            .0
            .entry((topic.to_owned(), partition))
            .or_insert(offset);
        *entry = (*entry).max(offset);
    }
}

fn progress_bar(total_bytes: Option<u64>) -> ProgressBar {
    match total_bytes {
        Some(total) => {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] [{bar:40}] {bytes}/{total_bytes} ({eta}) {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        }
        None => ProgressBar::new_spinner(),
    }
}
