//! What evaluating one rule found, and the context every rule reads.

use std::borrow::Cow;

use super::check::CheckRequest;
use super::decision::{DecisionTexts, LawfulBasis, Reason, RuleOutcome};
use super::facts::Facts;
use super::rule_set::{RuleId, RuleSet};
use crate::identity::EventId;

/// The question, the rule set and the facts as of the question's time.
pub(crate) struct Ctx<'a> {
    pub rule_set: &'a RuleSet,
    pub request: &'a CheckRequest,
    pub facts: Facts<'a>,
    /// R0's classification: the message is direct marketing, so the
    /// marketing rules (R1 to R7) apply.
    pub marketing: bool,
    /// Whether the decision carries its texts.
    pub texts: DecisionTexts,
}

impl Ctx<'_> {
    /// A detail or message, built only when the decision carries texts.
    pub fn text(&self, build: impl FnOnce() -> String) -> String {
        self.texts.text(build)
    }

    /// A reason cited as the rule set cites `rule`. Its message is built
    /// only when the decision carries texts.
    pub fn reason(
        &self,
        rule: &str,
        code: &'static str,
        message: impl FnOnce() -> String,
        events: Vec<EventId>,
    ) -> Reason {
        let citation = || {
            self.rule_set
                .rule(rule)
                .map(|r| r.citation.clone())
                .unwrap_or_default()
        };
        self.reason_citing(rule, code, message, citation, events)
    }

    /// A reason with a citation of its own (for grounds outside the rule's
    /// usual citation). Its message and citation are built only when the
    /// decision carries texts.
    pub fn reason_citing(
        &self,
        rule: &str,
        code: &'static str,
        message: impl FnOnce() -> String,
        citation: impl FnOnce() -> String,
        mut events: Vec<EventId>,
    ) -> Reason {
        events.dedup();
        Reason {
            rule: RuleId::from(rule),
            code: Cow::Borrowed(code),
            message: self.text(message),
            citation: self.text(citation),
            events,
        }
    }

    pub fn organisation(&self) -> &str {
        self.request.organisation.as_str()
    }

    /// The subject as a decision names it (see [`CheckRequest::addressee`]).
    pub fn subject(&self) -> &str {
        self.request.addressee()
    }
}

/// The outcome of one rule, its explanation and, when it grants a basis,
/// the basis and the events it rests on.
#[derive(Clone, Debug)]
pub(crate) struct RuleFinding {
    pub outcome: RuleOutcome,
    /// Borrowed when it is fixed text, so a finding that is not shown
    /// allocates nothing for it.
    pub detail: Cow<'static, str>,
    /// When the rule fails or blocks: every reason why.
    pub reasons: Vec<Reason>,
    /// When the rule grants a lawful basis.
    pub basis: Option<LawfulBasis>,
    /// The events the outcome rests on.
    pub relied_on: Vec<EventId>,
}

impl RuleFinding {
    pub fn not_applicable(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(RuleOutcome::NotApplicable, detail.into())
    }

    pub fn satisfied(detail: impl Into<Cow<'static, str>>, relied_on: Vec<EventId>) -> Self {
        Self {
            relied_on,
            ..Self::new(RuleOutcome::Satisfied, detail.into())
        }
    }

    /// Satisfied, granting `basis`.
    pub fn grants(
        basis: LawfulBasis,
        detail: impl Into<Cow<'static, str>>,
        relied_on: Vec<EventId>,
    ) -> Self {
        Self {
            basis: Some(basis),
            ..Self::satisfied(detail, relied_on)
        }
    }

    pub fn failed(detail: impl Into<Cow<'static, str>>, reasons: Vec<Reason>) -> Self {
        Self {
            reasons,
            ..Self::new(RuleOutcome::Failed, detail.into())
        }
    }

    pub fn blocked(detail: impl Into<Cow<'static, str>>, reasons: Vec<Reason>) -> Self {
        Self {
            reasons,
            ..Self::new(RuleOutcome::Blocked, detail.into())
        }
    }

    fn new(outcome: RuleOutcome, detail: Cow<'static, str>) -> Self {
        Self {
            outcome,
            detail,
            reasons: Vec::new(),
            basis: None,
            relied_on: Vec::new(),
        }
    }

    pub fn is_satisfied(&self) -> bool {
        self.outcome == RuleOutcome::Satisfied
    }
}
