//! R3c Charity soft opt-in (PECR reg 22(3A), inserted by DUAA 2025 s.114;
//! in force 5 February 2026, SI 2026/82). Only in rule sets that have it.
//!
//! * the sender is registered as a charity, with its register number;
//! * the message is for charitable purposes and its sole purpose is
//!   furthering them;
//! * the charity obtained the details itself, directly from the person
//!   (not via a trading subsidiary, a fundraising platform or any third
//!   party), while the person expressed interest in, offered or gave
//!   support, on or after the rule set's start date: the provision is not
//!   retrospective, but an earlier supporter who gives again after the date
//!   qualifies through that new support;
//! * an opt-out was offered at collection and not taken, and is offered in
//!   this message; no refusal since (as for R3b).
//!
//! Before the start date a charity has no soft opt-in for its charitable
//! purposes at all; it may still use R3b when it sells goods or services.

use super::collection::{Collected, Wording};
use super::decision::{LawfulBasis, Reason};
use super::facts::Known;
use super::finding::{Ctx, RuleFinding};
use super::ids::R3C;
use super::soft_opt_in::refusals;
use super::text;
use super::text::capitalise;
use crate::event::{CharitySupportRecorded, Fact, OrganisationRegistered};
use crate::identity::EventId;
use crate::time::Timestamp;
use crate::vocabulary::{DetailsCollection, OrganisationKind, Purpose};

/// How R3c words the collection conditions it shares with R3b.
const WORDING: Wording = Wording {
    rule: R3C,
    not_direct_code: "support_not_collected_directly",
    not_direct: |ctx, what, route| {
        format!(
            "For {what} the details were obtained {route}, not directly by {} itself.",
            ctx.organisation()
        )
    },
    no_opt_out_offered: |what| {
        format!("No simple means to refuse was offered when the details were collected ({what}).")
    },
};

pub(crate) fn evaluate(ctx: &Ctx<'_>) -> RuleFinding {
    let Some(offered) = ctx.rule_set.charity_soft_opt_in() else {
        return not_in_rule_set(ctx);
    };
    let from = offered.details_obtained_from;
    let registration = ctx.facts.registration();
    let charity = registration.is_some_and(|r| r.fact.kind == OrganisationKind::Charity);
    if !charity && ctx.request.purpose != Purpose::Charitable {
        return neither_a_charity_nor_charitable(ctx, registration);
    }
    let mut reasons: Vec<Reason> = Vec::new();
    let mut relied_on: Vec<EventId> = Vec::new();
    match registration {
        // R0 reports the missing registration.
        None => {}
        Some(r) => match sender_is_a_registered_charity(ctx, r) {
            Some(reason) => reasons.push(reason),
            None => relied_on.push(r.id()),
        },
    }
    reasons.extend(solely_for_charitable_purposes(ctx));
    reasons.extend(message_offers_an_opt_out(ctx));

    let supports: Vec<_> = ctx
        .facts
        .each(|f| match f {
            Fact::CharitySupportRecorded(s) => Some(s),
            _ => None,
        })
        .map(|s| (s, ctx.text(|| describe(s.fact, s.at()))))
        .collect();
    if !supports.is_empty() {
        reasons.extend(refusals(
            ctx,
            R3C,
            supports
                .iter()
                .map(|(s, what)| (s.event, &s.fact.collection, what.as_str())),
        ));
    }

    let mut support_reasons = Vec::new();
    let mut qualifying = None;
    for (support, what) in &supports {
        let defects = support_defects(
            ctx,
            support.id(),
            &support.fact.collection,
            support.at(),
            what,
            from,
        );
        if defects.is_empty() {
            qualifying = Some((support, what));
        }
        support_reasons.extend(defects);
    }

    if reasons.is_empty() && registration.is_some() {
        if let Some((support, what)) = qualifying {
            relied_on.insert(0, support.id());
            return RuleFinding::grants(
                LawfulBasis::CharitySoftOptIn,
                ctx.text(|| {
                    format!(
                        "{}: details obtained directly by the charity on or after {from}, an \
                         opt-out offered then and not taken, and this message, solely for its \
                         charitable purposes, offers one.",
                        capitalise(what)
                    )
                }),
                relied_on,
            );
        }
    }
    if qualifying.is_none() {
        if supports.is_empty() {
            reasons.push(no_support_recorded(ctx));
        }
        reasons.extend(support_reasons);
    }
    let detail = if registration.is_none() && reasons.is_empty() {
        "The sender is not registered (R0), so it cannot be shown to be a charity."
    } else {
        "The charity soft opt-in does not hold."
    };
    RuleFinding::failed(detail, reasons)
}

/// A rule set without the provision's start date cannot apply it.
fn not_in_rule_set(ctx: &Ctx<'_>) -> RuleFinding {
    let message = ctx.text(|| {
        format!(
            "Rule set {} does not say from when the charity soft opt-in applies.",
            ctx.rule_set.id
        )
    });
    RuleFinding::failed(
        message.clone(),
        vec![ctx.reason(
            R3C,
            "charity_soft_opt_in_not_in_rule_set",
            || message,
            vec![],
        )],
    )
}

fn neither_a_charity_nor_charitable(
    ctx: &Ctx<'_>,
    registration: Option<Known<'_, OrganisationRegistered>>,
) -> RuleFinding {
    RuleFinding::not_applicable(ctx.text(|| {
        format!(
            "Neither a charity's message nor one for charitable purposes ({} by {}).",
            text::purpose(ctx.request.purpose),
            registration.map_or("an unregistered sender", |r| text::organisation_kind(
                r.fact.kind
            ))
        )
    }))
}

/// The sender is registered as a charity, with its register number.
fn sender_is_a_registered_charity(
    ctx: &Ctx<'_>,
    registration: Known<'_, OrganisationRegistered>,
) -> Option<Reason> {
    let r = registration;
    if r.fact.kind != OrganisationKind::Charity {
        return Some(ctx.reason(
            R3C,
            "not_a_charity",
            || {
                format!(
                    "{} is registered as {}; the charity soft opt-in is for charities only.",
                    ctx.organisation(),
                    text::organisation_kind(r.fact.kind)
                )
            },
            vec![r.id()],
        ));
    }
    let number_missing = r
        .fact
        .charity_register_number
        .as_deref()
        .is_none_or(|n| n.trim().is_empty());
    number_missing.then(|| {
        ctx.reason(
            R3C,
            "charity_register_number_missing",
            || {
                format!(
                    "{} is registered as a charity without a charity register number.",
                    ctx.organisation()
                )
            },
            vec![r.id()],
        )
    })
}

/// The message is for charitable purposes, and furthering them is its
/// sole purpose.
fn solely_for_charitable_purposes(ctx: &Ctx<'_>) -> Option<Reason> {
    let request = ctx.request;
    if request.purpose != Purpose::Charitable {
        Some(ctx.reason(
            R3C,
            "charitable_purpose_only",
            || {
                format!(
                    "The charity soft opt-in covers only messages furthering charitable purposes; \
                     this message is for {}.",
                    text::purpose(request.purpose)
                )
            },
            vec![],
        ))
    } else if !request.sole_charitable_purpose {
        Some(ctx.reason(
            R3C,
            "not_sole_charitable_purpose",
            || {
                "The message's sole purpose must be furthering the charity's charitable purposes; \
                 this one is not declared so."
                    .to_owned()
            },
            vec![],
        ))
    } else {
        None
    }
}

/// This message offers a simple means to refuse.
fn message_offers_an_opt_out(ctx: &Ctx<'_>) -> Option<Reason> {
    (!ctx.request.opt_out_included).then(|| {
        ctx.reason(
            R3C,
            "no_opt_out_in_message",
            || {
                "Every charity soft opt-in message must offer a simple means to refuse; this one \
                 does not."
                    .to_owned()
            },
            vec![],
        )
    })
}

/// The details of one support: collected directly by the charity, on or
/// after the provision's start date (not retrospective), with an opt-out
/// offered, for this address.
fn support_defects(
    ctx: &Ctx<'_>,
    event: EventId,
    collection: &DetailsCollection,
    at: Timestamp,
    what: &str,
    from: Timestamp,
) -> Vec<Reason> {
    let collected = Collected {
        event,
        collection,
        what,
    };
    let mut reasons = Vec::new();
    reasons.extend(collected.directly(ctx, &WORDING));
    if at < from {
        reasons.push(ctx.reason(
            R3C,
            "support_before_charity_soft_opt_in",
            || {
                format!(
                    "{} predates {from}: details obtained before the charity soft opt-in came \
                     into force do not qualify; support given again on or after that date \
                     does.",
                    capitalise(what)
                )
            },
            vec![event],
        ));
    }
    reasons.extend(collected.with_an_opt_out_offered(ctx, &WORDING));
    reasons.extend(collected.for_this_address(ctx, &WORDING));
    reasons
}

fn no_support_recorded(ctx: &Ctx<'_>) -> Reason {
    ctx.reason(
        R3C,
        "no_charity_support_recorded",
        || {
            format!(
                "{} has recorded no support or expression of interest from {} as of {}.",
                ctx.organisation(),
                ctx.subject(),
                ctx.facts.at
            )
        },
        vec![],
    )
}

fn describe(support: &CharitySupportRecorded, at: Timestamp) -> String {
    format!("{} on {at}", text::support(support.kind))
}
