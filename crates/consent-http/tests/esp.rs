//! ESP events in against a real server (docs/INTEGRATION.md, "ESP events
//! in"): each provider's authentication, the fact each event becomes, and
//! that a replayed webhook appends nothing twice. The samples are the
//! providers' documented payloads; SendGrid's and SNS's signatures are made
//! with test keys (their private keys are the providers'), the documented
//! SendGrid signature itself is verified in consent-intake's unit tests.

mod common;

use common::*;
use consent_service::LedgerConfig;
use reqwest::StatusCode;
use serde_json::{json, Value};

const ADDRESS: &str = "rider@example.org";

/// The shop, the sale, and a marketing email sent to SUBJECT at ADDRESS
/// (which puts the address in the contact index); the positions to wait for.
async fn shop_with_customer(server: &Server) -> Value {
    let (status, _) = server.post("/v1/events", &shop_and_sale()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, appended) = server
        .post(
            "/v1/events",
            &json!({ "events": [{
                "organisationId": ORG, "subjectId": SUBJECT, "occurredAt": "2025-06-01T09:00:00Z",
                "marketingMessageSent": {
                    "channel": "CHANNEL_EMAIL", "purpose": "PURPOSE_COMMERCIAL",
                    "productCategoryId": "helmets", "messageClass": "MESSAGE_CLASS_MARKETING",
                    "promotionalContent": true, "optOutIncluded": true, "senderIdentified": true,
                    "messageId": "msg-1",
                    "contactPoint": { "kind": "CONTACT_KIND_EMAIL", "value": ADDRESS }
                }
            }] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{appended}");
    positions(&appended)
}

async fn helmet_email_allowed(server: &Server, wait_for: &Value) -> Value {
    let (status, decision) = server.post("/v1/checks", &helmet_email(wait_for)).await;
    assert_eq!(status, StatusCode::OK, "{decision}");
    decision
}

fn refused_by_r1(decision: &Value) -> bool {
    decision["allowed"] == json!(false)
        && decision["reasonsAgainst"]
            .as_array()
            .is_some_and(|reasons| reasons.iter().any(|r| r["ruleId"] == json!("R1")))
}

/// The subject's opt-outs, objections and withdrawals, as history shows them.
async fn refusals(server: &Server) -> Vec<Value> {
    let (status, history) = server
        .get(&format!(
            "/v1/organisations/{ORG}/subjects/{SUBJECT}/history"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|entry| {
            let event = &entry["event"];
            event["optOutRecorded"].is_object()
                || event["objectionRecorded"].is_object()
                || event["consentWithdrawn"].is_object()
        })
        .cloned()
        .collect()
}

async fn post(
    server: &Server,
    path: &str,
    content_type: &str,
    headers: &[(&str, String)],
    body: &str,
) -> (StatusCode, Value) {
    let mut request = server
        .client
        .post(format!("{}{path}", server.base))
        .header("content-type", content_type)
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
    )
}

async fn post_sendgrid(
    server: &Server,
    timestamp: &str,
    signature: String,
    body: &str,
) -> (StatusCode, Value) {
    post(
        server,
        &format!("/v1/webhooks/sendgrid/{ORG}"),
        "application/json",
        &[
            ("X-Twilio-Email-Event-Webhook-Signature", signature),
            (
                "X-Twilio-Email-Event-Webhook-Timestamp",
                timestamp.to_owned(),
            ),
        ],
        body,
    )
    .await
}

/// SendGrid's documented `unsubscribe` event, for ADDRESS, with the
/// trailing CR LF SendGrid sends.
fn sendgrid_unsubscribe(event_id: &str) -> String {
    format!(
        "{}\r\n",
        json!([{
            "email": ADDRESS, "timestamp": 1_750_000_000, "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
            "event": "unsubscribe", "category": "cat facts",
            "sg_event_id": event_id, "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"
        }])
    )
}

#[tokio::test]
async fn a_sendgrid_unsubscribe_is_refused_by_the_next_check_and_a_replay_appends_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;
    let wait_for = shop_with_customer(&server).await;
    assert_eq!(
        helmet_email_allowed(&server, &wait_for).await["allowed"],
        json!(true)
    );
    let body = sendgrid_unsubscribe("sg-unsub-1");
    let now = unix_now();

    // Forged, signed by another key (the body altered), or stale: 403,
    // naming the header, and nothing recorded.
    let before = server.end_offsets().await;
    let (status, error) = post_sendgrid(&server, &now, sign_sendgrid(&now, "[]"), &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert_eq!(
        error["error"]["field"],
        json!("x-twilio-email-event-webhook-signature")
    );
    let stale = (now.parse::<i64>().expect("seconds") - 301).to_string();
    let (status, error) = post_sendgrid(&server, &stale, sign_sendgrid(&stale, &body), &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert_eq!(
        error["error"]["field"],
        json!("x-twilio-email-event-webhook-timestamp")
    );
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("stale")),
        "{error}"
    );
    let (status, _) = post(
        &server,
        &format!("/v1/webhooks/sendgrid/{ORG}"),
        "application/json",
        &[],
        &body,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        server.end_offsets().await,
        before,
        "a refused webhook appends nothing"
    );
    assert!(refusals(&server).await.is_empty());

    // Signed: the opt-out of the subject with the address, answered once
    // applied, so the next check refuses.
    let (status, answer) = post_sendgrid(&server, &now, sign_sendgrid(&now, &body), &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let recorded = &answer["recorded"][0];
    assert_eq!(recorded["subjectId"], json!(SUBJECT), "{answer}");
    assert_eq!(recorded["fact"], json!("opt_out_recorded"));
    assert_eq!(recorded["providerEventId"], json!("sg-unsub-1"));
    assert_eq!(recorded["replayed"], json!(false));
    let decision = helmet_email_allowed(&server, &json!([])).await;
    assert!(refused_by_r1(&decision), "{decision}");

    // The evidence: the provider, its event id and the payload's digest.
    let facts = refusals(&server).await;
    assert_eq!(facts.len(), 1, "{facts:?}");
    let event = &facts[0]["event"];
    assert_eq!(
        event["optOutRecorded"]["channels"],
        json!(["CHANNEL_EMAIL"])
    );
    assert_eq!(
        event["optOutRecorded"]["receivedVia"],
        json!("OPT_OUT_METHOD_UNSUBSCRIBE_LINK")
    );
    let evidence: Value = serde_json::from_str(
        event["source"]["evidenceRef"]
            .as_str()
            .expect("evidenceRef"),
    )
    .expect("the evidence is JSON");
    assert_eq!(evidence["provider"], json!("sendgrid"));
    assert_eq!(evidence["providerEventId"], json!("sg-unsub-1"));
    assert_eq!(evidence["payloadSha256"], answer["payloadSha256"]);
    assert_eq!(
        answer["payloadSha256"],
        json!(consent_intake::esp::payload_sha256(body.as_bytes()))
    );
    assert!(!event["source"]["evidenceRef"]
        .as_str()
        .unwrap_or_default()
        .contains(ADDRESS));

    // SendGrid retries the same event (a new timestamp, a new signature):
    // the same fact, nothing appended.
    let after = server.end_offsets().await;
    let later = (now.parse::<i64>().expect("seconds") + 5).to_string();
    let (status, replay) =
        post_sendgrid(&server, &later, sign_sendgrid(&later, &body), &body).await;
    assert_eq!(status, StatusCode::OK, "{replay}");
    assert_eq!(replay["recorded"][0]["eventId"], recorded["eventId"]);
    assert_eq!(replay["recorded"][0]["replayed"], json!(true));
    assert_eq!(
        server.end_offsets().await,
        after,
        "a replay appends nothing"
    );
    assert_eq!(refusals(&server).await.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_sendgrid_spam_report_objects_and_other_events_are_acknowledged_and_ignored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;
    let wait_for = shop_with_customer(&server).await;
    helmet_email_allowed(&server, &wait_for).await;
    let body = json!([
        {"email": ADDRESS, "timestamp": 1_750_000_000, "event": "delivered", "sg_event_id": "sg-d-1", "response": "250 OK"},
        {"email": ADDRESS, "timestamp": 1_750_000_000, "event": "open", "sg_event_id": "sg-o-1", "useragent": "Mozilla/4.0"},
        {"email": "nobody-known@example.org", "timestamp": 1_750_000_000, "event": "spamreport", "sg_event_id": "sg-s-0"},
        {"email": ADDRESS, "timestamp": 1_750_000_000, "event": "spamreport", "sg_event_id": "sg-s-1"}
    ])
    .to_string();
    let now = unix_now();
    let (status, answer) = post_sendgrid(&server, &now, sign_sendgrid(&now, &body), &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let ignored: Vec<&str> = answer["ignored"]
        .as_array()
        .expect("ignored")
        .iter()
        .filter_map(|i| i["eventType"].as_str())
        .collect();
    assert_eq!(ignored, vec!["delivered", "open"]);
    // An address no subject has: an objection about the address alone.
    assert_eq!(answer["recorded"][0]["subjectId"], Value::Null, "{answer}");
    assert_eq!(answer["recorded"][1]["subjectId"], json!(SUBJECT));
    assert_eq!(answer["recorded"][1]["fact"], json!("objection_recorded"));
    let facts = refusals(&server).await;
    assert_eq!(
        facts[0]["event"]["objectionRecorded"]["receivedVia"],
        json!("OPT_OUT_METHOD_SPAM_COMPLAINT"),
        "{facts:?}"
    );
    assert!(refused_by_r1(
        &helmet_email_allowed(&server, &json!([])).await
    ));
    server.stop().await;
}

/// SES's documented complaint and bounce notifications, for ADDRESS.
fn ses_complaint(feedback_id: &str) -> String {
    json!({"notificationType": "Complaint", "complaint": {
        "userAgent": "AnyCompany Feedback Loop (V0.01)",
        "complainedRecipients": [{"emailAddress": ADDRESS}],
        "complaintFeedbackType": "abuse",
        "arrivalDate": "2026-01-27T14:59:38.237Z", "timestamp": "2026-01-27T14:59:38.237Z",
        "feedbackId": feedback_id},
        "mail": {"timestamp": "2026-01-27T14:59:38.237Z", "source": "john@example.com",
            "messageId": "000001378603177f-7a5433e7-8edb-42ae-af10-f0181f34d6ee-000000",
            "destination": [ADDRESS]}})
    .to_string()
}

async fn post_ses(server: &Server, message: &Value) -> (StatusCode, Value) {
    // SNS posts its JSON as text/plain.
    post(
        server,
        &format!("/v1/webhooks/ses/{ORG}"),
        "text/plain; charset=UTF-8",
        &[],
        &message.to_string(),
    )
    .await
}

#[tokio::test]
async fn an_ses_complaint_objects_a_bounce_is_noted_and_a_subscription_is_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;
    let wait_for = shop_with_customer(&server).await;
    helmet_email_allowed(&server, &wait_for).await;

    // A bounce: noted, not a refusal.
    let bounce = json!({"notificationType": "Bounce", "bounce": {
        "bounceType": "Permanent", "bounceSubType": "General",
        "bouncedRecipients": [{"emailAddress": ADDRESS, "status": "5.1.1", "action": "failed"}],
        "timestamp": "2026-01-27T14:59:38.237Z",
        "feedbackId": "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000"}})
    .to_string();
    let (status, answer) = post_ses(&server, &sns_notification("sns-b-1", &bounce)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["recorded"], json!([]));
    assert_eq!(answer["noted"][0]["eventType"], json!("Bounce"));
    assert_eq!(
        helmet_email_allowed(&server, &json!([])).await["allowed"],
        json!(true)
    );

    // A message altered after signing: 403, nothing recorded.
    let mut forged = sns_notification("sns-c-1", &ses_complaint("feedback-1"));
    forged["Message"] = json!(ses_complaint("feedback-2"));
    let (status, error) = post_ses(&server, &forged).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert_eq!(error["error"]["field"], json!("Signature"));
    assert!(refusals(&server).await.is_empty());

    // A hard complaint: an objection, refused by the next check.
    let complaint = sns_notification("sns-c-1", &ses_complaint("feedback-1"));
    let (status, answer) = post_ses(&server, &complaint).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["recorded"][0]["fact"], json!("objection_recorded"));
    assert_eq!(answer["recorded"][0]["subjectId"], json!(SUBJECT));
    assert!(refused_by_r1(
        &helmet_email_allowed(&server, &json!([])).await
    ));
    // SNS redelivers: nothing appended.
    let (_, replay) = post_ses(&server, &complaint).await;
    assert_eq!(replay["recorded"][0]["replayed"], json!(true), "{replay}");
    assert_eq!(refusals(&server).await.len(), 1);

    // A subscription confirmation: reported with its URL, not followed.
    let confirmation = sns_signed(json!({
        "Type": "SubscriptionConfirmation", "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e241d08f",
        "TopicArn": "arn:aws:sns:eu-west-2:123456789012:ses-feedback",
        "Message": "You have chosen to subscribe to the topic arn:aws:sns:eu-west-2:123456789012:ses-feedback.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": "https://sns.eu-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:eu-west-2:123456789012:ses-feedback&Token=2336412f37fb687f5d51e6e241d08f",
        "Timestamp": "2026-03-01T10:00:00.000Z", "SignatureVersion": "1",
        "SigningCertURL": "https://sns.eu-west-2.amazonaws.com/SimpleNotificationService-test.pem"
    }));
    let (status, answer) = post_ses(&server, &confirmation).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["subscription"]["subscribeUrl"],
        confirmation["SubscribeURL"]
    );
    server.stop().await;
}

#[tokio::test]
async fn a_mailchimp_unsubscribe_opts_out_with_the_secret_in_the_url_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;
    let wait_for = shop_with_customer(&server).await;
    helmet_email_allowed(&server, &wait_for).await;
    let path = format!("/v1/webhooks/mailchimp/{ORG}/{MAILCHIMP_SECRET}");
    // Mailchimp's validation GET.
    let (status, answer) = server.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _) = server
        .get(&format!("/v1/webhooks/mailchimp/{ORG}/not-the-secret"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Mailchimp's documented unsubscribe form, for ADDRESS.
    let form = "type=unsubscribe&fired_at=2026-03-26+21%3A40%3A57&data%5Baction%5D=unsub&data%5Breason%5D=manual&data%5Bid%5D=8a25ff1d98&data%5Blist_id%5D=a6b5da1054&data%5Bemail%5D=rider%40example.org&data%5Bemail_type%5D=html&data%5Bmerges%5D%5BEMAIL%5D=rider%40example.org&data%5Bip_opt%5D=10.20.10.30&data%5Bcampaign_id%5D=cb398d21d2";
    const FORM: &str = "application/x-www-form-urlencoded";
    let (status, error) = post(
        &server,
        &format!("/v1/webhooks/mailchimp/{ORG}/not-the-secret"),
        FORM,
        &[],
        form,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert_eq!(error["error"]["field"], json!("secret"));
    assert!(refusals(&server).await.is_empty());
    let (status, answer) = post(&server, &path, FORM, &[], form).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["recorded"][0]["fact"], json!("opt_out_recorded"));
    assert!(refused_by_r1(
        &helmet_email_allowed(&server, &json!([])).await
    ));
    let (_, replay) = post(&server, &path, FORM, &[], form).await;
    assert_eq!(replay["recorded"][0]["replayed"], json!(true), "{replay}");
    // A cleaned address: noted, not a refusal.
    let cleaned = "type=cleaned&fired_at=2026-03-26+22%3A01%3A00&data%5Blist_id%5D=a6b5da1054&data%5Bcampaign_id%5D=4fjk2ma9xd&data%5Breason%5D=hard&data%5Bemail%5D=rider%40example.org";
    let (status, answer) = post(&server, &path, FORM, &[], cleaned).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["noted"][0]["eventType"], json!("cleaned"));
    assert_eq!(refusals(&server).await.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn the_generic_webhook_records_what_its_signed_body_says() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;
    let wait_for = shop_with_customer(&server).await;
    helmet_email_allowed(&server, &wait_for).await;
    let path = format!("/v1/webhooks/generic/{ORG}");
    let body = json!({"organisationId": ORG, "subjectId": SUBJECT, "kind": "objection",
        "channel": "email", "occurredAt": "2026-03-01T10:00:00Z", "providerEventId": "crm-42",
        "method": "email_reply"})
    .to_string();
    let wrong = consent_intake::sign_webhook(b"not the secret", body.as_bytes());
    let (status, error) = post(
        &server,
        &path,
        "application/json",
        &[("x-consent-signature", wrong)],
        &body,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert_eq!(error["error"]["field"], json!("x-consent-signature"));
    let signed = consent_intake::sign_webhook(GENERIC_SECRET, body.as_bytes());
    let (status, answer) = post(
        &server,
        &path,
        "application/json",
        &[("x-consent-signature", signed.clone())],
        &body,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["recorded"][0]["subjectId"], json!(SUBJECT));
    assert!(refused_by_r1(
        &helmet_email_allowed(&server, &json!([])).await
    ));
    let (_, replay) = post(
        &server,
        &path,
        "application/json",
        &[("x-consent-signature", signed)],
        &body,
    )
    .await;
    assert_eq!(replay["recorded"][0]["replayed"], json!(true), "{replay}");
    let facts = refusals(&server).await;
    assert_eq!(facts.len(), 1);
    assert_eq!(
        facts[0]["event"]["objectionRecorded"]["receivedVia"],
        json!("OPT_OUT_METHOD_EMAIL_REPLY")
    );

    // A field out of place is named.
    let bad = body.replace("objection", "unsubscribe");
    let signed = consent_intake::sign_webhook(GENERIC_SECRET, bad.as_bytes());
    let (status, error) = post(
        &server,
        &path,
        "application/json",
        &[("x-consent-signature", signed)],
        &bad,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["error"]["field"], json!("kind"));
    // Another organisation's endpoint is not configured: 404.
    let (status, _) = post(
        &server,
        "/v1/webhooks/generic/other-org",
        "application/json",
        &[],
        &body,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}
