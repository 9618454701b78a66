//! R9 Erasure suppresses the subject (UK GDPR Art 17(1)(c), Art 21(3)).
//!
//! Once erasure is requested the organisation keeps only what it needs to
//! suppress the subject: nothing may be sent, on any channel, service
//! messages included. No later fact about the same subject lifts it (fail
//! closed).

use super::finding::{Ctx, Finding};
use super::ids::R9;
use crate::event::Fact;

pub(crate) fn evaluate(ctx: &Ctx<'_>) -> Finding {
    let requests: Vec<_> = ctx
        .facts
        .each(|f| match f {
            Fact::ErasureRequested(e) => Some(e),
            _ => None,
        })
        .collect();
    let Some(first) = requests.first() else {
        return Finding::satisfied(
            format!("No erasure request as of {}.", ctx.facts.at),
            vec![],
        );
    };
    let reason = if first.fact.reason.trim().is_empty() {
        String::new()
    } else {
        format!(" ({})", first.fact.reason.trim())
    };
    let message = format!(
        "{} asked {} to erase their data on {}{reason}: the subject is suppressed on every channel.",
        ctx.subject(),
        ctx.organisation(),
        first.at()
    );
    Finding::blocked(
        message.clone(),
        vec![ctx.reason(
            R9,
            "erasure_requested",
            message,
            requests.iter().map(|r| r.id()).collect(),
        )],
    )
}
