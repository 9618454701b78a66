//! The recipients file a marketer uploads for a campaign pre-flight: a
//! CSV with a header row, one recipient per row (docs/CONSOLE.md,
//! "Campaign pre-flight").
//!
//! A recipient is named by a subject id, an email address or a phone
//! number (any of the columns below; the channel decides which address
//! is used). The campaign's message (channel, purpose, product category,
//! send time) comes from the form; a row may override any of them in a
//! column of its own. Other columns (names, segments...) are ignored and
//! listed as such. Pure: no IO, no clock.
//!
//! | column | aliases | what |
//! | --- | --- | --- |
//! | `subject_id` | `subject`, `customer_id` | the ledger's subject id |
//! | `email` | `email_address`, `e_mail` | an email address |
//! | `phone` | `mobile`, `phone_number`, `telephone`, `msisdn` | a number, E.164 or national |
//! | `channel` | | `email`, `sms`, `live_call`, `automated_call`, `post` |
//! | `purpose` | | `commercial`, `campaigning`, `charitable` |
//! | `product_category` | `product_category_id`, `category` | the category the message markets |
//! | `at` | `send_at` | the send time, RFC 3339 |
//!
//! Header names are read case-insensitively, spaces and hyphens as `_`.
//! A row that cannot be read is reported with its line number, the
//! column and the reason, and the other rows are still checked.

use consent_domain::vocabulary::{Channel, Purpose};
use consent_domain::Timestamp;
use std::collections::BTreeMap;

/// Rows read from one file at most.
pub const MAX_RECIPIENTS: usize = 1_000_000;

/// A column the pre-flight reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Column {
    SubjectId,
    Email,
    Phone,
    Channel,
    Purpose,
    ProductCategory,
    At,
}

impl Column {
    const ALL: [Column; 7] = [
        Column::SubjectId,
        Column::Email,
        Column::Phone,
        Column::Channel,
        Column::Purpose,
        Column::ProductCategory,
        Column::At,
    ];

    /// The column's name, as the documentation and errors give it.
    pub fn name(self) -> &'static str {
        match self {
            Column::SubjectId => "subject_id",
            Column::Email => "email",
            Column::Phone => "phone",
            Column::Channel => "channel",
            Column::Purpose => "purpose",
            Column::ProductCategory => "product_category",
            Column::At => "at",
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::SubjectId => &["subject_id", "subject", "subjectid", "customer_id"],
            Column::Email => &["email", "email_address", "e_mail"],
            Column::Phone => &["phone", "mobile", "phone_number", "telephone", "msisdn"],
            Column::Channel => &["channel"],
            Column::Purpose => &["purpose"],
            Column::ProductCategory => &["product_category", "product_category_id", "category"],
            Column::At => &["at", "send_at"],
        }
    }

    fn of_header(header: &str) -> Option<Column> {
        let normalised: String = header
            .trim()
            .trim_start_matches('\u{feff}')
            .to_lowercase()
            .chars()
            .map(|c| if c == ' ' || c == '-' { '_' } else { c })
            .collect();
        Column::ALL
            .into_iter()
            .find(|column| column.aliases().contains(&normalised.as_str()))
    }
}

/// A row that cannot be read, or a recipient that cannot be checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The line of the file (the header is line 1).
    pub row: u64,
    /// The column at fault (its name as in the file's header, or the
    /// documented name), if one is.
    pub column: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(column) => write!(f, "row {}, column {column}: {}", self.row, self.reason),
            None => write!(f, "row {}: {}", self.row, self.reason),
        }
    }
}

/// Why the file as a whole cannot be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error(
        "the file is empty: it needs a header row naming its columns (subject_id, email or phone)"
    )]
    Empty,
    #[error("the header row names no recipient column: it needs subject_id, email or phone (it has {found})")]
    NoRecipientColumn { found: String },
    #[error("the header row names column {column} twice (as `{first}` and `{second}`)")]
    DuplicateColumn {
        column: &'static str,
        first: String,
        second: String,
    },
    #[error("the file cannot be read as CSV: {0}")]
    Unreadable(String),
    #[error("the file has more than {MAX_RECIPIENTS} rows; split the campaign")]
    TooManyRows,
}

/// What a row says of its message, beyond the form's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowMessage {
    pub channel: Option<Channel>,
    pub purpose: Option<Purpose>,
    pub product_category: Option<String>,
    pub at: Option<Timestamp>,
}

/// One recipient, as its row gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientRow {
    /// The line of the file.
    pub row: u64,
    pub subject_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub message: RowMessage,
}

impl RecipientRow {
    /// The recipient in words, as the file named it: the subject id, the
    /// email address or the number.
    pub fn recipient(&self) -> &str {
        self.subject_id
            .as_deref()
            .or(self.email.as_deref())
            .or(self.phone.as_deref())
            .unwrap_or("")
    }
}

/// A file read: its recipients, the rows that could not be read, and the
/// columns it had that the pre-flight does not read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecipientFile {
    pub rows: Vec<RecipientRow>,
    pub bad_rows: Vec<RowError>,
    /// Header names of the columns not read.
    pub ignored_columns: Vec<String>,
    /// The message columns the file has (a form field they override may
    /// be left empty).
    pub message_columns: Vec<Column>,
}

impl RecipientFile {
    /// Reads `bytes` as a recipients file (see the module docs). Fails as a
    /// whole only when the header cannot be used; a bad row is listed in
    /// [`RecipientFile::bad_rows`].
    pub fn parse(bytes: &[u8]) -> Result<RecipientFile, FileError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let mut records = reader.byte_records();
        let header = match records.next() {
            None => return Err(FileError::Empty),
            Some(Err(error)) => return Err(FileError::Unreadable(error.to_string())),
            Some(Ok(header)) => header,
        };
        let mut columns: BTreeMap<Column, (usize, String)> = BTreeMap::new();
        let mut ignored_columns = Vec::new();
        for (index, name) in header.iter().enumerate() {
            let name = String::from_utf8_lossy(name).trim().to_owned();
            match Column::of_header(&name) {
                Some(column) => {
                    if let Some((_, first)) = columns.get(&column) {
                        return Err(FileError::DuplicateColumn {
                            column: column.name(),
                            first: first.clone(),
                            second: name,
                        });
                    }
                    columns.insert(column, (index, name));
                }
                None if name.is_empty() => {}
                None => ignored_columns.push(name),
            }
        }
        if ![Column::SubjectId, Column::Email, Column::Phone]
            .iter()
            .any(|c| columns.contains_key(c))
        {
            let found: Vec<String> = header
                .iter()
                .map(|name| format!("`{}`", String::from_utf8_lossy(name).trim()))
                .collect();
            return Err(FileError::NoRecipientColumn {
                found: if found.is_empty() {
                    "no column".to_owned()
                } else {
                    found.join(", ")
                },
            });
        }
        let message_columns = [
            Column::Channel,
            Column::Purpose,
            Column::ProductCategory,
            Column::At,
        ]
        .into_iter()
        .filter(|c| columns.contains_key(c))
        .collect();
        let mut file = RecipientFile {
            rows: Vec::new(),
            bad_rows: Vec::new(),
            ignored_columns,
            message_columns,
        };
        let mut line = 1u64;
        for record in records {
            let record = match record {
                Ok(record) => record,
                Err(error) => {
                    let row = error.position().map_or(line + 1, |p| p.line());
                    if let csv::ErrorKind::Io(_) = error.kind() {
                        return Err(FileError::Unreadable(error.to_string()));
                    }
                    file.bad_rows.push(RowError {
                        row,
                        column: None,
                        reason: format!("not a CSV row: {error}"),
                    });
                    line = row;
                    continue;
                }
            };
            line = record.position().map_or(line + 1, |p| p.line());
            if record.iter().all(|field| field.is_empty()) {
                continue;
            }
            if file.rows.len() + file.bad_rows.len() >= MAX_RECIPIENTS {
                return Err(FileError::TooManyRows);
            }
            match read_row(line, &record, &columns) {
                Ok(row) => file.rows.push(row),
                Err(error) => file.bad_rows.push(error),
            }
        }
        Ok(file)
    }

    /// Rows read, good and bad.
    pub fn rows_read(&self) -> usize {
        self.rows.len() + self.bad_rows.len()
    }
}

fn read_row(
    line: u64,
    record: &csv::ByteRecord,
    columns: &BTreeMap<Column, (usize, String)>,
) -> Result<RecipientRow, RowError> {
    let error = |column: Column, reason: String| RowError {
        row: line,
        column: Some(
            columns
                .get(&column)
                .map_or_else(|| column.name().to_owned(), |(_, name)| name.clone()),
        ),
        reason,
    };
    let field = |column: Column| -> Result<Option<String>, RowError> {
        let Some((index, _)) = columns.get(&column) else {
            return Ok(None);
        };
        match record.get(*index) {
            None | Some(b"") => Ok(None),
            Some(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => Ok(Some(text.to_owned())),
                Err(_) => Err(error(
                    column,
                    "not UTF-8 text (save the file as CSV UTF-8)".to_owned(),
                )),
            },
        }
    };
    let subject_id = field(Column::SubjectId)?;
    let email = field(Column::Email)?;
    let phone = field(Column::Phone)?;
    if subject_id.is_none() && email.is_none() && phone.is_none() {
        return Err(RowError {
            row: line,
            column: None,
            reason: "no recipient: fill in subject_id, email or phone".to_owned(),
        });
    }
    let channel = field(Column::Channel)?
        .map(|text| parse_channel(&text).map_err(|reason| error(Column::Channel, reason)))
        .transpose()?;
    let purpose = field(Column::Purpose)?
        .map(|text| parse_purpose(&text).map_err(|reason| error(Column::Purpose, reason)))
        .transpose()?;
    let at = field(Column::At)?
        .map(|text| {
            Timestamp::parse_rfc3339(&text).ok_or_else(|| {
                error(
                    Column::At,
                    format!("`{text}` is not an RFC 3339 time such as 2026-04-01T09:00:00Z"),
                )
            })
        })
        .transpose()?;
    Ok(RecipientRow {
        row: line,
        subject_id,
        email,
        phone,
        message: RowMessage {
            channel,
            purpose,
            product_category: field(Column::ProductCategory)?,
            at,
        },
    })
}

fn words(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect()
}

/// A channel as a marketer writes it: `email`, `sms`, `live_call`,
/// `automated_call`, `post` (any case; the API's `CHANNEL_EMAIL` too).
pub fn parse_channel(text: &str) -> Result<Channel, String> {
    let word = words(text);
    let word = word.strip_prefix("channel_").unwrap_or(&word);
    Channel::ALL
        .into_iter()
        .find(|channel| channel.as_str() == word || (word == "text" && *channel == Channel::Sms))
        .ok_or_else(|| {
            format!("`{text}` is not a channel (email, sms, live_call, automated_call or post)")
        })
}

/// A purpose: `commercial`, `campaigning`, `charitable` (any case; the
/// API's `PURPOSE_COMMERCIAL` too).
pub fn parse_purpose(text: &str) -> Result<Purpose, String> {
    let word = words(text);
    let word = word.strip_prefix("purpose_").unwrap_or(&word);
    [
        Purpose::Commercial,
        Purpose::Campaigning,
        Purpose::Charitable,
    ]
    .into_iter()
    .find(|purpose| purpose.as_str() == word)
    .ok_or_else(|| format!("`{text}` is not a purpose (commercial, campaigning or charitable)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> RecipientFile {
        RecipientFile::parse(text.as_bytes()).expect("a readable file")
    }

    #[test]
    fn a_column_of_subject_ids_is_a_list_of_recipients() {
        let file = parse("subject_id\ncust-1\ncust-2\n");
        let recipients: Vec<&str> = file.rows.iter().map(|r| r.recipient()).collect();
        assert_eq!(recipients, ["cust-1", "cust-2"]);
        assert_eq!(file.rows[1].row, 3);
        assert!(file.bad_rows.is_empty());
    }

    #[test]
    fn an_esp_export_with_names_and_emails_reads_the_emails_and_lists_the_rest_as_ignored() {
        let file = parse(
            "First Name,Email Address,Segment\nAnn,ann@example.com,vip\nBob,bob@example.com,\n",
        );
        assert_eq!(file.rows[0].email.as_deref(), Some("ann@example.com"));
        assert_eq!(file.rows[0].recipient(), "ann@example.com");
        assert_eq!(file.ignored_columns, ["First Name", "Segment"]);
    }

    #[test]
    fn a_row_may_say_its_own_channel_purpose_category_and_time() {
        let file = parse(
            "phone,Channel,purpose,category,send_at\n\
             07700 900123,SMS,Charitable,tea,2026-04-01T09:00:00Z\n\
             +447700900124,,,,\n",
        );
        let message = &file.rows[0].message;
        assert_eq!(message.channel, Some(Channel::Sms));
        assert_eq!(message.purpose, Some(Purpose::Charitable));
        assert_eq!(message.product_category.as_deref(), Some("tea"));
        assert_eq!(message.at, Timestamp::parse_rfc3339("2026-04-01T09:00:00Z"));
        assert_eq!(file.rows[1].message, RowMessage::default());
        assert_eq!(
            file.message_columns,
            [
                Column::Channel,
                Column::Purpose,
                Column::ProductCategory,
                Column::At
            ]
        );
    }

    #[test]
    fn a_bad_row_is_reported_with_its_line_column_and_reason_and_the_others_are_read() {
        let file = parse(
            "email,channel,at\n\
             ann@example.com,email,\n\
             bob@example.com,fax,\n\
             ,email,\n\
             cat@example.com,,1st of May\n\
             dan@example.com,,\n",
        );
        let recipients: Vec<&str> = file.rows.iter().map(|r| r.recipient()).collect();
        assert_eq!(recipients, ["ann@example.com", "dan@example.com"]);
        let errors: Vec<String> = file.bad_rows.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            errors,
            [
                "row 3, column channel: `fax` is not a channel (email, sms, live_call, automated_call or post)",
                "row 4: no recipient: fill in subject_id, email or phone",
                "row 5, column at: `1st of May` is not an RFC 3339 time such as 2026-04-01T09:00:00Z",
            ]
        );
    }

    #[test]
    fn text_that_is_not_utf8_is_a_bad_row_not_a_panic() {
        let mut bytes = b"subject_id\ncust-1\n".to_vec();
        bytes.extend_from_slice(b"caf\xe9\n");
        let file = RecipientFile::parse(&bytes).expect("readable");
        assert_eq!(file.rows.len(), 1);
        assert_eq!(
            file.bad_rows[0].to_string(),
            "row 3, column subject_id: not UTF-8 text (save the file as CSV UTF-8)"
        );
    }

    #[test]
    fn quoted_fields_over_several_lines_keep_the_line_numbers_true() {
        let file = parse("subject_id,note\ncust-1,\"two\nlines\"\ncust-2,x\n");
        let lines: Vec<u64> = file.rows.iter().map(|r| r.row).collect();
        assert_eq!(lines, [2, 4]);
    }

    #[test]
    fn a_file_without_a_recipient_column_is_refused_naming_what_it_has() {
        let error = RecipientFile::parse(b"name,segment\nAnn,vip\n").expect_err("refused");
        assert_eq!(
            error.to_string(),
            "the header row names no recipient column: it needs subject_id, email or phone (it has `name`, `segment`)"
        );
        assert_eq!(
            RecipientFile::parse(b"").expect_err("empty"),
            FileError::Empty
        );
        assert!(matches!(
            RecipientFile::parse(b"email,E-mail\n").expect_err("twice"),
            FileError::DuplicateColumn {
                column: "email",
                ..
            }
        ));
    }

    #[test]
    fn a_spreadsheets_byte_order_mark_and_blank_lines_are_not_rows() {
        let file = parse("\u{feff}Subject ID\n\ncust-1\n\n");
        assert_eq!(file.rows.len(), 1);
        assert!(file.bad_rows.is_empty());
    }
}
