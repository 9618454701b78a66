//! R7 Post (UK GDPR Art 6(1)(f), Art 21(3)): PECR does not cover post, so
//! no PECR consent is needed; the UK GDPR basis is consent where a consent
//! covering post counts, otherwise legitimate interests. The subject's
//! objection or an opt-out covering post still wins (R1).

use super::applicability::{Applicability, Detail};
use super::consent::Consents;
use super::decision::LawfulBasis;
use super::finding::{Ctx, RuleFinding};
use super::text;
use super::text::capitalise;
use crate::vocabulary::Channel;

/// R7: direct marketing by post.
pub(crate) const APPLIES: Applicability =
    Applicability::marketing_on(&[Channel::Post], Detail::Fixed("Not post."));

pub(crate) fn evaluate(ctx: &Ctx<'_>, consents: &Consents<'_>) -> RuleFinding {
    if let Some(not_applicable) = APPLIES.outside(ctx) {
        return not_applicable;
    }
    if let Some(consent) = consents.current() {
        return RuleFinding::grants(
            LawfulBasis::Consent,
            ctx.text(|| {
                format!(
                    "{} covers post for {}.",
                    capitalise(&consent.describe()),
                    text::purpose(ctx.request.purpose)
                )
            }),
            vec![consent.consent.id()],
        );
    }
    RuleFinding::grants(
        LawfulBasis::LegitimateInterests,
        "Post needs no PECR consent; the UK GDPR basis is legitimate interests (Art 6(1)(f)), \
         always subject to the right to object (Art 21(3), R1).",
        vec![],
    )
}
