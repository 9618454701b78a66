use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A rule's stable id (RULES.md: R0 ... R8, R3a, R3b, R3c). Published ids
/// never change meaning.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RuleId(pub String);

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A rule set's stable id, e.g. `uk-pecr-2003` or `uk-pecr-duaa-2026-02-05`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RuleSetId(pub String);

impl fmt::Display for RuleSetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A rule's title and legal citation, as published with the rule set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleDescription {
    pub id: RuleId,
    pub title: String,
    pub citation: String,
}
