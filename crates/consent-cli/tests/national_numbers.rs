//! What enters the ledger, with the real binary: UK numbers in national
//! format are one address with their E.164 form (one digest), invalid
//! numbers are refused naming the field, and facts from the future or from
//! absurd dates are refused (`--phone-region`, `--max-clock-skew-secs`).

mod support;

use consent_domain::Timestamp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::*;

const ORG: &str = "acme-motors";
const CALLED: &str = "cust-1";
const OTHER: &str = "cust-2";

fn told_not_to_call(subject: &str, number: &str, at: &str) -> Value {
    json!({"organisationId": ORG, "subjectId": subject, "occurredAt": at,
           "toldNotToCall": {"number": number}})
}

/// May ORG call CALLED on `number` (a live marketing call) on 1 June 2026?
fn live_call(number: &str, wait_for: Value) -> Value {
    json!({"organisationId": ORG, "subjectId": CALLED,
           "channel": "CHANNEL_LIVE_CALL", "purpose": "PURPOSE_COMMERCIAL", "productCategoryId": "servicing",
           "messageClass": "MESSAGE_CLASS_MARKETING", "promotionalContent": true,
           "optOutIncluded": true, "senderIdentified": true, "at": "2026-06-01T09:00:00Z",
           "contactPoint": {"kind": "CONTACT_KIND_MOBILE", "value": number}, "waitFor": wait_for})
}

/// A decision without what differs between two asks of one question.
fn answer(mut decision: Value) -> Value {
    if let Some(fields) = decision.as_object_mut() {
        fields.remove("evaluatedAt");
        fields.remove("freshness");
    }
    decision
}

/// The told-not-to-call of `subject` as its history shows it.
async fn told(ledger: &Ledger, subject: &str) -> Value {
    let history = ledger
        .get_ok(&format!(
            "/v1/organisations/{ORG}/subjects/{subject}/history"
        ))
        .await;
    history["events"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|e| {
            let told = &e["event"]["toldNotToCall"];
            (!told.is_null()).then(|| told.clone())
        })
        .unwrap_or_else(|| panic!("no told-not-to-call in {history}"))
}

fn error_field(body: &Value) -> &str {
    body["error"]["field"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_national_number_and_its_e164_form_are_one_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::serve(&dir.path().join("ledger"), &[], &[]).await;

    let mut events = car_dealer(ORG);
    events.push(car_sale(
        ORG,
        CALLED,
        "ada@example.com",
        "2026-02-01T10:00:00Z",
    ));
    // Told in national format, as a call-centre agent types it.
    events.push(told_not_to_call(
        CALLED,
        "07700 900123",
        "2026-03-01T10:00:00Z",
    ));
    // Another customer of the same number, told in E.164.
    events.push(told_not_to_call(
        OTHER,
        "+447700900123",
        "2026-03-02T10:00:00Z",
    ));
    let appended = ledger
        .post_ok("/v1/events", &json!({ "events": events }))
        .await;
    let wait = positions(&appended);
    // A call preference holds for the number whoever it was told under
    // (R4): the latest one, told by the other customer in E.164, decides.
    let told_id = appended["appended"][4]["eventId"].clone();

    // The same question in three spellings, about the first customer: one
    // answer, relying on the told-not-to-call recorded in a fourth.
    let mut answers = Vec::new();
    for spelling in ["+447700900123", "07700900123", "0044 7700 900123"] {
        let decision = ledger
            .post_ok("/v1/checks", &live_call(spelling, wait.clone()))
            .await;
        assert_eq!(decision["allowed"], json!(false), "{spelling}: {decision}");
        assert!(
            reasons_against(&decision).contains(&"R4/told_not_to_call".to_owned()),
            "{spelling}: {decision}"
        );
        assert!(
            decision["reasonsAgainst"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["eventIds"]
                    .as_array()
                    .is_some_and(|ids| ids.contains(&told_id))),
            "{spelling}: the reason names the told-not-to-call {told_id}: {decision}"
        );
        answers.push(answer(decision));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:#?}");
    // Another number is not covered.
    let other = ledger
        .post_ok("/v1/checks", &live_call("07700 900124", json!([])))
        .await;
    assert!(
        !reasons_against(&other).contains(&"R4/told_not_to_call".to_owned()),
        "{other}"
    );

    // Stored in E.164, sealed under one digest whichever spelling came in.
    let called = told(&ledger, CALLED).await;
    let other = told(&ledger, OTHER).await;
    assert_eq!(called["number"], json!("+447700900123"), "{called}");
    let digest = &called["sealedNumber"]["digest"];
    assert!(digest.is_string(), "{called}");
    assert_eq!(&other["sealedNumber"]["digest"], digest, "{other}");

    // Invalid numbers are refused, naming the field.
    let (status, body) = ledger
        .post(
            "/v1/events",
            &json!({"events": [told_not_to_call(CALLED, "07700 90012", "2026-03-03T10:00:00Z")]}),
        )
        .await
        .expect("POST");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        error_field(&body),
        "events[0].told_not_to_call.number",
        "{body}"
    );
    let mut consent = json!({"organisationId": ORG, "subjectId": CALLED, "occurredAt": "2026-03-03T10:00:00Z",
        "contactPointRecorded": {"contactPoint": {"kind": "CONTACT_KIND_MOBILE", "value": "07700 9OO123"}}});
    let (status, body) = ledger
        .post("/v1/events", &json!({"events": [car_sale(ORG, OTHER, "b@example.com", "2026-03-03T10:00:00Z"), consent.take()]}))
        .await
        .expect("POST");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        error_field(&body),
        "events[1].contact_point_recorded.contact_point.value",
        "{body}"
    );
    let (status, body) = ledger
        .post("/v1/checks", &live_call("12345", json!([])))
        .await
        .expect("POST");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_field(&body), "contact_point.value", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sms_stop_from_a_national_number_opts_out_the_subject_recorded_in_e164() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = "sms-webhook-test-secret";
    // The receiving number configured in national format too.
    let ledger = Ledger::serve_sms(&dir.path().join("ledger"), secret, "07700 900999", ORG).await;
    let mut events = car_dealer(ORG);
    events.push(mobile_recorded(
        ORG,
        CALLED,
        "+447700900123",
        "2026-02-01T10:00:00Z",
    ));
    let appended = ledger
        .post_ok("/v1/events", &json!({ "events": events }))
        .await;
    ledger
        .post_ok(
            "/v1/checks",
            &live_call("+447700900123", positions(&appended)),
        )
        .await;

    // The provider passes the sender on as the handset showed it.
    let body = "From=07700%20900123&To=%2B447700900999&Body=STOP&MessageSid=SM0001";
    let answer = ledger.post_sms(secret, body).await;
    assert_eq!(
        answer["recorded"][0]["subjectId"],
        json!(CALLED),
        "{answer}"
    );
}

/// RFC 3339 text of now plus `seconds` (negative: in the past).
fn from_now(seconds: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    let micros = i64::try_from(now.as_micros()).expect("in range") + seconds * 1_000_000;
    Timestamp::from_unix_micros(micros).to_string()
}

async fn append_told_at(ledger: &Ledger, at: &str) -> (StatusCode, Value) {
    ledger
        .post(
            "/v1/events",
            &json!({"events": [told_not_to_call(CALLED, "+447700900123", at)]}),
        )
        .await
        .expect("POST")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fact_from_the_future_or_from_an_absurd_date_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::serve(&dir.path().join("ledger"), &[], &[]).await;

    let (status, body) = append_told_at(&ledger, &from_now(3 * 3600)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_field(&body), "events[0].occurred_at", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("3 h after the time the ledger received it")
            && message.contains("the tolerance is 5 min"),
        "{message}"
    );

    // A minute ahead is a clock a little fast: accepted.
    let (status, body) = append_told_at(&ledger, &from_now(60)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A replayed historical fact is fine.
    let (status, body) = append_told_at(&ledger, "2019-05-01T10:00:00Z").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    for absurd in [
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "1989-12-31T23:59:59Z",
    ] {
        let (status, body) = append_told_at(&ledger, absurd).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{absurd}: {body}");
        assert_eq!(error_field(&body), "events[0].occurred_at", "{body}");
    }
    let mut check = live_call("+447700900123", json!([]));
    check["at"] = json!("9999-12-31T23:59:59Z");
    let (status, body) = ledger.post("/v1/checks", &check).await.expect("POST");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_field(&body), "at", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tolerance_and_the_region_are_settings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::serve(
        &dir.path().join("ledger"),
        &[],
        &["--max-clock-skew-secs", "14400", "--phone-region", "IE"],
    )
    .await;
    let (status, body) = append_told_at(&ledger, &from_now(3 * 3600)).await;
    assert_eq!(status, StatusCode::OK, "within 4 h: {body}");
    let (status, body) = append_told_at(&ledger, &from_now(5 * 3600)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("the tolerance is 4 h")),
        "{body}"
    );
    // In Ireland, 087 is a mobile prefix.
    let (status, body) = ledger
        .post(
            "/v1/events",
            &json!({"events": [told_not_to_call(OTHER, "087 123 4567", "2026-03-01T10:00:00Z")]}),
        )
        .await
        .expect("POST");
    assert_eq!(status, StatusCode::OK, "{body}");
    ledger.wait_caught_up(Duration::from_secs(20)).await;
    assert_eq!(told(&ledger, OTHER).await["number"], json!("+353871234567"));

    let output = run(
        &[
            "serve".to_owned(),
            "--data-dir".to_owned(),
            dir.path().join("other").display().to_string(),
            "--phone-region".to_owned(),
            "UK".to_owned(),
        ],
        Duration::from_secs(30),
    )
    .await;
    let said = describe(&output);
    assert!(!output.status.success(), "{said}");
    assert!(
        said.contains("--phone-region") && said.contains("UK"),
        "{said}"
    );
}
