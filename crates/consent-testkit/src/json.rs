//! Facts and questions as the HTTP API's JSON (the proto3 JSON mapping of
//! `consent.v1`), for the tests that drive a ledger over HTTP or the real
//! binary, and the few readings of its answers every such test makes.
//!
//! Two stories. The car dealer's, the README's example: [`car_dealer`]
//! registers and defines cars (servicing similar), [`car_sale`] sells a car
//! to a customer who gives an email address, [`servicing_email`] asks
//! whether a servicing email may go. The cycle shop's of [`crate::wire`],
//! rendered with [`of`]: [`shop`], [`bike_sale`], [`objection`],
//! [`helmet_email`].

use crate::wire;
use serde::Serialize;
use serde_json::{json, Value};

/// A `consent.v1` message in its proto3 JSON form (what the HTTP API takes).
pub fn of<T: Serialize>(message: &T) -> Value {
    serde_json::to_value(message).expect("a consent.v1 message serialises to JSON")
}

/// An append request's body: `{"events": [...]}`.
pub fn append(events: impl IntoIterator<Item = Value>) -> Value {
    json!({ "events": events.into_iter().collect::<Vec<_>>() })
}

/// The cycle shop's registration and categories ([`wire::ORG`]).
pub fn shop() -> Vec<Value> {
    vec![
        of(&wire::organisation_registered()),
        of(&wire::categories_defined()),
    ]
}

/// A bike sold to `subject` of the cycle shop at `at` (RFC 3339), an
/// opt-out offered at checkout and not taken.
pub fn bike_sale(subject: &str, at: &str) -> Value {
    of(&wire::sale(subject, at))
}

/// An objection by `subject` of the cycle shop at `at`, by one click.
pub fn objection(subject: &str, at: &str) -> Value {
    of(&wire::objection(subject, at))
}

/// "May the cycle shop email `subject` about helmets?", in a compliant
/// message, once the view has `wait_for` (a list of positions, as
/// [`positions`] gives them).
pub fn helmet_email(subject: &str, wait_for: &Value) -> Value {
    let mut check = of(&wire::helmet_email(subject, &[]));
    check["waitFor"] = wait_for.clone();
    check
}

/// A car dealer's own facts, as the README's example records them: its
/// registration as a commercial organisation, and servicing as similar to
/// cars (so a car buyer's soft opt-in covers servicing emails).
pub fn car_dealer(organisation: &str) -> Vec<Value> {
    vec![
        json!({"organisationId": organisation, "occurredAt": "2026-01-10T09:00:00Z",
               "organisationRegistered": {"name": "Acme Motors Ltd", "kind": "ORGANISATION_KIND_COMMERCIAL"}}),
        json!({"organisationId": organisation, "occurredAt": "2026-01-10T09:00:00Z",
               "productCategoriesDefined": {"categories": [
                   {"id": "cars", "name": "Cars", "similarCategoryIds": ["servicing"]},
                   {"id": "servicing", "name": "Servicing"}]}}),
    ]
}

/// A sale of a car by `organisation` to `subject` at `at`, the customer
/// giving the email `address` and offered an opt-out: the soft opt-in's
/// facts.
pub fn car_sale(organisation: &str, subject: &str, address: &str, at: &str) -> Value {
    json!({"organisationId": organisation, "subjectId": subject, "occurredAt": at,
           "source": {"system": "dealer-pos", "formId": "sale-form", "evidenceRef": "order 7781"},
           "saleRecorded": {"productCategoryId": "cars", "orderRef": "7781",
               "collection": {"route": "COLLECTION_ROUTE_DIRECT", "optOutOffered": true, "formVersion": "sale-form-v3",
                              "contactPoint": {"kind": "CONTACT_KIND_EMAIL", "value": address}}}})
}

/// The README's question: may `organisation` email `subject` at `address`
/// about servicing on 1 June 2026 (a marketing message, opt-out included,
/// sender identified), once the view has `wait_for`.
pub fn servicing_email(organisation: &str, subject: &str, address: &str, wait_for: Value) -> Value {
    json!({"organisationId": organisation, "subjectId": subject,
           "channel": "CHANNEL_EMAIL", "purpose": "PURPOSE_COMMERCIAL", "productCategoryId": "servicing",
           "messageClass": "MESSAGE_CLASS_MARKETING", "promotionalContent": true,
           "optOutIncluded": true, "senderIdentified": true, "at": "2026-06-01T09:00:00Z",
           "contactPoint": {"kind": "CONTACT_KIND_EMAIL", "value": address}, "waitFor": wait_for})
}

/// A mobile number recorded for `subject` of `organisation` at `at`.
pub fn mobile_recorded(organisation: &str, subject: &str, number: &str, at: &str) -> Value {
    json!({"organisationId": organisation, "subjectId": subject, "occurredAt": at,
        "contactPointRecorded": {"contactPoint": {"kind": "CONTACT_KIND_MOBILE", "value": number}}})
}

/// An email opt-out by an unsubscribe link, received at `at` for
/// `subject` of `organisation` (none: an address-only fact, as an imported
/// suppression list records it) and for `address` (none: the subject's
/// every address).
pub fn email_opt_out(
    organisation: &str,
    subject: Option<&str>,
    address: Option<&str>,
    at: &str,
) -> Value {
    let mut event = json!({"organisationId": organisation, "occurredAt": at,
        "optOutRecorded": {"channels": ["CHANNEL_EMAIL"], "receivedVia": "OPT_OUT_METHOD_UNSUBSCRIBE_LINK"}});
    if let Some(subject) = subject {
        event["subjectId"] = json!(subject);
    }
    if let Some(address) = address {
        event["optOutRecorded"]["contactPoint"] =
            json!({"kind": "CONTACT_KIND_EMAIL", "value": address});
    }
    event
}

/// The positions of an append response, as a `waitFor` list.
pub fn positions(append_response: &Value) -> Value {
    Value::Array(
        append_response["appended"]
            .as_array()
            .expect("appended list")
            .iter()
            .map(|a| a["position"].clone())
            .collect(),
    )
}

/// A proto3 JSON `LogPosition` as `(topic, partition, offset)`; zero
/// values are left out of proto3 JSON.
pub fn position_parts(position: &Value) -> (String, u64, u64) {
    (
        position["topic"].as_str().expect("topic").to_owned(),
        position["partition"].as_u64().unwrap_or(0),
        position["offset"]
            .as_str()
            .map_or(0, |o| o.parse().expect("offset is a decimal string")),
    )
}

/// A decision's reasons against, as `RULE/code`.
pub fn reasons_against(decision: &Value) -> Vec<String> {
    decision["reasonsAgainst"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            format!(
                "{}/{}",
                r["ruleId"].as_str().unwrap_or(""),
                r["code"].as_str().unwrap_or("")
            )
        })
        .collect()
}
