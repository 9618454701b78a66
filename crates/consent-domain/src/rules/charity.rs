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

use super::decision::{LawfulBasis, Reason};
use super::finding::{Ctx, Finding};
use super::ids::R3C;
use super::soft_opt_in::refusals;
use super::text;
use super::text::capitalise;
use crate::event::{CharitySupportRecorded, Fact};
use crate::identity::EventId;
use crate::vocabulary::{CollectionRoute, OrganisationKind, Purpose};

pub(crate) fn evaluate(ctx: &Ctx<'_>) -> Finding {
    let request = ctx.request;
    let Some(offered) = ctx.rule_set.charity_soft_opt_in() else {
        let message = ctx.text(|| {
            format!(
                "Rule set {} does not say from when the charity soft opt-in applies.",
                ctx.rule_set.id
            )
        });
        return Finding::failed(
            message.clone(),
            vec![ctx.reason(
                R3C,
                "charity_soft_opt_in_not_in_rule_set",
                || message,
                vec![],
            )],
        );
    };
    let from = offered.details_obtained_from;
    let mut reasons: Vec<Reason> = Vec::new();
    let mut relied_on: Vec<EventId> = Vec::new();

    let registration = ctx.facts.registration();
    let charity = registration.is_some_and(|r| r.fact.kind == OrganisationKind::Charity);
    if !charity && request.purpose != Purpose::Charitable {
        return Finding::not_applicable(ctx.text(|| {
            format!(
                "Neither a charity's message nor one for charitable purposes ({} by {}).",
                text::purpose(request.purpose),
                registration.map_or("an unregistered sender", |r| text::organisation_kind(
                    r.fact.kind
                ))
            )
        }));
    }
    match registration {
        // R0 reports the missing registration.
        None => {}
        Some(r) if r.fact.kind != OrganisationKind::Charity => reasons.push(ctx.reason(
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
        )),
        Some(r)
            if r.fact
                .charity_register_number
                .as_deref()
                .is_none_or(|n| n.trim().is_empty()) =>
        {
            reasons.push(ctx.reason(
                R3C,
                "charity_register_number_missing",
                || {
                    format!(
                        "{} is registered as a charity without a charity register number.",
                        ctx.organisation()
                    )
                },
                vec![r.id()],
            ))
        }
        Some(r) => relied_on.push(r.id()),
    }
    if request.purpose != Purpose::Charitable {
        reasons.push(ctx.reason(
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
        ));
    } else if !request.sole_charitable_purpose {
        reasons.push(ctx.reason(
            R3C,
            "not_sole_charitable_purpose",
            || {
                "The message's sole purpose must be furthering the charity's charitable purposes; \
                 this one is not declared so."
                    .to_owned()
            },
            vec![],
        ));
    }
    if !request.opt_out_included {
        reasons.push(ctx.reason(
            R3C,
            "no_opt_out_in_message",
            || {
                "Every charity soft opt-in message must offer a simple means to refuse; this one \
                 does not."
                    .to_owned()
            },
            vec![],
        ));
    }

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
        let collection = &support.fact.collection;
        let before = support_reasons.len();
        if collection.route != CollectionRoute::Direct {
            support_reasons.push(ctx.reason(
                R3C,
                "support_not_collected_directly",
                || {
                    format!(
                        "For {what} the details were obtained {}, not directly by {} itself.",
                        text::route(collection.route),
                        ctx.organisation()
                    )
                },
                vec![support.id()],
            ));
        }
        if support.at() < from {
            support_reasons.push(ctx.reason(
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
                vec![support.id()],
            ));
        }
        if !collection.opt_out_offered {
            support_reasons.push(ctx.reason(
                R3C,
                "no_opt_out_offered_at_collection",
                || {
                    format!(
                        "No simple means to refuse was offered when the details were collected \
                         ({what})."
                    )
                },
                vec![support.id()],
            ));
        }
        if text::contact_points_conflict(
            collection.contact_point.as_ref(),
            request.contact_point.as_ref(),
        ) {
            support_reasons.push(ctx.reason(
                R3C,
                "contact_point_not_collected",
                || {
                    format!(
                        "The details collected with {what} are not the address this message goes \
                         to."
                    )
                },
                vec![support.id()],
            ));
        }
        if support_reasons.len() == before {
            qualifying = Some((support, what));
        }
    }

    if reasons.is_empty() && registration.is_some() {
        if let Some((support, what)) = qualifying {
            relied_on.insert(0, support.id());
            return Finding::grants(
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
            reasons.push(ctx.reason(
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
            ));
        }
        reasons.extend(support_reasons);
    }
    let detail = if registration.is_none() && reasons.is_empty() {
        "The sender is not registered (R0), so it cannot be shown to be a charity."
    } else {
        "The charity soft opt-in does not hold."
    };
    Finding::failed(detail, reasons)
}

fn describe(support: &CharitySupportRecorded, at: crate::time::Timestamp) -> String {
    format!("{} on {at}", text::support(support.kind))
}
