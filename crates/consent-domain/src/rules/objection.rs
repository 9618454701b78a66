//! R1 Objection and opt-out win (UK GDPR Art 21(2), 21(3), 21(5); PECR reg
//! 22(3)(c)).
//!
//! * An objection to direct marketing is absolute for this organisation, on
//!   every channel, post included, however it arrived (Art 21(5): also by
//!   automated means such as a GPC signal).
//! * An opt-out stops the channels it names (or all of them).
//! * A refusal defeats every consent and sale before it. Only a later,
//!   fresh consent that counts (see [`super::consent`]) restores
//!   eligibility, and only for that consent's channels and purposes; a new
//!   sale never does (that is R3b's to say).

use super::consent::Consents;
use super::finding::{Ctx, Finding};
use super::ids::R1;
use super::text;
use super::text::capitalise;
use crate::rules::facts::Refusal;

pub(crate) fn evaluate(ctx: &Ctx<'_>, consents: &Consents<'_>) -> Finding {
    if !ctx.marketing {
        return Finding::not_applicable(
            "Not direct marketing: objections and opt-outs concern marketing only.",
        );
    }
    let channel = ctx.request.channel;
    let refusals = ctx.facts.refusals(channel);
    let Some(latest) = refusals.clone().next_back() else {
        return Finding::satisfied(
            ctx.text(|| {
                format!(
                    "No objection and no opt-out covering {} as of {}.",
                    text::channel(channel),
                    ctx.facts.at
                )
            }),
            vec![],
        );
    };
    if let Some(fresh) = consents.current() {
        // A current consent has no refusal at or after it, so every refusal
        // on record came before it.
        return Finding::satisfied(
            ctx.text(|| {
                format!(
                    "{} is superseded for {} and {} by the later {}.",
                    capitalise(&latest.describe()),
                    text::channel(channel),
                    text::purpose(ctx.request.purpose),
                    fresh.describe()
                )
            }),
            vec![fresh.consent.id()],
        );
    }
    let mut reasons = Vec::new();
    let objections = refusals
        .clone()
        .filter(|r| matches!(r, Refusal::Objection(_)));
    if let Some(last) = objections.clone().next_back() {
        reasons.push(ctx.reason(
            R1,
            "objection_recorded",
            || {
                format!(
                    "{} recorded {}: an objection is absolute for {} on every channel, post \
                     included, until a later consent covers the channel and purpose.",
                    ctx.subject(),
                    last.describe(),
                    ctx.organisation()
                )
            },
            objections.map(|r| r.id()).collect(),
        ));
    }
    let opt_outs = refusals.filter(|r| matches!(r, Refusal::OptOut(_)));
    if let Some(last) = opt_outs.clone().next_back() {
        reasons.push(ctx.reason(
            R1,
            "opted_out",
            || {
                format!(
                    "{} recorded {}; no later consent covers {} for {}.",
                    ctx.subject(),
                    last.describe(),
                    text::channel(channel),
                    text::purpose(ctx.request.purpose)
                )
            },
            opt_outs.map(|r| r.id()).collect(),
        ));
    }
    Finding::blocked(
        ctx.text(|| {
            format!(
                "{} refused marketing ({}); nothing since restores {}.",
                ctx.subject(),
                latest.describe(),
                text::channel(channel)
            )
        }),
        reasons,
    )
}
