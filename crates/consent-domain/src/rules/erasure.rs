//! R9 Erasure suppresses the subject (UK GDPR Art 17(1)(c), Art 21(3)).
//!
//! Once erasure is requested the organisation keeps only what it needs to
//! suppress the subject: nothing may be sent, on any channel, service
//! messages included. No later fact about the same subject lifts it (fail
//! closed).
//!
//! The suppression follows the person, not only the identifier: a message
//! to a contact on the organisation's suppression list (`ContactsSuppressed`,
//! appended with every erasure) is refused whatever subject it is addressed
//! to, so re-importing an erased address under a new customer id does not
//! bring it back.

use super::applicability::Applicability;
use super::finding::{Ctx, RuleFinding};
use super::ids::R9;
use super::text;
use crate::event::Fact;

/// R9: every question, service messages included.
pub(crate) const APPLIES: Applicability = Applicability::EVERY_QUESTION;

pub(crate) fn evaluate(ctx: &Ctx<'_>) -> RuleFinding {
    let requests: Vec<_> = ctx
        .facts
        .each(|f| match f {
            Fact::ErasureRequested(e) => Some(e),
            _ => None,
        })
        .collect();
    let Some(first) = requests.first() else {
        return contact_suppression(ctx);
    };
    let message = ctx.text(|| {
        let reason = if first.fact.reason.trim().is_empty() {
            String::new()
        } else {
            format!(" ({})", first.fact.reason.trim())
        };
        format!(
            "{} asked {} to erase their data on {}{reason}: the subject is suppressed on every \
             channel.",
            ctx.subject(),
            ctx.organisation(),
            first.at()
        )
    });
    RuleFinding::blocked(
        message.clone(),
        vec![ctx.reason(
            R9,
            "erasure_requested",
            || message,
            requests.iter().map(|r| r.id()).collect(),
        )],
    )
}

/// No erasure of this subject: is an address the message may go to (the
/// check's contact point, or else the subject's recorded addresses for the
/// channel) on the organisation's suppression list?
fn contact_suppression(ctx: &Ctx<'_>) -> RuleFinding {
    let suppressions = ctx
        .facts
        .destinations
        .iter()
        .map(|contact| (*contact, ctx.facts.suppressions_of(contact)))
        .find(|(_, found)| !found.is_empty());
    let Some((contact, found)) = suppressions else {
        return RuleFinding::satisfied(
            ctx.text(|| format!("No erasure request as of {}.", ctx.facts.at)),
            vec![],
        );
    };
    let first = found[0];
    let message = ctx.text(|| {
        format!(
            "The {} was put on {}'s suppression list when another subject ({}) asked to be erased \
             on {}: it is never marketed to again, under any subject.",
            text::contact_point(contact),
            ctx.organisation(),
            first.fact.erased_subject,
            first.at()
        )
    });
    RuleFinding::blocked(
        message.clone(),
        vec![ctx.reason(
            R9,
            "contact_suppressed",
            || message,
            found.iter().map(|s| s.id()).collect(),
        )],
    )
}
