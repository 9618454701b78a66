//! Rule sets and decisions: "may organisation O send this message to
//! subject S at time T, under rule set R?"
//!
//! [`decide`] reads the facts of one subject and its organisation as of the
//! check's time and evaluates the rules of the rule set (RULES.md R0-R9)
//! that can apply to the question, collecting every reason against, not
//! only the first. A missing or unknown fact refuses (fail closed). Each
//! rule declares which questions it can apply to (`applicability`); the
//! others are reported not applicable without being evaluated.
//!
//! One module per rule family: [`scope`] (R0), `objection` (R1), `consent`
//! (R2, and the consent every other rule relies on), `electronic_mail` (R3,
//! R3a, R6), `soft_opt_in` (R3b), `charity` (R3c), `calls` (R4, R5), `post`
//! (R7), `effective` (R8), `erasure` (R9); `decide` combines them.

mod addresses;
mod applicability;
mod calls;
pub mod catalogue;
mod charity;
mod check;
mod collection;
mod consent;
mod decide;
mod decision;
mod effective;
mod electronic_mail;
mod erasure;
mod facts;
mod finding;
pub mod ids;
mod objection;
mod post;
mod rule_set;
mod scope;
mod soft_opt_in;
mod text;

pub use addresses::addresses_to_consult;
pub use check::CheckRequest;
pub use decide::{decide, decide_unpruned, decide_with_texts};
pub use decision::{
    Decision, DecisionTexts, EventReference, LawfulBasis, Reason, RuleFiring, RuleOutcome,
};
pub use rule_set::{
    CharitySoftOptIn, RuleCatalogue, RuleDescription, RuleId, RuleSet, RuleSetId, UnknownRuleSet,
};
