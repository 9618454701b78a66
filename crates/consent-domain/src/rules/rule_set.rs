//! Rule sets: a published, effective-dated list of rules with the
//! parameters the rules need (RULES.md R8).
//!
//! Invariant: a rule set never changes once published. A change in the law
//! is a new rule set with a later `effective_from`; replaying history under
//! either one needs no change to a stored event.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// A rule's stable id (RULES.md: R0 ... R9, R3a, R3b, R3c). Published ids
/// never change meaning.
///
/// A published id is held borrowed from [`super::ids`], so that a decision
/// naming its rules (every rule, every reason) allocates nothing for them;
/// any other id (a rule this engine does not know) is held owned. Either
/// way it compares, orders, hashes and serialises as its text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RuleId(pub Cow<'static, str>);

impl RuleId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for RuleId {
    /// Borrowed when `id` is a published id, owned otherwise.
    fn from(id: &str) -> Self {
        match super::ids::published(id) {
            Some(published) => Self(Cow::Borrowed(published)),
            None => Self(Cow::Owned(id.to_owned())),
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A rule set's stable id, e.g. `uk-pecr-2003` or `uk-pecr-duaa-2026-02-05`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RuleSetId(pub String);

impl RuleSetId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for RuleSetId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

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

/// The charity soft opt-in (PECR reg 22(3A)) as a rule set offers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CharitySoftOptIn {
    /// Only contact details obtained on or after this instant qualify: the
    /// provision is not retrospective.
    pub details_obtained_from: Timestamp,
}

/// One effective-dated set of rules.
///
/// Invariant (kept by [`RuleCatalogue::uk`] and checked by its tests): R3c
/// is listed in `rules` exactly when `charity_soft_opt_in` is `Some`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    pub id: RuleSetId,
    pub title: String,
    /// The instant the rule set takes effect (midnight UTC of the
    /// commencement date).
    pub effective_from: Timestamp,
    /// The rules, in the order they are evaluated and reported.
    pub rules: Vec<RuleDescription>,
    /// `Some` when the rule set has the charity soft opt-in (R3c).
    pub charity_soft_opt_in: Option<CharitySoftOptIn>,
    /// Consent given to a third party older than this many days is not
    /// relied on (R3a). ICO guidance says "about six months"; the ledger
    /// fixes 183 days so the answer is reproducible.
    pub third_party_consent_max_age_days: i64,
    /// A number listed on the TPS or CTPS is protected from this many days
    /// after its listing (PECR reg 21(3): 28 days).
    pub preference_service_grace_days: i64,
}

impl RuleSet {
    /// The description of a rule, if the rule set has it.
    pub fn rule(&self, id: &str) -> Option<&RuleDescription> {
        self.rules.iter().find(|r| r.id.as_str() == id)
    }

    pub fn has_rule(&self, id: &str) -> bool {
        self.rule(id).is_some()
    }

    /// The charity soft opt-in, when the rule set both lists R3c and says
    /// from when it applies.
    pub fn charity_soft_opt_in(&self) -> Option<CharitySoftOptIn> {
        self.charity_soft_opt_in
            .filter(|_| self.has_rule(super::ids::R3C))
    }
}

/// The requested rule set does not exist, or none was in force.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnknownRuleSet {
    #[error("unknown rule set `{id}`")]
    NotInCatalogue { id: RuleSetId },
    #[error("no rule set is in force at {at}")]
    NoneInForce { at: Timestamp },
}

/// Every published rule set, ordered by `effective_from`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCatalogue {
    rule_sets: Vec<RuleSet>,
}

impl RuleCatalogue {
    /// A catalogue of the given rule sets (sorted by `effective_from`, then
    /// id, so the order does not depend on the caller's).
    pub fn new(mut rule_sets: Vec<RuleSet>) -> Self {
        rule_sets.sort_by(|a, b| (a.effective_from, &a.id).cmp(&(b.effective_from, &b.id)));
        Self { rule_sets }
    }

    /// The rule set in force at `at`: the one with the latest
    /// `effective_from <= at`.
    pub fn in_force_at(&self, at: Timestamp) -> Option<&RuleSet> {
        self.rule_sets.iter().rev().find(|r| r.effective_from <= at)
    }

    pub fn get(&self, id: &RuleSetId) -> Option<&RuleSet> {
        self.rule_sets.iter().find(|r| &r.id == id)
    }

    /// All rule sets, oldest first.
    pub fn all(&self) -> &[RuleSet] {
        &self.rule_sets
    }

    /// The requested rule set, or by default the one in force at `at`
    /// (R8). A requested rule set is used as asked even if it took effect
    /// after `at`: that is how history is replayed under a newer law.
    pub fn select(
        &self,
        requested: Option<&RuleSetId>,
        at: Timestamp,
    ) -> Result<&RuleSet, UnknownRuleSet> {
        match requested {
            Some(id) => self
                .get(id)
                .ok_or_else(|| UnknownRuleSet::NotInCatalogue { id: id.clone() }),
            None => self
                .in_force_at(at)
                .ok_or(UnknownRuleSet::NoneInForce { at }),
        }
    }
}
