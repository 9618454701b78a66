//! [`consent_domain::rules::RuleSet`] -> `consent.v1.RuleSetDescription`:
//! what a rule set is called, from when it applies, and its rules with
//! their citations.

use crate::timestamp::timestamp_to_proto;
use crate::v1;
use consent_domain::rules::{RuleDescription, RuleSet};

pub fn rule_set_to_proto(rule_set: &RuleSet) -> v1::RuleSetDescription {
    v1::RuleSetDescription {
        id: rule_set.id.0.clone(),
        effective_from: Some(timestamp_to_proto(rule_set.effective_from)),
        title: rule_set.title.clone(),
        rules: rule_set
            .rules
            .iter()
            .map(rule_description_to_proto)
            .collect(),
    }
}

fn rule_description_to_proto(rule: &RuleDescription) -> v1::RuleDescription {
    v1::RuleDescription {
        rule_id: rule.id.0.to_string(),
        title: rule.title.clone(),
        citation: rule.citation.clone(),
    }
}
