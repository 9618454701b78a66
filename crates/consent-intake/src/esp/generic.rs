//! The generic signed webhook, for any ESP, CRM or relay not named
//! above: one small JSON object per request, signed like the SMS webhook
//! (`x-consent-signature: sha256=<hex HMAC-SHA256 of the raw body>` under
//! the organisation's secret):
//!
//! ```json
//! {"organisationId": "acme-cycles",
//!  "subjectId": "customer-1842",            // or, or both:
//!  "address": "ada@example.com",            // an email address or a telephone number
//!  "addressKind": "email",                  // email | mobile | landline; email when it has an @
//!  "kind": "opt_out",                       // opt_out | objection | withdrawal
//!  "channel": "email",                      // email | sms | live_call | automated_call | post
//!  "occurredAt": "2026-03-01T10:00:00Z",
//!  "providerEventId": "evt-20260301-0001",  // the sender's id: a replay is the same fact
//!  "method": "unsubscribe_link"}            // optional: how the person opted out
//! ```
//!
//! Field names are also accepted in snake case (`organisation_id`...).

use super::{EspAction, EspDelivery, EspError, EspEvent, EventAddress, Provider};
use consent_domain::vocabulary::{Channel, ContactKind, OptOutMethod};
use consent_domain::Timestamp;

pub use crate::sms::{sign_webhook, SIGNATURE_HEADER};

/// Verifies the body's signature under the organisation's secret.
pub fn verify(secret: &[u8], body: &[u8], signature: Option<&str>) -> Result<(), EspError> {
    let signature = signature.ok_or(EspError::MissingHeader {
        header: SIGNATURE_HEADER,
        provider: "the sender",
    })?;
    if crate::sms::verify_webhook(secret, body, signature) {
        Ok(())
    } else {
        Err(EspError::BadSignature {
            field: SIGNATURE_HEADER,
            what: "the webhook signature (`sha256=<hex HMAC-SHA256 of the body>`)",
            reason: "not made with this organisation's secret over this body".to_owned(),
        })
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Body {
    #[serde(alias = "organisation_id")]
    organisation_id: String,
    #[serde(default, alias = "subject_id")]
    subject_id: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default, alias = "address_kind")]
    address_kind: Option<String>,
    kind: String,
    channel: String,
    #[serde(alias = "occurred_at")]
    occurred_at: String,
    #[serde(alias = "provider_event_id")]
    provider_event_id: String,
    #[serde(default)]
    method: Option<String>,
}

/// Reads a verified body sent for `organisation` (the endpoint's).
pub fn read_body(organisation: &str, body: &[u8]) -> Result<EspDelivery, EspError> {
    let mut delivery = EspDelivery::new(Provider::Generic, body);
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let parsed: Body = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        EspError::payload(field, error.into_inner().to_string())
    })?;
    if parsed.organisation_id != organisation {
        return Err(EspError::payload(
            "organisationId",
            format!(
                "`{}` is not the organisation of this endpoint (`{organisation}`)",
                parsed.organisation_id
            ),
        ));
    }
    let subject = parsed.subject_id.filter(|s| !s.trim().is_empty());
    let address = parsed.address.filter(|a| !a.trim().is_empty());
    if subject.is_none() && address.is_none() {
        return Err(EspError::payload(
            "subjectId",
            "a subjectId or an address is required",
        ));
    }
    let provider_event_id = parsed.provider_event_id.trim().to_owned();
    if provider_event_id.is_empty() {
        return Err(EspError::payload(
            "providerEventId",
            "required: it makes a replay the same fact",
        ));
    }
    let channel = channel(&parsed.channel).ok_or_else(|| {
        EspError::payload(
            "channel",
            "must be one of email, sms, live_call, automated_call, post",
        )
    })?;
    let method = match parsed.method.as_deref() {
        None | Some("") => OptOutMethod::UnsubscribeLink,
        Some(text) => method(text).ok_or_else(|| {
            EspError::payload("method", "must be one of unsubscribe_link, one_click, reply_stop, call, in_person, email_reply, letter, gpc_signal, preference_centre, spam_complaint")
        })?,
    };
    let action = match parsed
        .kind
        .trim()
        .to_ascii_lowercase()
        .replace('-', "_")
        .as_str()
    {
        "opt_out" => EspAction::OptOut { channel, method },
        "objection" => EspAction::Objection { method },
        "withdrawal" => EspAction::Withdrawal { channel, method },
        _ => {
            return Err(EspError::payload(
                "kind",
                "must be one of opt_out, objection, withdrawal",
            ))
        }
    };
    let occurred_at = Timestamp::parse_rfc3339(parsed.occurred_at.trim()).ok_or_else(|| {
        EspError::payload("occurredAt", "must be RFC 3339, e.g. 2026-03-01T10:00:00Z")
    })?;
    let address = match address {
        None => None,
        Some(value) => {
            let kind =
                match parsed.address_kind.as_deref().map(str::trim) {
                    Some("email") => ContactKind::Email,
                    Some("mobile") => ContactKind::Mobile,
                    Some("landline") => ContactKind::Landline,
                    None | Some("") if value.contains('@') => ContactKind::Email,
                    None | Some("") => return Err(EspError::payload(
                        "addressKind",
                        "required for an address that is not an email address: mobile or landline",
                    )),
                    Some(_) => {
                        return Err(EspError::payload(
                            "addressKind",
                            "must be one of email, mobile, landline",
                        ))
                    }
                };
            Some(EventAddress { kind, value })
        }
    };
    delivery.events.push(EspEvent {
        provider_event_id,
        event_type: parsed.kind,
        action,
        address,
        subject,
        occurred_at: Some(occurred_at),
        detail: vec![("channel", channel.as_str().to_owned())],
    });
    Ok(delivery)
}

fn channel(text: &str) -> Option<Channel> {
    let text = text.trim().to_ascii_lowercase();
    let text = text.strip_prefix("channel_").unwrap_or(&text);
    Channel::ALL
        .into_iter()
        .find(|channel| channel.as_str() == text)
}

fn method(text: &str) -> Option<OptOutMethod> {
    let text = text.trim().to_ascii_lowercase();
    let text = text.strip_prefix("opt_out_method_").unwrap_or(&text);
    Some(match text {
        "unsubscribe_link" => OptOutMethod::UnsubscribeLink,
        "one_click" => OptOutMethod::OneClick,
        "reply_stop" => OptOutMethod::ReplyStop,
        "call" => OptOutMethod::Call,
        "in_person" => OptOutMethod::InPerson,
        "email_reply" => OptOutMethod::EmailReply,
        "letter" => OptOutMethod::Letter,
        "gpc_signal" => OptOutMethod::GpcSignal,
        "preference_centre" => OptOutMethod::PreferenceCentre,
        "spam_complaint" => OptOutMethod::SpamComplaint,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"organisationId":"acme-cycles","address":"ada@example.com","kind":"opt_out","channel":"email","occurredAt":"2026-03-01T10:00:00Z","providerEventId":"evt-1"}"#;

    #[test]
    fn a_signed_body_verifies_under_its_secret_only() {
        let header = sign_webhook(b"org secret", BODY.as_bytes());
        verify(b"org secret", BODY.as_bytes(), Some(&header)).expect("verifies");
        assert_eq!(
            verify(b"other", BODY.as_bytes(), Some(&header))
                .unwrap_err()
                .field(),
            SIGNATURE_HEADER
        );
        assert!(verify(b"org secret", BODY.as_bytes(), None).is_err());
    }

    #[test]
    fn the_documented_body_is_an_opt_out_of_the_address() {
        let delivery = read_body("acme-cycles", BODY.as_bytes()).expect("read");
        let event = &delivery.events[0];
        assert_eq!(
            event.action,
            EspAction::OptOut {
                channel: Channel::Email,
                method: OptOutMethod::UnsubscribeLink
            }
        );
        assert_eq!(
            event.address,
            Some(EventAddress {
                kind: ContactKind::Email,
                value: "ada@example.com".to_owned()
            })
        );
        assert_eq!(event.provider_event_id, "evt-1");
        assert_eq!(event.subject, None);
    }

    #[test]
    fn each_kind_and_snake_case_names_are_read() {
        let body = r#"{"organisation_id":"acme-cycles","subject_id":"c-1","kind":"withdrawal","channel":"CHANNEL_SMS","occurred_at":"2026-03-01T10:00:00Z","provider_event_id":"e","method":"OPT_OUT_METHOD_CALL"}"#;
        let delivery = read_body("acme-cycles", body.as_bytes()).expect("read");
        assert_eq!(
            delivery.events[0].action,
            EspAction::Withdrawal {
                channel: Channel::Sms,
                method: OptOutMethod::Call
            }
        );
        assert_eq!(delivery.events[0].subject.as_deref(), Some("c-1"));
        let objection = BODY.replace("opt_out", "objection");
        assert_eq!(
            read_body("acme-cycles", objection.as_bytes())
                .expect("read")
                .events[0]
                .action,
            EspAction::Objection {
                method: OptOutMethod::UnsubscribeLink
            }
        );
    }

    #[test]
    fn a_bad_field_is_refused_naming_it() {
        let refused = |body: String| {
            read_body("acme-cycles", body.as_bytes())
                .unwrap_err()
                .field()
        };
        assert_eq!(
            refused(BODY.replace("acme-cycles", "other-org")),
            "organisationId"
        );
        assert_eq!(refused(BODY.replace("opt_out", "unsubscribe")), "kind");
        assert_eq!(refused(BODY.replace("\"email\"", "\"fax\"")), "channel");
        assert_eq!(
            refused(BODY.replace("2026-03-01T10:00:00Z", "yesterday")),
            "occurredAt"
        );
        assert_eq!(refused(BODY.replace("evt-1", " ")), "providerEventId");
        assert_eq!(
            refused(BODY.replace("ada@example.com", "+447700900123")),
            "addressKind"
        );
        assert_eq!(refused(BODY.replace("\"kind\"", "\"kinds\"")), "kinds");
        assert_eq!(
            refused(BODY.replace(r#""address":"ada@example.com","#, "")),
            "subjectId"
        );
    }
}
