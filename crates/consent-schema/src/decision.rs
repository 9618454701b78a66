//! [`consent_domain::rules::Decision`] <-> `consent.v1.Decision`.

use crate::error::ValidationError;
use crate::event::event_id;
use crate::fields::{identifier, max_items, text};
use crate::timestamp::{required_timestamp, timestamp_to_proto};
use crate::v1;
use crate::vocabulary::{decode, Vocabulary};
use consent_domain::rules::{Decision, EventReference, Reason, RuleFiring, RuleId, RuleSetId};

/// The wire form of a decision. `freshness` is left unset: how far the view
/// lags the log is known to the server, not to the rules.
pub fn decision_to_proto(decision: &Decision) -> v1::Decision {
    decision_into_proto(decision.clone())
}

/// [`decision_to_proto`] of a decision the caller no longer needs: its
/// texts are moved, not copied.
pub fn decision_into_proto(decision: Decision) -> v1::Decision {
    v1::Decision {
        allowed: decision.allowed,
        lawful_basis: decision.lawful_basis.to_wire(),
        reasons_against: decision
            .reasons_against
            .into_iter()
            .map(reason_to_proto)
            .collect(),
        relied_on: decision
            .relied_on
            .into_iter()
            .map(event_reference_to_proto)
            .collect(),
        rule_set_id: decision.rule_set.0,
        rules: decision
            .rules
            .into_iter()
            .map(rule_firing_to_proto)
            .collect(),
        evaluated_at: Some(timestamp_to_proto(decision.evaluated_at)),
        freshness: None,
    }
}

/// Reads a decision back (e.g. to verify a stored or received decision by
/// recomputing it). `freshness` is dropped.
pub fn decision_from_proto(decision: &v1::Decision) -> Result<Decision, ValidationError> {
    max_items("reasons_against", decision.reasons_against.len())?;
    max_items("relied_on", decision.relied_on.len())?;
    max_items("rules", decision.rules.len())?;
    Ok(Decision {
        allowed: decision.allowed,
        lawful_basis: decode("lawful_basis", decision.lawful_basis)?,
        reasons_against: decision
            .reasons_against
            .iter()
            .enumerate()
            .map(|(i, r)| reason_from_proto(&format!("reasons_against[{i}]"), r))
            .collect::<Result<_, _>>()?,
        relied_on: decision
            .relied_on
            .iter()
            .enumerate()
            .map(|(i, r)| event_reference_from_proto(&format!("relied_on[{i}]"), r))
            .collect::<Result<_, _>>()?,
        rule_set: RuleSetId(identifier("rule_set_id", &decision.rule_set_id)?.to_owned()),
        rules: decision
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| rule_firing_from_proto(&format!("rules[{i}]"), r))
            .collect::<Result<_, _>>()?,
        evaluated_at: required_timestamp("evaluated_at", decision.evaluated_at.as_ref())?,
    })
}

fn reason_to_proto(reason: Reason) -> v1::Reason {
    v1::Reason {
        rule_id: reason.rule.0.into_owned(),
        code: reason.code.into_owned(),
        message: reason.message,
        citation: reason.citation,
        event_ids: reason.events.iter().map(ToString::to_string).collect(),
    }
}

fn reason_from_proto(field: &str, reason: &v1::Reason) -> Result<Reason, ValidationError> {
    let events_field = format!("{field}.event_ids");
    max_items(&events_field, reason.event_ids.len())?;
    Ok(Reason {
        rule: RuleId::from(identifier(&format!("{field}.rule_id"), &reason.rule_id)?),
        code: identifier(&format!("{field}.code"), &reason.code)?
            .to_owned()
            .into(),
        message: text(&format!("{field}.message"), &reason.message)?,
        citation: text(&format!("{field}.citation"), &reason.citation)?,
        events: reason
            .event_ids
            .iter()
            .enumerate()
            .map(|(i, id)| event_id(&format!("{events_field}[{i}]"), id))
            .collect::<Result<_, _>>()?,
    })
}

fn event_reference_to_proto(reference: EventReference) -> v1::EventReference {
    v1::EventReference {
        event_id: reference.id.to_string(),
        position: reference.position.as_ref().map(v1::LogPosition::from),
        kind: reference.kind.into_owned(),
        occurred_at: Some(timestamp_to_proto(reference.occurred_at)),
    }
}

fn event_reference_from_proto(
    field: &str,
    reference: &v1::EventReference,
) -> Result<EventReference, ValidationError> {
    Ok(EventReference {
        id: event_id(&format!("{field}.event_id"), &reference.event_id)?,
        position: reference.position.clone().map(Into::into),
        kind: identifier(&format!("{field}.kind"), &reference.kind)?
            .to_owned()
            .into(),
        occurred_at: required_timestamp(
            &format!("{field}.occurred_at"),
            reference.occurred_at.as_ref(),
        )?,
    })
}

fn rule_firing_to_proto(firing: RuleFiring) -> v1::RuleFiring {
    v1::RuleFiring {
        rule_id: firing.rule.0.into_owned(),
        title: firing.title,
        citation: firing.citation,
        outcome: firing.outcome.to_wire(),
        detail: firing.detail,
    }
}

fn rule_firing_from_proto(
    field: &str,
    firing: &v1::RuleFiring,
) -> Result<RuleFiring, ValidationError> {
    Ok(RuleFiring {
        rule: RuleId::from(identifier(&format!("{field}.rule_id"), &firing.rule_id)?),
        title: text(&format!("{field}.title"), &firing.title)?,
        citation: text(&format!("{field}.citation"), &firing.citation)?,
        outcome: decode(&format!("{field}.outcome"), firing.outcome)?,
        detail: text(&format!("{field}.detail"), &firing.detail)?,
    })
}
