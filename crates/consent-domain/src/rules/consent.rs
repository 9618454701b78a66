//! Consent: which consents on record count for one channel and purpose
//! (R2 demonstrable consent, R3a consent to this sender), shared by every
//! rule that can rest on consent (R1 lifting, R3a, R4 claims and pensions,
//! R5 automated calls, R7 post).
//!
//! A consent counts ("is current") when all of these hold:
//! * scope: it covers the channel and the purpose;
//! * R2: it was a clear affirmative act (not pre-ticked, not inferred), not
//!   a condition of service, its wording version and hash are recorded, and
//!   no withdrawal covering the channel and purpose came at or after it;
//! * fit: a third-party consent names this organisation and is no older
//!   than the rule set's maximum age; it was given for the address the
//!   message goes to (when both are known);
//! * R1: no objection, and no opt-out covering the channel, came at or
//!   after it (a tie goes to the refusal: fail closed).

use super::applicability::Applicability;
use super::decision::LawfulBasis;
use super::facts::{Known, Refusal};
use super::finding::{Ctx, RuleFinding};
use super::ids::R2;
use super::text::{self, capitalise};
use crate::event::{ConsentGiven, Fact};
use crate::identity::{EventId, OrganisationId};
use crate::time::Timestamp;
use crate::vocabulary::{
    Channel, CollectionMethod, ConsentCollector, ContactPoint, ContactValue, Purpose,
};

/// Why a consent on record does not count for this check. It borrows
/// the facts it quotes: it is described only when the decision carries
/// texts.
#[derive(Clone, Copy)]
pub(crate) enum Defect<'a> {
    ChannelNotCovered {
        covered: &'a [Channel],
    },
    PurposeNotCovered {
        covered: &'a [Purpose],
    },
    NotAffirmative(CollectionMethod),
    ConditionOfService,
    WordingNotRecorded,
    Withdrawn {
        id: EventId,
        at: Timestamp,
    },
    NotNamingSender {
        collected_by: &'a OrganisationId,
    },
    TooOld {
        collected_by: &'a OrganisationId,
        age_days: i64,
    },
    ContactPointDiffers {
        recorded: &'a ContactPoint,
    },
    Refused(Refusal<'a>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    /// Not about this channel or purpose at all.
    Scope,
    /// Not valid consent (R2).
    Validity,
    /// Valid, but not for this sender or address, or too old (the rule
    /// relying on consent reports it).
    Fit,
    /// Defeated by a later objection or opt-out (R1 reports it).
    Refusal,
}

impl Defect<'_> {
    fn family(&self) -> Family {
        match self {
            Defect::ChannelNotCovered { .. } | Defect::PurposeNotCovered { .. } => Family::Scope,
            Defect::NotAffirmative(_)
            | Defect::ConditionOfService
            | Defect::WordingNotRecorded
            | Defect::Withdrawn { .. } => Family::Validity,
            Defect::NotNamingSender { .. }
            | Defect::TooOld { .. }
            | Defect::ContactPointDiffers { .. } => Family::Fit,
            Defect::Refused(_) => Family::Refusal,
        }
    }

    fn events(&self) -> Vec<EventId> {
        match self {
            Defect::Withdrawn { id, .. } => vec![*id],
            Defect::Refused(refusal) => vec![refusal.id()],
            _ => vec![],
        }
    }

    fn describe(&self, ctx: &Ctx<'_>) -> String {
        match self {
            Defect::ChannelNotCovered { covered } => format!(
                "it covers {}, not {}",
                text::channels(covered),
                text::channel(ctx.request.channel)
            ),
            Defect::PurposeNotCovered { covered } => format!(
                "it covers {}, not {}",
                text::purposes(covered),
                text::purpose(ctx.request.purpose)
            ),
            Defect::NotAffirmative(method) => format!(
                "it was given by {}, which is not a clear affirmative act",
                text::collection_method(*method)
            ),
            Defect::ConditionOfService => {
                "it was a condition of service, so not freely given".to_owned()
            }
            Defect::WordingNotRecorded => {
                "the wording shown (version and hash) is not recorded, so it cannot be demonstrated"
                    .to_owned()
            }
            Defect::Withdrawn { at, .. } => format!("it was withdrawn on {at}"),
            Defect::NotNamingSender { collected_by } => format!(
                "it was collected by {collected_by} and does not name {} (consent to unnamed or \
                 \"selected partners\" is not consent to a particular sender)",
                ctx.organisation()
            ),
            Defect::TooOld {
                collected_by,
                age_days,
            } => format!(
                "it was collected by {collected_by} {age_days} days before the message, and \
                 third-party consent older than {} days is not relied on",
                ctx.rule_set.third_party_consent_max_age_days
            ),
            Defect::ContactPointDiffers { recorded } => format!(
                "it was given for {}, not the address this message goes to",
                text::contact_point(recorded)
            ),
            Defect::Refused(refusal) => format!("{} came after it (R1)", refusal.describe()),
        }
    }
}

/// One consent on record and what keeps it from counting.
pub(crate) struct Assessed<'a> {
    pub consent: Known<'a, ConsentGiven>,
    defects: Vec<Defect<'a>>,
}

impl Assessed<'_> {
    pub fn in_scope(&self) -> bool {
        !self.defects.iter().any(|d| d.family() == Family::Scope)
    }

    fn demonstrable(&self) -> bool {
        !self.defects.iter().any(|d| d.family() == Family::Validity)
    }

    pub fn current(&self) -> bool {
        self.defects.is_empty()
    }

    fn events(&self) -> Vec<EventId> {
        let mut events = vec![self.consent.id()];
        events.extend(self.defects.iter().flat_map(Defect::events));
        events
    }

    /// "the consent of 2025-01-01T00:00:00Z (double opt-in confirmation,
    /// wording v3)"
    pub fn describe(&self) -> String {
        let given = self.consent.fact;
        let wording = given
            .wording_version
            .as_deref()
            .map(|v| format!(", wording {v}"))
            .unwrap_or_default();
        let collector = match &given.collector {
            ConsentCollector::FirstParty => String::new(),
            ConsentCollector::ThirdParty { collected_by } => {
                format!(", collected by {collected_by}")
            }
        };
        format!(
            "the consent of {} ({}{wording}{collector})",
            self.consent.at(),
            text::collection_method(given.method)
        )
    }

    fn why_not(&self, ctx: &Ctx<'_>) -> String {
        let defects: Vec<String> = self.defects.iter().map(|d| d.describe(ctx)).collect();
        format!("{}: {}", self.describe(), defects.join("; "))
    }
}

/// Every consent on record as of the check, assessed for one channel and
/// purpose.
pub(crate) struct Consents<'a> {
    pub channel: Channel,
    pub purpose: Purpose,
    all: Vec<Assessed<'a>>,
}

impl<'a> Consents<'a> {
    /// Assesses every consent for the check's channel and purpose.
    pub fn assess(ctx: &Ctx<'a>) -> Self {
        let (channel, purpose) = (ctx.request.channel, ctx.request.purpose);
        let all = ctx
            .facts
            .each(|f| match f {
                Fact::ConsentGiven(c) => Some(c),
                _ => None,
            })
            .map(|consent| Assessed {
                consent,
                defects: defects(ctx, consent, channel, purpose),
            })
            .collect();
        Self {
            channel,
            purpose,
            all,
        }
    }

    /// The latest consent that counts.
    pub fn current(&self) -> Option<&Assessed<'a>> {
        self.all.iter().rev().find(|a| a.current())
    }

    /// The latest consent that counts and was given for the address
    /// `value`: what lifts a refusal received for that address (R1).
    pub fn current_naming(&self, value: &ContactValue) -> Option<&Assessed<'a>> {
        self.all.iter().rev().find(|a| {
            a.current()
                && a.consent
                    .fact
                    .contact_point
                    .as_ref()
                    .is_some_and(|p| p.value == *value)
        })
    }

    fn in_scope(&self) -> impl Iterator<Item = &Assessed<'a>> {
        self.all.iter().filter(|a| a.in_scope())
    }

    /// A rule that needs consent: granted on the current consent, or failed
    /// with `missing_code` and the reason each consent on record does not
    /// count. Validity defects are R2's to report, refusals R1's; this
    /// rule reports the fit of a valid consent (sender, age, address).
    /// `needed` says what consent the rule needs ("consent from ... to
    /// ..."); it is called only when the decision carries texts.
    pub fn basis_for(
        &self,
        ctx: &Ctx<'_>,
        rule: &str,
        missing_code: &'static str,
        needed: impl Fn() -> String,
    ) -> RuleFinding {
        if let Some(current) = self.current() {
            return RuleFinding::grants(
                LawfulBasis::Consent,
                ctx.text(|| format!("{} is {}.", capitalise(&current.describe()), needed())),
                vec![current.consent.id()],
            );
        }
        let events: Vec<EventId> = self.all.iter().flat_map(Assessed::events).collect();
        let missing = || {
            let on_record: Vec<String> = self.all.iter().map(|a| a.why_not(ctx)).collect();
            let on_record = if on_record.is_empty() {
                " No consent is on record.".to_owned()
            } else {
                format!(" On record: {}.", on_record.join("; "))
            };
            format!("There is no {}.{on_record}", needed())
        };
        let mut reasons = vec![ctx.reason(rule, missing_code, missing, events)];
        for assessed in self.in_scope() {
            for defect in assessed
                .defects
                .iter()
                .filter(|d| d.family() == Family::Fit)
            {
                let code = match defect {
                    Defect::NotNamingSender { .. } => "third_party_consent_not_naming_sender",
                    Defect::TooOld { .. } => "third_party_consent_too_old",
                    _ => "consent_contact_point_differs",
                };
                reasons.push(ctx.reason(
                    rule,
                    code,
                    || {
                        format!(
                            "{} does not count: {}.",
                            capitalise(&assessed.describe()),
                            defect.describe(ctx)
                        )
                    },
                    assessed.events(),
                ));
            }
        }
        RuleFinding::failed(ctx.text(|| format!("There is no {}.", needed())), reasons)
    }
}

/// R2: are the consents on record for this channel and purpose valid,
/// demonstrable consent?
/// R2: direct marketing, on every channel.
pub(crate) const R2_APPLIES: Applicability =
    Applicability::marketing("Not direct marketing: no consent is needed.");

pub(crate) fn evaluate_r2(ctx: &Ctx<'_>, consents: &Consents<'_>) -> RuleFinding {
    if let Some(not_applicable) = R2_APPLIES.outside(ctx) {
        return not_applicable;
    }
    let in_scope: Vec<&Assessed<'_>> = consents.in_scope().collect();
    if in_scope.is_empty() {
        return RuleFinding::not_applicable(ctx.text(|| {
            format!(
                "No consent on record covers {} for {}.",
                text::channel(consents.channel),
                text::purpose(consents.purpose)
            )
        }));
    }
    if let Some(valid) = in_scope.iter().rev().find(|a| a.demonstrable()) {
        return RuleFinding::satisfied(
            ctx.text(|| {
                format!(
                    "{} is a clear affirmative act with its wording recorded, not withdrawn.",
                    capitalise(&valid.describe())
                )
            }),
            vec![valid.consent.id()],
        );
    }
    let mut reasons = Vec::new();
    for assessed in &in_scope {
        for defect in assessed
            .defects
            .iter()
            .filter(|d| d.family() == Family::Validity)
        {
            let code = match defect {
                Defect::NotAffirmative(_) => "consent_not_affirmative",
                Defect::ConditionOfService => "consent_condition_of_service",
                Defect::WordingNotRecorded => "consent_wording_not_recorded",
                _ => "consent_withdrawn",
            };
            let mut events = vec![assessed.consent.id()];
            events.extend(defect.events());
            reasons.push(ctx.reason(
                R2,
                code,
                || {
                    format!(
                        "{} is not valid consent: {}.",
                        capitalise(&assessed.describe()),
                        defect.describe(ctx)
                    )
                },
                events,
            ));
        }
    }
    RuleFinding::failed(
        ctx.text(|| {
            format!(
                "No consent covering {} for {} is valid, demonstrable consent.",
                text::channel(consents.channel),
                text::purpose(consents.purpose)
            )
        }),
        reasons,
    )
}

fn defects<'a>(
    ctx: &Ctx<'a>,
    consent: Known<'a, ConsentGiven>,
    channel: Channel,
    purpose: Purpose,
) -> Vec<Defect<'a>> {
    let given = consent.fact;
    let mut defects = Vec::new();
    if !given.channels.contains(&channel) {
        defects.push(Defect::ChannelNotCovered {
            covered: &given.channels,
        });
    }
    if !given.purposes.contains(&purpose) {
        defects.push(Defect::PurposeNotCovered {
            covered: &given.purposes,
        });
    }
    if !given.method.is_affirmative_act() {
        defects.push(Defect::NotAffirmative(given.method));
    }
    if given.condition_of_service {
        defects.push(Defect::ConditionOfService);
    }
    let recorded = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    if !recorded(&given.wording_version) || !recorded(&given.wording_sha256) {
        defects.push(Defect::WordingNotRecorded);
    }
    if let Some(withdrawal) = ctx
        .facts
        .withdrawals(channel, purpose)
        .find(|w| w.at() >= consent.at())
    {
        defects.push(Defect::Withdrawn {
            id: withdrawal.id(),
            at: withdrawal.at(),
        });
    }
    if let ConsentCollector::ThirdParty { collected_by } = &given.collector {
        if collected_by != &ctx.request.organisation {
            if !given
                .named_organisations
                .contains(&ctx.request.organisation)
            {
                defects.push(Defect::NotNamingSender { collected_by });
            }
            let max_age = ctx.rule_set.third_party_consent_max_age_days;
            if consent.at().plus_days(max_age) < ctx.facts.at {
                defects.push(Defect::TooOld {
                    collected_by,
                    age_days: days_between(consent.at(), ctx.facts.at),
                });
            }
        }
    }
    if text::contact_points_conflict(
        given.contact_point.as_ref(),
        ctx.request.contact_point.as_ref(),
    ) {
        if let Some(recorded) = &given.contact_point {
            defects.push(Defect::ContactPointDiffers { recorded });
        }
    }
    if let Some(refusal) = ctx.facts.refusals(channel).find(|r| r.at() >= consent.at()) {
        defects.push(Defect::Refused(refusal));
    }
    defects
}

/// Whole days from `from` to `to` (rounded down).
pub(crate) fn days_between(from: Timestamp, to: Timestamp) -> i64 {
    const MICROS_PER_DAY: i64 = 86_400 * 1_000_000;
    to.unix_micros().saturating_sub(from.unix_micros()) / MICROS_PER_DAY
}
