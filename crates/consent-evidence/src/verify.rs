//! Checking an evidence bundle without the server: [`verify_bundle`].
//!
//! Given only the bundle and the log's published verifier keys, it checks:
//!
//! 1. the bundle format;
//! 2. the checkpoint: well formed (its partition heads recompute to its
//!    ledger head), signed by a trusted key of its origin;
//! 3. every record: listed in strictly ascending `(topic, partition,
//!    offset)` order (so no record is listed twice), encodable as a leaf,
//!    and its inclusion proof leads from its leaf hash (leaf index = its
//!    offset) to the root the checkpoint states for its topic-partition;
//! 4. the consistency proofs, when present: the previous checkpoint is
//!    signed by a trusted key of the same log, and each of its partitions'
//!    trees is extended by the checkpoint's tree of that partition;
//! 5. the manifest: signed by a trusted key of the checkpoint's log, and
//!    every line matches the bundle (this is what catches a dropped,
//!    reordered or added record, a swapped checkpoint or an edited
//!    decision);
//! 6. the decisions, through a [`DecisionCheck`] the caller supplies (the
//!    service layer recomputes them from the proven records under the
//!    named rule set).
//!
//! Every check runs even when an earlier one failed, so the report lists
//! everything that is wrong.

use crate::bundle::{EvidenceBundle, PartitionConsistency, BUNDLE_FORMAT_V1};
use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::digest::{json_digest, records_digest, sha256};
use crate::finding::{Finding, SignedDocument};
use crate::key::VerifierKey;
use crate::leaf::record_leaf_hash;
use crate::manifest::{Manifest, ManifestField};
use crate::merkle::{verify_consistency, verify_inclusion, Hash};
use crate::note::{NoteRejection, SignedNote};
use consent_log::LogPosition;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;

/// A record whose inclusion in the checkpoint's log was proven.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProvenRecord<'a> {
    /// Its place in the bundle's `records`.
    pub record: usize,
    pub position: &'a LogPosition,
    /// The exact stored bytes (a protobuf envelope).
    pub payload: &'a [u8],
}

/// What a [`DecisionCheck`] gets to recompute the decisions from.
#[derive(Clone, Debug)]
pub struct DecisionContext<'a> {
    pub rule_set_id: &'a str,
    pub scope: &'a Value,
    /// The bundle's checkpoint, when it could be read.
    pub checkpoint: Option<&'a Checkpoint>,
    /// Only the records whose inclusion proof verified against the
    /// checkpoint, in bundle order.
    pub records: &'a [ProvenRecord<'a>],
    /// The decisions as the bundle states them.
    pub decisions: &'a [Value],
}

/// A decision that does not recompute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionFinding {
    /// The decision's place in the bundle's `decisions`, if about one.
    pub decision: Option<usize>,
    pub message: String,
}

/// Recomputes a bundle's decisions from its proven records under its rule
/// set and reports each one that differs (an empty list when all match).
///
/// The service layer implements this with the domain's fold and rules;
/// any `Fn(&DecisionContext) -> Vec<DecisionFinding>` is one too.
pub trait DecisionCheck {
    fn check(&self, context: &DecisionContext<'_>) -> Vec<DecisionFinding>;
}

impl<F> DecisionCheck for F
where
    F: Fn(&DecisionContext<'_>) -> Vec<DecisionFinding>,
{
    fn check(&self, context: &DecisionContext<'_>) -> Vec<DecisionFinding> {
        self(context)
    }
}

/// The outcome of verifying a bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerificationReport {
    /// The bundle's checkpoint, when it could be read (trusted or not:
    /// see the findings).
    pub checkpoint: Option<Checkpoint>,
    /// The trusted keys (`name+keyid`) whose checkpoint signature verified.
    pub checkpoint_signed_by: Vec<String>,
    /// The previous checkpoint the bundle links to, when present and readable.
    pub previous_checkpoint: Option<Checkpoint>,
    pub records: usize,
    /// Records whose inclusion proof verified.
    pub records_proven: usize,
    pub decisions: usize,
    pub findings: Vec<Finding>,
}

impl VerificationReport {
    /// True when nothing was found wrong.
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }

    fn unreadable(finding: Finding) -> Self {
        Self {
            checkpoint: None,
            checkpoint_signed_by: Vec::new(),
            previous_checkpoint: None,
            records: 0,
            records_proven: 0,
            decisions: 0,
            findings: vec![finding],
        }
    }
}

impl fmt::Display for VerificationReport {
    /// `PASS` or `FAIL` on the first line, then what was checked and every
    /// finding.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", if self.passed() { "PASS" } else { "FAIL" })?;
        if let Some(checkpoint) = &self.checkpoint {
            writeln!(
                f,
                "checkpoint: {} ledger head {} over {} partitions, {} records, time-ms {}",
                checkpoint.origin,
                checkpoint.root_hash,
                checkpoint.tree_size,
                checkpoint.records(),
                checkpoint.timestamp_ms
            )?;
        }
        if !self.checkpoint_signed_by.is_empty() {
            writeln!(f, "signed by: {}", self.checkpoint_signed_by.join(", "))?;
        }
        if let Some(previous) = &self.previous_checkpoint {
            writeln!(
                f,
                "previous checkpoint: ledger head {} over {} partitions, {} records, time-ms {}",
                previous.root_hash,
                previous.tree_size,
                previous.records(),
                previous.timestamp_ms
            )?;
        }
        writeln!(
            f,
            "records proven: {} of {}; decisions: {}",
            self.records_proven, self.records, self.decisions
        )?;
        for finding in &self.findings {
            writeln!(f, "- {finding}")?;
        }
        Ok(())
    }
}

/// Reads and verifies a bundle file; a file that cannot be read is a
/// failed report with one [`Finding::Unreadable`].
pub fn verify_bundle_json(
    bytes: &[u8],
    trusted: &[VerifierKey],
    decisions: &dyn DecisionCheck,
) -> VerificationReport {
    match EvidenceBundle::from_json(bytes) {
        Ok(bundle) => verify_bundle(&bundle, trusted, decisions),
        Err(error) => VerificationReport::unreadable(Finding::Unreadable {
            reason: error.to_string(),
        }),
    }
}

/// Verifies a bundle against the log's trusted verifier keys (see the
/// module documentation for every check).
pub fn verify_bundle(
    bundle: &EvidenceBundle,
    trusted: &[VerifierKey],
    decisions: &dyn DecisionCheck,
) -> VerificationReport {
    if bundle.format != BUNDLE_FORMAT_V1 {
        return VerificationReport::unreadable(Finding::UnsupportedFormat {
            found: bundle.format.clone(),
            expected: BUNDLE_FORMAT_V1.to_owned(),
        });
    }
    let mut findings = Vec::new();

    let checkpoint = open_checkpoint(
        &bundle.checkpoint,
        SignedDocument::Checkpoint,
        trusted,
        &mut findings,
    );
    let checkpoint_signed_by = checkpoint
        .as_ref()
        .map(|(_, keys)| keys.iter().map(VerifierKey::label).collect())
        .unwrap_or_default();
    let checkpoint = checkpoint.map(|(checkpoint, _)| checkpoint);

    let (leaf_hashes, proven) = check_records(bundle, checkpoint.as_ref(), &mut findings);

    let previous_checkpoint = bundle.consistency.as_ref().and_then(|consistency| {
        let (previous, _) = open_checkpoint(
            &consistency.previous_checkpoint,
            SignedDocument::PreviousCheckpoint,
            trusted,
            &mut findings,
        )?;
        if let Some(checkpoint) = &checkpoint {
            check_consistency(
                &previous,
                checkpoint,
                &consistency.partitions,
                &mut findings,
            );
        }
        Some(previous)
    });

    check_manifest(
        bundle,
        checkpoint.as_ref(),
        leaf_hashes.as_deref(),
        trusted,
        &mut findings,
    );

    let context = DecisionContext {
        rule_set_id: &bundle.rule_set_id,
        scope: &bundle.scope,
        checkpoint: checkpoint.as_ref(),
        records: &proven,
        decisions: &bundle.decisions,
    };
    findings.extend(
        decisions
            .check(&context)
            .into_iter()
            .map(|finding| Finding::Decision {
                decision: finding.decision,
                message: finding.message,
            }),
    );

    VerificationReport {
        records_proven: proven.len(),
        checkpoint,
        checkpoint_signed_by,
        previous_checkpoint,
        records: bundle.records.len(),
        decisions: bundle.decisions.len(),
        findings,
    }
}

/// Parses a checkpoint note and checks its signature; returns the
/// checkpoint whenever it is readable (trusted or not, the findings say)
/// and the trusted keys that signed it.
fn open_checkpoint(
    note: &str,
    document: SignedDocument,
    trusted: &[VerifierKey],
    findings: &mut Vec<Finding>,
) -> Option<(Checkpoint, Vec<VerifierKey>)> {
    let (checkpoint, _) = match Checkpoint::parse_unverified(note) {
        Ok(parsed) => parsed,
        Err(error) => {
            findings.push(Finding::Malformed {
                document,
                reason: error.to_string(),
            });
            return None;
        }
    };
    match Checkpoint::open(note, trusted) {
        Ok((_, keys)) => Some((checkpoint, keys)),
        Err(CheckpointError::Rejected(rejection)) => {
            findings.push(rejection_finding(document, rejection));
            Some((checkpoint, Vec::new()))
        }
        Err(error) => {
            findings.push(Finding::Malformed {
                document,
                reason: error.to_string(),
            });
            Some((checkpoint, Vec::new()))
        }
    }
}

fn rejection_finding(document: SignedDocument, rejection: NoteRejection) -> Finding {
    match rejection {
        NoteRejection::NotSignedByTrustedKey { signers } => {
            Finding::NotSignedByTrustedKey { document, signers }
        }
        NoteRejection::BadSignature { key } => Finding::BadSignature { document, key },
    }
}

/// Checks order, encoding and inclusion of every record. Returns the leaf
/// hashes of all records (None if any record cannot be a leaf) and the
/// proven records.
fn check_records<'a>(
    bundle: &'a EvidenceBundle,
    checkpoint: Option<&Checkpoint>,
    findings: &mut Vec<Finding>,
) -> (Option<Vec<Hash>>, Vec<ProvenRecord<'a>>) {
    let mut first_record_at: HashMap<&LogPosition, usize> = HashMap::new();
    let mut previous_position: Option<&LogPosition> = None;
    let mut leaf_hashes = Some(Vec::with_capacity(bundle.records.len()));
    let mut proven = Vec::new();
    for (record, included) in bundle.records.iter().enumerate() {
        let position = &included.position;
        if let Some(&first_record) = first_record_at.get(position) {
            findings.push(Finding::DuplicateRecord {
                record,
                position: position.clone(),
                first_record,
            });
        } else {
            first_record_at.insert(position, record);
            if let Some(previous) = previous_position.filter(|&previous| previous > position) {
                findings.push(Finding::RecordOutOfOrder {
                    record,
                    position: position.clone(),
                    previous: previous.clone(),
                });
            }
        }
        previous_position = Some(position);

        let leaf_hash = match record_leaf_hash(position, &included.payload) {
            Ok(hash) => hash,
            Err(error) => {
                findings.push(Finding::RecordUnencodable {
                    record,
                    position: position.clone(),
                    reason: error.to_string(),
                });
                leaf_hashes = None;
                continue;
            }
        };
        if let Some(hashes) = leaf_hashes.as_mut() {
            hashes.push(leaf_hash);
        }
        let Some(checkpoint) = checkpoint else {
            continue;
        };
        let failed = |reason: String| Finding::InclusionProofFailed {
            record,
            position: position.clone(),
            reason,
        };
        let Some(head) = checkpoint.partition(&position.topic_partition()) else {
            findings.push(failed(format!(
                "the checkpoint has no tree for {}",
                position.topic_partition()
            )));
            continue;
        };
        match verify_inclusion(
            position.offset,
            head.tree_size,
            &leaf_hash,
            &included.inclusion_proof,
            &head.root,
        ) {
            Ok(()) => proven.push(ProvenRecord {
                record,
                position,
                payload: &included.payload,
            }),
            Err(failure) => findings.push(failed(format!(
                "{failure} (its partition's tree has {} records in the checkpoint)",
                head.tree_size
            ))),
        }
    }
    (leaf_hashes, proven)
}

/// Each partition of the previous checkpoint must be extended by the same
/// partition's tree in the checkpoint.
fn check_consistency(
    previous: &Checkpoint,
    checkpoint: &Checkpoint,
    proofs: &[PartitionConsistency],
    findings: &mut Vec<Finding>,
) {
    if previous.origin != checkpoint.origin {
        findings.push(Finding::OtherLog {
            document: SignedDocument::PreviousCheckpoint,
            expected: checkpoint.origin.clone(),
            found: previous.origin.clone(),
        });
        return;
    }
    for old in &previous.partitions {
        let partition = &old.partition;
        let failed = |new_size: u64, reason: String| Finding::ConsistencyProofFailed {
            partition: partition.clone(),
            old_size: old.tree_size,
            new_size,
            reason,
        };
        let Some(new) = checkpoint.partition(partition) else {
            findings.push(failed(
                0,
                "the checkpoint has no tree for this partition".to_owned(),
            ));
            continue;
        };
        let Some(proof) = proofs.iter().find(|p| &p.partition == partition) else {
            findings.push(failed(
                new.tree_size,
                "the bundle has no consistency proof for this partition".to_owned(),
            ));
            continue;
        };
        if let Err(failure) = verify_consistency(
            old.tree_size,
            new.tree_size,
            &old.root,
            &new.root,
            &proof.proof,
        ) {
            findings.push(failed(new.tree_size, failure.to_string()));
        }
    }
}

fn check_manifest(
    bundle: &EvidenceBundle,
    checkpoint: Option<&Checkpoint>,
    leaf_hashes: Option<&[Hash]>,
    trusted: &[VerifierKey],
    findings: &mut Vec<Finding>,
) {
    let document = SignedDocument::Manifest;
    let malformed = |reason: String| Finding::Malformed { document, reason };
    let note = match SignedNote::parse(&bundle.manifest) {
        Ok(note) => note,
        Err(error) => {
            findings.push(malformed(error.to_string()));
            return;
        }
    };
    let manifest = match Manifest::from_text(note.text()) {
        Ok(manifest) => manifest,
        Err(error) => {
            findings.push(malformed(error.to_string()));
            return;
        }
    };
    // The manifest speaks for the checkpoint's log: only that log's keys.
    let log_keys: Vec<VerifierKey> = trusted
        .iter()
        .filter(|key| checkpoint.is_none_or(|c| key.name() == c.origin))
        .cloned()
        .collect();
    if let Err(rejection) = note.verify(&log_keys) {
        findings.push(rejection_finding(document, rejection));
    }

    let mut compare = |field: ManifestField, signed: String, found: String| {
        if signed != found {
            findings.push(Finding::ManifestMismatch {
                field,
                signed,
                found,
            });
        }
    };
    let digest = |hash: Hash| format!("digest {hash}");
    compare(
        ManifestField::Checkpoint,
        digest(manifest.checkpoint),
        digest(sha256(bundle.checkpoint.as_bytes())),
    );
    let previous = |hash: Option<Hash>| hash.map_or_else(|| "none".to_owned(), digest);
    compare(
        ManifestField::PreviousCheckpoint,
        previous(manifest.previous_checkpoint),
        previous(
            bundle
                .consistency
                .as_ref()
                .map(|c| sha256(c.previous_checkpoint.as_bytes())),
        ),
    );
    compare(
        ManifestField::RuleSet,
        manifest.rule_set_id.clone(),
        bundle.rule_set_id.clone(),
    );
    compare(
        ManifestField::Scope,
        digest(manifest.scope),
        digest(json_digest(&bundle.scope)),
    );
    compare(
        ManifestField::RecordCount,
        format!("{} records", manifest.record_count),
        format!("{} records", bundle.records.len()),
    );
    if let Some(leaf_hashes) = leaf_hashes {
        compare(
            ManifestField::Records,
            digest(manifest.records),
            digest(records_digest(leaf_hashes)),
        );
    }
    compare(
        ManifestField::DecisionCount,
        format!("{} decisions", manifest.decision_count),
        format!("{} decisions", bundle.decisions.len()),
    );
    compare(
        ManifestField::Decisions,
        digest(manifest.decisions),
        digest(json_digest(&Value::Array(bundle.decisions.clone()))),
    );
    compare(
        ManifestField::Attachments,
        digest(manifest.attachments),
        digest(json_digest(&bundle.attachments)),
    );
}
