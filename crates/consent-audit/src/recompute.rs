//! [`DecisionRecompute`]: every decision in a bundle, decided again from
//! the bundle's proven records alone; and a subject bundle's status
//! checked to be one decision per channel ([`crate::status`]).

use crate::facts::EvidenceFacts;
use crate::recorded::{decide_recorded, RecordedDecision};
use crate::status::status_findings;
use consent_domain::rules::RuleCatalogue;
use consent_evidence::{DecisionCheck, DecisionContext, DecisionFinding};
use consent_schema::v1;

/// The `rule_set_id` of a bundle whose decisions each use the rule set in
/// force at their own time (otherwise the bundle names the one rule set
/// every decision was asked under).
pub const RULE_SET_IN_FORCE: &str = "in-force-at-each-decision";

/// Recomputes a bundle's decisions with the domain's fold and rules.
///
/// Only records whose inclusion was proven are folded, so a decision that
/// rests on an altered, unproven or missing record does not recompute.
#[derive(Clone, Debug)]
pub struct DecisionRecompute {
    catalogue: RuleCatalogue,
}

impl DecisionRecompute {
    pub fn new(catalogue: RuleCatalogue) -> Self {
        Self { catalogue }
    }
}

impl DecisionCheck for DecisionRecompute {
    fn check(&self, context: &DecisionContext<'_>) -> Vec<DecisionFinding> {
        let facts = EvidenceFacts::fold(
            context
                .records
                .iter()
                .map(|record| (record.position, record.payload)),
        );
        let pinned = (context.rule_set_id != RULE_SET_IN_FORCE).then_some(context.rule_set_id);
        let mut findings: Vec<DecisionFinding> = context
            .decisions
            .iter()
            .enumerate()
            .filter_map(|(index, value)| {
                let finding = |message: String| DecisionFinding {
                    decision: Some(index),
                    message,
                };
                let recorded = match RecordedDecision::from_value(value) {
                    Ok(recorded) => recorded,
                    Err(error) => return Some(finding(error.to_string())),
                };
                if let Some(pinned) = pinned {
                    if recorded.request.rule_set_id != pinned {
                        return Some(finding(format!(
                            "asked under rule set {:?}, but the bundle is for rule set {pinned:?}",
                            recorded.request.rule_set_id
                        )));
                    }
                }
                let question = match recorded.question() {
                    Ok(question) => question,
                    Err(error) => return Some(finding(error.to_string())),
                };
                let recomputed = match decide_recorded(&facts, &self.catalogue, &question) {
                    Ok(recomputed) => recomputed,
                    Err(error) => return Some(finding(error.to_string())),
                };
                differences(&recorded.decision, &recomputed.decision)
                    .map(|difference| finding(format!("does not recompute: {difference}")))
            })
            .collect();
        findings.extend(status_findings(context.scope, context.decisions));
        findings
    }
}

/// What differs between a stated and a recomputed decision, most
/// important first; `None` when they are the same.
fn differences(stated: &v1::Decision, recomputed: &v1::Decision) -> Option<String> {
    if stated == recomputed {
        return None;
    }
    let verdict = |d: &v1::Decision| if d.allowed { "allowed" } else { "refused" };
    let mut parts = Vec::new();
    if stated.allowed != recomputed.allowed {
        parts.push(format!(
            "the bundle says {}, the records say {}",
            verdict(stated),
            verdict(recomputed)
        ));
    }
    if stated.lawful_basis != recomputed.lawful_basis {
        parts.push(format!(
            "lawful basis {} stated, {} recomputed",
            basis_name(stated.lawful_basis),
            basis_name(recomputed.lawful_basis)
        ));
    }
    let codes = |d: &v1::Decision| -> Vec<String> {
        d.reasons_against
            .iter()
            .map(|r| format!("{} {}", r.rule_id, r.code))
            .collect()
    };
    if codes(stated) != codes(recomputed) {
        parts.push(format!(
            "reasons against [{}] stated, [{}] recomputed",
            codes(stated).join(", "),
            codes(recomputed).join(", ")
        ));
    }
    let relied = |d: &v1::Decision| -> Vec<String> {
        d.relied_on.iter().map(|e| e.event_id.clone()).collect()
    };
    if relied(stated) != relied(recomputed) {
        parts.push(format!(
            "events relied on [{}] stated, [{}] recomputed",
            relied(stated).join(", "),
            relied(recomputed).join(", ")
        ));
    }
    if parts.is_empty() {
        parts.push("the rule trace (rules, details or citations) differs".to_owned());
    }
    Some(parts.join("; "))
}

fn basis_name(basis: i32) -> String {
    v1::LawfulBasis::try_from(basis)
        .map(|b| b.as_str_name().to_owned())
        .unwrap_or_else(|_| basis.to_string())
}
