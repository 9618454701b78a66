//! R4 Live calls (PECR reg 21, 21A, 21B) and R5 automated calls (reg 19).
//!
//! Live calls need the number called (`CheckRequest::contact_point`) to be
//! screened; without it the answer is no. A call is refused when:
//! * the latest call preference this caller recorded for the number is
//!   "told not to call" (reg 21(1)(a)); a later "does not object" lifts it;
//! * the number is listed on the TPS or the CTPS (together the reg 26
//!   register, so both lists are checked whatever the subscriber type), the
//!   listing is still current and at least 28 days old (reg 21(3)), unless
//!   the latest call preference for the number is "does not object"
//!   (reg 21(4)), which a later "told not to call" withdraws.
//!
//! The ledger treats a number with no listing on record as not listed: it
//! is only as current as the TPS/CTPS snapshots imported into it.
//!
//! Claims-management calls need consent (reg 21A). Pension-scheme calls
//! need consent (reg 21B): the alternative existing-client test and the
//! caller's authorisation are not modelled, so without consent the answer is
//! no. Automated calls need consent specifically to automated calls from
//! this caller, for individual and corporate subscribers alike (reg 19).

use super::consent::Consents;
use super::decision::{LawfulBasis, Reason};
use super::finding::{Ctx, Finding};
use super::ids::{R4, R5};
use super::text;
use crate::event::{CallPreference, Fact, PreferenceServiceListing};
use crate::fold::Recorded;
use crate::identity::EventId;
use crate::vocabulary::{CallCategory, Channel, ContactKind, PreferenceService};

pub(crate) fn evaluate_r4(ctx: &Ctx<'_>, consents: &Consents<'_>) -> Finding {
    if !ctx.marketing {
        return Finding::not_applicable("Not direct marketing.");
    }
    if ctx.request.channel != Channel::LiveCall {
        return Finding::not_applicable("Not a live call.");
    }
    let mut reasons: Vec<Reason> = Vec::new();
    let mut blocked = false;
    let mut notes: Vec<String> = Vec::new();
    let mut relied_on: Vec<EventId> = ctx.facts.subscriber().evidence();

    match called_number(ctx) {
        None => reasons.push(ctx.reason(
            R4,
            "number_required_for_screening",
            || {
                "The check gives no telephone number, so the call cannot be screened against the \
                 TPS, the CTPS and told-not-to-call records."
                    .to_owned()
            },
            vec![],
        )),
        Some(number) => {
            let screening = screen(ctx, number);
            blocked = !screening.reasons.is_empty();
            reasons.extend(screening.reasons);
            notes.extend(screening.notes);
            relied_on.extend(screening.relied_on);
        }
    }

    let (basis, consent) = match ctx.request.call_category {
        CallCategory::General => (LawfulBasis::LiveCallNotObjected, None),
        CallCategory::ClaimsManagement => (
            LawfulBasis::Consent,
            Some(
                consents.basis_for(ctx, R4, "claims_management_call_needs_consent", || {
                    format!(
                        "consent from {} to claims-management calls from {} (reg 21A)",
                        ctx.subject(),
                        ctx.organisation()
                    )
                }),
            ),
        ),
        CallCategory::PensionScheme => (
            LawfulBasis::Consent,
            Some(
                consents.basis_for(ctx, R4, "pension_scheme_call_needs_consent", || {
                    format!(
                        "consent from {} to pension-scheme calls from {} (reg 21B; the \
                         existing-client alternative is not modelled)",
                        ctx.subject(),
                        ctx.organisation()
                    )
                }),
            ),
        ),
    };
    if let Some(consent) = consent {
        if consent.is_satisfied() {
            relied_on.extend(consent.relied_on);
            notes.push(consent.detail.into_owned());
        } else {
            reasons.extend(consent.reasons);
        }
    }

    let notes = ctx.text(|| {
        if notes.is_empty() {
            String::new()
        } else {
            format!(" {}", notes.join(" "))
        }
    });
    if blocked {
        return Finding::blocked(
            ctx.text(|| format!("The call may not be made.{notes}")),
            reasons,
        );
    }
    if !reasons.is_empty() {
        return Finding::failed(
            ctx.text(|| format!("The call cannot be shown to be allowed.{notes}")),
            reasons,
        );
    }
    Finding::grants(
        basis,
        ctx.text(|| {
            format!(
                "The number is not screened out and the subscriber has not told {} not to \
                 call.{notes}",
                ctx.organisation()
            )
        }),
        relied_on,
    )
}

pub(crate) fn evaluate_r5(ctx: &Ctx<'_>, consents: &Consents<'_>) -> Finding {
    if !ctx.marketing {
        return Finding::not_applicable("Not direct marketing.");
    }
    if ctx.request.channel != Channel::AutomatedCall {
        return Finding::not_applicable("Not an automated call.");
    }
    consents.basis_for(ctx, R5, "no_automated_call_consent", || {
        format!(
            "consent from {} to automated marketing calls for {} from {} (needed for individual \
             and corporate subscribers alike)",
            ctx.subject(),
            text::purpose(ctx.request.purpose),
            ctx.organisation()
        )
    })
}

fn called_number<'a>(ctx: &Ctx<'a>) -> Option<&'a str> {
    ctx.request
        .contact_point
        .as_ref()
        .filter(|p| matches!(p.kind, ContactKind::Mobile | ContactKind::Landline))
        .map(|p| p.value.as_str())
}

struct Screening {
    reasons: Vec<Reason>,
    notes: Vec<String>,
    relied_on: Vec<EventId>,
}

fn screen(ctx: &Ctx<'_>, number: &str) -> Screening {
    let mut screening = Screening {
        reasons: Vec::new(),
        notes: Vec::new(),
        relied_on: Vec::new(),
    };
    let at = ctx.facts.at;
    let shown = ctx.text(|| text::shown(number));

    // The latest call preference for this number decides.
    let preference = ctx.facts.subject.iter().rfind(|f| match &f.fact {
        Fact::ToldNotToCall(CallPreference { number: n })
        | Fact::DoesNotObjectToCalls(CallPreference { number: n }) => n == number,
        _ => false,
    });
    let does_not_object = preference.filter(|p| matches!(p.fact, Fact::DoesNotObjectToCalls(_)));
    if let Some(told) = preference.filter(|p| matches!(p.fact, Fact::ToldNotToCall(_))) {
        screening.reasons.push(ctx.reason(
            R4,
            "told_not_to_call",
            || {
                format!(
                    "{} told {} on {} not to call {shown} (reg 21(1)(a)).",
                    ctx.subject(),
                    ctx.organisation(),
                    told.occurred_at
                )
            },
            vec![told.id],
        ));
    }
    if let Some(dno) = does_not_object {
        screening.notes.push(ctx.text(|| {
            format!(
                "On {} the subscriber told {} they do not object to its calls on {shown} (reg \
                 21(4)).",
                dno.occurred_at,
                ctx.organisation()
            )
        }));
    }

    for service in [PreferenceService::Tps, PreferenceService::Ctps] {
        let Some((event, listing)) = latest_listing(ctx, service, number) else {
            continue;
        };
        let name = match service {
            PreferenceService::Tps => "TPS",
            PreferenceService::Ctps => "CTPS",
        };
        screening.relied_on.push(event.id);
        if !listing.listed {
            screening.notes.push(ctx.text(|| {
                format!(
                    "{shown} is no longer listed on the {name} (as of {}).",
                    event.occurred_at
                )
            }));
            continue;
        }
        let protected_from = listing
            .listed_at
            .plus_days(ctx.rule_set.preference_service_grace_days);
        if at < protected_from {
            screening.notes.push(ctx.text(|| {
                format!(
                    "{shown} was listed on the {name} on {} and is protected only from \
                     {protected_from} (reg 21(3)).",
                    listing.listed_at
                )
            }));
        } else if let Some(dno) = does_not_object {
            screening.relied_on.push(dno.id);
            screening.notes.push(ctx.text(|| {
                format!(
                    "{shown} is on the {name}, but the subscriber's notice that they do not object \
                     lets {} call it (reg 21(4)).",
                    ctx.organisation()
                )
            }));
        } else {
            let code = match service {
                PreferenceService::Tps => "tps_listed",
                PreferenceService::Ctps => "ctps_listed",
            };
            screening.reasons.push(ctx.reason(
                R4,
                code,
                || {
                    format!(
                        "{shown} has been listed on the {name} since {}, protected from \
                         {protected_from} (reg 21(1)(b), 21(3)); the subscriber has not told {} \
                         they do not object (reg 21(4)).",
                        listing.listed_at,
                        ctx.organisation()
                    )
                },
                vec![event.id],
            ));
        }
    }
    screening
}

fn latest_listing<'a>(
    ctx: &Ctx<'a>,
    service: PreferenceService,
    number: &str,
) -> Option<(&'a Recorded<Fact>, &'a PreferenceServiceListing)> {
    ctx.facts
        .subject
        .iter()
        .rev()
        .find_map(|event| match &event.fact {
            Fact::PreferenceServiceListing(listing)
                if listing.service == service && listing.number == number =>
            {
                Some((event, listing))
            }
            _ => None,
        })
}
