//! What to replay: the two rule selections compared, the similarity
//! overrides the candidate applies, and which decisions to re-take.

use consent_domain::event::ProductCategoriesDefined;
use consent_domain::rules::{RuleCatalogue, RuleSet, RuleSetId, UnknownRuleSet};
use consent_domain::vocabulary::Channel;
use consent_domain::{OrganisationId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Samples kept per kind of change unless the plan says otherwise.
pub const DEFAULT_SAMPLES_PER_KIND: usize = 10;

/// Which rule set decides a replayed question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSelection {
    /// The rule set in force at each decision's time (R8), as the ledger
    /// decided when the question was first asked.
    InForce,
    /// This rule set for every decision, whatever its time (a replay).
    Named(RuleSetId),
}

impl RuleSelection {
    /// A named rule set.
    pub fn named(id: &str) -> Self {
        RuleSelection::Named(RuleSetId::from(id))
    }

    /// The rule set for a decision at `at`. `Err` only when no rule set was
    /// in force at `at` (a named selection is checked by
    /// [`crate::Replayer::new`]).
    pub(crate) fn select<'c>(
        &self,
        catalogue: &'c RuleCatalogue,
        at: Timestamp,
    ) -> Result<&'c RuleSet, UnknownRuleSet> {
        catalogue.select(self.requested(), at)
    }

    /// The id to put in the check request, so R8 says it was asked for.
    pub(crate) fn requested(&self) -> Option<&RuleSetId> {
        match self {
            RuleSelection::InForce => None,
            RuleSelection::Named(id) => Some(id),
        }
    }
}

impl fmt::Display for RuleSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleSelection::InForce => f.write_str("the rule set in force at each decision's time"),
            RuleSelection::Named(id) => write!(f, "{id}"),
        }
    }
}

/// How a recorded send's "sole charitable purpose" is read.
///
/// The charity soft opt-in (R3c, reg 22(3A)) requires that furthering
/// charitable purposes was the message's *sole* purpose.
/// `MarketingMessageSent.sole_charitable_purpose` records it; sends
/// recorded before that field existed read as false. The plan says how to
/// read it; nothing else about a send is assumed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CharitableSendReading {
    /// As recorded on the send.
    #[default]
    Recorded,
    /// As recorded, or when the send's purpose is `Charitable` (its only
    /// recorded purpose): for logs written before the flag existed.
    RecordedPurposeIsSole,
    /// No recorded send is taken to be solely charitable (fail closed: R3c
    /// never holds for a replayed send).
    NeverSole,
}

/// "Is this subject eligible now?": one question per (organisation,
/// subject) pair with facts, per channel, at `as_of`.
///
/// The message asked about is the pair's most relevant one, by the
/// organisation's kind as registered at `as_of`:
/// * a charity: purpose `Charitable`, solely for charitable purposes;
/// * a political party or other not-for-profit: purpose `Campaigning`;
/// * a commercial (or unregistered) organisation: purpose `Commercial`,
///   marketing the category of the subject's latest sale or negotiation as
///   of `as_of` (none when there is none).
///
/// Every such message is marketing, promotional, identifies the sender and
/// offers an opt-out; it goes to the subject's latest recorded contact
/// point of the channel's kind (email address; mobile for SMS; mobile or
/// landline for calls; postal address), or to none when none is recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibilityQuestions {
    #[serde(with = "crate::rfc3339")]
    pub as_of: Timestamp,
    pub channels: Vec<Channel>,
}

/// Which decisions to replay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Questions {
    /// Every recorded `MarketingMessageSent`, as it happened (its
    /// organisation, subject, channel, purpose, category, message class,
    /// promotion, opt-out and sender flags, contact point, at its
    /// `occurred_at`): "was this send lawful?". The call category is not
    /// recorded with a send, so a replayed call is a general one.
    pub sends: bool,
    pub charitable_sends: CharitableSendReading,
    /// Current eligibility; `None` asks nothing of the kind.
    pub eligibility: Option<EligibilityQuestions>,
}

impl Default for Questions {
    /// Every recorded send, charitable sends read as solely charitable, no
    /// eligibility questions.
    fn default() -> Self {
        Self {
            sends: true,
            charitable_sends: CharitableSendReading::default(),
            eligibility: None,
        }
    }
}

/// A replay: the same questions decided under a baseline and a candidate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayPlan {
    pub baseline: RuleSelection,
    pub candidate: RuleSelection,
    /// For the candidate only: these organisations' product-similarity maps
    /// replace every `ProductCategoriesDefined` they recorded, as if each
    /// had defined the given map from its first organisation-level fact on.
    pub similarity_overrides: BTreeMap<OrganisationId, ProductCategoriesDefined>,
    pub questions: Questions,
    /// Samples kept per kind of change (the first ones in question order).
    pub samples_per_kind: usize,
    /// Replay only these organisations' facts and questions; empty: every
    /// organisation.
    #[serde(default)]
    pub organisations: BTreeSet<OrganisationId>,
}

impl ReplayPlan {
    /// Replays every recorded send under `baseline` and `candidate`, with no
    /// similarity overrides and [`DEFAULT_SAMPLES_PER_KIND`] samples.
    pub fn new(baseline: RuleSelection, candidate: RuleSelection) -> Self {
        Self {
            baseline,
            candidate,
            similarity_overrides: BTreeMap::new(),
            questions: Questions::default(),
            samples_per_kind: DEFAULT_SAMPLES_PER_KIND,
            organisations: BTreeSet::new(),
        }
    }

    /// Whether the plan replays `organisation` (every organisation when
    /// it names none).
    pub fn replays(&self, organisation: &OrganisationId) -> bool {
        self.organisations.is_empty() || self.organisations.contains(organisation)
    }
}
