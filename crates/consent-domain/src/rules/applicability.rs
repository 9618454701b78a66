//! Which questions a rule can apply to, declared by each rule and read by
//! [`super::decide`] before the rule is evaluated.
//!
//! Two things the question says, before any fact is read, put a rule out
//! of play: whether the message is direct marketing (R0's classification,
//! from its class and any promotion: a service message without promotion
//! is subject to R0, R8 and R9 only) and its channel (R3, R3a, R3b, R3c
//! and R6 are about electronic mail, R4 live calls, R5 automated calls, R7
//! post). Outside what it declares, a rule's finding is "not applicable"
//! with the detail the declaration gives, whatever the facts; each rule
//! starts from its declaration, so a rule `decide` does not evaluate is
//! reported exactly as evaluating it would report it.
//!
//! The purpose puts no rule out of play before the facts are read: R3b
//! fails for a purpose other than commercial with reasons that count when
//! no basis holds (refusals among them), and whether R3c applies to a
//! purpose other than charitable depends on the sender's registration.

use super::finding::{Ctx, RuleFinding};
use crate::vocabulary::Channel;

/// The questions a rule can apply to.
#[derive(Clone, Copy)]
pub(crate) struct Applicability {
    /// `None` when the rule applies to every message, service messages
    /// included; otherwise only to direct marketing, and this is its detail
    /// for a message that is not.
    marketing_only: Option<&'static str>,
    /// The channels the rule applies to.
    channels: Channels,
}

/// The channels a rule applies to.
#[derive(Clone, Copy)]
enum Channels {
    Every,
    /// Only these; for another channel the rule's detail is `otherwise`.
    Only {
        channels: &'static [Channel],
        otherwise: Detail,
    },
}

/// A "not applicable" finding's detail.
#[derive(Clone, Copy)]
pub(crate) enum Detail {
    Fixed(&'static str),
    /// Built from the question's channel (when the decision carries texts).
    OfChannel(fn(Channel) -> String),
}

/// A marketing rule's detail for a message that is not direct marketing.
pub(crate) const NOT_MARKETING: &str = "Not direct marketing.";

impl Applicability {
    /// Every question: service messages included, every channel.
    pub const EVERY_QUESTION: Applicability = Applicability {
        marketing_only: None,
        channels: Channels::Every,
    };

    /// Direct marketing on any channel; `not_marketing` is the detail
    /// otherwise.
    pub const fn marketing(not_marketing: &'static str) -> Applicability {
        Applicability {
            marketing_only: Some(not_marketing),
            channels: Channels::Every,
        }
    }

    /// Direct marketing on `channels` only; [`NOT_MARKETING`] or
    /// `otherwise` is the detail otherwise.
    pub const fn marketing_on(channels: &'static [Channel], otherwise: Detail) -> Applicability {
        Applicability {
            marketing_only: Some(NOT_MARKETING),
            channels: Channels::Only {
                channels,
                otherwise,
            },
        }
    }

    /// The rule's finding when the question is outside what it applies to
    /// (not applicable, with its detail); `None` when the rule must be
    /// evaluated. Reads the question only, never a fact.
    pub fn outside(&self, ctx: &Ctx<'_>) -> Option<RuleFinding> {
        if let Some(detail) = self.marketing_only {
            if !ctx.marketing {
                return Some(RuleFinding::not_applicable(detail));
            }
        }
        match self.channels {
            Channels::Only {
                channels,
                otherwise,
            } if !channels.contains(&ctx.request.channel) => Some(match otherwise {
                Detail::Fixed(detail) => RuleFinding::not_applicable(detail),
                Detail::OfChannel(detail) => {
                    RuleFinding::not_applicable(ctx.text(|| detail(ctx.request.channel)))
                }
            }),
            _ => None,
        }
    }
}
