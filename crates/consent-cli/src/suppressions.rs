//! `consent-ledger suppressions`: an organisation's suppression list, read
//! from a running ledger a page at a time and written to standard output
//! as NDJSON (one entry a line, as the API gives it) or CSV.

use crate::client::{LedgerClient, ServerArgs};
use anyhow::Context;
use serde_json::Value;
use std::io::Write;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SuppressionFormat {
    /// One `SuppressedAddress` (proto3 JSON) a line.
    Ndjson,
    /// `address,kind,clear_value,event_ids,fact_kinds,first_at,last_at`,
    /// one address a row (lists joined with `;`).
    Csv,
}

#[derive(clap::Args)]
pub struct SuppressionsArgs {
    #[arg(long, visible_alias = "org")]
    pub organisation: String,
    #[arg(long, value_enum, default_value_t = SuppressionFormat::Ndjson)]
    pub format: SuppressionFormat,
    /// Entries asked for per request (1 to 1000).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub page_size: u32,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub async fn run(args: SuppressionsArgs) -> anyhow::Result<std::process::ExitCode> {
    let client = LedgerClient::new(&args.server)?;
    let path = format!(
        "/v1/organisations/{}/suppressions",
        crate::history::encode_segment(&args.organisation)
    );
    // NDJSON goes through `out`; CSV through its own (buffered) writer.
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let mut csv = match args.format {
        SuppressionFormat::Csv => {
            let mut writer = csv::Writer::from_writer(std::io::stdout());
            writer.write_record([
                "address",
                "kind",
                "clear_value",
                "event_ids",
                "fact_kinds",
                "first_at",
                "last_at",
            ])?;
            Some(writer)
        }
        SuppressionFormat::Ndjson => None,
    };
    let mut after = String::new();
    let mut count = 0u64;
    loop {
        let mut query = vec![("limit", args.page_size.to_string())];
        if !after.is_empty() {
            query.push(("after", after.clone()));
        }
        let page = client
            .get(&path, &query)
            .await
            .with_context(|| format!("reading the suppression list after `{after}`"))?;
        let entries = page["entries"].as_array().cloned().unwrap_or_default();
        for entry in &entries {
            count += 1;
            match csv.as_mut() {
                Some(writer) => writer.write_record(csv_row(entry))?,
                None => writeln!(out, "{}", serde_json::to_string(entry)?)?,
            }
        }
        match page["nextCursor"].as_str() {
            Some(next) if !next.is_empty() && !entries.is_empty() => after = next.to_owned(),
            _ => break,
        }
    }
    if let Some(mut writer) = csv {
        writer.flush()?;
    }
    out.flush()?;
    tracing::info!(organisation = %args.organisation, entries = count, "suppression list read");
    Ok(std::process::ExitCode::SUCCESS)
}

fn csv_row(entry: &Value) -> Vec<String> {
    let facts = entry["facts"].as_array().cloned().unwrap_or_default();
    let join = |field: &str| {
        facts
            .iter()
            .map(|f| f[field].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
            .join(";")
    };
    let times: Vec<&str> = facts
        .iter()
        .filter_map(|f| f["occurredAt"].as_str())
        .collect();
    vec![
        entry["address"].as_str().unwrap_or_default().to_owned(),
        entry["kind"].as_str().unwrap_or_default().to_owned(),
        entry["clearValue"].as_str().unwrap_or_default().to_owned(),
        join("eventId"),
        join("kind"),
        times.iter().min().copied().unwrap_or_default().to_owned(),
        times.iter().max().copied().unwrap_or_default().to_owned(),
    ]
}
