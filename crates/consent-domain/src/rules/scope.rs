//! R0 Scope: is the message direct marketing, and does the ledger know the
//! sender and the addressee well enough to answer at all?
//!
//! Direct marketing is advertising or marketing material directed at
//! particular individuals, including promoting aims and ideals (PECR reg 2
//! as amended by DUAA s.110; before that DPA 2018 s.122(5)). A "service
//! message" is not, unless it carries any promotion: the ICO fined American
//! Express (2021) and Halfords (2019) for "service" emails that marketed.

use super::applicability::Applicability;
use super::check::CheckRequest;
use super::decision::{LawfulBasis, Reason};
use super::facts::Facts;
use super::finding::{Ctx, RuleFinding};
use super::ids::R0;
use super::text;
use crate::vocabulary::{Channel, ContactKind, MessageClass};

/// The ledger fails closed on parties it does not know: the controller
/// must be able to demonstrate compliance.
const ACCOUNTABILITY: &str = "UK GDPR Art 5(2) (accountability); RULES.md: fail closed";

/// How R0 classifies the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Classification {
    /// A service message with no promotion: not direct marketing.
    ServiceMessage,
    /// A service message that carries promotion: direct marketing.
    ServiceMessageWithPromotion,
    Marketing,
}

impl Classification {
    pub fn of(request: &CheckRequest) -> Self {
        match (request.message_class, request.promotional_content) {
            (MessageClass::Service, false) => Classification::ServiceMessage,
            (MessageClass::Service, true) => Classification::ServiceMessageWithPromotion,
            (MessageClass::Marketing, _) => Classification::Marketing,
        }
    }

    pub fn is_marketing(self) -> bool {
        self != Classification::ServiceMessage
    }
}

/// R0: every question (it is R0 that says whether the message is direct
/// marketing).
pub(crate) const APPLIES: Applicability = Applicability::EVERY_QUESTION;

pub(crate) fn evaluate(ctx: &Ctx<'_>) -> RuleFinding {
    let request = ctx.request;
    let classification = Classification::of(request);
    let what = ctx.text(|| match classification {
        Classification::ServiceMessage => format!(
            "A service message by {} without promotion is not direct marketing: the PECR marketing \
             rules and the right to object to marketing do not apply (erasure still does).",
            text::channel(request.channel)
        ),
        Classification::ServiceMessageWithPromotion => format!(
            "A \"service\" message by {} that carries promotion is direct marketing (ICO: American \
             Express 2021, Halfords 2019), here for {}; the marketing rules apply.",
            text::channel(request.channel),
            text::purpose(request.purpose)
        ),
        Classification::Marketing => format!(
            "Direct marketing by {} for {}.",
            text::channel(request.channel),
            text::purpose(request.purpose)
        ),
    });

    let reasons = unknown_parties(ctx);
    if !reasons.is_empty() {
        return RuleFinding::blocked(
            ctx.text(|| {
                format!("{what} The ledger cannot answer for this question as asked (fail closed).")
            }),
            reasons,
        );
    }
    match classification {
        Classification::ServiceMessage => {
            RuleFinding::grants(LawfulBasis::NotDirectMarketing, what, vec![])
        }
        _ => RuleFinding::satisfied(what, vec![]),
    }
}

/// Reasons the ledger cannot answer: an unregistered organisation, a check
/// naming neither a subject nor an address, a contact point unfit for the
/// channel. A subject with no fact on record is not one: its check is
/// decided on the record (the address's facts, the organisation's
/// screening), like any other.
fn unknown_parties(ctx: &Ctx<'_>) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let facts: &Facts<'_> = &ctx.facts;
    if facts.registration().is_none() {
        reasons.push(ctx.reason_citing(
            R0,
            "organisation_not_registered",
            || {
                format!(
                "Organisation {} is not registered in the ledger as of {}: the ledger does not \
                 know what kind of sender it is, so it refuses.",
                ctx.organisation(),
                facts.at
            )
            },
            || ACCOUNTABILITY.to_owned(),
            vec![],
        ));
    }
    if ctx.request.subject.is_none() && ctx.request.contact_point.is_none() {
        reasons.push(ctx.reason_citing(
            R0,
            "addressee_unknown",
            || {
                "The check names neither a subject nor an address: the ledger cannot tell whom \
                 the message goes to, so it refuses."
                    .to_owned()
            },
            || ACCOUNTABILITY.to_owned(),
            vec![],
        ));
    }
    if let Some(point) = &ctx.request.contact_point {
        if !fits(ctx.request.channel, point.kind) {
            reasons.push(ctx.reason(
                R0,
                "contact_point_not_for_channel",
                || {
                    format!(
                        "The contact point ({}) cannot receive {}.",
                        text::contact_point(point),
                        text::channel(ctx.request.channel)
                    )
                },
                vec![],
            ));
        }
    }
    reasons
}

/// Which contact points a channel can use.
pub(crate) fn fits(channel: Channel, kind: ContactKind) -> bool {
    match channel {
        Channel::Email => kind == ContactKind::Email,
        Channel::Sms => kind == ContactKind::Mobile,
        Channel::LiveCall | Channel::AutomatedCall => {
            matches!(kind, ContactKind::Mobile | ContactKind::Landline)
        }
        Channel::Post => kind == ContactKind::Postal,
    }
}
