//! R8 Effective dating: a decision names the rule set it was made under,
//! and reads only the facts with `occurred_at <= T`. Any rule set may be
//! applied to any time: replaying history under a newer rule set changes
//! no stored event.

use super::applicability::Applicability;
use super::finding::{Ctx, RuleFinding};

/// R8: every question.
pub(crate) const APPLIES: Applicability = Applicability::EVERY_QUESTION;

pub(crate) fn evaluate(
    ctx: &Ctx<'_>,
    subject_total: usize,
    organisation_total: usize,
) -> RuleFinding {
    let rule_set = ctx.rule_set;
    let at = ctx.facts.at;
    RuleFinding::satisfied(
        ctx.text(|| {
            let requested = if ctx.request.rule_set.as_ref() == Some(&rule_set.id) {
                ", as requested"
            } else {
                ""
            };
            let replay = if rule_set.effective_from > at {
                " The rule set took effect after the check's time: this is a replay under a \
                 later rule set."
            } else {
                ""
            };
            format!(
                "Decided under {} ({}), in effect from {}{requested}; only facts that occurred by \
                 {at} count: {} of {subject_total} about the subject, {} of {organisation_total} \
                 about the organisation.{replay}",
                rule_set.id,
                rule_set.title,
                rule_set.effective_from,
                ctx.facts.subject.len(),
                ctx.facts.organisation.len(),
            )
        }),
        vec![],
    )
}
