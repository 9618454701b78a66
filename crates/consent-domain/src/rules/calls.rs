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
//! Told-not-to-call, does-not-object and listings are facts about the
//! number: recorded under any subject or none, they hold for the number
//! whatever subject the call is checked for.
//!
//! Screening (reg 21(3), 26). The organisation screens against TPS/CTPS
//! files (`PreferenceServiceScreened`, each row a `PreferenceServiceListing`
//! carrying the file's `snapshot_ref`). For each service, the number is
//! listed per the latest full file (by the date it describes, `taken_at`)
//! when that file has a row for it, and the delta files taken after it add
//! or remove it (the latest wins). A number absent from the lists counts as
//! not listed only when the organisation holds a full file of the register
//! for the subscriber (the TPS for an individual or unknown subscriber, the
//! CTPS for a corporate one) taken less than 28 days before the call: a
//! number registered after the file was taken is protected 28 days after,
//! so a file protects calls only until then. Without one the call is
//! refused (`tps_screening_missing`, `tps_screening_out_of_date`, and the
//! CTPS codes), unless the latest call preference is "does not object"
//! (reg 21(4) lifts the register, so there is nothing to screen for).
//!
//! A row of a file protects the number at once unless its `listed_at` is
//! before the file's `taken_at` and less than 28 days before the call: TPS
//! files carry no listing date, so an importer records the file's date (or
//! later) for a row without one, which says nothing about when the number
//! was registered (fail closed). A listing recorded on its own (no
//! `snapshot_ref`) keeps its reading: listed 28 days or more blocks.
//!
//! Claims-management calls need consent (reg 21A). Pension-scheme calls
//! need consent (reg 21B): the alternative existing-client test and the
//! caller's authorisation are not modelled, so without consent the answer is
//! no. Automated calls need consent specifically to automated calls from
//! this caller, for individual and corporate subscribers alike (reg 19).

use super::applicability::{Applicability, Detail};
use super::consent::Consents;
use super::decision::{LawfulBasis, Reason};
use super::finding::{Ctx, RuleFinding};
use super::ids::{R4, R5};
use super::text;
use crate::event::{CallPreference, Fact, PreferenceServiceListing, PreferenceServiceScreened};
use crate::fold::Recorded;
use crate::identity::EventId;
use crate::vocabulary::{CallCategory, Channel, ContactKind, ContactValue, PreferenceService};

/// R4: direct marketing by live call.
pub(crate) const R4_APPLIES: Applicability =
    Applicability::marketing_on(&[Channel::LiveCall], Detail::Fixed("Not a live call."));

/// R5: direct marketing by automated call.
pub(crate) const R5_APPLIES: Applicability = Applicability::marketing_on(
    &[Channel::AutomatedCall],
    Detail::Fixed("Not an automated call."),
);

pub(crate) fn evaluate_r4(ctx: &Ctx<'_>, consents: &Consents<'_>) -> RuleFinding {
    if let Some(not_applicable) = R4_APPLIES.outside(ctx) {
        return not_applicable;
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
            reasons.extend(screening.missing);
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
        return RuleFinding::blocked(
            ctx.text(|| format!("The call may not be made.{notes}")),
            reasons,
        );
    }
    if !reasons.is_empty() {
        return RuleFinding::failed(
            ctx.text(|| format!("The call cannot be shown to be allowed.{notes}")),
            reasons,
        );
    }
    RuleFinding::grants(
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

pub(crate) fn evaluate_r5(ctx: &Ctx<'_>, consents: &Consents<'_>) -> RuleFinding {
    if let Some(not_applicable) = R5_APPLIES.outside(ctx) {
        return not_applicable;
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

fn called_number<'a>(ctx: &Ctx<'a>) -> Option<&'a ContactValue> {
    ctx.request
        .contact_point
        .as_ref()
        .filter(|p| matches!(p.kind, ContactKind::Mobile | ContactKind::Landline))
        .map(|p| &p.value)
}

struct Screening {
    /// Reasons the number may not be called (blocking).
    reasons: Vec<Reason>,
    /// The screening the call needs is missing (fail closed).
    missing: Vec<Reason>,
    notes: Vec<String>,
    relied_on: Vec<EventId>,
}

fn service_name(service: PreferenceService) -> &'static str {
    match service {
        PreferenceService::Tps => "TPS",
        PreferenceService::Ctps => "CTPS",
    }
}

fn listed_code(service: PreferenceService) -> &'static str {
    match service {
        PreferenceService::Tps => "tps_listed",
        PreferenceService::Ctps => "ctps_listed",
    }
}

/// The facts about the number: the subject's, then those recorded for the
/// number under another subject or none.
fn number_facts<'a, 'c>(ctx: &'c Ctx<'a>) -> impl Iterator<Item = &'a Recorded<Fact>> + Clone + 'c {
    ctx.facts.subject.iter().chain(ctx.facts.address_facts())
}

fn screen(ctx: &Ctx<'_>, number: &ContactValue) -> Screening {
    let mut screening = Screening {
        reasons: Vec::new(),
        missing: Vec::new(),
        notes: Vec::new(),
        relied_on: Vec::new(),
    };
    let shown = ctx.text(|| text::shown(number));

    // The latest call preference for this number decides, whichever
    // subject (or none) it was recorded under.
    let preference = number_facts(ctx)
        .filter(|f| match &f.fact {
            Fact::ToldNotToCall(CallPreference { number: n })
            | Fact::DoesNotObjectToCalls(CallPreference { number: n }) => n == number,
            _ => false,
        })
        .max_by_key(|f| (f.occurred_at, f.id));
    let under_subject = |event: &Recorded<Fact>| ctx.facts.subject.iter().any(|f| f.id == event.id);
    let does_not_object = preference.filter(|p| matches!(p.fact, Fact::DoesNotObjectToCalls(_)));
    if let Some(told) = preference.filter(|p| matches!(p.fact, Fact::ToldNotToCall(_))) {
        screening.reasons.push(ctx.reason(
            R4,
            "told_not_to_call",
            || {
                if under_subject(told) {
                    format!(
                        "{} told {} on {} not to call {shown} (reg 21(1)(a)).",
                        ctx.subject(),
                        ctx.organisation(),
                        told.occurred_at
                    )
                } else {
                    format!(
                        "The subscriber of {shown} told {} on {} not to call it (reg 21(1)(a)); \
                         recorded for the number, not for {}, it holds whoever the call is for.",
                        ctx.organisation(),
                        told.occurred_at,
                        ctx.subject()
                    )
                }
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
        let name = service_name(service);
        // A listing recorded on its own.
        if let Some((event, listing)) = latest_listing(ctx, service, number) {
            screening.relied_on.push(event.id);
            if listing.listed {
                protect(
                    ctx,
                    &mut screening,
                    service,
                    number,
                    listing,
                    event,
                    does_not_object,
                    None,
                );
            } else {
                screening.notes.push(ctx.text(|| {
                    format!(
                        "{shown} is no longer listed on the {name} (as of {}).",
                        event.occurred_at
                    )
                }));
            }
        }
        // The organisation's screening against the service's files.
        let Some(files) = Files::of(ctx, service) else {
            continue;
        };
        let rows = |reference: &str| {
            number_facts(ctx)
                .filter_map(move |event| match &event.fact {
                    Fact::PreferenceServiceListing(listing)
                        if listing.service == service
                            && listing.number == *number
                            && listing.snapshot_ref.as_deref() == Some(reference) =>
                    {
                        Some((event, listing))
                    }
                    _ => None,
                })
                .max_by_key(|(event, _)| (event.occurred_at, event.id))
        };
        screening.relied_on.push(files.full.0.id);
        let mut listed = rows(&files.full.1.snapshot_ref)
            .filter(|(_, listing)| listing.listed)
            .map(|(event, listing)| (event, listing, files.full));
        for delta in &files.deltas {
            if let Some((event, listing)) = rows(&delta.1.snapshot_ref) {
                screening.relied_on.push(delta.0.id);
                listed = listing.listed.then_some((event, listing, *delta));
                if !listing.listed {
                    screening.relied_on.push(event.id);
                }
            }
        }
        match listed {
            Some((event, listing, file)) => {
                screening.relied_on.push(event.id);
                protect(
                    ctx,
                    &mut screening,
                    service,
                    number,
                    listing,
                    event,
                    does_not_object,
                    Some(file),
                );
            }
            None => screening.notes.push(ctx.text(|| {
                let changes = if files.deltas.is_empty() {
                    String::new()
                } else {
                    format!(" or the {} change files taken since", files.deltas.len())
                };
                format!(
                    "{shown} is not listed on the {name} file taken {}{changes}.",
                    files.full.1.taken_at
                )
            })),
        }
    }

    if does_not_object.is_none() {
        screening_needed(ctx, &mut screening);
    }
    screening
}

/// A full file of the register for the subscriber (the TPS for an
/// individual or unknown subscriber, the CTPS for a corporate one), taken
/// less than the grace period before the call: without it a number absent
/// from the lists cannot be shown not to be listed.
fn screening_needed(ctx: &Ctx<'_>, screening: &mut Screening) {
    let at = ctx.facts.at;
    let grace = ctx.rule_set.preference_service_grace_days;
    let subscriber = ctx.facts.subscriber();
    let service = if subscriber.is_individual() {
        PreferenceService::Tps
    } else {
        PreferenceService::Ctps
    };
    let name = service_name(service);
    match Files::of(ctx, service) {
        None => {
            let code = match service {
                PreferenceService::Tps => "tps_screening_missing",
                PreferenceService::Ctps => "ctps_screening_missing",
            };
            screening.missing.push(ctx.reason(
                R4,
                code,
                || {
                    format!(
                        "{} holds no full {name} file as of {at}: the number cannot be shown not \
                         to be on the {name}, so the call to {} is refused (reg 21(1)(b), 21(3): \
                         screen against a full {name} file taken less than {grace} days before \
                         the call).",
                        ctx.organisation(),
                        subscriber.describe()
                    )
                },
                subscriber.evidence(),
            ));
        }
        Some(files) if at >= files.full.1.taken_at.plus_days(grace) => {
            let code = match service {
                PreferenceService::Tps => "tps_screening_out_of_date",
                PreferenceService::Ctps => "ctps_screening_out_of_date",
            };
            let (event, file) = files.full;
            let mut events = subscriber.evidence();
            events.push(event.id);
            screening.missing.push(ctx.reason(
                R4,
                code,
                || {
                    format!(
                        "{}'s latest full {name} file was taken on {} (screened {}), {} days \
                         before the call: a number registered since is protected from {}, so the \
                         call to {} cannot be shown to be allowed (reg 21(1)(b), 21(3): screen \
                         against a full {name} file taken less than {grace} days before the call).",
                        ctx.organisation(),
                        file.taken_at,
                        event.occurred_at,
                        super::consent::days_between(file.taken_at, at),
                        file.taken_at.plus_days(grace),
                        subscriber.describe()
                    )
                },
                events,
            ));
        }
        Some(_) => {}
    }
}

type File<'a> = (&'a Recorded<Fact>, &'a PreferenceServiceScreened);

/// The organisation's screening against one service as of the check: the
/// latest full file and the delta files taken after it, in order.
struct Files<'a> {
    full: File<'a>,
    deltas: Vec<File<'a>>,
}

impl<'a> Files<'a> {
    fn of(ctx: &Ctx<'a>, service: PreferenceService) -> Option<Self> {
        let files = ctx
            .facts
            .organisation
            .iter()
            .filter_map(move |event| match &event.fact {
                Fact::PreferenceServiceScreened(file) if file.service == service => {
                    Some((event, file))
                }
                _ => None,
            });
        let order = |(event, file): &File<'_>| (file.taken_at, event.occurred_at, event.id);
        let full = files.clone().filter(|(_, f)| f.full).max_by_key(order)?;
        let mut deltas: Vec<File<'a>> = files
            .filter(|(_, f)| !f.full && f.taken_at > full.1.taken_at)
            .collect();
        deltas.sort_by_key(order);
        Some(Self { full, deltas })
    }
}

/// A listing says the number is on the register: protected from 28 days
/// after listing (reg 21(3)), unless the subscriber does not object (reg
/// 21(4)).
#[allow(clippy::too_many_arguments)]
fn protect(
    ctx: &Ctx<'_>,
    screening: &mut Screening,
    service: PreferenceService,
    number: &ContactValue,
    listing: &PreferenceServiceListing,
    event: &Recorded<Fact>,
    does_not_object: Option<&Recorded<Fact>>,
    file: Option<File<'_>>,
) {
    let at = ctx.facts.at;
    let name = service_name(service);
    let shown = || text::shown(number);
    let protected_from = listing
        .listed_at
        .plus_days(ctx.rule_set.preference_service_grace_days);
    // A row of a file dated at or after the file's date carries no listing
    // date of its own: protected at once.
    let dated = file.is_none_or(|(_, f)| listing.listed_at < f.taken_at);
    let source = || match file {
        None => String::new(),
        Some((_, f)) => format!(" (per the {name} file taken {})", f.taken_at),
    };
    if dated && at < protected_from {
        screening.notes.push(ctx.text(|| {
            format!(
                "{} was listed on the {name} on {}{} and is protected only from \
                 {protected_from} (reg 21(3)).",
                shown(),
                listing.listed_at,
                source()
            )
        }));
    } else if let Some(dno) = does_not_object {
        screening.relied_on.push(dno.id);
        screening.notes.push(ctx.text(|| {
            format!(
                "{} is on the {name}{}, but the subscriber's notice that they do not object \
                 lets {} call it (reg 21(4)).",
                shown(),
                source(),
                ctx.organisation()
            )
        }));
    } else {
        let mut events = vec![event.id];
        events.extend(file.map(|(e, _)| e.id));
        screening.reasons.push(ctx.reason(
            R4,
            listed_code(service),
            || match file {
                None => format!(
                    "{} has been listed on the {name} since {}, protected from \
                     {protected_from} (reg 21(1)(b), 21(3)); the subscriber has not told {} \
                     they do not object (reg 21(4)).",
                    shown(),
                    listing.listed_at,
                    ctx.organisation()
                ),
                Some((file_event, f)) => {
                    let since = if dated {
                        format!(", listed since {}", listing.listed_at)
                    } else {
                        String::new()
                    };
                    format!(
                        "{} is on the {name} file taken {} (screened {}){since}, so it is \
                         protected (reg 21(1)(b), 21(3)); the subscriber has not told {} they do \
                         not object (reg 21(4)).",
                        shown(),
                        f.taken_at,
                        file_event.occurred_at,
                        ctx.organisation()
                    )
                }
            },
            events,
        ));
    }
}

/// The latest listing of the number on `service` recorded on its own (not
/// a row of a file), whichever subject it was recorded under.
fn latest_listing<'a>(
    ctx: &Ctx<'a>,
    service: PreferenceService,
    number: &ContactValue,
) -> Option<(&'a Recorded<Fact>, &'a PreferenceServiceListing)> {
    number_facts(ctx)
        .filter_map(|event| match &event.fact {
            Fact::PreferenceServiceListing(listing)
                if listing.service == service
                    && listing.number == *number
                    && listing.snapshot_ref.is_none() =>
            {
                Some((event, listing))
            }
            _ => None,
        })
        .max_by_key(|(event, _)| (event.occurred_at, event.id))
}
