//! [`decide`]: evaluate every rule of a rule set and combine the findings
//! into one [`Decision`].
//!
//! Combination, in the rule set's order:
//! * the channel's basis rule gives the lawful basis (R0 for a service
//!   message, R3 for email and SMS, R4 live calls, R5 automated calls,
//!   R7 post);
//! * every rule that fails or blocks adds all its reasons;
//! * the alternatives behind a basis (R2, R3a, R3b, R3c) add their reasons
//!   only when no basis was found: a failed soft opt-in is no reason
//!   against a message sent with consent;
//! * the message is allowed only with a basis and no reason against.

use super::check::CheckRequest;
use super::consent::{self, Consents};
use super::decision::{
    Decision, DecisionTexts, EventReference, LawfulBasis, Reason, RuleFiring, RuleOutcome,
};
use super::facts::Facts;
use super::finding::{Ctx, Finding};
use super::ids::*;
use super::rule_set::RuleSet;
use super::scope::Classification;
use super::{
    calls, charity, effective, electronic_mail, erasure, objection, post, scope, soft_opt_in,
};
use crate::fold::{AddressState, OrganisationState, SubjectState};
use crate::identity::EventId;
use crate::vocabulary::Channel;

/// May `request.organisation` send this message to `request.subject` at
/// `request.at`, under `rule_set`?
///
/// Pure and deterministic: reads only the facts of `organisation`,
/// `subject` and the `addresses` the message may go to (the check's contact
/// point, or else the subject's addresses for the channel: see
/// [`super::addresses_to_consult`]) with `occurred_at <= request.at`, and no
/// clock. Either state
/// may be empty; the answer is then no, with the reasons (fail closed).
/// The caller chooses `rule_set` (see [`super::RuleCatalogue::select`]) and
/// the decision names it; `request.rule_set` only lets R8 say it was asked
/// for.
pub fn decide(
    rule_set: &RuleSet,
    organisation: &OrganisationState,
    subject: &SubjectState,
    addresses: &[AddressState],
    request: &CheckRequest,
) -> Decision {
    decide_with_texts(
        rule_set,
        organisation,
        subject,
        addresses,
        request,
        DecisionTexts::Included,
    )
}

/// [`decide`], with its texts or without them: with
/// [`DecisionTexts::Omitted`] the decision is exactly
/// [`Decision::without_texts`] of the full one, and its prose is not built.
pub fn decide_with_texts(
    rule_set: &RuleSet,
    organisation: &OrganisationState,
    subject: &SubjectState,
    addresses: &[AddressState],
    request: &CheckRequest,
    texts: DecisionTexts,
) -> Decision {
    let ctx = Ctx {
        rule_set,
        request,
        facts: Facts::as_of(organisation, subject, addresses, request),
        marketing: Classification::of(request).is_marketing(),
        texts,
    };
    let findings = Findings::evaluate(&ctx, subject.facts.len(), organisation.facts.len());

    let basis_rule = basis_rule(&ctx);
    let basis = rule_set
        .has_rule(basis_rule)
        .then(|| findings.get(basis_rule))
        .flatten()
        .filter(|f| f.is_satisfied())
        .and_then(|f| f.basis.map(|basis| (basis, f)));

    let mut firings = Vec::with_capacity(rule_set.rules.len());
    let mut reasons: Vec<Reason> = Vec::new();
    for description in &rule_set.rules {
        let id = description.id.as_str();
        let unknown;
        let finding = match findings.get(id) {
            Some(finding) => finding,
            None => {
                unknown = not_implemented(&ctx, id);
                &unknown
            }
        };
        firings.push(RuleFiring {
            rule: description.id.clone(),
            title: ctx.text(|| description.title.clone()),
            citation: ctx.text(|| description.citation.clone()),
            outcome: finding.outcome,
            detail: ctx.text(|| finding.detail.to_string()),
        });
        let alternative = matches!(id, R2 | R3A | R3B | R3C);
        let counts = if alternative {
            basis.is_none()
        } else {
            matches!(finding.outcome, RuleOutcome::Failed | RuleOutcome::Blocked)
        };
        if counts {
            if finding.reasons.is_empty() && !alternative {
                let message = || finding.detail.to_string();
                reasons.push(ctx.reason(id, "rule_not_satisfied", message, vec![]));
            }
            reasons.extend(finding.reasons.iter().cloned());
        }
    }
    if basis.is_none() && reasons.is_empty() {
        let message = || {
            format!(
                "Rule set {} gives no basis for {} to this subject.",
                rule_set.id,
                super::text::channel(request.channel)
            )
        };
        reasons.push(ctx.reason(basis_rule, "no_lawful_basis", message, vec![]));
    }

    let allowed = reasons.is_empty();
    let relied_on: Vec<EventId> = match (allowed, basis) {
        (true, Some((_, finding))) => finding.relied_on.clone(),
        _ => reasons
            .iter()
            .flat_map(|r| r.events.iter().copied())
            .collect(),
    };
    Decision {
        allowed,
        lawful_basis: match basis {
            Some((basis, _)) if allowed => basis,
            _ => LawfulBasis::None,
        },
        reasons_against: reasons,
        relied_on: references(&ctx.facts, relied_on),
        rule_set: rule_set.id.clone(),
        rules: firings,
        evaluated_at: request.at,
    }
}

/// The rule whose finding gives the lawful basis for this message.
fn basis_rule(ctx: &Ctx<'_>) -> &'static str {
    if !ctx.marketing {
        return R0;
    }
    match ctx.request.channel {
        Channel::Email | Channel::Sms => R3,
        Channel::LiveCall => R4,
        Channel::AutomatedCall => R5,
        Channel::Post => R7,
    }
}

/// A rule listed in a rule set that this engine does not know: it cannot be
/// shown to be satisfied, so it fails (closed).
fn not_implemented(ctx: &Ctx<'_>, id: &str) -> Finding {
    let message = ctx.text(|| {
        format!(
            "Rule {id} of rule set {} is not known to this engine, so it cannot be satisfied.",
            ctx.rule_set.id
        )
    });
    Finding::failed(
        message.clone(),
        vec![ctx.reason(id, "rule_not_implemented", || message, vec![])],
    )
}

/// The events, deduplicated, in time order, with their log positions.
/// (Deduplicated in place: the result is sorted by time and id whatever
/// order the ids come in.)
fn references(facts: &Facts<'_>, mut ids: Vec<EventId>) -> Vec<EventReference> {
    ids.sort_unstable();
    ids.dedup();
    let mut references: Vec<EventReference> = ids
        .into_iter()
        .filter_map(|id| facts.reference(id))
        .collect();
    references.sort_by_key(|r| (r.occurred_at, r.id));
    references
}

/// Every rule's finding for one check.
struct Findings {
    by_rule: Vec<(&'static str, Finding)>,
}

impl Findings {
    fn evaluate(ctx: &Ctx<'_>, subject_total: usize, organisation_total: usize) -> Self {
        let rule_set = ctx.rule_set;
        let consents = Consents::assess(ctx);
        let r3a = electronic_mail::evaluate_r3a(ctx, &consents);
        let r3b = electronic_mail::alternative(ctx, || soft_opt_in::evaluate(ctx));
        let r3c = electronic_mail::alternative(ctx, || charity::evaluate(ctx));
        let alternatives: Vec<(&str, &Finding)> = [(R3A, &r3a), (R3B, &r3b), (R3C, &r3c)]
            .into_iter()
            .filter(|(id, _)| rule_set.has_rule(id))
            .collect();
        let r3 = electronic_mail::evaluate_r3(ctx, &alternatives);
        Self {
            by_rule: vec![
                (R0, scope::evaluate(ctx)),
                (R1, objection::evaluate(ctx, &consents)),
                (R2, consent::evaluate_r2(ctx, &consents)),
                (R3, r3),
                (R3A, r3a),
                (R3B, r3b),
                (R3C, r3c),
                (R4, calls::evaluate_r4(ctx, &consents)),
                (R5, calls::evaluate_r5(ctx, &consents)),
                (R6, electronic_mail::evaluate_r6(ctx)),
                (R7, post::evaluate(ctx, &consents)),
                (
                    R8,
                    effective::evaluate(ctx, subject_total, organisation_total),
                ),
                (R9, erasure::evaluate(ctx)),
            ],
        }
    }

    fn get(&self, id: &str) -> Option<&Finding> {
        self.by_rule
            .iter()
            .find(|(rule, _)| *rule == id)
            .map(|(_, f)| f)
    }
}
