//! ESP events in with the real binary (issue #16 item 1, docs/INTEGRATION.md
//! "ESP events in"): `serve --esp-webhooks FILE` reads each organisation's
//! keys and secrets, an unsubscribe made at SendGrid is refused by the
//! next check, a forged, stale or replayed webhook appends nothing, and
//! SES, Mailchimp and the generic webhook record through the same binary.
//! SendGrid's and SNS's signatures are made here with test keys (their
//! real private keys are the providers' own); the documented SendGrid
//! signature is verified in consent-intake's unit tests.

mod support;

use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::pkcs8::EncodePublicKey;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;
use support::*;

const ORG: &str = "acme-motors";
const ADDRESS: &str = "ada.lovelace@example.com";
const MAILCHIMP_SECRET: &str = "mailchimp-url-secret-0123456789";
const GENERIC_SECRET: &str = "generic-hmac-secret-0123456789";
const SNS_CERTIFICATE: &str = include_str!("../../consent-intake/tests/data/sns-test-signing.pem");
const SNS_PRIVATE_KEY: &str = include_str!("../../consent-intake/tests/data/sns-test-signing.key");

fn sendgrid_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[11; 32]).expect("a valid P-256 scalar")
}

/// The ESP webhooks file of ORG, mode 0600, and the SNS certificate it names.
fn esp_file(dir: &Path) -> String {
    let public_key = sendgrid_key()
        .verifying_key()
        .to_public_key_der()
        .expect("DER");
    let certificate = dir.join("sns.pem");
    std::fs::write(&certificate, SNS_CERTIFICATE).expect("write the certificate");
    let file = dir.join("esp-webhooks.toml");
    std::fs::write(
        &file,
        format!(
            "[{ORG}.sendgrid]\npublic_key = \"{}\"\ntolerance_secs = 300\n\n\
             [{ORG}.ses]\ncertificate_file = \"{}\"\ntopic_arn = \"arn:aws:sns:eu-west-2:123456789012:ses-feedback\"\n\n\
             [{ORG}.mailchimp]\nsecret = \"{MAILCHIMP_SECRET}\"\n\n\
             [{ORG}.generic]\nsecret = \"{GENERIC_SECRET}\"\n",
            base64::engine::general_purpose::STANDARD.encode(public_key.as_bytes()),
            certificate.display()
        ),
    )
    .expect("write the ESP webhooks file");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
    file.display().to_string()
}

fn unix_now() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(since.as_secs()).expect("seconds fit")
}

async fn post(
    ledger: &Ledger,
    path: &str,
    content_type: &str,
    headers: &[(&str, String)],
    body: &str,
) -> (StatusCode, Value) {
    let mut request = ledger
        .client
        .post(format!("{}{path}", ledger.base))
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

/// POSTs `body` to ORG's SendGrid webhook, signed at `timestamp` by `key`.
async fn post_sendgrid(
    ledger: &Ledger,
    key: &p256::ecdsa::SigningKey,
    timestamp: i64,
    body: &str,
) -> (StatusCode, Value) {
    let signature: p256::ecdsa::Signature = key.sign(format!("{timestamp}{body}").as_bytes());
    post(
        ledger,
        &format!("/v1/webhooks/sendgrid/{ORG}"),
        "application/json",
        &[
            (
                "X-Twilio-Email-Event-Webhook-Signature",
                base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes()),
            ),
            (
                "X-Twilio-Email-Event-Webhook-Timestamp",
                timestamp.to_string(),
            ),
        ],
        body,
    )
    .await
}

/// The subject's refusals (opt-outs, objections, withdrawals) in its history.
async fn refusals(ledger: &Ledger, subject: &str) -> Vec<Value> {
    let history = ledger
        .get_ok(&format!(
            "/v1/organisations/{ORG}/subjects/{subject}/history"
        ))
        .await;
    history["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| {
            let event = &e["event"];
            event["optOutRecorded"].is_object()
                || event["objectionRecorded"].is_object()
                || event["consentWithdrawn"].is_object()
        })
        .cloned()
        .collect()
}

/// The dealer, and `subject` who bought a car giving `address`; waits
/// until the view has them.
async fn customer(ledger: &Ledger, subject: &str, address: &str) {
    let mut events = car_dealer(ORG);
    events.push(car_sale(ORG, subject, address, "2026-03-01T14:30:00Z"));
    let appended = ledger
        .post_ok("/v1/events", &json!({ "events": events }))
        .await;
    let decision = ledger
        .post_ok(
            "/v1/checks",
            &servicing_email(ORG, subject, address, positions(&appended)),
        )
        .await;
    assert_eq!(decision["allowed"], json!(true), "{decision}");
}

async fn servicing_email_allowed(ledger: &Ledger, subject: &str, address: &str) -> Value {
    ledger
        .post_ok(
            "/v1/checks",
            &servicing_email(ORG, subject, address, json!([])),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsubscribe_at_sendgrid_is_refused_by_the_next_check_and_nothing_is_appended_twice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = esp_file(dir.path());
    let ledger = Ledger::serve(&dir.path().join("data"), &[], &["--esp-webhooks", &file]).await;
    customer(&ledger, "cust-a", ADDRESS).await;
    // SendGrid's documented `unsubscribe` event, for the customer's address
    // (in another case: the ledger normalises it), with SendGrid's CR LF.
    let body = format!(
        "{}\r\n",
        json!([{"email": "Ada.Lovelace@example.com", "timestamp": 1_772_000_000,
            "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>", "event": "unsubscribe",
            "category": "cat facts", "sg_event_id": "sg-unsub-1",
            "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"}])
    );
    let now = unix_now();

    // Another key, a stale timestamp: 403 naming the header; nothing recorded.
    let other = p256::ecdsa::SigningKey::from_slice(&[12; 32]).expect("scalar");
    let (status, error) = post_sendgrid(&ledger, &other, now, &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert_eq!(
        error["error"]["field"],
        json!("x-twilio-email-event-webhook-signature")
    );
    let (status, error) = post_sendgrid(&ledger, &sendgrid_key(), now - 400, &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert_eq!(
        error["error"]["field"],
        json!("x-twilio-email-event-webhook-timestamp")
    );
    assert!(refusals(&ledger, "cust-a").await.is_empty());
    assert_eq!(
        servicing_email_allowed(&ledger, "cust-a", ADDRESS).await["allowed"],
        json!(true)
    );

    // Signed by the configured key: recorded, and the next check refuses.
    let (status, answer) = post_sendgrid(&ledger, &sendgrid_key(), now, &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["recorded"][0]["subjectId"],
        json!("cust-a"),
        "{answer}"
    );
    let decision = servicing_email_allowed(&ledger, "cust-a", ADDRESS).await;
    assert_eq!(decision["allowed"], json!(false), "{decision}");
    assert!(
        reasons_against(&decision)
            .iter()
            .any(|r| r.starts_with("R1/")),
        "{decision}"
    );

    // SendGrid retries: the same fact, nothing appended.
    let (status, replay) = post_sendgrid(&ledger, &sendgrid_key(), now + 1, &body).await;
    assert_eq!(status, StatusCode::OK, "{replay}");
    assert_eq!(replay["recorded"][0]["replayed"], json!(true), "{replay}");
    assert_eq!(
        replay["recorded"][0]["eventId"],
        answer["recorded"][0]["eventId"]
    );
    let facts = refusals(&ledger, "cust-a").await;
    assert_eq!(facts.len(), 1, "{facts:?}");
    let evidence: Value = serde_json::from_str(
        facts[0]["event"]["source"]["evidenceRef"]
            .as_str()
            .expect("evidence"),
    )
    .expect("JSON evidence");
    assert_eq!(evidence["providerEventId"], json!("sg-unsub-1"));
    assert_eq!(evidence["payloadSha256"], answer["payloadSha256"]);

    // The view is rebuildable from the log: after a restart the fact is
    // still there and a replay still appends nothing.
    drop(ledger);
    let ledger = Ledger::serve(&dir.path().join("data"), &[], &["--esp-webhooks", &file]).await;
    let (_, replay) = post_sendgrid(&ledger, &sendgrid_key(), unix_now(), &body).await;
    assert_eq!(replay["recorded"][0]["replayed"], json!(true), "{replay}");
    assert_eq!(refusals(&ledger, "cust-a").await.len(), 1);
}

/// `message` (JSON) with the signature SNS would make, under the test key.
fn sns_signed(mut message: Value) -> Value {
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::SignatureEncoding;
    let text = |key: &str| message[key].as_str().map(str::to_owned);
    let mut canonical = String::new();
    let keys: &[&str] = if message["Type"] == json!("Notification") {
        &[
            "Message",
            "MessageId",
            "Subject",
            "Timestamp",
            "TopicArn",
            "Type",
        ]
    } else {
        &[
            "Message",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ]
    };
    for key in keys {
        if let Some(value) = text(key) {
            canonical.push_str(&format!("{key}\n{value}\n"));
        }
    }
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(SNS_PRIVATE_KEY).expect("the test key");
    let signature = rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(key).sign(canonical.as_bytes());
    message["Signature"] =
        json!(base64::engine::general_purpose::STANDARD.encode(signature.to_vec()));
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_mailchimp_and_the_generic_webhook_record_through_the_binary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = esp_file(dir.path());
    let ledger = Ledger::serve(&dir.path().join("data"), &[], &["--esp-webhooks", &file]).await;
    customer(&ledger, "cust-b", "grace.hopper@example.com").await;
    customer(&ledger, "cust-c", "alan.turing@example.com").await;
    customer(&ledger, "cust-d", "mary.somerville@example.com").await;

    // SES, through SNS: a hard complaint is an objection.
    let complaint = json!({"notificationType": "Complaint", "complaint": {
        "complainedRecipients": [{"emailAddress": "grace.hopper@example.com"}],
        "complaintFeedbackType": "abuse", "timestamp": "2026-03-02T10:00:00.000Z",
        "feedbackId": "0000013786031775-163e3910-53eb-4c8e-a04a-f29debf88a84-000000"},
        "mail": {"messageId": "0000013786031775-fea503bc-7497-49e1-881b-a0379bb037d3-000000"}})
    .to_string();
    let notification = sns_signed(json!({
        "Type": "Notification", "MessageId": "sns-1",
        "TopicArn": "arn:aws:sns:eu-west-2:123456789012:ses-feedback",
        "Message": complaint, "Timestamp": "2026-03-02T10:00:01.000Z", "SignatureVersion": "1",
        "SigningCertURL": "https://sns.eu-west-2.amazonaws.com/SimpleNotificationService-x.pem"}));
    let (status, answer) = post(
        &ledger,
        &format!("/v1/webhooks/ses/{ORG}"),
        "text/plain; charset=UTF-8",
        &[],
        &notification.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["recorded"][0]["fact"], json!("objection_recorded"));
    let decision = servicing_email_allowed(&ledger, "cust-b", "grace.hopper@example.com").await;
    assert_eq!(decision["allowed"], json!(false), "{decision}");

    // Mailchimp: the secret in the URL; a wrong one records nothing.
    let form = "type=unsubscribe&fired_at=2026-03-03+09%3A00%3A00&data%5Baction%5D=unsub&data%5Breason%5D=manual&data%5Bid%5D=8a25ff1d98&data%5Blist_id%5D=a6b5da1054&data%5Bemail%5D=alan.turing%40example.com";
    let form_type = "application/x-www-form-urlencoded";
    let (status, _) = post(
        &ledger,
        &format!("/v1/webhooks/mailchimp/{ORG}/not-the-secret-at-all"),
        form_type,
        &[],
        form,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(refusals(&ledger, "cust-c").await.is_empty());
    let (status, answer) = post(
        &ledger,
        &format!("/v1/webhooks/mailchimp/{ORG}/{MAILCHIMP_SECRET}"),
        form_type,
        &[],
        form,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let decision = servicing_email_allowed(&ledger, "cust-c", "alan.turing@example.com").await;
    assert_eq!(decision["allowed"], json!(false), "{decision}");
    // The secret never reaches the log output.
    assert!(
        !ledger.output_tail().contains(MAILCHIMP_SECRET),
        "the Mailchimp secret was logged"
    );

    // The generic webhook: a withdrawal of email consent, by subject.
    let body = json!({"organisationId": ORG, "address": "mary.somerville@example.com",
        "kind": "opt_out", "channel": "email", "occurredAt": "2026-03-04T08:00:00Z",
        "providerEventId": "crm-7"})
    .to_string();
    let signature = consent_intake::sign_webhook(GENERIC_SECRET.as_bytes(), body.as_bytes());
    let (status, answer) = post(
        &ledger,
        &format!("/v1/webhooks/generic/{ORG}"),
        "application/json",
        &[("x-consent-signature", signature)],
        &body,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["recorded"][0]["subjectId"],
        json!("cust-d"),
        "{answer}"
    );
    let decision = servicing_email_allowed(&ledger, "cust-d", "mary.somerville@example.com").await;
    assert_eq!(decision["allowed"], json!(false), "{decision}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhooks_file_others_can_read_stops_the_server_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = esp_file(dir.path());
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let data = dir.path().join("data").display().to_string();
    let output = run(
        &[
            "serve".to_owned(),
            "--data-dir".to_owned(),
            data,
            "--listen".to_owned(),
            free_address().to_string(),
            "--esp-webhooks".to_owned(),
            file.clone(),
        ],
        Duration::from_secs(30),
    )
    .await;
    assert!(!output.status.success(), "{}", describe(&output));
    let text = describe(&output);
    assert!(
        text.contains("esp-webhooks") && text.contains("chmod 600"),
        "{text}"
    );
}
