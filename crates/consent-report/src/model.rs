//! What a report shows: the input model of [`crate::render_html`].
//!
//! The caller (the export) gathers everything; the report only lays it
//! out. Events, questions, decisions and rule sets are the domain's own
//! types, borrowed, so the report shows exactly what was decided on.

use consent_domain::event::{Event, EventPosition};
use consent_domain::identity::{OrganisationId, ProductCategoryId, SubjectId};
use consent_domain::rules::{CheckRequest, Decision, RuleSet};
use consent_domain::time::Timestamp;
use consent_domain::vocabulary::{Channel, Purpose};

/// One evidence report.
#[derive(Clone, Debug)]
pub struct EvidenceReport<'a> {
    /// The page's heading, e.g. "Evidence for subject cust-42 of acme-motors".
    pub title: String,
    /// When the export was made (given by the caller: the report reads no
    /// clock).
    pub produced_at: Timestamp,
    /// What the evidence covers.
    pub scope: ReportScope,
    /// What the verifier found when it checked the bundle this report shows.
    pub verification: VerificationSummary,
    /// The events in the evidence, in any order: the report shows them in
    /// time order (`occurred_at`, then event id, as the fold orders them).
    pub events: Vec<ReportEvent<'a>>,
    /// The questions asked and their answers, in the order to show them.
    pub decisions: Vec<ReportDecision<'a>>,
    /// Every rule set a decision was made under, with its rules and
    /// citations.
    pub rule_sets: Vec<&'a RuleSet>,
}

/// What the evidence covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportScope {
    /// Everything about one subject of one organisation.
    Subject {
        organisation: OrganisationId,
        subject: SubjectId,
    },
    /// One message sent to a list of subjects.
    Campaign {
        organisation: OrganisationId,
        subjects: Vec<SubjectId>,
        channel: Channel,
        purpose: Purpose,
        product_category: Option<ProductCategoryId>,
        send_at: Timestamp,
    },
    /// The events of one organisation that occurred in `[from, to)`.
    TimeRange {
        organisation: OrganisationId,
        from: Timestamp,
        to: Timestamp,
    },
}

impl ReportScope {
    pub fn organisation(&self) -> &OrganisationId {
        match self {
            ReportScope::Subject { organisation, .. }
            | ReportScope::Campaign { organisation, .. }
            | ReportScope::TimeRange { organisation, .. } => organisation,
        }
    }
}

/// A signed checkpoint as the report states it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointSummary {
    /// The log's name, which is also the signing key's name.
    pub origin: String,
    /// Number of leaves of the ledger head's tree.
    pub tree_size: u64,
    /// The ledger head root, standard base64.
    pub root_base64: String,
    /// When the checkpoint was made.
    pub time: Timestamp,
}

/// The verifier's result over the bundle the report shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationSummary {
    /// Every check passed.
    pub passed: bool,
    /// The checkpoint the evidence is proven against.
    pub checkpoint: CheckpointSummary,
    /// The keys whose signatures on the checkpoint verified, as labelled
    /// by the verifier (name and key hash).
    pub signers: Vec<String>,
    /// An earlier published checkpoint this one was proven consistent
    /// with, when one was given.
    pub consistent_with: Option<CheckpointSummary>,
    /// Records whose inclusion proof verified, of all records in the bundle.
    pub records_proven: usize,
    pub records_total: usize,
    /// What failed, one sentence each (also notes when it passed).
    pub findings: Vec<String>,
}

/// One event of the timeline and where it sits in the log.
#[derive(Clone, Debug)]
pub struct ReportEvent<'a> {
    pub position: EventPosition,
    pub event: &'a Event,
}

/// One question and its answer.
#[derive(Clone, Debug)]
pub struct ReportDecision<'a> {
    pub request: &'a CheckRequest,
    pub decision: &'a Decision,
    /// The verifier decided the question again from the events in the
    /// bundle, under the named rule set, and got this same decision.
    pub recomputed: bool,
}

/// What the page says beyond the evidence itself: which decisions answer
/// "may the organisation contact this person today", who verified the
/// bundle, and how a reader re-verifies it. [`crate::render_html`] uses
/// [`ReportContext::default`]: nothing stated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportContext {
    /// The decisions of a subject bundle that answer "may we contact
    /// them today", one per channel, asked at the export's time.
    pub status: Option<StatusQuestions>,
    /// Who ran the verification the page shows.
    pub verified_by: Option<VerifiedBy>,
    /// The bundle's file name as the reader has it (used in the commands
    /// of "How to verify this yourself"); `None`: `BUNDLE.json`.
    pub bundle_file: Option<String>,
}

/// Which of the report's decisions are the status: `decisions[first..]`,
/// each asked at `at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusQuestions {
    pub at: Timestamp,
    pub first: usize,
}

/// Who verified the bundle the page shows, with what and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedBy {
    pub verifier: Verifier,
    /// The verifier's version (the consent-ledger release).
    pub version: String,
    /// When the verification ran (the caller's clock).
    pub ran_at: Timestamp,
    /// The keys it trusted, as `origin+key id` (the key's fingerprint).
    pub trusted_keys: Vec<String>,
}

/// Whose verification it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verifier {
    /// The ledger that exported the bundle checked its own signature and
    /// proofs: evidence of consistency, not independent verification.
    ExportingLedger,
    /// `consent-ledger export --html`, right after the export, against
    /// the key the same ledger served: still the ledger vouching for
    /// itself.
    ExportCommand,
    /// `consent-ledger report` or `verify`, run by whoever holds the
    /// bundle, against the key they obtained.
    Reader,
}
