//! R3 Electronic mail (email, SMS) to an individual subscriber needs
//! consent (R3a), the commercial soft opt-in (R3b) or, where the rule set
//! has it, the charity soft opt-in (R3c) (PECR reg 22(1), 22(2)); R6 every
//! electronic marketing message identifies the sender and offers an opt-out
//! (reg 23).
//!
//! Sole traders and ordinary partnerships are individual subscribers; so is
//! a subscriber whose type was never declared. Only the latest declaration
//! as of the check counts. To a corporate subscriber no consent is needed,
//! but R1 and R6 still apply.

use super::applicability::{Applicability, Detail};
use super::consent::Consents;
use super::decision::LawfulBasis;
use super::finding::{Ctx, RuleFinding};
use super::ids::{R3, R3A, R3B, R3C, R6};
use super::text;
use crate::vocabulary::Channel;

/// R3, its alternatives R3a, R3b and R3c, and R6: direct marketing by
/// electronic mail.
pub(crate) const APPLIES: Applicability = Applicability::marketing_on(
    &Channel::ELECTRONIC_MAIL,
    Detail::OfChannel(not_electronic_mail),
);

fn not_electronic_mail(channel: Channel) -> String {
    format!(
        "{} is not electronic mail.",
        text::capitalise(text::channel(channel))
    )
}

/// The R3 alternatives apply only to individual subscribers.
fn alternatives_apply(ctx: &Ctx<'_>) -> Result<(), RuleFinding> {
    if let Some(not_applicable) = APPLIES.outside(ctx) {
        return Err(not_applicable);
    }
    let subscriber = ctx.facts.subscriber();
    if !subscriber.is_individual() {
        return Err(RuleFinding::not_applicable(ctx.text(|| {
            format!(
                "The subject is {}: reg 22 does not require consent.",
                subscriber.describe()
            )
        })));
    }
    Ok(())
}

/// R3a: consent from the subject to this sender for this channel and
/// purpose.
pub(crate) fn evaluate_r3a(ctx: &Ctx<'_>, consents: &Consents<'_>) -> RuleFinding {
    if let Err(not_applicable) = alternatives_apply(ctx) {
        return not_applicable;
    }
    consents.basis_for(ctx, R3A, "no_consent", || {
        format!(
            "consent from {} to {} for {} by {}",
            ctx.subject(),
            text::channel(ctx.request.channel),
            text::purpose(ctx.request.purpose),
            ctx.organisation()
        )
    })
}

/// Runs an alternative only where R3 needs it.
pub(crate) fn alternative(ctx: &Ctx<'_>, evaluate: impl FnOnce() -> RuleFinding) -> RuleFinding {
    match alternatives_apply(ctx) {
        Ok(()) => evaluate(),
        Err(not_applicable) => not_applicable,
    }
}

/// R3: the basis for electronic mail, from the subscriber type and the
/// alternatives the rule set has, in its order (R3a, R3b, then R3c).
pub(crate) fn evaluate_r3(ctx: &Ctx<'_>, alternatives: &[(&str, &RuleFinding)]) -> RuleFinding {
    if let Some(not_applicable) = APPLIES.outside(ctx) {
        return not_applicable;
    }
    let subscriber = ctx.facts.subscriber();
    if !subscriber.is_individual() {
        return RuleFinding::grants(
            LawfulBasis::CorporateSubscriber,
            ctx.text(|| {
                format!(
                    "The subject is {}: no consent is needed for {} (R1 and R6 still apply, and a \
                     named employee's personal data still needs a UK GDPR basis).",
                    subscriber.describe(),
                    text::channel(ctx.request.channel)
                )
            }),
            subscriber.evidence(),
        );
    }
    if let Some((id, finding)) = alternatives
        .iter()
        .find(|(_, f)| f.is_satisfied() && f.basis.is_some())
    {
        let mut relied_on = finding.relied_on.clone();
        relied_on.extend(subscriber.evidence());
        return RuleFinding {
            basis: finding.basis,
            ..RuleFinding::satisfied(
                ctx.text(|| {
                    format!(
                        "The subject is {}; {id} gives the basis for {}.",
                        subscriber.describe(),
                        text::channel(ctx.request.channel)
                    )
                }),
                relied_on,
            )
        };
    }
    let message = ctx.text(|| {
        let named: Vec<&str> = alternatives
            .iter()
            .map(|(id, _)| match *id {
                R3A => "consent (R3a)",
                R3B => "the commercial soft opt-in (R3b)",
                R3C => "the charity soft opt-in (R3c)",
                other => other,
            })
            .collect();
        let options = match named.as_slice() {
            [] => "a basis this rule set does not provide".to_owned(),
            [one] => (*one).to_owned(),
            [init @ .., last] => format!("{} or {last}", init.join(", ")),
        };
        let charity = if alternatives.iter().any(|(id, _)| *id == R3C) {
            String::new()
        } else {
            format!(" (rule set {} has no charity soft opt-in)", ctx.rule_set.id)
        };
        format!(
            "{} marketing to {} needs {options}{charity}; none holds.",
            text::capitalise(text::channel(ctx.request.channel)),
            subscriber.describe()
        )
    });
    RuleFinding::failed(
        message.clone(),
        vec![ctx.reason(
            R3,
            "no_basis_for_electronic_mail",
            || message,
            subscriber.evidence(),
        )],
    )
}

/// R6: the sender is identified and the message carries an opt-out.
pub(crate) fn evaluate_r6(ctx: &Ctx<'_>) -> RuleFinding {
    if let Some(not_applicable) = APPLIES.outside(ctx) {
        return not_applicable;
    }
    let mut reasons = Vec::new();
    if !ctx.request.sender_identified {
        reasons.push(ctx.reason(
            R6,
            "sender_not_identified",
            || {
                "The message does not identify the sender; every electronic marketing message must \
                 (reg 23)."
                    .to_owned()
            },
            vec![],
        ));
    }
    if !ctx.request.opt_out_included {
        reasons.push(ctx.reason(
            R6,
            "no_opt_out_in_message",
            || {
                "The message gives no valid address or simple means to opt out; every electronic \
                 marketing message must (reg 23), and for a soft opt-in it is part of the message \
                 (reg 22(3)(c))."
                    .to_owned()
            },
            vec![],
        ));
    }
    if reasons.is_empty() {
        RuleFinding::satisfied(
            "The message identifies the sender and offers an opt-out.",
            vec![],
        )
    } else {
        RuleFinding::blocked(
            "The message lacks what reg 23 requires of every electronic marketing message.",
            reasons,
        )
    }
}
