//! What a pre-flight found: each recipient's outcome, written as a row of
//! the per-recipient CSV as it is decided, and the counts by outcome, by
//! lawful basis and by reason that the summary shows. Pure.

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
        let _ = self.csv.write_record([
            error.row.to_string(),
            recipient.to_owned(),
            String::new(),
            String::new(),
            "no".to_owned(),
            String::new(),
            "invalid_row".to_owned(),
            String::new(),
            error.to_string(),
        ]);
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
        let _ = self.csv.write_record([
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
        ]);
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

fn push_new<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}
