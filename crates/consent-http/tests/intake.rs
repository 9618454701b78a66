//! Opt-out intake against a real server: one-click unsubscribe (RFC 8058),
//! the SMS STOP webhook and the Global Privacy Control signal, each
//! honoured by the next check.

mod common;

use common::*;
use consent_service::LedgerConfig;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const FORM: &str = "application/x-www-form-urlencoded";

/// A marketing email sent to SUBJECT, as the mailer records it.
fn email_sent(message_id: &str) -> Value {
    json!({ "events": [{
        "organisationId": ORG,
        "subjectId": SUBJECT,
        "occurredAt": "2025-06-01T09:00:00Z",
        "marketingMessageSent": {
            "channel": "CHANNEL_EMAIL",
            "purpose": "PURPOSE_COMMERCIAL",
            "productCategoryId": "helmets",
            "messageClass": "MESSAGE_CLASS_MARKETING",
            "promotionalContent": true,
            "optOutIncluded": true,
            "senderIdentified": true,
            "messageId": message_id,
            "contactPoint": { "kind": "CONTACT_KIND_EMAIL", "value": "rider@example.org" }
        }
    }] })
}

/// The helmet email check, without waiting for anything.
fn helmet_email_now() -> Value {
    let mut check = helmet_email(&json!([]));
    check.as_object_mut().expect("object").remove("waitFor");
    check
}

fn token_of(url: &str) -> String {
    url.strip_prefix(&format!("{PUBLIC_URL}/u/"))
        .unwrap_or_else(|| panic!("not a link of this ledger: {url}"))
        .to_owned()
}

async fn opt_outs(server: &Server) -> Vec<Value> {
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
            entry["event"]["optOutRecorded"].is_object()
                || entry["event"]["objectionRecorded"].is_object()
        })
        .cloned()
        .collect()
}

async fn post_form(server: &Server, path: &str, body: &str) -> reqwest::Response {
    server
        .client
        .post(format!("{}{path}", server.base))
        .header("content-type", FORM)
        .header("user-agent", "ExampleMail/2.1 (one-click)")
        .body(body.to_owned())
        .send()
        .await
        .expect("request sent")
}

#[tokio::test]
async fn a_one_click_unsubscribe_is_honoured_by_the_next_check_within_a_second() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;
    let (status, sale) = server.post("/v1/events", &shop_and_sale()).await;
    assert_eq!(status, StatusCode::OK, "{sale}");
    let (status, sent) = server
        .post("/v1/events", &email_sent("spring-helmets-1"))
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    // Only the message sent carries a link.
    assert_eq!(sale["appended"][2]["unsubscribeUrl"], json!(""));
    let url = sent["appended"][0]["unsubscribeUrl"]
        .as_str()
        .expect("an unsubscribe URL");
    let token = token_of(url);
    let (status, before) = server
        .post("/v1/checks", &helmet_email(&positions(&sent)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(before["allowed"], json!(true), "{before}");

    // A GET (a link scanner, or the person opening the link) shows the
    // confirmation page and unsubscribes no one.
    let page = server
        .client
        .get(format!("{}/u/{token}", server.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page
        .headers()
        .get("content-type")
        .is_some_and(|t| t.to_str().unwrap_or_default().starts_with("text/html")));
    let page = page.text().await.expect("page");
    assert!(page.contains("Stop emails from acme-cycles?"), "{page}");
    assert!(
        page.contains(r#"name="List-Unsubscribe" value="One-Click""#),
        "{page}"
    );
    assert!(opt_outs(&server).await.is_empty());
    let (_, still) = server.post("/v1/checks", &helmet_email_now()).await;
    assert_eq!(still["allowed"], json!(true), "{still}");

    // The mail client's one-click POST, then a check: refused, by R1.
    let clicked = Instant::now();
    let response = post_form(
        &server,
        &format!("/u/{token}"),
        "List-Unsubscribe=One-Click",
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["consent-opt-out"], "recorded");
    let event_id = response.headers()["consent-event-id"]
        .to_str()
        .expect("text")
        .to_owned();
    let (status, after) = server.post("/v1/checks", &helmet_email_now()).await;
    let honoured_in = clicked.elapsed();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after["allowed"], json!(false), "{after}");
    let r1 = after["reasonsAgainst"]
        .as_array()
        .expect("reasons")
        .iter()
        .find(|reason| reason["ruleId"] == json!("R1"))
        .unwrap_or_else(|| panic!("refused by R1: {after}"));
    assert_eq!(r1["eventIds"], json!([event_id]));
    assert!(
        honoured_in < Duration::from_secs(1),
        "POST -> refusing check took {honoured_in:?}"
    );
    println!("one-click POST -> refusing check: {honoured_in:?}");

    // The opt-out carries its evidence.
    let recorded = opt_outs(&server).await;
    assert_eq!(recorded.len(), 1);
    let event = &recorded[0]["event"];
    assert_eq!(event["eventId"], json!(event_id));
    // It names the address the message was sent to (from the send), so
    // the address is suppressed for every subject it is used for.
    assert_eq!(
        event["optOutRecorded"],
        json!({ "channels": ["CHANNEL_EMAIL"], "allChannels": false, "receivedVia": "OPT_OUT_METHOD_ONE_CLICK",
                "contactPoint": {"kind": "CONTACT_KIND_EMAIL", "value": "rider@example.org"} })
    );
    assert_eq!(
        event["source"]["formId"],
        json!("List-Unsubscribe=One-Click")
    );
    let evidence: Value = serde_json::from_str(
        event["source"]["evidenceRef"]
            .as_str()
            .expect("evidence text"),
    )
    .expect("evidence is JSON");
    assert_eq!(evidence["messageId"], json!("spring-helmets-1"));
    assert_eq!(evidence["sendEventId"], sent["appended"][0]["eventId"]);
    assert_eq!(evidence["userAgent"], json!("ExampleMail/2.1 (one-click)"));
    assert_eq!(evidence["form"], json!("List-Unsubscribe=One-Click"));

    // A replay records nothing new and says so.
    let replay = post_form(
        &server,
        &format!("/u/{token}"),
        "List-Unsubscribe=One-Click",
    )
    .await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(replay.headers()["consent-opt-out"], "already-recorded");
    assert_eq!(replay.headers()["consent-event-id"], event_id.as_str());
    assert!(replay.text().await.expect("page").contains("nothing new"));
    assert_eq!(opt_outs(&server).await.len(), 1);
    let page = server
        .client
        .get(format!("{}/u/{token}", server.base))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("page");
    assert!(page.contains("already unsubscribed"), "{page}");
    server.stop().await;
}

#[tokio::test]
async fn a_send_appended_again_still_gets_a_working_unsubscribe_url() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;
    let (status, _) = server.post("/v1/events", &shop_and_sale()).await;
    assert_eq!(status, StatusCode::OK);
    // The pipeline records the send with its own id, then crashes before
    // queueing the message, and records it again when it retries.
    let mut send = email_sent("spring-helmets-2");
    send["events"][0]["eventId"] = json!("0190c0de-0000-7000-8000-000000000002");
    let (_, first) = server.post("/v1/events", &send).await;
    // (Once the view holds the first: that is what tells a retry.)
    let (_, allowed) = server
        .post("/v1/checks", &helmet_email(&positions(&first)))
        .await;
    assert_eq!(allowed["allowed"], json!(true), "{allowed}");
    let (status, retried) = server.post("/v1/events", &send).await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    assert_eq!(first["appended"][0]["alreadyPresent"], json!(false));
    assert_eq!(retried["appended"][0]["alreadyPresent"], json!(true));
    let url = retried["appended"][0]["unsubscribeUrl"]
        .as_str()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| panic!("the retried send's answer has a URL: {retried}"));
    // The retry's link works like the first: the next check is refused.
    let response = post_form(
        &server,
        &format!("/u/{}", token_of(url)),
        "List-Unsubscribe=One-Click",
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["consent-opt-out"], "recorded");
    let (_, after) = server.post("/v1/checks", &helmet_email_now()).await;
    assert_eq!(after["allowed"], json!(false), "{after}");
    assert_eq!(opt_outs(&server).await.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn forged_tokens_and_other_forms_record_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;
    let (status, setup) = server.post("/v1/events", &shop_and_sale()).await;
    assert_eq!(status, StatusCode::OK);
    let (_, sent) = server.post("/v1/events", &email_sent("m-2")).await;
    let token = token_of(sent["appended"][0]["unsubscribeUrl"].as_str().expect("url"));
    // Checks below wait until the view has applied both appends.
    let mut applied = positions(&setup);
    if let (Some(all), Some(more)) = (applied.as_array_mut(), positions(&sent).as_array()) {
        all.extend(more.iter().cloned());
    }

    // One character changed: the MAC no longer verifies.
    let mut forged: Vec<char> = token.chars().collect();
    let at = forged.len() / 2;
    forged[at] = if forged[at] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    let response = post_form(
        &server,
        &format!("/u/{forged}"),
        "List-Unsubscribe=One-Click",
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.expect("JSON error");
    assert_eq!(body["error"]["field"], json!("token"));
    let (status, _) = server.get(&format!("/u/{forged}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Not a token at all.
    let response = post_form(&server, "/u/not!a*token", "List-Unsubscribe=One-Click").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // A genuine token, but not the RFC 8058 form.
    let response = post_form(&server, &format!("/u/{token}"), "List-Unsubscribe=Yes").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("JSON error");
    assert_eq!(body["error"]["field"], json!("List-Unsubscribe"));

    let mut check = helmet_email_now();
    check["waitFor"] = applied;
    let (_, check) = server.post("/v1/checks", &check).await;
    assert_eq!(check["allowed"], json!(true), "{check}");
    assert!(opt_outs(&server).await.is_empty());

    // The multipart form of RFC 8058 section 3.2 is accepted too.
    let multipart = "--b0undary\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b0undary--\r\n";
    let response = server
        .client
        .post(format!("{}/u/{token}", server.base))
        .header("content-type", "multipart/form-data; boundary=b0undary")
        .body(multipart)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(opt_outs(&server).await.len(), 1);
    server.stop().await;
}

/// The shop, the sale, and the customer's mobile number.
fn with_mobile(number: &str) -> Value {
    json!({ "events": [{
        "organisationId": ORG,
        "subjectId": SUBJECT,
        "occurredAt": "2025-03-01T12:00:00Z",
        "contactPointRecorded": { "contactPoint": { "kind": "CONTACT_KIND_MOBILE", "value": number } }
    }] })
}

async fn post_sms(server: &Server, body: &str, secret: &[u8]) -> (StatusCode, Value) {
    let response = server
        .client
        .post(format!("{}/v1/webhooks/sms", server.base))
        .header("content-type", FORM)
        .header(
            "x-consent-signature",
            consent_intake::sign_webhook(secret, body.as_bytes()),
        )
        .body(body.to_owned())
        .send()
        .await
        .expect("POST");
    let status = response.status();
    (status, response.json().await.expect("JSON"))
}

fn sms_check() -> Value {
    let mut check = helmet_email_now();
    check["channel"] = json!("CHANNEL_SMS");
    check["contactPoint"] = json!({ "kind": "CONTACT_KIND_MOBILE", "value": "+447700900123" });
    check
}

#[tokio::test]
async fn an_sms_stop_opts_the_sender_out_of_sms() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;
    let (status, _) = server.post("/v1/events", &shop_and_sale()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, appended) = server
        .post("/v1/events", &with_mobile("+44 7700 900123"))
        .await;
    assert_eq!(status, StatusCode::OK, "{appended}");
    let (_, before) = server
        .post("/v1/checks", &{
            let mut c = sms_check();
            c["waitFor"] = positions(&appended);
            c
        })
        .await;
    assert_eq!(before["allowed"], json!(true), "{before}");

    // A bad signature: 403, nothing recorded.
    let stop = "From=%2B447700900123&To=%2B447700900999&Body=%20Stop%20&MessageSid=SM0001";
    let (status, _) = post_sms(&server, stop, b"wrong secret").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Not a STOP, and an unknown number: 200 with a note, nothing recorded.
    let (status, answer) = post_sms(
        &server,
        "From=%2B447700900123&To=%2B447700900999&Body=Thanks",
        SMS_SECRET,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["recorded"], json!([]));
    let (status, answer) = post_sms(
        &server,
        "From=%2B447700900555&To=%2B447700900999&Body=STOP",
        SMS_SECRET,
    )
    .await;
    // A number no subject has: opted out all the same, as an address
    // alone, so it is suppressed whoever it is used for later.
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        answer["recorded"].as_array().map(Vec::len),
        Some(1),
        "{answer}"
    );
    assert_eq!(answer["recorded"][0]["subjectId"], Value::Null, "{answer}");
    assert!(answer["note"]
        .as_str()
        .is_some_and(|n| n.contains("no subject") && n.contains("the number alone")));
    assert!(opt_outs(&server).await.is_empty());

    let (status, answer) = post_sms(&server, stop, SMS_SECRET).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["recorded"][0]["subjectId"], json!(SUBJECT));
    let (_, after) = server.post("/v1/checks", &sms_check()).await;
    assert_eq!(after["allowed"], json!(false), "{after}");
    assert!(after["reasonsAgainst"]
        .as_array()
        .expect("reasons")
        .iter()
        .any(|r| r["ruleId"] == json!("R1")));
    // Email is still allowed: the STOP was for SMS.
    let (_, email) = server.post("/v1/checks", &helmet_email_now()).await;
    assert_eq!(email["allowed"], json!(true), "{email}");
    // The provider's retry of the same message is the same fact.
    let (status, retry) = post_sms(&server, stop, SMS_SECRET).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        retry["recorded"][0]["eventId"],
        answer["recorded"][0]["eventId"]
    );
    let recorded = opt_outs(&server).await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(
        recorded[0]["event"]["optOutRecorded"]["receivedVia"],
        json!("OPT_OUT_METHOD_REPLY_STOP")
    );
    server.stop().await;
}

#[tokio::test]
async fn a_gpc_signal_is_an_objection_and_needs_the_header() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;
    let (status, _) = server.post("/v1/events", &shop_and_sale()).await;
    assert_eq!(status, StatusCode::OK);
    let body = json!({ "organisationId": ORG, "subjectId": SUBJECT });
    let (status, answer) = server.post("/v1/signals/gpc", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"]["field"], json!("Sec-GPC"));
    assert!(opt_outs(&server).await.is_empty());

    let response = server
        .client
        .post(format!("{}/v1/signals/gpc", server.base))
        .header("sec-gpc", "1")
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.expect("JSON");
    let (_, after) = server.post("/v1/checks", &helmet_email_now()).await;
    assert_eq!(after["allowed"], json!(false), "{after}");
    let recorded = opt_outs(&server).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["event"]["eventId"], answer["eventId"]);
    assert_eq!(
        recorded[0]["event"]["objectionRecorded"]["receivedVia"],
        json!("OPT_OUT_METHOD_GPC_SIGNAL")
    );
    assert!(recorded[0]["event"]["source"]["evidenceRef"]
        .as_str()
        .is_some_and(|e| e.contains("Sec-GPC: 1")));
    server.stop().await;
}
