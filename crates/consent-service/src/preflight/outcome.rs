//! What a pre-flight found: each recipient's outcome, written as a row of
//! the per-recipient CSV as it is decided, and the counts by outcome, by
//! lawful basis and by reason that the summary shows. Pure.
//!
//! The CSV repeats values of the uploaded file (the recipient as the file
//! gave it, the bad row's error), and a spreadsheet runs a cell that
//! starts with `=`, `+`, `-` or `@` as a formula: every cell is written
//! through [`neutralise_formula`] (OWASP's advice on CSV injection).

use super::recipients::RowError;
use consent_domain::rules::{Decision, LawfulBasis, RuleOutcome};
use consent_domain::vocabulary::Channel;
use std::collections::BTreeMap;

/// The per-recipient CSV's header row.
pub const RECIPIENT_CSV_HEADER: [&str; 9] = [
    "row",
    "recipient",
    "subjects",
    "channel",
    "allowed",
    "lawful_basis",
    "reasons",
    "citations",
    "explanation",
];

/// Bad rows listed in the summary at most (all are in the CSV).
pub const BAD_ROWS_LISTED: usize = 100;

/// A lawful basis as the CSV writes it: `soft_opt_in`.
pub fn basis_code(basis: LawfulBasis) -> &'static str {
    match basis {
        LawfulBasis::None => "none",
        LawfulBasis::NotDirectMarketing => "not_direct_marketing",
        LawfulBasis::Consent => "consent",
        LawfulBasis::SoftOptIn => "soft_opt_in",
        LawfulBasis::CharitySoftOptIn => "charity_soft_opt_in",
        LawfulBasis::CorporateSubscriber => "corporate_subscriber",
        LawfulBasis::LiveCallNotObjected => "live_call_not_objected",
        LawfulBasis::LegitimateInterests => "legitimate_interests",
    }
}

/// Allowed recipients on one lawful basis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BasisCount {
    pub basis: LawfulBasis,
    /// As the CSV writes it ([`basis_code`]).
    pub code: &'static str,
    pub recipients: u64,
}

/// One reason against, counted over the recipients it refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReasonCount {
    /// `R1`.
    pub rule_id: String,
    /// `objection_recorded`.
    pub code: String,
    /// The citation of the rule.
    pub citation: String,
    /// One recipient's reason, in words (they differ only by the facts).
    pub example: String,
    /// Recipients refused for this reason (a recipient refused for
    /// several reasons counts under each).
    pub recipients: u64,
}

/// The counts of a pre-flight.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreflightCounts {
    /// Rows read, good and bad.
    pub recipients: u64,
    pub allowed: u64,
    pub refused: u64,
    /// Rows that could not be read or checked.
    pub invalid: u64,
    /// Allowed recipients by lawful basis, the most frequent first (a
    /// recipient decided for several subjects on different bases counts
    /// under each).
    pub by_basis: Vec<BasisCount>,
    /// Refused recipients by reason, the most frequent first.
    pub by_reason: Vec<ReasonCount>,
    /// The first [`BAD_ROWS_LISTED`] bad rows, in row order.
    pub bad_rows: Vec<RowError>,
}

/// Writes the per-recipient CSV and counts, one recipient at a time.
pub struct Tally {
    csv: csv::Writer<Vec<u8>>,
    counts: PreflightCounts,
    reasons: BTreeMap<(String, String), ReasonCount>,
}

impl Default for Tally {
    fn default() -> Self {
        Self::new()
    }
}

impl Tally {
    pub fn new() -> Self {
        let mut csv = csv::Writer::from_writer(Vec::new());
        // Writing to memory cannot fail.
        let _ = csv.write_record(RECIPIENT_CSV_HEADER);
        Self {
            csv,
            counts: PreflightCounts::default(),
            reasons: BTreeMap::new(),
        }
    }

    /// A row that could not be read or checked.
    pub fn invalid(&mut self, recipient: &str, error: RowError) {
        self.counts.recipients += 1;
        self.counts.invalid += 1;
        write_row(
            &mut self.csv,
            [
                error.row.to_string(),
                recipient.to_owned(),
                String::new(),
                String::new(),
                "no".to_owned(),
                String::new(),
                "invalid_row".to_owned(),
                String::new(),
                error.to_string(),
            ],
        );
        if self.counts.bad_rows.len() < BAD_ROWS_LISTED {
            self.counts.bad_rows.push(error);
        }
    }

    /// A recipient decided: one decision per subject its address was
    /// recorded for (or one, for a subject id or an address no subject
    /// has). It may be sent to only if every decision allows it.
    pub fn decided(
        &mut self,
        row: u64,
        recipient: &str,
        channel: Channel,
        decisions: &[(Option<String>, Decision)],
    ) {
        self.counts.recipients += 1;
        let allowed = !decisions.is_empty() && decisions.iter().all(|(_, d)| d.allowed);
        let mut bases: Vec<LawfulBasis> = Vec::new();
        let mut reasons: Vec<String> = Vec::new();
        let mut citations: Vec<String> = Vec::new();
        let mut explanation: Vec<String> = Vec::new();
        let mut counted: Vec<(String, String)> = Vec::new();
        for (_, decision) in decisions {
            if allowed {
                push_new(&mut bases, decision.lawful_basis);
                for rule in &decision.rules {
                    if rule.outcome == RuleOutcome::Satisfied && !rule.citation.is_empty() {
                        push_new(&mut citations, rule.citation.clone());
                    }
                }
                continue;
            }
            for reason in &decision.reasons_against {
                let key = (reason.rule.as_str().to_owned(), reason.code.to_string());
                push_new(&mut reasons, format!("{}:{}", key.0, key.1));
                push_new(&mut citations, reason.citation.clone());
                push_new(&mut explanation, reason.message.clone());
                if !counted.contains(&key) {
                    counted.push(key.clone());
                    self.reasons
                        .entry(key.clone())
                        .or_insert_with(|| ReasonCount {
                            rule_id: key.0.clone(),
                            code: key.1.clone(),
                            citation: reason.citation.clone(),
                            example: reason.message.clone(),
                            recipients: 0,
                        })
                        .recipients += 1;
                }
            }
        }
        if allowed {
            self.counts.allowed += 1;
            for basis in &bases {
                match self.counts.by_basis.iter_mut().find(|c| c.basis == *basis) {
                    Some(count) => count.recipients += 1,
                    None => self.counts.by_basis.push(BasisCount {
                        basis: *basis,
                        code: basis_code(*basis),
                        recipients: 1,
                    }),
                }
            }
        } else {
            self.counts.refused += 1;
        }
        let subjects: Vec<&str> = decisions
            .iter()
            .filter_map(|(subject, _)| subject.as_deref())
            .collect();
        write_row(
            &mut self.csv,
            [
                row.to_string(),
                recipient.to_owned(),
                subjects.join(" "),
                channel.as_str().to_owned(),
                if allowed { "yes" } else { "no" }.to_owned(),
                if allowed {
                    bases
                        .iter()
                        .map(|b| basis_code(*b))
                        .collect::<Vec<_>>()
                        .join(" ")
                } else {
                    "none".to_owned()
                },
                reasons.join("; "),
                citations.join("; "),
                explanation.join(" "),
            ],
        );
    }

    /// The counts so far.
    pub fn counts(&self) -> PreflightCounts {
        let mut counts = self.counts.clone();
        counts.by_reason = self.reasons.values().cloned().collect();
        counts.by_reason.sort_by(|a, b| {
            b.recipients
                .cmp(&a.recipients)
                .then_with(|| (&a.rule_id, &a.code).cmp(&(&b.rule_id, &b.code)))
        });
        counts.bad_rows.sort_by_key(|e| e.row);
        counts
            .by_basis
            .sort_by(|a, b| b.recipients.cmp(&a.recipients).then(a.code.cmp(b.code)));
        counts
    }

    /// The counts and the per-recipient CSV.
    pub fn finish(self) -> (PreflightCounts, Vec<u8>) {
        let counts = self.counts();
        let csv = self.csv.into_inner().unwrap_or_default();
        (counts, csv)
    }
}

/// `cell` as a spreadsheet shows it but never runs it: a cell starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return (what Excel,
/// LibreOffice and Google Sheets read as the start of a formula) gets a
/// leading `'`, which makes it text (OWASP, "CSV Injection"). A number in
/// E.164 (`+447700900123`) is written `'+447700900123`: a spreadsheet
/// shows it as it was, rather than as the number 447700900123.
pub fn neutralise_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Writes one row of the per-recipient CSV, every cell neutralised.
fn write_row<const N: usize>(csv: &mut csv::Writer<Vec<u8>>, cells: [String; N]) {
    // Writing to memory cannot fail.
    let _ = csv.write_record(
        cells
            .iter()
            .map(|cell| neutralise_formula(cell).into_owned()),
    );
}

fn push_new<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::recipients::RowError;

    #[test]
    fn a_cell_a_spreadsheet_would_run_as_a_formula_is_made_text() {
        for (given, written) in [
            (
                "=HYPERLINK(\"http://evil.example\",\"x\")",
                "'=HYPERLINK(\"http://evil.example\",\"x\")",
            ),
            ("+447700900123", "'+447700900123"),
            ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
            ("@SUM(1+1)", "'@SUM(1+1)"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "'\r=1+1"),
        ] {
            assert_eq!(neutralise_formula(given), written, "{given:?}");
        }
    }

    #[test]
    fn other_cells_are_written_as_they_are() {
        for cell in [
            "jane.doe@example.org",
            "cust-42",
            "07700 900123",
            "",
            "a=b",
            " =1",
            "'=1",
        ] {
            assert_eq!(neutralise_formula(cell), cell, "{cell:?}");
        }
    }

    #[test]
    fn the_per_recipient_csv_repeats_no_uploaded_formula() {
        let mut tally = Tally::new();
        tally.invalid(
            "=cmd|' /C calc'!A0",
            RowError {
                row: 2,
                column: Some("email".to_owned()),
                reason: "not an email address".to_owned(),
            },
        );
        tally.decided(3, "@SUM(A1:A9)", Channel::Post, &[]);
        let (_, csv) = tally.finish();
        let mut reader = csv::Reader::from_reader(csv.as_slice());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
        assert_eq!(&rows[0][1], "'=cmd|' /C calc'!A0");
        assert_eq!(&rows[1][1], "'@SUM(A1:A9)");
        for row in &rows {
            for cell in row {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{row:?}"
                );
            }
        }
    }
}
