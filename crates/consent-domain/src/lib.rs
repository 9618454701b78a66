//! The consent ledger's pure core.
//!
//! * [`event`]: the facts the ledger records (consent, sales, opt-outs, ...),
//!   in their validated domain form;
//! * [`fold`]: how facts accumulate into the state of one (organisation,
//!   subject) pair and of one organisation;
//! * [`rules`]: the rule sets (PECR 2003 as amended, UK GDPR) that decide
//!   whether a message may be sent, with reasons and citations.
//!
//! Architecture invariant: everything here is synchronous and
//! deterministic. No IO, no clock reads (time is always an argument), no
//! randomness. The same facts and the same question give the same answer on
//! every machine, which is what lets a regulator recompute a decision.

pub mod event;
pub mod fold;
pub mod identity;
pub mod rules;
pub mod time;
pub mod vocabulary;

pub use event::{Event, EventPosition, Fact, Source};
pub use fold::{AddressState, OrganisationState, Recorded, SubjectState, Suppressions};
pub use identity::{EventId, OrganisationId, ProductCategoryId, SubjectId};
pub use time::Timestamp;
