//! `consent-ledger import suppressions`: an ESP's suppression export as
//! address-only facts (no subject id): an unsubscribe is an
//! `opt_out_recorded` on the email channel, a spam complaint an
//! `objection_recorded`, each with the address as its `contact_point`.
//! Bounces and cleaned addresses are not refusals of marketing: they are
//! skipped and counted (docs/OPERATIONS.md, "Imports").

use super::ids::derived_id;
use super::runner::{BatchArgs, Importer};
use super::time::parse_time;
use crate::client::{LedgerClient, ServerArgs};
use anyhow::{bail, Context};
use consent_domain::Timestamp;
use consent_schema::{timestamp_to_proto, v1};
use std::path::PathBuf;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EspFormat {
    /// SendGrid suppression export: `email,created` (+ `ip` for spam reports, `reason,status` for bounces).
    Sendgrid,
    /// Mailchimp audience export of unsubscribed (`Email Address`, `UNSUB_TIME`) or cleaned (`CLEAN_TIME`) contacts.
    Mailchimp,
    /// Amazon SES account-level suppression list: `EmailAddress,Reason,LastUpdateTime` (Reason BOUNCE or COMPLAINT).
    Ses,
}

impl EspFormat {
    fn name(self) -> &'static str {
        match self {
            EspFormat::Sendgrid => "sendgrid",
            EspFormat::Mailchimp => "mailchimp",
            EspFormat::Ses => "ses",
        }
    }
}

/// Which SendGrid list a file is (SendGrid exports each list alone, and
/// unsubscribes and spam reports can share the same columns).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendgridList {
    Unsubscribes,
    SpamReports,
    Bounces,
    Blocks,
    InvalidEmails,
}

#[derive(clap::Args)]
pub struct SuppressionArgs {
    /// The organisation whose suppression list this is.
    #[arg(long)]
    pub organisation: String,
    /// The export's shape; detected from the header row when not given.
    #[arg(long, value_enum)]
    pub format: Option<EspFormat>,
    /// For SendGrid: which list the file is. Detected from the columns when
    /// not given: `reason` and `status` are bounces, `reason` alone blocks
    /// or invalid emails, `ip` spam reports, otherwise unsubscribes.
    #[arg(long, value_enum)]
    pub sendgrid_list: Option<SendgridList>,
    /// The CSV file, with its header row.
    pub file: PathBuf,
    #[command(flatten)]
    pub batching: BatchArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// What one row records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    /// An unsubscribe: an opt-out of email.
    Unsubscribe,
    /// A spam complaint: an objection to direct marketing.
    Complaint,
}

/// What a row is, when it is not a refusal to record.
enum Row {
    Refusal(Refusal, String, Timestamp),
    Skipped(&'static str),
}

/// The columns of one file, by position.
struct Layout {
    format: EspFormat,
    email: usize,
    /// The row's time.
    time: Option<usize>,
    /// SES `Reason`.
    reason: Option<usize>,
    /// Mailchimp `CLEAN_TIME`.
    clean_time: Option<usize>,
    /// What every row of a SendGrid file is.
    sendgrid: Option<SendgridList>,
}

impl Layout {
    fn of(
        headers: &csv::StringRecord,
        format: Option<EspFormat>,
        list: Option<SendgridList>,
    ) -> anyhow::Result<Layout> {
        let names: Vec<String> = headers
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let column = |name: &str| names.iter().position(|n| n == name);
        let format = match format {
            Some(format) => format,
            None if column("emailaddress").is_some() => EspFormat::Ses,
            None if column("email address").is_some() => EspFormat::Mailchimp,
            None if column("email").is_some() => EspFormat::Sendgrid,
            None => bail!(
                "cannot tell the export's format from its header row ({}): give --format",
                names.join(",")
            ),
        };
        let required = |name: &str| {
            column(name).with_context(|| {
                format!(
                    "a {} export needs a `{name}` column; the header row is: {}",
                    format.name(),
                    names.join(",")
                )
            })
        };
        Ok(match format {
            EspFormat::Sendgrid => Layout {
                format,
                email: required("email")?,
                time: Some(required("created")?),
                reason: None,
                clean_time: None,
                sendgrid: Some(list.unwrap_or(
                    match (column("reason"), column("status"), column("ip")) {
                        (Some(_), Some(_), _) => SendgridList::Bounces,
                        (Some(_), None, _) => SendgridList::Blocks,
                        (None, _, Some(_)) => SendgridList::SpamReports,
                        _ => SendgridList::Unsubscribes,
                    },
                )),
            },
            EspFormat::Mailchimp => Layout {
                format,
                email: required("email address")?,
                time: column("unsub_time"),
                reason: None,
                clean_time: column("clean_time"),
                sendgrid: None,
            },
            EspFormat::Ses => Layout {
                format,
                email: required("emailaddress")?,
                time: Some(required("lastupdatetime")?),
                reason: Some(required("reason")?),
                clean_time: None,
                sendgrid: None,
            },
        })
    }

    fn row(&self, record: &csv::StringRecord) -> Result<Row, String> {
        let field = |index: Option<usize>| index.and_then(|i| record.get(i)).unwrap_or("").trim();
        let email = field(Some(self.email));
        let refusal = match self.format {
            EspFormat::Sendgrid => match self.sendgrid {
                Some(SendgridList::SpamReports) => Refusal::Complaint,
                Some(SendgridList::Bounces) => return Ok(Row::Skipped("bounces")),
                Some(SendgridList::Blocks) => return Ok(Row::Skipped("blocks")),
                Some(SendgridList::InvalidEmails) => return Ok(Row::Skipped("invalid emails")),
                _ => Refusal::Unsubscribe,
            },
            EspFormat::Mailchimp => {
                if !field(self.time).is_empty() {
                    Refusal::Unsubscribe
                } else if !field(self.clean_time).is_empty() {
                    return Ok(Row::Skipped("cleaned (bounced)"));
                } else {
                    return Err(
                        "neither UNSUB_TIME nor CLEAN_TIME is set: not an unsubscribed or cleaned contact"
                            .to_owned(),
                    );
                }
            }
            EspFormat::Ses => match field(self.reason).to_ascii_uppercase().as_str() {
                "COMPLAINT" => Refusal::Complaint,
                "BOUNCE" => return Ok(Row::Skipped("bounces")),
                other => return Err(format!("Reason `{other}` is neither BOUNCE nor COMPLAINT")),
            },
        };
        if email.is_empty() {
            return Err("no email address".to_owned());
        }
        let time_text = field(self.time);
        let Some(at) = parse_time(time_text) else {
            return Err(format!(
                "no readable time (`{time_text}`): the time the address refused is what the fact records"
            ));
        };
        Ok(Row::Refusal(refusal, email.to_owned(), at))
    }
}

pub async fn run(args: SuppressionArgs) -> anyhow::Result<std::process::ExitCode> {
    let client = LedgerClient::new(&args.server)?;
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let total_bytes = file.metadata().ok().map(|m| m.len());
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(std::io::BufReader::new(file));
    let headers = reader
        .headers()
        .with_context(|| format!("reading the header row of {}", args.file.display()))?
        .clone();
    let layout = Layout::of(&headers, args.format, args.sendgrid_list)?;
    tracing::info!(format = layout.format.name(), list = ?layout.sendgrid, "importing suppressions");

    let mut importer = Importer::start(&client, &args.batching, total_bytes).await?;
    let mut record = csv::StringRecord::new();
    let mut read_to = reader.position().byte();
    loop {
        let more = match reader.read_record(&mut record) {
            Ok(more) => more,
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                importer.refuse(line, format!("not a CSV row: {error}"));
                if matches!(error.kind(), csv::ErrorKind::Io(_)) {
                    bail!("reading {}: {error}", args.file.display());
                }
                continue;
            }
        };
        if !more {
            break;
        }
        let position = reader.position().byte();
        importer.read(position - read_to);
        read_to = position;
        let line = record.position().map_or(0, |p| p.line());
        match layout.row(&record) {
            Ok(Row::Refusal(refusal, email, at)) => {
                let envelope = envelope(&args.organisation, layout.format, refusal, &email, at);
                importer.push(line, envelope).await?;
            }
            Ok(Row::Skipped(kind)) => importer.skip(kind),
            Err(reason) => importer.refuse(line, reason),
        }
    }
    let mut summary = importer.finish().await?;
    Ok(summary.report())
}

/// The fact of one refusal. Its id is derived from the organisation, the
/// format, what was refused, the address (trimmed, lower-cased) and the
/// row's time: a later export of the same list appends only its new rows.
fn envelope(
    organisation: &str,
    format: EspFormat,
    refusal: Refusal,
    email: &str,
    at: Timestamp,
) -> v1::Envelope {
    let (seconds, nanos) = at.unix_parts();
    let kind = match refusal {
        Refusal::Unsubscribe => "unsubscribe",
        Refusal::Complaint => "complaint",
    };
    // As the ledger normalises an email address.
    let normalised = email.trim().to_lowercase();
    let event_id = derived_id(
        format.name(),
        &[
            organisation.as_bytes(),
            kind.as_bytes(),
            normalised.as_bytes(),
            format!("{seconds}.{nanos:09}").as_bytes(),
        ],
    );
    let contact_point = Some(v1::ContactPoint {
        kind: v1::ContactKind::Email as i32,
        value: normalised,
        sealed: None,
    });
    let payload = match refusal {
        Refusal::Unsubscribe => v1::envelope::Payload::OptOutRecorded(v1::OptOutRecorded {
            channels: vec![v1::Channel::Email as i32],
            all_channels: false,
            received_via: v1::OptOutMethod::UnsubscribeLink as i32,
            contact_point,
        }),
        // A complaint made from the recipient's mailbox (a feedback loop):
        // the nearest method is a reply by email.
        Refusal::Complaint => v1::envelope::Payload::ObjectionRecorded(v1::ObjectionRecorded {
            received_via: v1::OptOutMethod::EmailReply as i32,
            contact_point,
        }),
    };
    v1::Envelope {
        event_id,
        organisation_id: organisation.to_owned(),
        occurred_at: Some(timestamp_to_proto(at)),
        source: Some(v1::Source {
            system: format.name().to_owned(),
            actor: "consent-ledger import suppressions".to_owned(),
            evidence_ref: format!("{} suppression export ({kind})", format.name()),
            ..v1::Source::default()
        }),
        payload: Some(payload),
        ..v1::Envelope::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(header: &str, format: Option<EspFormat>) -> Layout {
        let headers = csv::StringRecord::from(header.split(',').collect::<Vec<_>>());
        Layout::of(&headers, format, None).expect("a layout")
    }

    fn row(layout: &Layout, row: &str) -> Result<Row, String> {
        layout.row(&csv::StringRecord::from(row.split(',').collect::<Vec<_>>()))
    }

    #[test]
    fn each_export_is_recognised_by_its_header_row() {
        assert_eq!(layout("email,created", None).format, EspFormat::Sendgrid);
        assert_eq!(
            layout("email,created", None).sendgrid,
            Some(SendgridList::Unsubscribes)
        );
        assert_eq!(
            layout("email,created,ip", None).sendgrid,
            Some(SendgridList::SpamReports)
        );
        assert_eq!(
            layout("email,created,reason,status", None).sendgrid,
            Some(SendgridList::Bounces)
        );
        assert_eq!(
            layout(
                "Email Address,First Name,UNSUB_TIME,UNSUB_CAMPAIGN_TITLE",
                None
            )
            .format,
            EspFormat::Mailchimp
        );
        assert_eq!(
            layout("EmailAddress,Reason,LastUpdateTime", None).format,
            EspFormat::Ses
        );
    }

    #[test]
    fn unsubscribes_and_complaints_are_refusals_and_bounces_are_skipped() {
        let ses = layout("EmailAddress,Reason,LastUpdateTime", None);
        assert!(matches!(
            row(&ses, "jo@example.com,COMPLAINT,2026-03-01T10:00:00Z"),
            Ok(Row::Refusal(Refusal::Complaint, _, _))
        ));
        assert!(matches!(
            row(&ses, "jo@example.com,BOUNCE,2026-03-01T10:00:00Z"),
            Ok(Row::Skipped("bounces"))
        ));
        let mailchimp = layout("Email Address,UNSUB_TIME,CLEAN_TIME", None);
        assert!(matches!(
            row(&mailchimp, "jo@example.com,2026-03-01 10:00:00,"),
            Ok(Row::Refusal(Refusal::Unsubscribe, _, _))
        ));
        assert!(matches!(
            row(&mailchimp, "jo@example.com,,2026-03-01 10:00:00"),
            Ok(Row::Skipped(_))
        ));
        let sendgrid = layout("email,created", None);
        assert!(row(&sendgrid, "jo@example.com,").is_err(), "no time");
    }

    #[test]
    fn the_same_row_in_a_later_export_has_the_same_id() {
        let at = parse_time("2026-03-01T10:00:00Z").expect("time");
        let a = envelope(
            "acme",
            EspFormat::Ses,
            Refusal::Complaint,
            "Jo@Example.com",
            at,
        );
        let b = envelope(
            "acme",
            EspFormat::Ses,
            Refusal::Complaint,
            "jo@example.com",
            at,
        );
        assert_eq!(a.event_id, b.event_id);
        let later = parse_time("2026-03-02T10:00:00Z").expect("time");
        let c = envelope(
            "acme",
            EspFormat::Ses,
            Refusal::Complaint,
            "jo@example.com",
            later,
        );
        assert_ne!(a.event_id, c.event_id);
    }
}
