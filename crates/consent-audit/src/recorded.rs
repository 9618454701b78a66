//! A decision as an evidence bundle carries it: the question asked and the
//! answer given, both in the API's proto3 JSON, so a reader sees exactly
//! what a client would have seen:
//!
//! ```json
//! { "request": { "organisationId": "...", "subjectId": "...", "channel": "CHANNEL_EMAIL", "at": "..." },
//!   "decision": { "allowed": false, "lawfulBasis": "LAWFUL_BASIS_NONE", "reasonsAgainst": [...], ... } }
//! ```
//!
//! The request always has `at`; the decision never has `freshness` (how far
//! a view lagged is not part of the evidence: the bundle's records are).

use crate::facts::EvidenceFacts;
use consent_domain::rules::{self, CheckRequest, RuleCatalogue, UnknownRuleSet};
use consent_domain::{SubjectState, Timestamp};
use consent_schema::{check_from_proto, check_to_proto, decision_to_proto, v1, ValidationError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One decision of a bundle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedDecision {
    pub request: v1::CheckRequest,
    pub decision: v1::Decision,
}

/// Why a recorded decision cannot be decided again.
#[derive(Debug, thiserror::Error)]
pub enum RecordedDecisionError {
    #[error("not a recorded decision: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("the question is invalid: {0}")]
    InvalidRequest(#[from] ValidationError),
    #[error("the question has no `at`: a recorded decision must say when it was asked")]
    NoTime,
    #[error(transparent)]
    UnknownRuleSet(#[from] UnknownRuleSet),
}

impl RecordedDecision {
    /// Reads one entry of a bundle's `decisions`.
    pub fn from_value(value: &Value) -> Result<Self, RecordedDecisionError> {
        Ok(serde_json::from_value(value.clone())?)
    }

    /// The entry as a bundle stores it.
    pub fn to_value(&self) -> Value {
        // A derived Serialize of two pbjson messages cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The domain question.
    pub fn question(&self) -> Result<CheckRequest, RecordedDecisionError> {
        if self.request.at.is_none() {
            return Err(RecordedDecisionError::NoTime);
        }
        // `now` is only the default for a missing `at`, which was refused.
        Ok(check_from_proto(
            &self.request,
            Timestamp::from_unix_micros(0),
        )?)
    }
}

/// Decides `question` from `facts` alone, under the rule set it names or
/// the one in force at its time, and records question and answer.
pub fn decide_recorded(
    facts: &EvidenceFacts,
    catalogue: &RuleCatalogue,
    question: &CheckRequest,
) -> Result<RecordedDecision, UnknownRuleSet> {
    let rule_set = catalogue.select(question.rule_set.as_ref(), question.at)?;
    let subject = match &question.subject {
        Some(subject) => facts.subject(&question.organisation, subject),
        None => SubjectState::default(),
    };
    let addresses = facts.addresses_for(&subject, question);
    let decision = rules::decide(
        rule_set,
        &facts.organisation(&question.organisation),
        &subject,
        &addresses,
        question,
    );
    Ok(RecordedDecision {
        request: check_to_proto(question),
        decision: decision_to_proto(&decision),
    })
}
