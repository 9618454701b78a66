//! Rule sets and decisions: "may organisation O send this message to
//! subject S at time T, under rule set R?"
//!
//! [`decide`] reads the facts of one subject and its organisation as of the
//! check's time and evaluates every rule of the rule set (RULES.md R0-R8),
//! collecting every reason against, not only the first. A missing or unknown
//! fact refuses (fail closed).

mod check;
mod decision;
mod rule_set;

pub use check::CheckRequest;
pub use decision::{Decision, EventReference, LawfulBasis, Reason, RuleFiring, RuleOutcome};
pub use rule_set::{RuleCatalogue, RuleDescription, RuleId, RuleSet, RuleSetId};
