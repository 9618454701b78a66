//! Replaying history under another rule set, or under another
//! organisation's product-similarity map, and reporting what changes.
//!
//! "If the charity soft opt-in (PECR reg 22(3A)) had applied all along,
//! which of our sends would have been lawful?" "If the specialist shop
//! widened its category map, which messages would the soft opt-in have
//! covered?" A [`Replayer`] answers such questions from the events alone:
//!
//! 1. it consumes events, in any order, with the domain fold
//!    ([`consent_domain::SubjectState`], [`consent_domain::OrganisationState`]),
//!    keeping every `MarketingMessageSent` aside;
//! 2. for each question of the [`ReplayPlan`] (every recorded send: "was it
//!    lawful?"; optionally every subject's current eligibility per channel)
//!    it decides twice, under the plan's baseline and under its candidate
//!    (which may also carry similarity overrides), with
//!    [`consent_domain::rules::decide_with_texts`] and the texts omitted
//!    (the report reads none of them; the rest is the full decision);
//!    questions are shared out between [`DEFAULT_DECISION_THREADS`] threads
//!    ([`Replayer::with_decision_threads`]) round by round, and the answers
//!    recorded in question order;
//! 3. it compares the two decisions ([`compare`]) and aggregates the
//!    differences into a [`ReplayReport`] (JSON with serde, and a plain-text
//!    summary with [`render_summary`]).
//!
//! Architecture invariant: pure, like the domain. No IO, no clock, no
//! randomness; the decision threads compute only (scoped to
//! [`Replayer::report`], sharing read-only state); the replayer never writes anything, so replaying cannot
//! change a stored event or the live view. The same set of events gives
//! the same report whatever order they arrive in (the fold is a sorted
//! set; questions are evaluated in a sorted order; every map in the report
//! is sorted).
//!
//! Memory: the replayer holds the state of every (organisation, subject)
//! pair and of every organisation (all their facts, as the projector's view
//! does on disk) plus every recorded send, so its memory grows with the
//! number of events replayed, roughly the size of the events themselves.

mod address_states;
pub mod compare;
mod error;
mod plan;
mod question;
mod replayer;
pub mod report;
mod rfc3339;
mod similarity;
mod streamed;
mod summary;

pub use address_states::AddressStates;
pub use compare::{ChangeKind, Comparison, RuleChange};
pub use error::{RecordRejected, ReplayError, SimilarityFileError};
pub use plan::{
    CharitableSendReading, EligibilityQuestions, Questions, ReplayPlan, RuleSelection,
    DEFAULT_SAMPLES_PER_KIND,
};
pub use question::QuestionRef;
pub use replayer::{Replayer, DEFAULT_DECISION_THREADS};
pub use report::{
    ChangeCounts, ChangeSample, ChangedDecision, DecisionDigest, InputCounts, PartitionCoverage,
    ReasonShift, RejectedRecord, ReplayReport, ReportMergeError, Samples,
};
pub use similarity::{parse_similarity_overrides, similarity_override_event_id};
pub use streamed::{ReferencePart, ReferenceStates, ReplayContext, SubjectReplayer};
pub use summary::render_summary;
