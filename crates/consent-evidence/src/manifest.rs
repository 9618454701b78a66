//! The evidence manifest: the log's signature over what an evidence bundle
//! contains.
//!
//! Inclusion proofs show that each record in a bundle is in the log; they
//! cannot show that none was left out. So when the ledger exports a bundle
//! it also signs, with the checkpoint key, a manifest that fixes the
//! bundle's contents: which checkpoint (and previous checkpoint), which
//! rule set, the scope, and digests of the exact record list and
//! decisions. A verifier recomputes each line; a dropped, added or
//! reordered record, a swapped checkpoint or an edited decision changes a
//! line that the log signed.
//!
//! The manifest is a [signed note](crate::note) with this text (digests
//! are SHA-256 in standard base64, see [`crate::digest`]):
//!
//! ```text
//! consent-ledger evidence v1
//! checkpoint <digest of the checkpoint note, signatures included>
//! previous <digest of the previous checkpoint note> | previous none
//! rule-set <rule set id>
//! scope <digest of the canonical JSON of the scope>
//! records <count> <records digest: each record's leaf hash, in order>
//! decisions <count> <digest of the canonical JSON of the decisions array>
//! attachments <digest of the canonical JSON of the attachments>
//! ```
//!
//! Its first line has spaces, which no checkpoint origin may contain, so a
//! manifest can never be taken for a checkpoint or the reverse.

use crate::checkpoint::parse_decimal;
use crate::merkle::Hash;
use serde::Serialize;
use std::fmt;

/// The first line of every manifest of this version.
pub const MANIFEST_HEADER_V1: &str = "consent-ledger evidence v1";

/// What a manifest states about a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub checkpoint: Hash,
    pub previous_checkpoint: Option<Hash>,
    pub rule_set_id: String,
    pub scope: Hash,
    pub record_count: u64,
    pub records: Hash,
    pub decision_count: u64,
    pub decisions: Hash,
    pub attachments: Hash,
}

/// One line of the manifest, as findings name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ManifestField {
    Checkpoint,
    PreviousCheckpoint,
    RuleSet,
    Scope,
    RecordCount,
    Records,
    DecisionCount,
    Decisions,
    Attachments,
}

impl fmt::Display for ManifestField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Checkpoint => "checkpoint",
            Self::PreviousCheckpoint => "previous checkpoint",
            Self::RuleSet => "rule set",
            Self::Scope => "scope",
            Self::RecordCount => "number of records",
            Self::Records => "record list (positions, order and contents)",
            Self::DecisionCount => "number of decisions",
            Self::Decisions => "decisions",
            Self::Attachments => "attachments",
        })
    }
}

/// A rule set id that cannot be written on one manifest line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a rule set id must be non-empty, without control characters: {0:?}")]
pub struct InvalidRuleSetId(pub String);

/// A manifest text that is not this version's canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the manifest text is malformed: {0}")]
pub struct MalformedManifest(pub &'static str);

/// Checks that a rule set id fits on a manifest line.
pub fn validate_rule_set_id(id: &str) -> Result<(), InvalidRuleSetId> {
    if id.is_empty() || id.chars().any(char::is_control) {
        return Err(InvalidRuleSetId(id.to_owned()));
    }
    Ok(())
}

impl Manifest {
    /// The signed text (see the module documentation).
    pub fn to_text(&self) -> Result<String, InvalidRuleSetId> {
        validate_rule_set_id(&self.rule_set_id)?;
        let previous = self
            .previous_checkpoint
            .map_or_else(|| "none".to_owned(), |hash| hash.to_base64());
        Ok(format!(
            "{MANIFEST_HEADER_V1}\ncheckpoint {}\nprevious {previous}\nrule-set {}\nscope {}\nrecords {} {}\ndecisions {} {}\nattachments {}\n",
            self.checkpoint,
            self.rule_set_id,
            self.scope,
            self.record_count,
            self.records,
            self.decision_count,
            self.decisions,
            self.attachments,
        ))
    }

    /// Parses the signed text, refusing anything but its canonical form.
    pub fn from_text(text: &str) -> Result<Self, MalformedManifest> {
        let body = text
            .strip_suffix('\n')
            .ok_or(MalformedManifest("no final newline"))?;
        let lines: Vec<&str> = body.split('\n').collect();
        let [header, checkpoint, previous, rule_set, scope, records, decisions, attachments] =
            lines.as_slice()
        else {
            return Err(MalformedManifest("a manifest has exactly eight lines"));
        };
        if *header != MANIFEST_HEADER_V1 {
            return Err(MalformedManifest(
                "not a consent-ledger evidence v1 manifest",
            ));
        }
        let hash = |line: &str, prefix: &str, what: &'static str| {
            line.strip_prefix(prefix)
                .and_then(|rest| Hash::from_base64(rest).ok())
                .ok_or(MalformedManifest(what))
        };
        let counted = |line: &str, prefix: &str, what: &'static str| {
            line.strip_prefix(prefix)
                .and_then(|rest| rest.split_once(' '))
                .and_then(|(count, digest)| {
                    Some((parse_decimal(count)?, Hash::from_base64(digest).ok()?))
                })
                .ok_or(MalformedManifest(what))
        };
        let previous_checkpoint = match previous.strip_prefix("previous ") {
            Some("none") => None,
            _ => Some(hash(previous, "previous ", "malformed previous line")?),
        };
        let rule_set_id = rule_set
            .strip_prefix("rule-set ")
            .filter(|id| validate_rule_set_id(id).is_ok())
            .ok_or(MalformedManifest("malformed rule-set line"))?;
        let (record_count, records) = counted(records, "records ", "malformed records line")?;
        let (decision_count, decisions) =
            counted(decisions, "decisions ", "malformed decisions line")?;
        Ok(Self {
            checkpoint: hash(checkpoint, "checkpoint ", "malformed checkpoint line")?,
            previous_checkpoint,
            rule_set_id: rule_set_id.to_owned(),
            scope: hash(scope, "scope ", "malformed scope line")?,
            record_count,
            records,
            decision_count,
            decisions,
            attachments: hash(attachments, "attachments ", "malformed attachments line")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::sha256;

    #[test]
    fn text_round_trips() {
        let manifest = Manifest {
            checkpoint: sha256(b"c"),
            previous_checkpoint: Some(sha256(b"p")),
            rule_set_id: "uk-pecr 2026-02-05".to_owned(),
            scope: sha256(b"s"),
            record_count: 3,
            records: sha256(b"r"),
            decision_count: 0,
            decisions: sha256(b"d"),
            attachments: sha256(b"a"),
        };
        let text = manifest.to_text().unwrap();
        assert!(text.starts_with("consent-ledger evidence v1\ncheckpoint "));
        assert_eq!(Manifest::from_text(&text), Ok(manifest.clone()));
        let without_previous = Manifest {
            previous_checkpoint: None,
            ..manifest
        };
        let text = without_previous.to_text().unwrap();
        assert!(text.contains("\nprevious none\n"));
        assert_eq!(Manifest::from_text(&text), Ok(without_previous));
    }

    #[test]
    fn rule_set_ids_with_newlines_are_refused() {
        assert!(validate_rule_set_id("a\nb").is_err());
        assert!(validate_rule_set_id("").is_err());
    }
}
