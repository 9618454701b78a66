//! How two decisions on the same question differ.
//!
//! The answer is the pair (allowed, lawful basis). It changes from allowed
//! to refused, from refused to allowed, or from one basis to another; two
//! refusals (or two identical answers) are the same answer even when their
//! reasons differ, which is noted separately. Which rule made the
//! difference is read from the rule firings: every rule whose outcome
//! differs, a rule missing from one rule set counting as `absent` (so the
//! charity soft opt-in shows as `R3c: absent -> satisfied`).

use consent_domain::rules::{Decision, RuleId, RuleOutcome};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What happened to the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Same allowed flag and same lawful basis.
    Unchanged,
    AllowedToRefused,
    RefusedToAllowed,
    /// Allowed under both, on different lawful bases.
    BasisChanged,
}

impl ChangeKind {
    pub fn describe(self) -> &'static str {
        match self {
            ChangeKind::Unchanged => "unchanged",
            ChangeKind::AllowedToRefused => "allowed -> refused",
            ChangeKind::RefusedToAllowed => "refused -> allowed",
            ChangeKind::BasisChanged => "basis changed",
        }
    }
}

/// A rule whose outcome differs between the two decisions. `None` means
/// the rule set does not have the rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleChange {
    pub rule: RuleId,
    pub baseline: Option<RuleOutcome>,
    pub candidate: Option<RuleOutcome>,
}

impl fmt::Display for RuleChange {
    /// `R3c: absent -> satisfied`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} -> {}",
            self.rule,
            outcome(self.baseline),
            outcome(self.candidate)
        )
    }
}

fn outcome(outcome: Option<RuleOutcome>) -> &'static str {
    match outcome {
        None => "absent",
        Some(RuleOutcome::Satisfied) => "satisfied",
        Some(RuleOutcome::Failed) => "failed",
        Some(RuleOutcome::Blocked) => "blocked",
        Some(RuleOutcome::NotApplicable) => "not applicable",
    }
}

/// The differences between a baseline and a candidate decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    pub kind: ChangeKind,
    /// The rules whose outcome differs, in rule-id order.
    pub rules_changed: Vec<RuleChange>,
    /// Reasons against (`rule:code`) under the baseline only.
    pub reasons_no_longer_against: BTreeSet<String>,
    /// Reasons against (`rule:code`) under the candidate only.
    pub reasons_newly_against: BTreeSet<String>,
}

impl Comparison {
    pub fn of(baseline: &Decision, candidate: &Decision) -> Self {
        let kind = match (baseline.allowed, candidate.allowed) {
            (true, false) => ChangeKind::AllowedToRefused,
            (false, true) => ChangeKind::RefusedToAllowed,
            (true, true) if baseline.lawful_basis != candidate.lawful_basis => {
                ChangeKind::BasisChanged
            }
            _ => ChangeKind::Unchanged,
        };
        let rules_changed = if same_outcomes(baseline, candidate) {
            Vec::new()
        } else {
            rules_changed(baseline, candidate)
        };
        if same_reasons(baseline, candidate) {
            return Self {
                kind,
                rules_changed,
                reasons_no_longer_against: BTreeSet::new(),
                reasons_newly_against: BTreeSet::new(),
            };
        }
        let baseline_reasons = reason_codes(baseline);
        let candidate_reasons = reason_codes(candidate);
        Self {
            kind,
            rules_changed,
            reasons_no_longer_against: baseline_reasons
                .difference(&candidate_reasons)
                .cloned()
                .collect(),
            reasons_newly_against: candidate_reasons
                .difference(&baseline_reasons)
                .cloned()
                .collect(),
        }
    }

    /// The answer is the same but the reasons against it are not.
    pub fn reasons_differ(&self) -> bool {
        !self.reasons_no_longer_against.is_empty() || !self.reasons_newly_against.is_empty()
    }
}

/// A decision's reasons against, as `rule:code` (e.g.
/// `R3:no_basis_for_electronic_mail`), sorted.
pub fn reason_codes(decision: &Decision) -> BTreeSet<String> {
    decision
        .reasons_against
        .iter()
        .map(|r| format!("{}:{}", r.rule, r.code))
        .collect()
}

/// The same reasons against, rule and code, in the same order: then their
/// `rule:code` sets are equal too (the usual case, decided without building
/// them).
fn same_reasons(baseline: &Decision, candidate: &Decision) -> bool {
    baseline.reasons_against.len() == candidate.reasons_against.len()
        && baseline
            .reasons_against
            .iter()
            .zip(&candidate.reasons_against)
            .all(|(b, c)| b.rule == c.rule && b.code == c.code)
}

/// The same rules with the same outcomes, in the same order: then no rule's
/// outcome changed (the usual case, decided without a map).
fn same_outcomes(baseline: &Decision, candidate: &Decision) -> bool {
    baseline.rules.len() == candidate.rules.len()
        && baseline
            .rules
            .iter()
            .zip(&candidate.rules)
            .all(|(b, c)| b.rule == c.rule && b.outcome == c.outcome)
}

fn rules_changed(baseline: &Decision, candidate: &Decision) -> Vec<RuleChange> {
    let mut outcomes: BTreeMap<&RuleId, (Option<RuleOutcome>, Option<RuleOutcome>)> =
        BTreeMap::new();
    for firing in &baseline.rules {
        outcomes.entry(&firing.rule).or_default().0 = Some(firing.outcome);
    }
    for firing in &candidate.rules {
        outcomes.entry(&firing.rule).or_default().1 = Some(firing.outcome);
    }
    outcomes
        .into_iter()
        .filter(|(_, (b, c))| b != c)
        .map(|(rule, (baseline, candidate))| RuleChange {
            rule: rule.clone(),
            baseline,
            candidate,
        })
        .collect()
}
