//! [`decide`]: evaluate the rules of a rule set that can apply to the
//! question and combine the findings into one [`Decision`].
//!
//! A rule the rule set does not list is not evaluated; nor is one that
//! cannot apply to the question (its [`Applicability`]: a marketing rule
//! for a service message, a rule of another channel), whose finding is its
//! declared "not applicable". The decision is byte for byte the one
//! evaluating every rule gives ([`decide_unpruned`], which a property test
//! compares it with).
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
//!
//! [`Applicability`]: super::applicability::Applicability

use std::cell::OnceCell;

use super::applicability::Applicability;
use super::check::CheckRequest;
use super::consent::{self, Consents};
use super::decision::{
    Decision, DecisionTexts, EventReference, LawfulBasis, Reason, RuleFiring, RuleOutcome,
};
use super::facts::Facts;
use super::finding::{Ctx, RuleFinding};
use super::ids::{self, *};
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
    decide_by(
        Evaluation::Pruned,
        rule_set,
        organisation,
        subject,
        addresses,
        request,
        texts,
    )
}

/// [`decide_with_texts`] evaluating every rule this engine knows, whether
/// the rule set lists it and whether it can apply to the question or not,
/// as `decide` did before it left those out. The same decision, byte for
/// byte: the reference the property test (tests/pruning.rs) holds
/// [`decide_with_texts`] to. Not for production use.
#[doc(hidden)]
pub fn decide_unpruned(
    rule_set: &RuleSet,
    organisation: &OrganisationState,
    subject: &SubjectState,
    addresses: &[AddressState],
    request: &CheckRequest,
    texts: DecisionTexts,
) -> Decision {
    decide_by(
        Evaluation::Every,
        rule_set,
        organisation,
        subject,
        addresses,
        request,
        texts,
    )
}

/// Which rules a decision evaluates.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Evaluation {
    /// Those the rule set lists and that can apply to the question.
    Pruned,
    /// Every rule this engine knows.
    Every,
}

fn decide_by(
    evaluation: Evaluation,
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
    let listed = Listed::of(rule_set);
    let mut findings = Findings::evaluate(
        &ctx,
        listed,
        evaluation,
        subject.facts.len(),
        organisation.facts.len(),
    );

    let basis_rule = basis_rule(&ctx);
    // The basis and the position of the finding that gives it.
    let basis: Option<(LawfulBasis, usize)> = ids::index(basis_rule)
        .filter(|_| listed.has(basis_rule))
        .and_then(|i| {
            findings.by_rule[i]
                .as_ref()
                .filter(|f| f.is_satisfied())
                .and_then(|f| f.basis)
                .map(|basis| (basis, i))
        });

    let mut firings = Vec::with_capacity(rule_set.rules.len());
    let mut reasons: Vec<Reason> = Vec::new();
    for description in &rule_set.rules {
        let id = description.id.as_str();
        let mut unknown;
        let finding = match ids::index(id).and_then(|i| findings.by_rule[i].as_mut()) {
            Some(finding) => finding,
            None => {
                unknown = not_implemented(&ctx, id);
                &mut unknown
            }
        };
        let alternative = matches!(id, R2 | R3A | R3B | R3C);
        let counts = if alternative {
            basis.is_none()
        } else {
            matches!(finding.outcome, RuleOutcome::Failed | RuleOutcome::Blocked)
        };
        let not_satisfied = (counts && finding.reasons.is_empty() && !alternative).then(|| {
            let message = || finding.detail.to_string();
            ctx.reason(id, "rule_not_satisfied", message, vec![])
        });
        // A finding reported once (the rule set lists its rule once) gives
        // its detail and its reasons to the decision rather than copies.
        let once = listed.once;
        firings.push(RuleFiring {
            rule: description.id.clone(),
            title: ctx.text(|| description.title.clone()),
            citation: ctx.text(|| description.citation.clone()),
            outcome: finding.outcome,
            detail: ctx.text(|| {
                if once {
                    std::mem::take(&mut finding.detail).into_owned()
                } else {
                    finding.detail.to_string()
                }
            }),
        });
        if counts {
            reasons.extend(not_satisfied);
            if once {
                reasons.append(&mut finding.reasons);
            } else {
                reasons.extend(finding.reasons.iter().cloned());
            }
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
        (true, Some((_, i))) => findings.by_rule[i]
            .as_mut()
            .map(|finding| std::mem::take(&mut finding.relied_on))
            .unwrap_or_default(),
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
fn not_implemented(ctx: &Ctx<'_>, id: &str) -> RuleFinding {
    let message = ctx.text(|| {
        format!(
            "Rule {id} of rule set {} is not known to this engine, so it cannot be satisfied.",
            ctx.rule_set.id
        )
    });
    RuleFinding::failed(
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

/// The published rules a rule set lists, as a set of their positions in
/// [`ids::PUBLISHED`] (read once per decision, not once per question about
/// a rule).
#[derive(Clone, Copy)]
struct Listed {
    set: u32,
    /// No published rule is listed twice.
    once: bool,
}

impl Listed {
    fn of(rule_set: &RuleSet) -> Self {
        let mut listed = Listed { set: 0, once: true };
        for i in rule_set
            .rules
            .iter()
            .filter_map(|rule| ids::index(rule.id.as_str()))
        {
            listed.once &= listed.set & 1 << i == 0;
            listed.set |= 1 << i;
        }
        listed
    }

    fn has(self, id: &str) -> bool {
        ids::index(id).is_some_and(|i| self.set & 1 << i != 0)
    }
}

/// The finding of rule `id`, if it is evaluated: with
/// [`Evaluation::Pruned`], `None` when the rule set does not list it, and
/// its declared finding without evaluating it when it cannot apply.
fn finding(
    ctx: &Ctx<'_>,
    listed: Listed,
    evaluation: Evaluation,
    id: &str,
    applies: Applicability,
    evaluate: impl FnOnce() -> RuleFinding,
) -> Option<RuleFinding> {
    match evaluation {
        Evaluation::Every => Some(evaluate()),
        Evaluation::Pruned if !listed.has(id) => None,
        Evaluation::Pruned => Some(applies.outside(ctx).unwrap_or_else(evaluate)),
    }
}

/// The findings of the rules evaluated for one check, by position in
/// [`ids::PUBLISHED`].
struct Findings {
    by_rule: [Option<RuleFinding>; ids::PUBLISHED.len()],
}

impl Findings {
    fn evaluate(
        ctx: &Ctx<'_>,
        listed: Listed,
        evaluation: Evaluation,
        subject_total: usize,
        organisation_total: usize,
    ) -> Self {
        // Assessed once, by the first rule evaluated that relies on consent
        // (none does for a service message).
        let consents = OnceCell::new();
        let consents = || consents.get_or_init(|| Consents::assess(ctx));
        let finding = |id, applies, evaluate: &dyn Fn() -> RuleFinding| {
            finding(ctx, listed, evaluation, id, applies, evaluate)
        };
        let r3a = finding(R3A, electronic_mail::APPLIES, &|| {
            electronic_mail::evaluate_r3a(ctx, consents())
        });
        let r3b = finding(R3B, electronic_mail::APPLIES, &|| {
            electronic_mail::alternative(ctx, || soft_opt_in::evaluate(ctx))
        });
        let r3c = finding(R3C, electronic_mail::APPLIES, &|| {
            electronic_mail::alternative(ctx, || charity::evaluate(ctx))
        });
        let r3 = finding(R3, electronic_mail::APPLIES, &|| {
            let alternatives: Vec<(&str, &RuleFinding)> = [(R3A, &r3a), (R3B, &r3b), (R3C, &r3c)]
                .into_iter()
                .filter(|(id, _)| listed.has(id))
                .filter_map(|(id, finding)| finding.as_ref().map(|f| (id, f)))
                .collect();
            electronic_mail::evaluate_r3(ctx, &alternatives)
        });
        Self {
            by_rule: [
                finding(R0, scope::APPLIES, &|| scope::evaluate(ctx)),
                finding(R1, objection::APPLIES, &|| {
                    objection::evaluate(ctx, consents())
                }),
                finding(R2, consent::R2_APPLIES, &|| {
                    consent::evaluate_r2(ctx, consents())
                }),
                r3,
                r3a,
                r3b,
                r3c,
                finding(R4, calls::R4_APPLIES, &|| {
                    calls::evaluate_r4(ctx, consents())
                }),
                finding(R5, calls::R5_APPLIES, &|| {
                    calls::evaluate_r5(ctx, consents())
                }),
                finding(R6, electronic_mail::APPLIES, &|| {
                    electronic_mail::evaluate_r6(ctx)
                }),
                finding(R7, post::APPLIES, &|| post::evaluate(ctx, consents())),
                finding(R8, effective::APPLIES, &|| {
                    effective::evaluate(ctx, subject_total, organisation_total)
                }),
                finding(R9, erasure::APPLIES, &|| erasure::evaluate(ctx)),
            ],
        }
    }
}
