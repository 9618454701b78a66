//! Campaign pre-flight: before a campaign goes out, the marketer uploads
//! its recipients ([`recipients`]: a CSV of subject ids, email addresses
//! or phone numbers) with the message (channel, purpose, category, send
//! time), and the ledger checks every recipient as a check would, counts
//! them by outcome, lawful basis and reason, and writes the per-recipient
//! CSV ([`outcome`]).
//!
//! An address is looked up through its digest, as a check's is
//! (docs/ERASURE.md): the subjects it was recorded for under the
//! organisation are each decided with it, and the recipient may be sent
//! to only if every one of them allows it; an address no subject has is
//! decided alone (its suppressions, TPS/CTPS listings). The addresses of
//! the file are held in memory only, for the time the result is kept
//! (the per-recipient CSV names each recipient as the file did); they are
//! never written to the log, the view or a file.

pub mod outcome;
pub mod recipients;

use crate::error::LedgerError;
use crate::jobs::{self, JobError, JobId, JobKind, JobOutput, JobProgress};
use crate::ledger::Ledger;
use consent_domain::rules::{CheckRequest, Decision, DecisionTexts, UnknownRuleSet};
use consent_domain::vocabulary::{Channel, ContactKind, ContactPoint};
use consent_domain::{OrganisationId, SubjectId};
use consent_schema::{timestamp_to_proto, v1, ValidationError};
use outcome::{PreflightCounts, Tally};
use recipients::{Column, RecipientFile, RecipientRow, RowError};

/// A pre-flight to run.
#[derive(Clone, Debug, Default)]
pub struct PreflightRequest {
    pub organisation_id: String,
    /// The campaign's message, as an export's campaign gives it: channel,
    /// purpose, product category, message class and flags, send time
    /// (`at`; now when absent) and rule set. Its organisation and subject
    /// are ignored; a row's own columns override channel, purpose,
    /// category and time.
    pub message: v1::CheckRequest,
    /// The recipients file ([`recipients`]).
    pub csv: Vec<u8>,
}

/// What a pre-flight found.
#[derive(Clone, Debug)]
pub struct PreflightResult {
    pub organisation: OrganisationId,
    /// The message as checked (the form's; rows may override it).
    pub message: CheckRequest,
    pub counts: PreflightCounts,
    /// Columns of the file that were not read.
    pub ignored_columns: Vec<String>,
    /// The per-recipient CSV ([`outcome::RECIPIENT_CSV_HEADER`]).
    pub csv: Vec<u8>,
    /// A name to download the CSV under.
    pub file_name: String,
}

/// A pre-flight whose file and message have been read.
struct Prepared {
    organisation: OrganisationId,
    message: v1::CheckRequest,
    checked: CheckRequest,
    file: RecipientFile,
}

/// Recipients decided between two progress reports.
const CHUNK: usize = 500;

impl Ledger {
    /// Reads the file and the message of `request`: a file that cannot be
    /// used as a whole, or a message the ledger cannot check, is refused
    /// here (naming `file` or the message's field), before any work.
    fn prepare_preflight(&self, request: PreflightRequest) -> Result<Prepared, LedgerError> {
        let file = RecipientFile::parse(&request.csv).map_err(|error| {
            LedgerError::invalid(None, ValidationError::new("file", error.to_string()))
        })?;
        let mut message = request.message;
        message.organisation_id = request.organisation_id;
        message.subject_id = String::new();
        message.contact_point = None;
        message.wait_for.clear();
        message.omit_texts = false;
        // The form may leave a field to the file's column: check the
        // message with a stand-in for it.
        let mut probe = message.clone();
        probe.subject_id = "-".to_owned();
        for column in &file.message_columns {
            match column {
                Column::Channel if probe.channel == 0 => probe.channel = v1::Channel::Email.into(),
                Column::Purpose if probe.purpose == 0 => {
                    probe.purpose = v1::Purpose::Commercial.into();
                }
                _ => {}
            }
        }
        let checked = self
            .question(&probe, self.inner.clock.now())
            .map_err(|error| LedgerError::invalid(None, error))?;
        let organisation = checked.organisation.clone();
        Ok(Prepared {
            organisation,
            message,
            checked,
            file,
        })
    }

    /// Runs a pre-flight to its end on the caller's thread, which it
    /// blocks (it reads the view), reporting to `progress`.
    pub fn preflight_blocking(
        &self,
        request: PreflightRequest,
        progress: &JobProgress,
    ) -> Result<PreflightResult, LedgerError> {
        let prepared = self.prepare_preflight(request)?;
        self.run_preflight(prepared, progress)
    }

    /// Starts a pre-flight as a job of the organisation it is for; the
    /// file and message are read first, and refused at once when they
    /// cannot be used.
    pub fn start_preflight(&self, request: PreflightRequest) -> Result<JobId, JobError> {
        let prepared = self.prepare_preflight(request)?;
        let title = format!(
            "pre-flight of {} recipients ({}, {})",
            prepared.file.rows_read(),
            prepared.checked.channel.in_words(),
            prepared.checked.purpose.as_str()
        );
        let (id, progress) = self.jobs().start(
            JobKind::Preflight,
            Some(prepared.organisation.clone()),
            title,
            self.now(),
        )?;
        let ledger = self.clone();
        jobs::spawn(
            self.inner.jobs.clone(),
            id.clone(),
            self.clock_fn(),
            async move {
                let worker = ledger.clone();
                tokio::task::spawn_blocking(move || worker.run_preflight(prepared, &progress))
                    .await
                    .map_err(|error| format!("the pre-flight stopped unexpectedly: {error}"))?
                    .map(JobOutput::Preflight)
                    .map_err(|error| error.client_message())
            },
        );
        Ok(id)
    }

    fn run_preflight(
        &self,
        prepared: Prepared,
        progress: &JobProgress,
    ) -> Result<PreflightResult, LedgerError> {
        let Prepared {
            organisation,
            message,
            checked,
            file,
        } = prepared;
        let total = file.rows_read();
        progress.set_total(u64::try_from(total).unwrap_or(u64::MAX));
        progress.phase("checking the recipients");
        let mut tally = Tally::new();
        let mut bad_rows = file.bad_rows.iter().peekable();
        let organisation_state = self.organisation_state(&organisation)?;
        let now = self.inner.clock.now();
        for (index, row) in file.rows.iter().enumerate() {
            // Keep the CSV in the file's row order.
            while let Some(bad) = bad_rows.next_if(|bad| bad.row < row.row) {
                tally.invalid("", bad.clone());
                progress.advance(1);
            }
            let channel = row.message.channel.unwrap_or(checked.channel);
            match self.recipient_questions(&organisation, &message, row, now) {
                Err(error) => tally.invalid(row.recipient(), error),
                Ok(questions) => {
                    let mut decisions: Vec<(Option<String>, Decision)> = Vec::new();
                    let mut failed = None;
                    for question in &questions {
                        match self.decide_for(
                            question,
                            DecisionTexts::Included,
                            &organisation_state,
                        ) {
                            Ok(decision) => decisions.push((
                                question.subject.as_ref().map(|s| s.as_str().to_owned()),
                                decision,
                            )),
                            Err(LedgerError::UnknownRuleSet(error)) => {
                                failed = Some(rule_set_error(row, error));
                                break;
                            }
                            Err(error) => return Err(error),
                        }
                    }
                    match failed {
                        Some(error) => tally.invalid(row.recipient(), error),
                        None => tally.decided(row.row, row.recipient(), channel, &decisions),
                    }
                }
            }
            progress.advance(1);
            if index % CHUNK == 0 {
                tracing::debug!(done = index + 1, total, "pre-flight");
            }
        }
        for bad in bad_rows {
            tally.invalid("", bad.clone());
            progress.advance(1);
        }
        let (counts, csv) = tally.finish();
        tracing::info!(
            organisation = %organisation,
            recipients = counts.recipients,
            allowed = counts.allowed,
            refused = counts.refused,
            invalid = counts.invalid,
            "campaign pre-flight done"
        );
        Ok(PreflightResult {
            file_name: format!("preflight-{}.csv", file_name_part(organisation.as_str())),
            organisation,
            message: checked,
            counts,
            ignored_columns: file.ignored_columns,
            csv,
        })
    }

    /// The questions that decide one row: its subject (with the address
    /// the channel uses, if the row has it), or its address alone, asked
    /// once for each subject the address was recorded for under the
    /// organisation (none: once, for the address alone).
    fn recipient_questions(
        &self,
        organisation: &OrganisationId,
        message: &v1::CheckRequest,
        row: &RecipientRow,
        now: consent_domain::Timestamp,
    ) -> Result<Vec<CheckRequest>, RowError> {
        let mut request = message.clone();
        if let Some(channel) = row.message.channel {
            request.channel = channel_to_proto(channel).into();
        }
        if let Some(purpose) = row.message.purpose {
            request.purpose = purpose_to_proto(purpose).into();
        }
        if let Some(category) = &row.message.product_category {
            request.product_category_id = category.clone();
        }
        if let Some(at) = row.message.at {
            request.at = Some(timestamp_to_proto(at));
        }
        request.subject_id = row.subject_id.clone().unwrap_or_default();
        let channel = v1::Channel::try_from(request.channel).unwrap_or(v1::Channel::Unspecified);
        let (column, address, kind) = match channel {
            v1::Channel::Email => (Column::Email, &row.email, v1::ContactKind::Email),
            v1::Channel::Sms | v1::Channel::LiveCall | v1::Channel::AutomatedCall => {
                (Column::Phone, &row.phone, v1::ContactKind::Mobile)
            }
            _ => (Column::SubjectId, &None, v1::ContactKind::Unspecified),
        };
        if let Some(value) = address {
            request.contact_point = Some(v1::ContactPoint {
                kind: kind.into(),
                value: value.clone(),
                ..Default::default()
            });
        }
        if request.subject_id.is_empty() && request.contact_point.is_none() {
            let needs = match column {
                Column::Email => "an email address (email) or a subject id",
                Column::Phone => "a phone number (phone) or a subject id",
                _ => "a subject id",
            };
            return Err(RowError {
                row: row.row,
                column: Some(column.name().to_owned()),
                reason: format!(
                    "a message by {} needs {needs}, and this row has none",
                    consent_domain::vocabulary::Channel::ALL
                        .into_iter()
                        .find(|c| channel_to_proto(*c) == channel)
                        .map_or("this channel", Channel::in_words)
                ),
            });
        }
        let question = self
            .question(&request, now)
            .map_err(|error| row_error(row.row, &error))?;
        let subjects: Vec<Option<SubjectId>> = match (&question.subject, &question.contact_point) {
            (None, Some(contact)) => {
                let mut subjects = Vec::new();
                for kind in kinds_like(contact.kind) {
                    let point = ContactPoint {
                        kind,
                        value: contact.value.clone(),
                    };
                    let found = self
                        .inner
                        .store
                        .subjects_by_contact(&point)
                        .map_err(|error| RowError {
                            row: row.row,
                            column: None,
                            reason: format!("the view could not be read: {error}"),
                        })?;
                    for (owner, subject) in found {
                        if owner == *organisation && !subjects.contains(&Some(subject.clone())) {
                            subjects.push(Some(subject));
                        }
                    }
                }
                if subjects.is_empty() {
                    subjects.push(None);
                }
                subjects
            }
            (subject, _) => vec![subject.clone()],
        };
        let mut questions = Vec::with_capacity(subjects.len());
        for subject in subjects {
            if let Some(subject) = &subject {
                self.ensure_owned(organisation, subject, "")
                    .map_err(|error| RowError {
                        row: row.row,
                        column: None,
                        reason: error.to_string(),
                    })?;
            }
            questions.push(CheckRequest {
                subject,
                ..question.clone()
            });
        }
        Ok(questions)
    }
}

/// The kinds an address of `kind` may have been recorded under: a phone
/// number as a mobile or a landline.
fn kinds_like(kind: ContactKind) -> Vec<ContactKind> {
    match kind {
        ContactKind::Mobile | ContactKind::Landline => {
            vec![ContactKind::Mobile, ContactKind::Landline]
        }
        other => vec![other],
    }
}

/// A check's validation error as the row's: its field named as the
/// file's column.
fn row_error(row: u64, error: &ValidationError) -> RowError {
    let field = error.field.as_str();
    let column = if field.starts_with("contact_point") {
        Some("email or phone")
    } else if field.starts_with("subject_id") {
        Some(Column::SubjectId.name())
    } else if field.starts_with("channel") {
        Some(Column::Channel.name())
    } else if field.starts_with("purpose") {
        Some(Column::Purpose.name())
    } else if field.starts_with("product_category") {
        Some(Column::ProductCategory.name())
    } else if field.starts_with("at") {
        Some(Column::At.name())
    } else {
        None
    };
    RowError {
        row,
        column: column.map(str::to_owned),
        reason: match column {
            Some(_) => error.reason.clone(),
            None => error.to_string(),
        },
    }
}

fn rule_set_error(row: &RecipientRow, error: UnknownRuleSet) -> RowError {
    RowError {
        row: row.row,
        column: Some(Column::At.name().to_owned()),
        reason: error.to_string(),
    }
}

fn channel_to_proto(channel: Channel) -> v1::Channel {
    match channel {
        Channel::Email => v1::Channel::Email,
        Channel::Sms => v1::Channel::Sms,
        Channel::LiveCall => v1::Channel::LiveCall,
        Channel::AutomatedCall => v1::Channel::AutomatedCall,
        Channel::Post => v1::Channel::Post,
    }
}

fn purpose_to_proto(purpose: consent_domain::vocabulary::Purpose) -> v1::Purpose {
    use consent_domain::vocabulary::Purpose;
    match purpose {
        Purpose::Commercial => v1::Purpose::Commercial,
        Purpose::Campaigning => v1::Purpose::Campaigning,
        Purpose::Charitable => v1::Purpose::Charitable,
    }
}

/// `text` with every character a file name should not carry replaced.
pub(crate) fn file_name_part(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}
