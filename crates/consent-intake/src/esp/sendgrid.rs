//! The SendGrid Event Webhook, signed ("Signed Event Webhook"): an ECDSA
//! P-256 / SHA-256 signature over the timestamp header's text followed by
//! the raw body, base64 (DER) in `X-Twilio-Email-Event-Webhook-Signature`,
//! under the verification key SendGrid shows in its settings (base64 of
//! the DER SubjectPublicKeyInfo).
//!
//! Events: `unsubscribe` and `group_unsubscribe` are email opt-outs of the
//! address (the ledger has no suppression groups: an unsubscribe from one
//! group stops the organisation's marketing email, failing closed);
//! `spamreport` is an objection (the recipient marked the message as
//! spam). Every other event (`processed`, `delivered`, `open`, `click`,
//! `bounce`, `dropped`, `deferred`, `group_resubscribe`...) is acknowledged
//! and ignored: it says nothing about consent, and a resubscribe at the ESP
//! is not consent the ledger can rely on (consent is recorded with its own
//! evidence through the API).

use super::{EspAction, EspDelivery, EspError, EspEvent, EventAddress, KeyError, Provider};
use base64::Engine;
use consent_domain::vocabulary::{Channel, ContactKind, OptOutMethod};
use consent_domain::Timestamp;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;

/// The header carrying the signature (HTTP header names are read
/// case-insensitively; SendGrid writes `X-Twilio-Email-Event-Webhook-Signature`).
pub const SIGNATURE_HEADER: &str = "x-twilio-email-event-webhook-signature";
/// The header carrying the signed timestamp (Unix seconds, as text).
pub const TIMESTAMP_HEADER: &str = "x-twilio-email-event-webhook-timestamp";
/// How far the signed timestamp may be from now, by default (seconds).
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// SendGrid's verification key for one account.
#[derive(Clone, Debug)]
pub struct SendGridKey(VerifyingKey);

impl SendGridKey {
    /// Reads the key as SendGrid shows it: base64 of the DER
    /// SubjectPublicKeyInfo (`MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE...`);
    /// PEM armour around it is accepted too.
    pub fn from_base64_der(text: &str) -> Result<Self, KeyError> {
        let base64: String = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("-----"))
            .flat_map(|line| line.chars())
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(base64.as_bytes())
            .map_err(|error| {
                KeyError(format!(
                    "the SendGrid verification key is not base64: {error}"
                ))
            })?;
        VerifyingKey::from_public_key_der(&der)
            .map(Self)
            .map_err(|error| {
                KeyError(format!(
                    "the SendGrid verification key is not an ECDSA P-256 public key (base64 DER, as SendGrid shows it): {error}"
                ))
            })
    }

    /// The key as a P-256 verifying key (tests sign with its pair).
    pub fn from_verifying_key(key: VerifyingKey) -> Self {
        Self(key)
    }

    /// Verifies `signature` (base64 DER) over `timestamp` then `body`, and
    /// that the timestamp is within `tolerance_secs` of `now`.
    pub fn verify(
        &self,
        body: &[u8],
        signature: Option<&str>,
        timestamp: Option<&str>,
        now: Timestamp,
        tolerance_secs: i64,
    ) -> Result<(), EspError> {
        let missing = |header| EspError::MissingHeader {
            header,
            provider: "SendGrid",
        };
        let signature = signature.ok_or_else(|| missing(SIGNATURE_HEADER))?;
        let timestamp = timestamp.ok_or_else(|| missing(TIMESTAMP_HEADER))?;
        let bad = |reason: &str| EspError::BadSignature {
            field: SIGNATURE_HEADER,
            what: "the SendGrid signature",
            reason: reason.to_owned(),
        };
        let der = base64::engine::general_purpose::STANDARD
            .decode(signature.trim().as_bytes())
            .map_err(|_| bad("not base64"))?;
        let signature = Signature::from_der(&der).map_err(|_| bad("not a DER ECDSA signature"))?;
        let mut signed = Vec::with_capacity(timestamp.len() + body.len());
        signed.extend_from_slice(timestamp.as_bytes());
        signed.extend_from_slice(body);
        self.0.verify(&signed, &signature).map_err(|_| {
            bad("not signed by the configured verification key over this timestamp and body")
        })?;
        let seconds: i64 = timestamp.trim().parse().map_err(|_| EspError::Payload {
            field: TIMESTAMP_HEADER.to_owned(),
            reason: "must be Unix seconds".to_owned(),
        })?;
        let age_secs = now.unix_parts().0.saturating_sub(seconds);
        if age_secs.saturating_abs() > tolerance_secs {
            return Err(EspError::Stale {
                field: TIMESTAMP_HEADER,
                age_secs,
                tolerance_secs,
            });
        }
        Ok(())
    }
}

/// Reads a verified body: a JSON array of events.
pub fn read_events(body: &[u8]) -> Result<EspDelivery, EspError> {
    let mut delivery = EspDelivery::new(Provider::SendGrid, body);
    let events: Vec<serde_json::Value> = serde_json::from_slice(body).map_err(|error| {
        EspError::payload("body", format!("not a JSON array of events: {error}"))
    })?;
    for (index, event) in events.iter().enumerate() {
        let field = |name: &str| format!("[{index}].{name}");
        let text = |name: &str| event.get(name).and_then(serde_json::Value::as_str);
        let kind = text("event").ok_or_else(|| EspError::payload(field("event"), "required"))?;
        let provider_event_id = text("sg_event_id").unwrap_or_default();
        let action = match kind {
            "unsubscribe" | "group_unsubscribe" => EspAction::OptOut {
                channel: Channel::Email,
                method: OptOutMethod::UnsubscribeLink,
            },
            "spamreport" => EspAction::Objection {
                method: OptOutMethod::SpamComplaint,
            },
            "group_resubscribe" => {
                delivery.ignore(kind, provider_event_id, "a resubscribe at the ESP is not consent the ledger records: record consent with its evidence through the API");
                continue;
            }
            _ => {
                delivery.ignore(
                    kind,
                    provider_event_id,
                    "not about consent: acknowledged and ignored",
                );
                continue;
            }
        };
        if provider_event_id.is_empty() {
            return Err(EspError::payload(
                field("sg_event_id"),
                "required for an event the ledger records",
            ));
        }
        let email = text("email")
            .filter(|email| !email.trim().is_empty())
            .ok_or_else(|| EspError::payload(field("email"), "required"))?;
        let occurred_at = match event.get("timestamp") {
            None => None,
            Some(value) => Some(
                value
                    .as_i64()
                    .and_then(|seconds| Timestamp::from_unix_parts(seconds, 0))
                    .ok_or_else(|| EspError::payload(field("timestamp"), "must be Unix seconds"))?,
            ),
        };
        let mut detail = Vec::new();
        for name in [
            "sg_message_id",
            "asm_group_id",
            "marketing_campaign_id",
            "category",
        ] {
            if let Some(value) = event.get(name).filter(|v| !v.is_null()) {
                let value = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned);
                detail.push((name, value));
            }
        }
        delivery.events.push(EspEvent {
            provider_event_id: provider_event_id.to_owned(),
            event_type: kind.to_owned(),
            action,
            address: Some(EventAddress {
                kind: ContactKind::Email,
                value: email.to_owned(),
            }),
            subject: None,
            occurred_at,
            detail,
        });
    }
    Ok(delivery)
}

#[cfg(test)]
mod tests {
    use super::*;

    // SendGrid's own sample, from its open-source verifier's tests
    // (sendgrid-python, test/unit/test_eventwebhook.py): the key, the
    // signature, the timestamp and the payload exactly as signed (JSON with
    // sorted keys, no spaces, and the trailing CR LF).
    const PUBLIC_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==";
    const SIGNATURE: &str = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=";
    const TIMESTAMP: &str = "1600112502";
    const PAYLOAD: &str = "[{\"email\":\"hello@world.com\",\"event\":\"dropped\",\"reason\":\"Bounced Address\",\"sg_event_id\":\"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA\",\"sg_message_id\":\"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0\",\"smtp-id\":\"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>\",\"timestamp\":1600112492}]\r\n";
    // Another key from the same tests ("bad key").
    const OTHER_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA==";

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_parts(seconds, 0).expect("in range")
    }

    #[test]
    fn sendgrids_documented_sample_verifies() {
        let key = SendGridKey::from_base64_der(PUBLIC_KEY).expect("the sample key");
        key.verify(
            PAYLOAD.as_bytes(),
            Some(SIGNATURE),
            Some(TIMESTAMP),
            at(1_600_112_510),
            300,
        )
        .expect("the sample verifies");
        // The sample is a `dropped` event: acknowledged and ignored.
        let delivery = read_events(PAYLOAD.as_bytes()).expect("read");
        assert!(delivery.events.is_empty());
        assert_eq!(delivery.ignored.len(), 1);
        assert_eq!(delivery.ignored[0].event_type, "dropped");
        assert_eq!(
            delivery.ignored[0].provider_event_id,
            "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA"
        );
        assert_eq!(
            delivery.payload_sha256,
            super::super::payload_sha256(PAYLOAD.as_bytes())
        );
    }

    #[test]
    fn the_sample_is_refused_under_another_key_body_signature_or_timestamp() {
        let key = SendGridKey::from_base64_der(PUBLIC_KEY).expect("key");
        let now = at(1_600_112_510);
        let other = SendGridKey::from_base64_der(OTHER_KEY).expect("other key");
        let refused = |result: Result<(), EspError>| match result {
            Err(error @ EspError::BadSignature { .. }) => error.field(),
            other => panic!("expected a bad signature, got {other:?}"),
        };
        assert_eq!(
            refused(other.verify(
                PAYLOAD.as_bytes(),
                Some(SIGNATURE),
                Some(TIMESTAMP),
                now,
                300
            )),
            SIGNATURE_HEADER
        );
        refused(key.verify(b"payload", Some(SIGNATURE), Some(TIMESTAMP), now, 300));
        // The tests' "bad signature": one character changed.
        refused(key.verify(
            PAYLOAD.as_bytes(),
            Some("MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH3j/0="),
            Some(TIMESTAMP),
            now,
            300,
        ));
        refused(key.verify(
            PAYLOAD.as_bytes(),
            Some(SIGNATURE),
            Some("timestamp"),
            now,
            300,
        ));
        refused(key.verify(
            PAYLOAD.as_bytes(),
            Some("not base64!"),
            Some(TIMESTAMP),
            now,
            300,
        ));
    }

    #[test]
    fn a_genuine_signature_over_a_stale_timestamp_is_refused() {
        let key = SendGridKey::from_base64_der(PUBLIC_KEY).expect("key");
        let error = key
            .verify(
                PAYLOAD.as_bytes(),
                Some(SIGNATURE),
                Some(TIMESTAMP),
                at(1_600_112_502 + 301),
                300,
            )
            .expect_err("stale");
        assert_eq!(
            error,
            EspError::Stale {
                field: TIMESTAMP_HEADER,
                age_secs: 301,
                tolerance_secs: 300
            }
        );
        assert!(error.is_authentication());
        // As far in the future is refused too.
        assert!(key
            .verify(
                PAYLOAD.as_bytes(),
                Some(SIGNATURE),
                Some(TIMESTAMP),
                at(1_600_112_502 - 301),
                300
            )
            .is_err());
    }

    #[test]
    fn missing_headers_are_named() {
        let key = SendGridKey::from_base64_der(PUBLIC_KEY).expect("key");
        let now = at(1_600_112_510);
        assert_eq!(
            key.verify(PAYLOAD.as_bytes(), None, Some(TIMESTAMP), now, 300)
                .map_err(|e| e.field()),
            Err(SIGNATURE_HEADER.to_owned())
        );
        assert_eq!(
            key.verify(PAYLOAD.as_bytes(), Some(SIGNATURE), None, now, 300)
                .map_err(|e| e.field()),
            Err(TIMESTAMP_HEADER.to_owned())
        );
    }

    #[test]
    fn a_key_that_is_not_p256_is_refused_naming_what_is_expected() {
        let error = SendGridKey::from_base64_der("bm90IGEga2V5").expect_err("not a key");
        assert!(error.0.contains("ECDSA P-256"), "{error}");
        assert!(SendGridKey::from_base64_der("%%%").is_err());
        let pem = format!("-----BEGIN PUBLIC KEY-----\n{PUBLIC_KEY}\n-----END PUBLIC KEY-----\n");
        assert!(
            SendGridKey::from_base64_der(&pem).is_ok(),
            "PEM armour is accepted"
        );
    }

    #[test]
    fn unsubscribes_opt_out_spam_reports_object_and_the_rest_is_ignored() {
        // Events as SendGrid's Event Webhook reference documents them.
        let body = br#"[
          {"email":"example@test.com","timestamp":1513299569,"event":"unsubscribe","category":"cat facts","sg_event_id":"sg_event_id_1","sg_message_id":"sg_message_id"},
          {"email":"example@test.com","timestamp":1513299569,"event":"group_unsubscribe","asm_group_id":10,"sg_event_id":"sg_event_id_2","sg_message_id":"sg_message_id"},
          {"email":"example@test.com","timestamp":1513299569,"event":"spamreport","sg_event_id":"sg_event_id_3","sg_message_id":"sg_message_id"},
          {"email":"example@test.com","timestamp":1513299569,"event":"bounce","reason":"500 unknown recipient","status":"5.0.0","type":"bounce","sg_event_id":"sg_event_id_4"},
          {"email":"example@test.com","timestamp":1513299569,"event":"group_resubscribe","asm_group_id":10,"sg_event_id":"sg_event_id_5"}
        ]"#;
        let delivery = read_events(body).expect("read");
        let actions: Vec<_> = delivery
            .events
            .iter()
            .map(|e| (e.event_type.as_str(), e.action))
            .collect();
        let opt_out = EspAction::OptOut {
            channel: Channel::Email,
            method: OptOutMethod::UnsubscribeLink,
        };
        assert_eq!(
            actions,
            vec![
                ("unsubscribe", opt_out),
                ("group_unsubscribe", opt_out),
                (
                    "spamreport",
                    EspAction::Objection {
                        method: OptOutMethod::SpamComplaint
                    }
                ),
            ]
        );
        let event = &delivery.events[1];
        assert_eq!(event.provider_event_id, "sg_event_id_2");
        assert_eq!(
            event.address,
            Some(EventAddress {
                kind: ContactKind::Email,
                value: "example@test.com".to_owned()
            })
        );
        assert_eq!(event.occurred_at, Some(at(1_513_299_569)));
        assert!(event.detail.contains(&("asm_group_id", "10".to_owned())));
        let ignored: Vec<_> = delivery
            .ignored
            .iter()
            .map(|i| i.event_type.as_str())
            .collect();
        assert_eq!(ignored, vec!["bounce", "group_resubscribe"]);
    }

    #[test]
    fn a_recorded_event_without_its_address_or_id_is_refused_naming_the_field() {
        let error =
            read_events(br#"[{"event":"unsubscribe","sg_event_id":"e1"}]"#).expect_err("no email");
        assert_eq!(error.field(), "[0].email");
        let error =
            read_events(br#"[{"event":"spamreport","email":"a@example.com"}]"#).expect_err("no id");
        assert_eq!(error.field(), "[0].sg_event_id");
        let error = read_events(b"{}").expect_err("not an array");
        assert_eq!(error.field(), "body");
    }
}
