//! Auditing evidence without the server: what a regulator (or anyone with
//! the ledger's published key and this code) runs on a bundle.
//!
//! | module | what |
//! | --- | --- |
//! | [`facts`] | the proven records of a bundle, decoded and folded into states with the domain's fold |
//! | [`recorded`] | a decision as a bundle carries it: the question and the answer, in proto3 JSON |
//! | [`recompute`] | [`DecisionRecompute`], the [`consent_evidence::DecisionCheck`] that decides every recorded question again from the proven records under its rule set and reports each difference, and checks a subject bundle's status ([`status`]) |
//! | [`status`] | [`status_findings`]: a subject bundle's status is exactly one decision per channel, about its subject, at its time |
//! | [`audit`] | [`audit_bundle`]: signatures, proofs and decisions in one call |
//! | [`report`] | [`bundle_report_html`]: the regulator's HTML report of an audited bundle (rendered by `consent-report`) |
//!
//! The export (`consent-export`) builds its decisions with the same
//! [`facts::EvidenceFacts`] and [`recorded::decide_recorded`], so a bundle
//! that the ledger made recomputes by construction, and one that was
//! altered does not.
//!
//! Invariant: pure. No IO, no clock, no async: the verifier of a bundle
//! must give the same answer on any machine, at any time.

pub mod audit;
pub mod facts;
pub mod recompute;
pub mod recorded;
pub mod report;
pub mod status;

pub use audit::{audit_bundle, audit_bundle_json};
pub use consent_report::{VerifiedBy, Verifier};
pub use facts::{EvidenceFacts, UndecodableRecord};
pub use recompute::{DecisionRecompute, RULE_SET_IN_FORCE};
pub use recorded::{decide_recorded, RecordedDecision, RecordedDecisionError};
pub use report::{bundle_report_html, ReportDrawing};
pub use status::status_findings;
