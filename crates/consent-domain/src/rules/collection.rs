//! The conditions on how a person's details were collected that both soft
//! opt-ins share, written once: R3b (PECR reg 22(3)(a) and (c)) and R3c
//! (reg 22(3A)(a) and (c), inserted by DUAA 2025 s.114).
//!
//! * the sender obtained the details itself, directly from the person;
//! * a simple means to refuse was offered when they were collected;
//! * the address the message goes to is among the details collected.
//!
//! An opt-out *taken* at collection is a refusal, which ends either soft
//! opt-in for good: [`super::soft_opt_in::refusals`] reports it with the
//! later ones.

use super::decision::Reason;
use super::finding::Ctx;
use super::text;
use crate::identity::EventId;
use crate::vocabulary::{CollectionRoute, DetailsCollection};

/// How one rule words the shared conditions (its reasons' codes and texts
/// are its own; what they test is not).
pub(crate) struct Wording {
    pub rule: &'static str,
    pub not_direct_code: &'static str,
    /// "… the details were obtained {route}, not directly …", given the
    /// collection's description and its route's words.
    pub not_direct: fn(&Ctx<'_>, &str, &str) -> String,
    /// "… no simple means to refuse was offered …", given the collection's
    /// description.
    pub no_opt_out_offered: fn(&str) -> String,
}

/// One collection of a person's details (a sale, a negotiation, a
/// supporter's gift), as the reasons name it.
pub(crate) struct Collected<'a> {
    pub event: EventId,
    pub collection: &'a DetailsCollection,
    /// "the sale of cars on 2025-01-10T00:00:00Z"
    pub what: &'a str,
}

impl Collected<'_> {
    /// The details were obtained by the sender itself, from the person.
    pub fn directly(&self, ctx: &Ctx<'_>, wording: &Wording) -> Option<Reason> {
        let route = self.collection.route;
        (route != CollectionRoute::Direct).then(|| {
            ctx.reason(
                wording.rule,
                wording.not_direct_code,
                || (wording.not_direct)(ctx, self.what, text::route(route)),
                vec![self.event],
            )
        })
    }

    /// A simple means to refuse was offered when they were collected.
    pub fn with_an_opt_out_offered(&self, ctx: &Ctx<'_>, wording: &Wording) -> Option<Reason> {
        (!self.collection.opt_out_offered).then(|| {
            ctx.reason(
                wording.rule,
                "no_opt_out_offered_at_collection",
                || (wording.no_opt_out_offered)(self.what),
                vec![self.event],
            )
        })
    }

    /// The message goes to an address collected then (or none was named
    /// on either side).
    pub fn for_this_address(&self, ctx: &Ctx<'_>, wording: &Wording) -> Option<Reason> {
        text::contact_points_conflict(
            self.collection.contact_point.as_ref(),
            ctx.request.contact_point.as_ref(),
        )
        .then(|| {
            ctx.reason(
                wording.rule,
                "contact_point_not_collected",
                || {
                    format!(
                        "The details collected with {} are not the address this message goes \
                         to.",
                        self.what
                    )
                },
                vec![self.event],
            )
        })
    }
}
