//! `consent-ledger append FILE`: bulk import of facts from NDJSON, safe to
//! re-run (docs/OPERATIONS.md, "Imports").

use crate::client::{LedgerClient, ServerArgs};
use crate::import::ids::derived_id;
use crate::import::runner::{BatchArgs, Importer};
use anyhow::Context;
use consent_schema::v1;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct AppendArgs {
    /// NDJSON file: one consent.v1.Envelope per line in proto3 JSON. `-` reads standard input.
    pub file: PathBuf,
    /// Names the source of these lines. A line without `eventId` gets an id
    /// derived from its content (and this name): the same line is the same
    /// fact, imported once however often the file is appended. Give a name
    /// when two sources may send identical lines that are distinct facts.
    #[arg(long, default_value = "")]
    pub source_ref: String,
    #[command(flatten)]
    pub batching: BatchArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub async fn run(args: AppendArgs) -> anyhow::Result<std::process::ExitCode> {
    let client = LedgerClient::new(&args.server)?;
    let (reader, total_bytes): (Box<dyn BufRead>, Option<u64>) = if args.file.as_os_str() == "-" {
        (Box::new(BufReader::new(std::io::stdin())), None)
    } else {
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("cannot open {}", args.file.display()))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(BufReader::new(file)), size)
    };
    let mut importer = Importer::start(&client, &args.batching, total_bytes).await?;
    for (index, line) in reader.lines().enumerate() {
        let line_number = index as u64 + 1;
        let line = line.with_context(|| format!("reading line {line_number}"))?;
        importer.read(line.len() as u64 + 1);
        if line.trim().is_empty() {
            continue;
        }
        match envelope_of(&line, &args.source_ref) {
            Ok(envelope) => importer.push(line_number, envelope).await?,
            Err(reason) => importer.refuse(line_number, reason),
        }
    }
    let mut summary = importer.finish().await?;
    Ok(summary.report())
}

/// The envelope of one line, with its id: the line's own `eventId`, or one
/// derived from the line's canonical content (its proto3 JSON as parsed and
/// written again, so spacing and key order do not matter) and the source
/// name.
fn envelope_of(line: &str, source_ref: &str) -> Result<v1::Envelope, String> {
    let mut envelope: v1::Envelope = serde_json::from_str(line)
        .map_err(|error| format!("not a consent.v1.Envelope in proto3 JSON: {error}"))?;
    if envelope.event_id.is_empty() {
        let canonical = serde_json::to_vec(&envelope)
            .map_err(|error| format!("cannot write the envelope back as JSON: {error}"))?;
        envelope.event_id = derived_id("append", &[source_ref.as_bytes(), &canonical]);
    }
    Ok(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_keeps_its_id_whatever_its_spacing_and_key_order() {
        let a = envelope_of(
            r#"{"organisationId":"acme","subjectId":"s","occurredAt":"2026-01-01T00:00:00Z","objectionRecorded":{"receivedVia":"OPT_OUT_METHOD_LETTER"}}"#,
            "",
        )
        .expect("valid");
        let b = envelope_of(
            r#"{ "subjectId": "s", "organisationId": "acme", "objectionRecorded": {"receivedVia": "OPT_OUT_METHOD_LETTER"}, "occurredAt": "2026-01-01T00:00:00Z" }"#,
            "",
        )
        .expect("valid");
        assert_eq!(a.event_id, b.event_id);
        let named = envelope_of(
            r#"{"organisationId":"acme","subjectId":"s","occurredAt":"2026-01-01T00:00:00Z","objectionRecorded":{"receivedVia":"OPT_OUT_METHOD_LETTER"}}"#,
            "crm-2026",
        )
        .expect("valid");
        assert_ne!(a.event_id, named.event_id);
    }

    #[test]
    fn a_line_that_names_its_id_keeps_it() {
        let envelope = envelope_of(
            r#"{"eventId":"0190f2a4-7b3c-7d2e-9f10-1a2b3c4d5e6f","organisationId":"acme"}"#,
            "",
        )
        .expect("JSON");
        assert_eq!(envelope.event_id, "0190f2a4-7b3c-7d2e-9f10-1a2b3c4d5e6f");
    }
}
