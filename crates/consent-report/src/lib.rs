//! The evidence report a regulator reads: one self-contained HTML page.
//!
//! [`render_html`] lays out what the caller gives it in an
//! [`EvidenceReport`]: what the evidence covers, the verifier's verdict
//! (VERIFIED or FAILED, with every finding), the signed checkpoint, the
//! timeline of events in the order they occurred (each fact in words, with
//! its log position and event id), each decision (the question, ALLOWED or
//! REFUSED, the lawful basis, every reason against with its rule and legal
//! citation, the events relied on linked to the timeline, every rule
//! evaluated), and the rule sets with every rule's citation.
//!
//! The page has inline CSS only: no script, no external resource (its
//! Content-Security-Policy forbids both), and it prints on A4. Every value
//! from the data is HTML-escaped.
//!
//! Architecture invariant: pure. No IO, no clock (the export's time is an
//! input), and it renders only what it is given: it never fetches, looks
//! up or recomputes anything.

mod anchor;
mod describe;
mod model;
mod render;
mod style;
mod words;

pub use describe::{describe, FactDescription};
pub use model::{
    CheckpointSummary, EvidenceReport, ReportDecision, ReportEvent, ReportScope,
    VerificationSummary,
};
pub use render::render_html;
