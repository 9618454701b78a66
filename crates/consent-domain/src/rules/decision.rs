use crate::event::EventPosition;
use crate::identity::EventId;
use crate::rules::{RuleId, RuleSetId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The lawful basis a decision relies on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LawfulBasis {
    /// Refused: no basis.
    None,
    /// A service message without promotion is not direct marketing (R0).
    NotDirectMarketing,
    /// Demonstrable consent (R2, R3a).
    Consent,
    /// Commercial soft opt-in, PECR reg 22(3) (R3b).
    SoftOptIn,
    /// Charity soft opt-in, PECR reg 22(3A) (R3c).
    CharitySoftOptIn,
    /// Electronic mail to a corporate subscriber (R3).
    CorporateSubscriber,
    /// Live calls: allowed unless objected to or screened (R4).
    LiveCallNotObjected,
    /// Post: UK GDPR Art 6(1)(f) (R7).
    LegitimateInterests,
}

/// One reason against sending.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub rule: RuleId,
    /// Stable machine-readable code, e.g. `objection_recorded`: borrowed
    /// from the rules that give it (no allocation per reason), owned when
    /// read from elsewhere.
    pub code: Cow<'static, str>,
    /// A sentence a compliance officer can read.
    pub message: String,
    pub citation: String,
    /// The events that caused it, if any.
    pub events: Vec<EventId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RuleOutcome {
    /// The rule's conditions hold (it grants a basis or is complied with).
    Satisfied,
    /// The rule could have granted a basis but a condition fails.
    Failed,
    /// The rule forbids the send.
    Blocked,
    /// The rule does not apply to this check.
    NotApplicable,
}

/// A rule that was evaluated, with its outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFiring {
    pub rule: RuleId,
    pub title: String,
    pub citation: String,
    pub outcome: RuleOutcome,
    pub detail: String,
}

/// An event a decision relied on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventReference {
    pub id: EventId,
    pub position: Option<EventPosition>,
    /// The fact's kind, as [`crate::Fact::kind`] (borrowed from it when
    /// the domain builds the reference).
    pub kind: Cow<'static, str>,
    pub occurred_at: Timestamp,
}

/// Which texts a [`Decision`] carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DecisionTexts {
    /// Every rule's title, citation and detail and every reason's message
    /// and citation: the decision as a compliance officer reads it.
    #[default]
    Included,
    /// None of those texts (each is empty), and no time spent building
    /// them; everything else is the full decision's: the verdict, the
    /// basis, each reason's rule, code and events, the events relied on,
    /// the rule set and each rule's outcome. For callers that act on the
    /// verdict alone, such as a campaign's batch of checks.
    Omitted,
}

impl DecisionTexts {
    /// `build()`, or an empty text (built for nothing) when texts are
    /// omitted.
    pub(crate) fn text(self, build: impl FnOnce() -> String) -> String {
        match self {
            DecisionTexts::Included => build(),
            DecisionTexts::Omitted => String::new(),
        }
    }
}

/// The answer to a [`crate::rules::CheckRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub allowed: bool,
    /// [`LawfulBasis::None`] when refused.
    pub lawful_basis: LawfulBasis,
    /// Every reason against; empty when allowed.
    pub reasons_against: Vec<Reason>,
    /// The events the basis (or the refusal) rests on.
    pub relied_on: Vec<EventReference>,
    pub rule_set: RuleSetId,
    /// Every rule evaluated, in rule order.
    pub rules: Vec<RuleFiring>,
    /// The check's time (`CheckRequest::at`).
    pub evaluated_at: Timestamp,
}

impl Decision {
    /// This decision as [`DecisionTexts::Omitted`] gives it: every rule's
    /// title, citation and detail and every reason's message and citation
    /// emptied.
    pub fn without_texts(mut self) -> Decision {
        for reason in &mut self.reasons_against {
            reason.message.clear();
            reason.citation.clear();
        }
        for rule in &mut self.rules {
            rule.title.clear();
            rule.citation.clear();
            rule.detail.clear();
        }
        self
    }
}
