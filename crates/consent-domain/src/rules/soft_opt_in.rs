//! R3b Commercial soft opt-in (PECR reg 22(3); ICO guidance on electronic
//! mail marketing). All five conditions must hold:
//!
//! 1. the sender obtained the details itself, directly from the person
//!    (never from a third party, never shared within a group);
//! 2. in the course of a sale, or negotiations for a sale: an express
//!    request about buying (a quote, details of what is offered), not any
//!    query;
//! 3. the message markets the sender's own similar products or services,
//!    as the organisation's category map (as of the check) says a customer
//!    would reasonably expect; the check must name the category;
//! 4. a simple means to refuse was offered at collection and not taken;
//! 5. a simple means to refuse is offered in this message.
//!
//! Only for commercial marketing of products or services: never for
//! campaigning, and never for a political party. Any refusal (an objection,
//! an opt-out covering the channel, a withdrawal of consent covering the
//! channel and purpose, or an opt-out taken at any collection) ends the soft
//! opt-in for good: a new sale does not restore it. PECR sets no time limit,
//! so neither does the ledger: a qualifying sale years ago still qualifies.

use super::collection::{Collected, Wording};
use super::decision::{LawfulBasis, Reason};
use super::facts::Known;
use super::finding::{Ctx, RuleFinding};
use super::ids::R3B;
use super::text;
use super::text::capitalise;
use crate::event::{Fact, NegotiationRecorded, SaleRecorded};
use crate::fold::Recorded;
use crate::identity::{EventId, ProductCategoryId};
use crate::time::Timestamp;
use crate::vocabulary::{DetailsCollection, OrganisationKind, Purpose};

/// A sale or a negotiation that might carry a soft opt-in.
struct Candidate<'a> {
    event: &'a Recorded<Fact>,
    /// "the sale of cars on 2025-01-10T00:00:00Z"
    what: String,
    category: &'a ProductCategoryId,
    collection: &'a DetailsCollection,
    /// `false` for a general enquiry.
    negotiation_for_sale: bool,
}

fn candidates<'a>(ctx: &Ctx<'a>) -> Vec<Candidate<'a>> {
    ctx.facts
        .subject
        .iter()
        .filter_map(|event| match &event.fact {
            Fact::SaleRecorded(SaleRecorded {
                product_category,
                collection,
                ..
            }) => Some(Candidate {
                event,
                what: ctx
                    .text(|| format!("the sale of {product_category} on {}", event.occurred_at)),
                category: product_category,
                collection,
                negotiation_for_sale: true,
            }),
            Fact::NegotiationRecorded(NegotiationRecorded {
                product_category,
                kind,
                collection,
            }) => Some(Candidate {
                event,
                what: ctx.text(|| {
                    format!(
                        "{} about {product_category} on {}",
                        text::negotiation(*kind),
                        event.occurred_at
                    )
                }),
                category: product_category,
                collection,
                negotiation_for_sale: kind.is_negotiation_for_sale(),
            }),
            _ => None,
        })
        .collect()
}

/// How R3b words the collection conditions it shares with R3c.
const WORDING: Wording = Wording {
    rule: R3B,
    not_direct_code: "details_not_collected_directly",
    not_direct: |ctx, what, route| {
        format!(
            "Condition 1: for {what} the details were obtained {route}, not directly from {} by \
             {}.",
            ctx.subject(),
            ctx.organisation()
        )
    },
    no_opt_out_offered: |what| {
        format!(
            "Condition 4: no simple means to refuse was offered when the details were collected \
             ({what})."
        )
    },
};

pub(crate) fn evaluate(ctx: &Ctx<'_>) -> RuleFinding {
    let mut reasons: Vec<Reason> = Vec::new();
    let mut relied_on: Vec<EventId> = Vec::new();
    reasons.extend(markets_products_or_services(ctx));
    let registration = ctx.facts.registration();
    match registration {
        // R0 reports the missing registration; without it the sender's
        // kind is unknown and the soft opt-in cannot be shown.
        None => {}
        Some(r) => match sender_is_not_a_political_party(ctx, r) {
            Some(reason) => reasons.push(reason),
            None => relied_on.push(r.id()),
        },
    }
    reasons.extend(message_offers_an_opt_out(ctx));

    let candidates = candidates(ctx);
    // Condition 3 is about what was bought: asked only when something was.
    let categories = ctx.facts.categories();
    if !candidates.is_empty() {
        match similarity_can_be_shown(ctx, categories) {
            Ok(Some(map)) => relied_on.push(map),
            Ok(None) => {}
            Err(reason) => reasons.push(reason),
        }
        reasons.extend(refusals(
            ctx,
            R3B,
            candidates
                .iter()
                .map(|c| (c.event, c.collection, c.what.as_str())),
        ));
    }

    let mut candidate_reasons = Vec::new();
    let mut qualifying = None;
    for candidate in &candidates {
        let defects = candidate_defects(ctx, candidate, categories);
        if defects.is_empty() {
            qualifying = Some(candidate);
        }
        candidate_reasons.extend(defects);
    }

    if reasons.is_empty() && registration.is_some() {
        if let (Some(candidate), Some(marketed)) = (qualifying, &ctx.request.product_category) {
            relied_on.insert(0, candidate.event.id);
            return RuleFinding::grants(
                LawfulBasis::SoftOptIn,
                ctx.text(|| {
                    format!(
                        "{}: details obtained directly by {}, {marketed} is similar to {} in its \
                         category map, an opt-out was offered at collection and not taken, and \
                         this message offers one.",
                        capitalise(&candidate.what),
                        ctx.organisation(),
                        candidate.category
                    )
                }),
                relied_on,
            );
        }
    }
    if qualifying.is_none() {
        if candidates.is_empty() {
            reasons.push(no_sale_or_negotiation(ctx));
        }
        reasons.extend(candidate_reasons);
    }
    let detail = if registration.is_none() && reasons.is_empty() {
        "The sender is not registered (R0), so its soft opt-in cannot be shown."
    } else {
        "The commercial soft opt-in does not hold."
    };
    RuleFinding::failed(detail, reasons)
}

/// Only marketing of products or services: never campaigning.
fn markets_products_or_services(ctx: &Ctx<'_>) -> Option<Reason> {
    let purpose = ctx.request.purpose;
    (purpose != Purpose::Commercial).then(|| {
        ctx.reason(
            R3B,
            "soft_opt_in_commercial_only",
            || {
                format!(
                    "The soft opt-in covers only marketing of products or services; this message \
                     is for {}.",
                    text::purpose(purpose)
                )
            },
            vec![],
        )
    })
}

/// Never for a political party: its marketing promotes its aims and ideals.
fn sender_is_not_a_political_party(
    ctx: &Ctx<'_>,
    registration: Known<'_, crate::event::OrganisationRegistered>,
) -> Option<Reason> {
    (registration.fact.kind == OrganisationKind::PoliticalParty).then(|| {
        ctx.reason(
            R3B,
            "soft_opt_in_not_for_political_parties",
            || {
                format!(
                "{} is a political party: its marketing promotes its aims and ideals, which the \
                 soft opt-in never covers.",
                ctx.organisation()
            )
            },
            vec![registration.id()],
        )
    })
}

/// Condition 5: this message offers a simple means to refuse.
fn message_offers_an_opt_out(ctx: &Ctx<'_>) -> Option<Reason> {
    (!ctx.request.opt_out_included).then(|| {
        ctx.reason(
            R3B,
            "no_opt_out_in_message",
            || {
                "Condition 5: every soft opt-in message must offer a simple means to refuse; this \
                 one does not."
                    .to_owned()
            },
            vec![],
        )
    })
}

/// Condition 3 needs a category to compare and a map to compare it in:
/// the map relied on, or why similarity cannot be shown.
fn similarity_can_be_shown(
    ctx: &Ctx<'_>,
    categories: Option<Known<'_, crate::event::ProductCategoriesDefined>>,
) -> Result<Option<EventId>, Reason> {
    match (&ctx.request.product_category, categories) {
        (None, _) => Err(ctx.reason(
            R3B,
            "product_category_missing",
            || {
                "The check names no product category, so the message cannot be shown to market \
                 similar products or services."
                    .to_owned()
            },
            vec![],
        )),
        (Some(_), None) => Err(ctx.reason(
            R3B,
            "product_categories_undefined",
            || {
                format!(
                    "{} has defined no product categories as of {}, so similarity cannot be shown.",
                    ctx.organisation(),
                    ctx.facts.at
                )
            },
            vec![],
        )),
        (Some(_), Some(c)) => Ok(Some(c.id())),
    }
}

/// Condition 2 has nothing to stand on.
fn no_sale_or_negotiation(ctx: &Ctx<'_>) -> Reason {
    ctx.reason(
        R3B,
        "no_sale_or_negotiation",
        || {
            format!(
                "{} has recorded no sale to, or negotiation for a sale with, {} as of {}.",
                ctx.organisation(),
                ctx.subject(),
                ctx.facts.at
            )
        },
        vec![],
    )
}

/// Conditions 1 to 4 (less the opt-out taken, which [`refusals`] reports)
/// for one sale or negotiation.
fn candidate_defects(
    ctx: &Ctx<'_>,
    candidate: &Candidate<'_>,
    categories: Option<Known<'_, crate::event::ProductCategoriesDefined>>,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let id = candidate.event.id;
    let collected = Collected {
        event: id,
        collection: candidate.collection,
        what: &candidate.what,
    };
    reasons.extend(collected.directly(ctx, &WORDING));
    if !candidate.negotiation_for_sale {
        reasons.push(ctx.reason(
            R3B,
            "not_negotiation_for_sale",
            || {
                format!(
                    "Condition 2: {} was not a negotiation for a sale (a quote or details of what \
                     is offered), and any query is not enough.",
                    candidate.what
                )
            },
            vec![id],
        ));
    }
    if let (Some(marketed), Some(categories)) = (&ctx.request.product_category, categories) {
        if !categories.fact.is_similar(candidate.category, marketed) {
            reasons.push(ctx.reason(
                R3B,
                "category_not_similar",
                || {
                    format!(
                        "Condition 3: {marketed} is not similar to {} in {}'s category map of {}: \
                         a customer for {} would not reasonably expect it ({}).",
                        candidate.category,
                        ctx.organisation(),
                        categories.at(),
                        candidate.category,
                        candidate.what
                    )
                },
                vec![id, categories.id()],
            ));
        }
    }
    reasons.extend(collected.with_an_opt_out_offered(ctx, &WORDING));
    reasons.extend(collected.for_this_address(ctx, &WORDING));
    reasons
}

/// Refusals that end a soft opt-in (R3b or R3c) for good: objections,
/// opt-outs covering the channel, consent withdrawals covering the channel
/// and purpose, and an opt-out taken at any of the given collections.
pub(crate) fn refusals<'a>(
    ctx: &Ctx<'_>,
    rule: &str,
    collections: impl Iterator<Item = (&'a Recorded<Fact>, &'a DetailsCollection, &'a str)>,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    for (event, collection, what) in collections {
        if collection.opt_out_taken {
            reasons.push(ctx.reason(
                rule,
                "opt_out_taken_at_collection",
                || {
                    format!(
                        "{} took the opt-out offered when the details were collected ({what}); \
                         that refusal stands against every later soft opt-in.",
                        ctx.subject()
                    )
                },
                vec![event.id],
            ));
        }
    }
    let channel = ctx.request.channel;
    let mut later: Vec<(Timestamp, EventId, String)> = ctx
        .facts
        .refusals(channel)
        .map(|r| (r.at(), r.id(), ctx.text(|| r.describe())))
        .collect();
    later.extend(
        ctx.facts
            .withdrawals(channel, ctx.request.purpose)
            .map(|w| {
                (
                    w.at(),
                    w.id(),
                    ctx.text(|| format!("a withdrawal of consent on {}", w.at())),
                )
            }),
    );
    later.sort_by_key(|(at, id, _)| (*at, *id));
    if let Some((_, _, latest)) = later.last() {
        reasons.push(ctx.reason(
            rule,
            "refused_marketing",
            || {
                format!(
                    "{} refused {} marketing: {latest}. A sale or support, before or after, does \
                     not restore a soft opt-in.",
                    ctx.subject(),
                    text::channel(channel)
                )
            },
            later.iter().map(|(_, id, _)| *id).collect(),
        ));
    }
    reasons
}
