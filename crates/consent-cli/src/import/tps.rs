//! `consent-ledger import tps`: a TPS or CTPS file as one
//! `preference_service_listing` fact per number (no subject), then, once
//! every row is acknowledged, the one `preference_service_screened` fact
//! that records the screening (docs/OPERATIONS.md, "Imports"). An import
//! that stops before the end, or with a refused row, records no screening.

use super::ids::{derived_id, file_sha256};
use super::runner::{BatchArgs, Importer};
use super::time::parse_time;
use crate::client::{LedgerClient, ServerArgs};
use anyhow::{bail, Context};
use consent_domain::Timestamp;
use consent_schema::{number_to_e164, timestamp_to_proto, v1, PhoneRegion};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// Telephone Preference Service (individuals).
    Tps,
    /// Corporate Telephone Preference Service.
    Ctps,
}

impl Service {
    fn wire(self) -> v1::PreferenceService {
        match self {
            Service::Tps => v1::PreferenceService::Tps,
            Service::Ctps => v1::PreferenceService::Ctps,
        }
    }
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("extent").required(true).args(["full", "delta"])))]
pub struct TpsArgs {
    /// The organisation that screened its numbers.
    #[arg(long)]
    pub organisation: String,
    #[arg(long, value_enum)]
    pub service: Service,
    /// A full file: every number listed (one per line).
    #[arg(long)]
    pub full: bool,
    /// A changes file: `+NUMBER` added, `-NUMBER` removed, or `NUMBER,A` / `NUMBER,D`.
    #[arg(long)]
    pub delta: bool,
    /// The date the file describes (the service's extract date): RFC 3339 or YYYY-MM-DD.
    #[arg(long)]
    pub taken_at: String,
    /// The file, as downloaded.
    pub file: PathBuf,
    #[command(flatten)]
    pub batching: BatchArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub async fn run(args: TpsArgs) -> anyhow::Result<std::process::ExitCode> {
    let Some(taken_at) = parse_time(&args.taken_at) else {
        bail!(
            "--taken-at {}: not a date (give YYYY-MM-DD or an RFC 3339 time)",
            args.taken_at
        );
    };
    let client = LedgerClient::new(&args.server)?;
    // The file's identity: every listing names it, and so does the screening.
    let snapshot_ref = file_sha256(&args.file)?;
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let total_bytes = file.metadata().ok().map(|m| m.len());
    let rows = Rows {
        organisation: &args.organisation,
        service: args.service,
        taken_at,
        snapshot_ref: &snapshot_ref,
    };

    let mut importer = Importer::start(&client, &args.batching, total_bytes).await?;
    let mut numbers = 0u64;
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut line_number = 0u64;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .with_context(|| format!("reading {}", args.file.display()))?;
        if read == 0 {
            break;
        }
        line_number += 1;
        importer.read(read as u64);
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let row = if args.delta {
            delta_row(text)
        } else {
            Ok((text, true))
        };
        // TPS and CTPS list UK numbers: read as the ledger reads a number
        // of region GB, so a row's id is the same however it is spelled.
        let row = row.and_then(|(number, listed)| {
            number_to_e164("number", number, PhoneRegion::GB)
                .map(|number| (number, listed))
                .map_err(|error| error.reason)
        });
        match row {
            Ok((number, listed)) => {
                numbers += 1;
                importer
                    .push(line_number, rows.listing(&number, listed))
                    .await?;
            }
            Err(reason) => importer.refuse(line_number, reason),
        }
    }
    // Every row acknowledged before the screening is recorded.
    importer.flush().await?;
    let refused = importer.summary.refused.len();
    if refused == 0 {
        importer
            .push(line_number + 1, rows.screening(args.full, numbers))
            .await?;
    }
    let mut summary = importer.finish().await?;
    if refused == 0 && summary.refused.is_empty() {
        println!(
            "screening recorded: {} {} file of {numbers} numbers taken at {}, snapshot {snapshot_ref}",
            if args.full { "full" } else { "delta" },
            match args.service {
                Service::Tps => "TPS",
                Service::Ctps => "CTPS",
            },
            args.taken_at,
        );
    } else {
        println!(
            "no screening recorded: {} rows were refused; fix them and import the file again (what was appended is not appended twice)",
            summary.refused.len()
        );
    }
    Ok(summary.report())
}

/// A delta row: the number and whether it is listed (added) or not
/// (removed).
fn delta_row(text: &str) -> Result<(&str, bool), String> {
    if let Some((first, second)) = text.split_once(',') {
        let (first, second) = (first.trim(), second.trim());
        let flag = |f: &str| match f.to_ascii_uppercase().as_str() {
            "A" | "ADD" | "+" => Some(true),
            "D" | "DEL" | "DELETE" | "-" => Some(false),
            _ => None,
        };
        return match (flag(first), flag(second)) {
            (_, Some(listed)) => Ok((first, listed)),
            (Some(listed), None) => Ok((second, listed)),
            (None, None) => Err(format!(
                "a delta row names A (added) or D (removed) beside the number: `{text}`"
            )),
        };
    }
    match text.as_bytes().first() {
        Some(b'+') if text[1..].trim_start().starts_with('0') => Ok((text[1..].trim_start(), true)),
        Some(b'-') => Ok((text[1..].trim_start(), false)),
        _ => Err(format!(
            "a delta row is +NUMBER (added), -NUMBER (removed) in national format, or NUMBER,A / NUMBER,D: `{text}`"
        )),
    }
}

/// The facts of one file.
struct Rows<'a> {
    organisation: &'a str,
    service: Service,
    taken_at: Timestamp,
    snapshot_ref: &'a str,
}

impl Rows<'_> {
    fn source(&self) -> Option<v1::Source> {
        Some(v1::Source {
            system: "consent-ledger import tps".to_owned(),
            evidence_ref: format!("sha256:{}", self.snapshot_ref),
            ..v1::Source::default()
        })
    }

    /// One number's listing; its id from the organisation, the file and
    /// the number.
    fn listing(&self, number: &str, listed: bool) -> v1::Envelope {
        v1::Envelope {
            event_id: derived_id(
                "tps-listing",
                &[
                    self.organisation.as_bytes(),
                    self.snapshot_ref.as_bytes(),
                    number.as_bytes(),
                ],
            ),
            organisation_id: self.organisation.to_owned(),
            occurred_at: Some(timestamp_to_proto(self.taken_at)),
            source: self.source(),
            payload: Some(v1::envelope::Payload::PreferenceServiceListing(
                v1::PreferenceServiceListing {
                    service: self.service.wire() as i32,
                    number: number.to_owned(),
                    listed_at: Some(timestamp_to_proto(self.taken_at)),
                    listed,
                    sealed_number: None,
                    snapshot_ref: self.snapshot_ref.to_owned(),
                },
            )),
            ..v1::Envelope::default()
        }
    }

    /// The screening; its id from the organisation and the file.
    fn screening(&self, full: bool, numbers: u64) -> v1::Envelope {
        v1::Envelope {
            event_id: derived_id(
                "tps-screening",
                &[self.organisation.as_bytes(), self.snapshot_ref.as_bytes()],
            ),
            organisation_id: self.organisation.to_owned(),
            occurred_at: Some(timestamp_to_proto(self.taken_at)),
            source: self.source(),
            payload: Some(v1::envelope::Payload::PreferenceServiceScreened(
                v1::PreferenceServiceScreened {
                    service: self.service.wire() as i32,
                    full,
                    taken_at: Some(timestamp_to_proto(self.taken_at)),
                    snapshot_ref: self.snapshot_ref.to_owned(),
                    numbers,
                },
            )),
            ..v1::Envelope::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_rows_in_each_accepted_shape() {
        assert_eq!(delta_row("+01632 960001"), Ok(("01632 960001", true)));
        assert_eq!(delta_row("- 01632 960001"), Ok(("01632 960001", false)));
        assert_eq!(delta_row("01632960001,A"), Ok(("01632960001", true)));
        assert_eq!(delta_row("D,01632960001"), Ok(("01632960001", false)));
        assert!(delta_row("01632960001").is_err());
        assert!(delta_row("01632960001,X").is_err());
    }
}
