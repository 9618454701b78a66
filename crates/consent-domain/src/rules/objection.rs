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

use super::applicability::Applicability;
use super::consent::{Assessed, Consents};
use super::finding::{Ctx, RuleFinding};
use super::ids::R1;
use super::text;
use super::text::capitalise;
use crate::identity::EventId;
use crate::rules::facts::Refusal;

/// R1: direct marketing, on every channel.
pub(crate) const APPLIES: Applicability = Applicability::marketing(
    "Not direct marketing: objections and opt-outs concern marketing only.",
);

pub(crate) fn evaluate(ctx: &Ctx<'_>, consents: &Consents<'_>) -> RuleFinding {
    if let Some(not_applicable) = APPLIES.outside(ctx) {
        return not_applicable;
    }
    let channel = ctx.request.channel;
    let refusals = ctx.facts.refusals(channel);
    let Some(latest) = Refusal::latest(refusals.clone()) else {
        return RuleFinding::satisfied(
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
    // A consent that counts has no refusal at or after it, so every
    // refusal on record came before it. One received for an address the
    // message may go to is lifted only by a consent given for that address.
    let lifted_by = |refusal: &Refusal<'_>| -> Option<&Assessed<'_>> {
        match refusal.address().filter(|_| refusal.by_address) {
            Some(address) => consents.current_naming(&address.value),
            None => consents.current(),
        }
    };
    let standing = refusals.clone().filter(|r| lifted_by(r).is_none());
    if standing.clone().next().is_none() {
        let mut lifting: Vec<EventId> = refusals
            .filter_map(|r| lifted_by(&r).map(|c| c.consent.id()))
            .collect();
        lifting.sort_unstable();
        lifting.dedup();
        let fresh = consents
            .current()
            .expect("a refusal is lifted only by a consent that counts");
        return RuleFinding::satisfied(
            ctx.text(|| {
                format!(
                    "{} is superseded for {} and {} by the later {}.",
                    capitalise(&latest.describe()),
                    text::channel(channel),
                    text::purpose(ctx.request.purpose),
                    fresh.describe()
                )
            }),
            lifting,
        );
    }
    let mut reasons = Vec::new();
    let kinds: [(bool, bool, &'static str); 4] = [
        (true, true, "objection_recorded"),
        (true, false, "opted_out"),
        (false, true, "address_objected"),
        (false, false, "address_opted_out"),
    ];
    for (under_subject, objection, code) in kinds {
        let these = standing
            .clone()
            .filter(|r| r.under_subject == under_subject && r.is_objection() == objection);
        let Some(last) = Refusal::latest(these.clone()) else {
            continue;
        };
        let mut events: Vec<(crate::time::Timestamp, EventId)> =
            these.map(|r| (r.at(), r.id())).collect();
        events.sort_unstable();
        let events = events.into_iter().map(|(_, id)| id).collect();
        reasons.push(ctx.reason(R1, code, || explain(ctx, &last, code), events));
    }
    let last = Refusal::latest(standing).unwrap_or(latest);
    RuleFinding::blocked(
        ctx.text(|| {
            let who = if last.under_subject {
                ctx.subject().to_owned()
            } else {
                "The address".to_owned()
            };
            format!(
                "{who} refused marketing ({}); nothing since restores {}.",
                last.describe(),
                text::channel(channel)
            )
        }),
        reasons,
    )
}

/// The sentence of a reason against, for the latest refusal of its kind.
fn explain(ctx: &Ctx<'_>, last: &Refusal<'_>, code: &str) -> String {
    let channel = ctx.request.channel;
    let by_address = last.address().filter(|_| last.by_address);
    let lifting = || match by_address {
        Some(address) => format!(
            "later consent given for the {} covering {} for {}",
            text::contact_point(address),
            text::channel(channel),
            text::purpose(ctx.request.purpose)
        ),
        None => format!(
            "later consent covering {} for {}",
            text::channel(channel),
            text::purpose(ctx.request.purpose)
        ),
    };
    match code {
        "objection_recorded" if by_address.is_none() => format!(
            "{} recorded {}: an objection is absolute for {} on every channel, post included, \
             until a later consent covers the channel and purpose.",
            ctx.subject(),
            last.describe(),
            ctx.organisation()
        ),
        "objection_recorded" => format!(
            "{} recorded {}: an objection is absolute for {} on every channel, post included, \
             and one received for an address holds for it whichever subject it is used for, \
             until a {}.",
            ctx.subject(),
            last.describe(),
            ctx.organisation(),
            lifting()
        ),
        "opted_out" if by_address.is_none() => format!(
            "{} recorded {}; no later consent covers {} for {}.",
            ctx.subject(),
            last.describe(),
            text::channel(channel),
            text::purpose(ctx.request.purpose)
        ),
        "opted_out" => format!(
            "{} recorded {}, which holds for that address whichever subject it is used for; there \
             is no {}.",
            ctx.subject(),
            last.describe(),
            lifting()
        ),
        "address_objected" => format!(
            "{} was recorded for that address, not for {}: an objection received for an address \
             suppresses it for {} on every channel, post included, whichever subject the message \
             is addressed to (Art 21(3)), until a {}.",
            capitalise(&last.describe()),
            ctx.subject(),
            ctx.organisation(),
            lifting()
        ),
        _ => format!(
            "{} was recorded for that address, not for {}: an opt-out received for an address \
             suppresses it for {} on the channels it names, whichever subject the message is \
             addressed to; there is no {}.",
            capitalise(&last.describe()),
            ctx.subject(),
            ctx.organisation(),
            lifting()
        ),
    }
}
