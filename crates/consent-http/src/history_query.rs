//! The query string of the history endpoint:
//! `?at=RFC3339&channel=CHANNEL_EMAIL&purpose=PURPOSE_COMMERCIAL&...`.
//!
//! Check fields are given by their proto3 JSON names (`productCategoryId`)
//! or proto names (`product_category_id`), with the same values as in JSON
//! bodies; `contactPoint.kind` and `contactPoint.value` give the contact
//! point. They become a `consent.v1.CheckRequest` through the same pbjson
//! deserialiser as a JSON body, so both read values alike.

use crate::error::ApiError;
use consent_domain::Timestamp;
use consent_schema::v1;
use serde_json::{Map, Value};

/// What a history request asks for.
#[derive(Debug, PartialEq)]
pub struct HistoryQuery {
    /// Only events with `occurred_at <= at`; the decision's time.
    pub at: Option<Timestamp>,
    /// The check to decide, when `channel` and `purpose` are given.
    pub decision_for: Option<v1::CheckRequest>,
}

/// How a query parameter maps onto the check.
enum Kind {
    Text,
    Bool,
    /// A field of the nested `contactPoint`.
    ContactPoint(&'static str),
}

/// The check fields a history query may set, by proto3 JSON name; the
/// organisation and subject come from the path.
const CHECK_FIELDS: &[(&str, &str, Kind)] = &[
    ("channel", "channel", Kind::Text),
    ("purpose", "purpose", Kind::Text),
    ("productCategoryId", "product_category_id", Kind::Text),
    ("messageClass", "message_class", Kind::Text),
    ("promotionalContent", "promotional_content", Kind::Bool),
    (
        "soleCharitablePurpose",
        "sole_charitable_purpose",
        Kind::Bool,
    ),
    ("optOutIncluded", "opt_out_included", Kind::Bool),
    ("senderIdentified", "sender_identified", Kind::Bool),
    ("callCategory", "call_category", Kind::Text),
    ("ruleSetId", "rule_set_id", Kind::Text),
    (
        "contactPoint.kind",
        "contact_point.kind",
        Kind::ContactPoint("kind"),
    ),
    (
        "contactPoint.value",
        "contact_point.value",
        Kind::ContactPoint("value"),
    ),
];

/// Defaults of a history decision for what the query does not say: the
/// question is whether the subject could be sent a compliant marketing
/// message at `at`, so the message is marketing, identifies the sender
/// and carries an opt-out (PECR reg 23) unless the query says otherwise.
fn decision_defaults() -> [(&'static str, Value); 3] {
    [
        ("messageClass", Value::from("MESSAGE_CLASS_MARKETING")),
        ("senderIdentified", Value::Bool(true)),
        ("optOutIncluded", Value::Bool(true)),
    ]
}

impl HistoryQuery {
    /// Reads the query parameters. An unknown parameter, a repeated one, a
    /// bad value, or a check field without both `channel` and `purpose` is
    /// a 400 naming the parameter.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Result<Self, ApiError> {
        let mut at = None;
        let mut check = Map::new();
        let mut contact_point = Map::new();
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in &pairs {
            if name == "at" {
                if at.is_some() {
                    return Err(repeated(name));
                }
                at = Some(Timestamp::parse_rfc3339(value).ok_or_else(|| {
                    ApiError::invalid(
                        Some("at".to_owned()),
                        format!("`at` must be an RFC 3339 time such as 2026-02-05T00:00:00Z, not {value:?}"),
                    )
                })?);
                continue;
            }
            let Some((json_name, _, kind)) = CHECK_FIELDS
                .iter()
                .find(|(json, proto, _)| name == json || name == proto)
            else {
                return Err(ApiError::invalid(
                    Some(name.clone()),
                    format!(
                        "unknown query parameter `{name}`; expected `at` or one of {}",
                        CHECK_FIELDS
                            .iter()
                            .map(|(json, _, _)| format!("`{json}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            };
            if seen.contains(json_name) {
                return Err(repeated(name));
            }
            seen.push(json_name);
            match kind {
                Kind::Text => {
                    check.insert((*json_name).to_owned(), Value::from(value.as_str()));
                }
                Kind::Bool => {
                    let flag = value.parse::<bool>().map_err(|_| {
                        ApiError::invalid(
                            Some(name.clone()),
                            format!("`{name}` must be `true` or `false`, not {value:?}"),
                        )
                    })?;
                    check.insert((*json_name).to_owned(), Value::Bool(flag));
                }
                Kind::ContactPoint(field) => {
                    contact_point.insert((*field).to_owned(), Value::from(value.as_str()));
                }
            }
        }
        if !contact_point.is_empty() {
            check.insert("contactPoint".to_owned(), Value::Object(contact_point));
        }
        if check.is_empty() {
            return Ok(Self {
                at,
                decision_for: None,
            });
        }
        for needed in ["channel", "purpose"] {
            if !check.contains_key(needed) {
                return Err(ApiError::invalid(
                    Some(needed.to_owned()),
                    format!("a decision needs both `channel` and `purpose`; `{needed}` is missing"),
                ));
            }
        }
        for (name, default) in decision_defaults() {
            check.entry(name.to_owned()).or_insert(default);
        }
        let decision_for = serde_path_to_error::deserialize::<_, v1::CheckRequest>(Value::Object(
            check,
        ))
        .map_err(|error| {
            let field = error.path().to_string();
            ApiError::invalid(
                Some(field.clone()),
                format!("invalid query parameter `{field}`: {}", error.into_inner()),
            )
        })?;
        Ok(Self {
            at,
            decision_for: Some(decision_for),
        })
    }
}

fn repeated(name: &str) -> ApiError {
    ApiError::invalid(
        Some(name.to_owned()),
        format!("query parameter `{name}` is given more than once"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Result<HistoryQuery, ApiError> {
        HistoryQuery::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn at_alone_asks_for_events_only() {
        let parsed = query(&[("at", "2026-02-05T00:00:00Z")]).expect("valid query");
        assert_eq!(parsed.at, Timestamp::from_date(2026, 2, 5));
        assert_eq!(parsed.decision_for, None);
    }

    #[test]
    fn channel_and_purpose_ask_for_a_compliant_marketing_message_decision() {
        let parsed = query(&[
            ("channel", "CHANNEL_EMAIL"),
            ("purpose", "PURPOSE_COMMERCIAL"),
            ("productCategoryId", "bikes"),
            ("contactPoint.kind", "CONTACT_KIND_EMAIL"),
            ("contactPoint.value", "a@example.org"),
        ])
        .expect("valid query");
        let check = parsed.decision_for.expect("a decision is asked for");
        assert_eq!(check.channel, i32::from(v1::Channel::Email));
        assert_eq!(check.purpose, i32::from(v1::Purpose::Commercial));
        assert_eq!(check.product_category_id, "bikes");
        assert_eq!(check.message_class, i32::from(v1::MessageClass::Marketing));
        assert!(check.sender_identified && check.opt_out_included);
        let contact = check.contact_point.expect("contact point");
        assert_eq!(contact.kind, i32::from(v1::ContactKind::Email));
        assert_eq!(contact.value, "a@example.org");
    }

    #[test]
    fn explicit_flags_override_the_defaults() {
        let parsed = query(&[
            ("channel", "CHANNEL_SMS"),
            ("purpose", "PURPOSE_COMMERCIAL"),
            ("opt_out_included", "false"),
        ])
        .expect("valid query");
        assert!(!parsed.decision_for.expect("decision").opt_out_included);
    }

    #[test]
    fn problems_name_the_parameter() {
        let field = |pairs: &[(&str, &str)]| query(pairs).err().and_then(|e| e.field);
        assert_eq!(field(&[("at", "yesterday")]).as_deref(), Some("at"));
        assert_eq!(field(&[("colour", "red")]).as_deref(), Some("colour"));
        assert_eq!(
            field(&[("channel", "CHANNEL_EMAIL")]).as_deref(),
            Some("purpose")
        );
        assert_eq!(
            field(&[
                ("channel", "CHANNEL_PIGEON"),
                ("purpose", "PURPOSE_COMMERCIAL")
            ])
            .as_deref(),
            Some("channel")
        );
        assert_eq!(
            field(&[
                ("channel", "CHANNEL_EMAIL"),
                ("purpose", "PURPOSE_COMMERCIAL"),
                ("senderIdentified", "yes")
            ])
            .as_deref(),
            Some("senderIdentified")
        );
        assert_eq!(
            field(&[("channel", "CHANNEL_EMAIL"), ("channel", "CHANNEL_SMS")]).as_deref(),
            Some("channel")
        );
    }
}
