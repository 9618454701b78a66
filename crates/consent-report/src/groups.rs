//! Many decisions summed up: how many were allowed and on which lawful
//! basis, how many refused and for which reasons, and the decisions
//! grouped by the same answer, so a campaign of 100,000 recipients reads
//! as a handful of groups.

use crate::model::ReportDecision;
use crate::words;
use consent_domain::rules::{LawfulBasis, Reason};

/// A reason against as the summary counts it: the rule, its code and its
/// citation (the message names dates and events of one subject, so it is
/// not part of what makes two reasons the same).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReasonKind {
    pub rule: String,
    pub code: String,
    pub citation: String,
}

impl ReasonKind {
    pub fn of(reason: &Reason) -> Self {
        Self {
            rule: reason.rule.as_str().to_owned(),
            code: reason.code.to_string(),
            citation: reason.citation.clone(),
        }
    }

    /// `R1 (opted out)`.
    pub fn label(&self) -> String {
        format!("{} ({})", self.rule, self.code.replace('_', " "))
    }
}

/// Decisions with the same answer: the same outcome, lawful basis and
/// reasons against, and the same result of the verifier's recompute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionGroup {
    pub allowed: bool,
    pub lawful_basis: LawfulBasis,
    pub reasons: Vec<ReasonKind>,
    pub recomputed: bool,
    /// Indices into the report's decisions, in the report's order; never
    /// empty.
    pub members: Vec<usize>,
}

impl DecisionGroup {
    /// The decision shown in full for the group.
    pub fn representative(&self) -> usize {
        self.members[0]
    }

    /// `Allowed: consent` / `Refused: R1 (opted out) and R7 (tps listed)`.
    pub fn label(&self) -> String {
        if self.allowed {
            format!("Allowed: {}", words::lawful_basis(self.lawful_basis))
        } else if self.reasons.is_empty() {
            "Refused: no reason given".to_owned()
        } else {
            let labels: Vec<String> = self.reasons.iter().map(ReasonKind::label).collect();
            format!(
                "Refused: {}",
                words::join(labels.iter().map(String::as_str))
            )
        }
    }
}

/// The decisions grouped by answer: allowed groups first, then refused,
/// each largest first (ties in order of first appearance).
pub fn group(decisions: &[ReportDecision<'_>]) -> Vec<DecisionGroup> {
    let mut groups: Vec<DecisionGroup> = Vec::new();
    let mut index: std::collections::HashMap<(bool, LawfulBasis, Vec<ReasonKind>, bool), usize> =
        std::collections::HashMap::new();
    for (at, entry) in decisions.iter().enumerate() {
        let decision = entry.decision;
        let reasons: Vec<ReasonKind> = decision
            .reasons_against
            .iter()
            .map(ReasonKind::of)
            .collect();
        let key = (
            decision.allowed,
            decision.lawful_basis,
            reasons,
            entry.recomputed,
        );
        match index.get(&key) {
            Some(&group) => groups[group].members.push(at),
            None => {
                index.insert(key.clone(), groups.len());
                let (allowed, lawful_basis, reasons, recomputed) = key;
                groups.push(DecisionGroup {
                    allowed,
                    lawful_basis,
                    reasons,
                    recomputed,
                    members: vec![at],
                });
            }
        }
    }
    // A stable sort keeps first appearance among equals.
    groups.sort_by(|a, b| {
        b.allowed
            .cmp(&a.allowed)
            .then(b.members.len().cmp(&a.members.len()))
    });
    groups
}

/// How many decisions were allowed, and refused, and by what.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Tally {
    pub allowed: usize,
    pub refused: usize,
    /// Allowed decisions per lawful basis, most first.
    pub by_basis: Vec<(LawfulBasis, usize)>,
    /// Refused decisions per reason, most first: a decision refused for
    /// two reasons counts under each.
    pub by_reason: Vec<(ReasonKind, usize)>,
    /// Decisions the verifier did not reproduce.
    pub not_recomputed: usize,
}

pub fn tally(decisions: &[ReportDecision<'_>]) -> Tally {
    let mut tally = Tally::default();
    let mut by_basis: Vec<(LawfulBasis, usize)> = Vec::new();
    let mut by_reason: std::collections::BTreeMap<ReasonKind, usize> = Default::default();
    for entry in decisions {
        let decision = entry.decision;
        if !entry.recomputed {
            tally.not_recomputed += 1;
        }
        if decision.allowed {
            tally.allowed += 1;
            match by_basis
                .iter_mut()
                .find(|(basis, _)| *basis == decision.lawful_basis)
            {
                Some((_, count)) => *count += 1,
                None => by_basis.push((decision.lawful_basis, 1)),
            }
        } else {
            tally.refused += 1;
            for reason in &decision.reasons_against {
                *by_reason.entry(ReasonKind::of(reason)).or_default() += 1;
            }
        }
    }
    by_basis.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    let mut by_reason: Vec<(ReasonKind, usize)> = by_reason.into_iter().collect();
    by_reason.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    tally.by_basis = by_basis;
    tally.by_reason = by_reason;
    tally
}
