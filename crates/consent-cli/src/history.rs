//! `consent-ledger history`: a subject's events, and the decision at a time.

use crate::check::{print_decision, ChannelArg, PurposeArg};
use crate::client::{LedgerClient, ServerArgs};

#[derive(clap::Args)]
pub struct HistoryArgs {
    #[arg(long = "org")]
    pub organisation: String,
    #[arg(long)]
    pub subject: String,
    /// Only events that occurred at or before this time (RFC 3339).
    #[arg(long)]
    pub at: Option<String>,
    /// Also decide for this channel at that time.
    #[arg(long, value_enum)]
    pub channel: Option<ChannelArg>,
    #[arg(long, value_enum, default_value_t = PurposeArg::Commercial)]
    pub purpose: PurposeArg,
    #[arg(long)]
    pub category: Option<String>,
    /// Print the history as proto3 JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub async fn run(args: HistoryArgs) -> anyhow::Result<std::process::ExitCode> {
    let client = LedgerClient::new(&args.server)?;
    let mut query: Vec<(&str, String)> = Vec::new();
    if let Some(at) = &args.at {
        crate::check::parse_timestamp(at)?;
        query.push(("at", at.clone()));
    }
    if let Some(channel) = args.channel {
        query.push(("channel", channel.to_proto().as_str_name().to_owned()));
        query.push(("purpose", args.purpose.to_proto().as_str_name().to_owned()));
        if let Some(category) = &args.category {
            query.push(("productCategoryId", category.clone()));
        }
    }
    let path = format!(
        "/v1/organisations/{}/subjects/{}/history",
        encode_segment(&args.organisation),
        encode_segment(&args.subject)
    );
    let history = client.get(&path, &query).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&history)?);
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let events = history["events"].as_array().cloned().unwrap_or_default();
    println!("{} events", events.len());
    for entry in &events {
        let event = &entry["event"];
        let kind = event
            .as_object()
            .and_then(|fields| fields.keys().find(|k| is_payload_field(k)).cloned())
            .unwrap_or_else(|| "?".to_owned());
        let position = &entry["position"];
        println!(
            "  {}  {:<26} {}  {}/{}@{}",
            event["occurredAt"].as_str().unwrap_or("?"),
            kind,
            event["eventId"].as_str().unwrap_or("?"),
            position["topic"].as_str().unwrap_or("?"),
            position["partition"].as_u64().unwrap_or(0),
            position["offset"].as_str().unwrap_or("0"),
        );
    }
    if history.get("decision").is_some_and(|d| !d.is_null()) {
        print_decision(&history["decision"]);
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn is_payload_field(key: &str) -> bool {
    !matches!(
        key,
        "eventId"
            | "organisationId"
            | "subjectId"
            | "occurredAt"
            | "recordedAt"
            | "source"
            | "schemaVersion"
    )
}

/// Percent-encodes one path segment (ids may hold any character).
pub(crate) fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
