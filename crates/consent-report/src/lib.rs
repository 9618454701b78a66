//! The evidence report a regulator reads: one self-contained HTML page.
//!
//! [`render_report`] lays out what the caller gives it in an
//! [`EvidenceReport`] and a [`ReportContext`]: what the evidence covers,
//! the status first (may the organisation contact this person today, by
//! channel, and why; for a campaign or a time range, the counts by
//! outcome and by reason), the verifier's verdict and who ran it
//! (VERIFIED or FAILED, with every finding), the signed checkpoint, the
//! timeline of events in the order they occurred (each fact in words, with
//! its log position and event id), each decision (the question, ALLOWED or
//! REFUSED, the lawful basis, every reason against with its rule and legal
//! citation, the events relied on linked to the timeline, every rule
//! evaluated), the rule sets with every rule's citation, and last how to
//! verify it yourself (the commands, the verifier, the key). A campaign's
//! decisions are grouped by answer, one shown in full per group, so that
//! 100,000 recipients stay readable. [`render_html`] is
//! [`render_report`] with nothing stated beyond the evidence.
//!
//! The page has inline CSS only: no script, no external resource (its
//! Content-Security-Policy forbids both), and it prints on A4. Every value
//! from the data is HTML-escaped.
//!
//! Architecture invariant: pure. No IO, no clock (the export's time is an
//! input), and it renders only what it is given: it never fetches, looks
//! up or recomputes anything.

/// The report's fragment ids (`#event-...`, `#decision-...`), public so
/// that a page linking into a report names the same places.
pub mod anchor;
mod describe;
mod groups;
mod model;
mod render;
mod reverify;
mod status;
mod style;
/// The domain's vocabulary in the report's words, shared with the console
/// (one vocabulary for both).
pub mod words;

pub use describe::{describe, FactDescription};
pub use groups::{group, tally, DecisionGroup, ReasonKind, Tally};
pub use model::{
    CheckpointSummary, EvidenceReport, ReportContext, ReportDecision, ReportEvent, ReportScope,
    StatusQuestions, VerificationSummary, VerifiedBy, Verifier,
};
pub use render::{render_html, render_report, GROUP_LISTED_MAX};
pub use reverify::{commands as verify_commands, DEFAULT_BUNDLE_FILE, KEY_FILE};
