//! Amazon SES bounce and complaint notifications, delivered by SNS
//! ([`super::sns`] verifies the delivery). The SNS `Message` is SES's JSON
//! notification (`notificationType`, or `eventType` for event publishing):
//!
//! * `Complaint` with `complaintFeedbackType` `abuse`, or with no feedback
//!   type (most mailbox providers send none: the recipient pressed "this is
//!   spam"): a hard complaint, an objection of each complained recipient.
//!   Other feedback types (`fraud`, `virus`, `auth-failure`, `other`) are
//!   noted, not refusals; `not-spam` and SES's own suppression-list
//!   complaints (`complaintSubType` `OnAccountSuppressionList`: the message
//!   was never sent) are ignored.
//! * `Bounce`: noted for each bounced recipient, never a refusal (an
//!   address that cannot receive mail has not objected to anything).
//! * Everything else (`Delivery`, `Send`, `Open`...): ignored.
//!
//! A `SubscriptionConfirmation` is reported with its `SubscribeURL` for
//! the operator to confirm; the ledger never follows it.

use super::sns::{SnsCertificate, SnsMessage};
use super::{
    EspAction, EspDelivery, EspError, EspEvent, EventAddress, Provider, SubscriptionConfirmation,
};
use consent_domain::vocabulary::{ContactKind, OptOutMethod};
use consent_domain::Timestamp;
use serde_json::Value;

/// Verifies an SNS delivery under `certificate` (and, when given, that it
/// comes from `topic_arn`), then reads the SES notification it carries.
pub fn read_delivery(
    certificate: &SnsCertificate,
    topic_arn: Option<&str>,
    body: &[u8],
) -> Result<EspDelivery, EspError> {
    let message = SnsMessage::parse(body)?;
    certificate.verify(&message)?;
    if let Some(expected) = topic_arn.filter(|arn| !arn.is_empty()) {
        if message.topic_arn != expected {
            return Err(EspError::BadSignature {
                field: "TopicArn",
                what: "the SNS topic",
                reason: format!(
                    "`{}` is not the topic configured for this organisation",
                    message.topic_arn
                ),
            });
        }
    }
    let mut delivery = EspDelivery::new(Provider::Ses, body);
    delivery.delivery_id = message.message_id.clone();
    match message.kind.as_str() {
        "SubscriptionConfirmation" => {
            delivery.subscription = Some(SubscriptionConfirmation {
                topic_arn: message.topic_arn.clone(),
                subscribe_url: message.subscribe_url.clone().unwrap_or_default(),
            });
        }
        "UnsubscribeConfirmation" => {
            delivery.ignore(
                &message.kind,
                &message.message_id,
                "the topic's subscription was removed: nothing to record",
            );
        }
        _ => read_notification(&message, &mut delivery)?,
    }
    Ok(delivery)
}

fn read_notification(message: &SnsMessage, delivery: &mut EspDelivery) -> Result<(), EspError> {
    let notification: Value = serde_json::from_str(&message.message).map_err(|error| {
        EspError::payload(
            "Message",
            format!("not an SES notification (JSON): {error}"),
        )
    })?;
    let text =
        |value: &Value, name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
    let kind = text(&notification, "notificationType")
        .or_else(|| text(&notification, "eventType"))
        .ok_or_else(|| EspError::payload("Message.notificationType", "required"))?;
    let (object, recipients_key) = match kind.as_str() {
        "Complaint" => ("complaint", "complainedRecipients"),
        "Bounce" => ("bounce", "bouncedRecipients"),
        _ => {
            delivery.ignore(
                &kind,
                &message.message_id,
                "not about consent: acknowledged and ignored",
            );
            return Ok(());
        }
    };
    let field = |name: &str| format!("Message.{object}.{name}");
    let body = notification
        .get(object)
        .ok_or_else(|| EspError::payload(format!("Message.{object}"), "required"))?;
    let feedback_id = text(body, "feedbackId")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| EspError::payload(field("feedbackId"), "required"))?;
    let occurred_at = match text(body, "timestamp") {
        None => None,
        Some(time) => Some(
            Timestamp::parse_rfc3339(&time)
                .ok_or_else(|| EspError::payload(field("timestamp"), "must be RFC 3339"))?,
        ),
    };
    let mut detail: Vec<(&'static str, String)> =
        vec![("snsMessageId", message.message_id.clone())];
    if let Some(id) = notification
        .get("mail")
        .and_then(|mail| text(mail, "messageId"))
    {
        detail.push(("sesMessageId", id));
    }
    let action = if kind == "Complaint" {
        let feedback_type = text(body, "complaintFeedbackType");
        if let Some(sub_type) = text(body, "complaintSubType") {
            detail.push(("complaintSubType", sub_type.clone()));
            if sub_type == "OnAccountSuppressionList" {
                delivery.ignore(&kind, &feedback_id, "SES did not send: the address is on the account's suppression list (no new complaint)");
                return Ok(());
            }
        }
        if let Some(feedback_type) = &feedback_type {
            detail.push(("complaintFeedbackType", feedback_type.clone()));
        }
        match feedback_type.as_deref() {
            None | Some("abuse") => EspAction::Objection {
                method: OptOutMethod::SpamComplaint,
            },
            Some("not-spam") => {
                delivery.ignore(
                    &kind,
                    &feedback_id,
                    "complaintFeedbackType `not-spam`: the recipient says the message is not spam",
                );
                return Ok(());
            }
            Some(_) => EspAction::NotARefusal,
        }
    } else {
        for name in ["bounceType", "bounceSubType"] {
            if let Some(value) = text(body, name) {
                detail.push((name, value));
            }
        }
        EspAction::NotARefusal
    };
    let recipients = body
        .get(recipients_key)
        .and_then(Value::as_array)
        .filter(|recipients| !recipients.is_empty())
        .ok_or_else(|| {
            EspError::payload(field(recipients_key), "required: at least one recipient")
        })?;
    for (index, recipient) in recipients.iter().enumerate() {
        let address = text(recipient, "emailAddress")
            .filter(|address| !address.trim().is_empty())
            .ok_or_else(|| {
                EspError::payload(
                    format!("{}[{index}].emailAddress", field(recipients_key)),
                    "required",
                )
            })?;
        let mut detail = detail.clone();
        if let Some(status) = text(recipient, "status") {
            detail.push(("status", status));
        }
        delivery.events.push(EspEvent {
            provider_event_id: feedback_id.clone(),
            event_type: kind.clone(),
            action,
            address: Some(EventAddress {
                kind: ContactKind::Email,
                value: address,
            }),
            subject: None,
            occurred_at,
            detail,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esp::sns::tests::{documented_notification, sign, CERTIFICATE};

    // Amazon SES's documented notification examples (the SES developer
    // guide, "Amazon SNS notification examples for Amazon SES"), trimmed
    // of the original headers.
    const COMPLAINT: &str = r#"{
       "notificationType":"Complaint",
       "complaint":{
          "userAgent":"AnyCompany Feedback Loop (V0.01)",
          "complainedRecipients":[{"emailAddress":"richard@example.com"}],
          "complaintFeedbackType":"abuse",
          "arrivalDate":"2016-01-27T14:59:38.237Z",
          "timestamp":"2016-01-27T14:59:38.237Z",
          "feedbackId":"000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000"
       },
       "mail":{
          "timestamp":"2016-01-27T14:59:38.237Z",
          "messageId":"000001378603177f-7a5433e7-8edb-42ae-af10-f0181f34d6ee-000000",
          "source":"john@example.com",
          "sourceArn": "arn:aws:ses:us-east-1:888888888888:identity/example.com",
          "sourceIp": "127.0.3.0",
          "sendingAccountId":"123456789012",
          "callerIdentity": "IAM_user_or_role_name",
          "destination":["jane@example.com","mary@example.com","richard@example.com"]
       }
    }"#;
    const BOUNCE: &str = r#"{
       "notificationType":"Bounce",
       "bounce":{
          "bounceType":"Permanent",
          "reportingMTA":"dns; email.example.com",
          "bouncedRecipients":[{"emailAddress":"jane@example.com","status":"5.1.1","action":"failed","diagnosticCode":"smtp; 550 5.1.1 <jane@example.com>... User"}],
          "bounceSubType":"General",
          "timestamp":"2016-01-27T14:59:38.237Z",
          "feedbackId":"00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000",
          "remoteMtaIp":"127.0.2.0"
       },
       "mail":{
          "timestamp":"2016-01-27T14:59:38.237Z",
          "source":"john@example.com",
          "messageId":"00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000",
          "destination":["jane@example.com","mary@example.com","richard@example.com"]
       }
    }"#;

    fn certificate() -> SnsCertificate {
        SnsCertificate::from_pem(CERTIFICATE).expect("the test certificate")
    }

    fn body(message: &SnsMessage) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "Type": message.kind, "MessageId": message.message_id, "TopicArn": message.topic_arn,
            "Subject": message.subject, "Message": message.message, "Timestamp": message.timestamp,
            "SignatureVersion": message.signature_version, "Signature": message.signature,
            "SigningCertURL": message.signing_cert_url, "UnsubscribeURL": message.unsubscribe_url,
            "SubscribeURL": message.subscribe_url, "Token": message.token,
        }))
        .expect("json")
    }

    #[test]
    fn a_documented_abuse_complaint_is_an_objection_of_the_complained_recipient() {
        let message = documented_notification(COMPLAINT, "1");
        let delivery = read_delivery(&certificate(), None, &body(&message)).expect("read");
        assert_eq!(delivery.delivery_id, message.message_id);
        assert_eq!(delivery.events.len(), 1);
        let event = &delivery.events[0];
        assert_eq!(
            event.action,
            EspAction::Objection {
                method: OptOutMethod::SpamComplaint
            }
        );
        assert_eq!(event.event_type, "Complaint");
        assert_eq!(
            event.provider_event_id,
            "000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000"
        );
        assert_eq!(
            event.address.as_ref().map(|a| a.value.as_str()),
            Some("richard@example.com")
        );
        assert_eq!(
            event.occurred_at,
            Timestamp::parse_rfc3339("2016-01-27T14:59:38.237Z")
        );
        assert!(event
            .detail
            .contains(&("complaintFeedbackType", "abuse".to_owned())));
    }

    #[test]
    fn a_documented_bounce_is_noted_and_is_not_a_refusal() {
        let message = documented_notification(BOUNCE, "2");
        let delivery = read_delivery(&certificate(), None, &body(&message)).expect("read");
        assert_eq!(delivery.events.len(), 1);
        assert_eq!(delivery.events[0].action, EspAction::NotARefusal);
        assert!(delivery.events[0]
            .detail
            .contains(&("bounceType", "Permanent".to_owned())));
    }

    #[test]
    fn soft_complaints_are_noted_and_not_spam_is_ignored() {
        for (feedback_type, expected) in
            [("fraud", Some(EspAction::NotARefusal)), ("not-spam", None)]
        {
            let complaint = COMPLAINT.replace("\"abuse\"", &format!("\"{feedback_type}\""));
            let delivery = read_delivery(
                &certificate(),
                None,
                &body(&documented_notification(&complaint, "1")),
            )
            .expect("read");
            assert_eq!(
                delivery.events.first().map(|e| e.action),
                expected,
                "{feedback_type}"
            );
        }
        let no_type = COMPLAINT.replace("\"complaintFeedbackType\":\"abuse\",", "");
        let delivery = read_delivery(
            &certificate(),
            None,
            &body(&documented_notification(&no_type, "1")),
        )
        .expect("read");
        assert_eq!(
            delivery.events[0].action,
            EspAction::Objection {
                method: OptOutMethod::SpamComplaint
            }
        );
    }

    #[test]
    fn a_subscription_confirmation_is_reported_not_followed() {
        let mut message = documented_notification("You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\nTo confirm the subscription, visit the SubscribeURL included in this message.", "1");
        message.kind = "SubscriptionConfirmation".to_owned();
        message.subject = None;
        message.token = Some("2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736".to_owned());
        message.subscribe_url = Some("https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37".to_owned());
        sign(&mut message);
        let delivery = read_delivery(&certificate(), None, &body(&message)).expect("read");
        assert!(delivery.events.is_empty());
        assert_eq!(
            delivery.subscription,
            Some(SubscriptionConfirmation {
                topic_arn: message.topic_arn.clone(),
                subscribe_url: message.subscribe_url.clone().unwrap_or_default(),
            })
        );
    }

    #[test]
    fn another_topic_or_an_altered_message_is_refused() {
        let message = documented_notification(COMPLAINT, "1");
        let error = read_delivery(
            &certificate(),
            Some("arn:aws:sns:eu-west-2:123456789012:Other"),
            &body(&message),
        )
        .expect_err("another topic");
        assert_eq!(error.field(), "TopicArn");
        let mut altered = message.clone();
        altered.message = COMPLAINT.replace("richard@example.com", "someone@example.com");
        let error = read_delivery(&certificate(), None, &body(&altered)).expect_err("altered");
        assert_eq!(error.field(), "Signature");
    }
}
