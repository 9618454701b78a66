//! Fragment ids inside the report, so a decision links to the events it
//! relied on and to the rules it cites.
//!
//! Ids are built only from `[A-Za-z0-9-]`; any other character of a data
//! value is written as `_` and its hex code, so distinct values give
//! distinct ids and no value can break out of the attribute.

use consent_domain::identity::EventId;
use consent_domain::rules::{RuleId, RuleSetId};

/// `event-<uuid>`: the timeline entry of an event.
pub fn event(id: &EventId) -> String {
    format!("event-{}", id.0.as_hyphenated())
}

/// `decision-<n>`, counting from 1 as the report does.
pub fn decision(number: usize) -> String {
    format!("decision-{number}")
}

/// `rule-<rule set>--<rule>`: a rule in the rule set section.
pub fn rule(rule_set: &RuleSetId, rule: &RuleId) -> String {
    format!(
        "rule-{}--{}",
        encode(rule_set.as_str()),
        encode(rule.as_str())
    )
}

/// `rule-set-<rule set>`.
pub fn rule_set(rule_set: &RuleSetId) -> String {
    format!("rule-set-{}", encode(rule_set.as_str()))
}

fn encode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = String::with_capacity(value.len());
    for (i, &byte) in bytes.iter().enumerate() {
        // A '-' is kept only between two letters or digits, so an encoded
        // value never starts or ends with '-' nor holds "--": the "--"
        // between a rule set and a rule stays unambiguous.
        let inner_dash = byte == b'-'
            && i > 0
            && bytes[i - 1].is_ascii_alphanumeric()
            && bytes.get(i + 1).is_some_and(u8::is_ascii_alphanumeric);
        if byte.is_ascii_alphanumeric() || inner_dash {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("_{byte:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_plain_names_and_encode_everything_else() {
        let set = RuleSetId::from("uk-pecr-duaa-2026-02-05");
        assert_eq!(
            rule(&set, &RuleId::from("R3b")),
            "rule-uk-pecr-duaa-2026-02-05--R3b"
        );
        assert_eq!(
            rule(&RuleSetId::from("a\"><b"), &RuleId::from("x y")),
            "rule-a_22_3e_3cb--x_20y"
        );
        assert_ne!(
            rule(&RuleSetId::from("a--b"), &RuleId::from("c")),
            rule(&RuleSetId::from("a"), &RuleId::from("b--c"))
        );
        assert_ne!(
            rule(&RuleSetId::from("a-"), &RuleId::from("b")),
            rule(&RuleSetId::from("a"), &RuleId::from("-b"))
        );
        assert_ne!(
            rule_set(&RuleSetId::from("a_2f")),
            rule_set(&RuleSetId::from("a/"))
        );
    }
}
