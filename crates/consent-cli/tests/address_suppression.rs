//! Suppression by address with the real binary (issue #12 item 3,
//! docs/OPT-OUTS.md): an opt-out received for an address holds for every
//! subject id that uses it, and for a check naming the address alone; the
//! suppression list pages through every address with the CLI.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::*;

const ORG: &str = "acme-motors";
const ADDRESS: &str = "ada.lovelace@example.com";
const IMPORTED: &str = "grace.hopper@example.com";

/// A check naming only the address.
fn address_email(address: &str, wait_for: Value) -> Value {
    let mut check = servicing_email(ORG, "", address, wait_for);
    check
        .as_object_mut()
        .expect("a check object")
        .remove("subjectId");
    check
}

/// The ledger with the dealer, two customers sharing [`ADDRESS`], an
/// opt-out received for it under the first, and an imported opt-out for
/// [`IMPORTED`] under no subject; the positions to wait for.
async fn recorded(ledger: &Ledger) -> Value {
    let mut events = car_dealer(ORG);
    events.push(car_sale(ORG, "cust-a", ADDRESS, "2026-03-01T14:30:00Z"));
    events.push(car_sale(ORG, "cust-b", ADDRESS, "2026-03-02T10:00:00Z"));
    events.push(car_sale(ORG, "cust-c", IMPORTED, "2026-03-02T11:00:00Z"));
    events.push(email_opt_out(
        ORG,
        Some("cust-a"),
        Some(ADDRESS),
        "2026-04-01T08:00:00Z",
    ));
    events.push(email_opt_out(
        ORG,
        None,
        Some(IMPORTED),
        "2026-04-02T08:00:00Z",
    ));
    positions(
        &ledger
            .post_ok("/v1/events", &json!({ "events": events }))
            .await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_fact_is_accepted_with_or_without_a_subject_and_checks_may_name_the_address_alone(
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::serve(&dir.path().join("ledger"), &[], &[]).await;
    let wait = recorded(&ledger).await;
    // A check naming only an address is decided (whatever the rules say).
    let decision = ledger
        .post_ok("/v1/checks", &address_email(ADDRESS, wait.clone()))
        .await;
    assert!(
        decision.get("allowed").is_some() || decision.get("reasonsAgainst").is_some(),
        "{decision:#}"
    );
    let batch =
        json!({"checks": [address_email(ADDRESS, wait.clone()), address_email(IMPORTED, wait)]});
    let answered = ledger.post_ok("/v1/checks:batch", &batch).await;
    assert_eq!(
        answered["decisions"].as_array().map(Vec::len),
        Some(2),
        "{answered:#}"
    );
    // Neither an address nor a subject: refused naming the field.
    let (status, error) = ledger
        .post(
            "/v1/checks",
            &json!({"organisationId": ORG, "channel": "CHANNEL_EMAIL", "purpose": "PURPOSE_COMMERCIAL"}),
        )
        .await
        .expect("answered");
    assert_eq!(status.as_u16(), 400, "{error:#}");
    assert_eq!(error["error"]["field"], json!("subject_id"), "{error:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opt_out_for_an_address_refuses_every_subject_at_that_address_and_the_address_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::serve(&dir.path().join("ledger"), &[], &[]).await;
    let wait = recorded(&ledger).await;
    for subject in ["cust-a", "cust-b"] {
        let decision = ledger
            .post_ok(
                "/v1/checks",
                &servicing_email(ORG, subject, ADDRESS, wait.clone()),
            )
            .await;
        assert_eq!(decision["allowed"], json!(false), "{subject}: {decision:#}");
    }
    let decision = ledger
        .post_ok(
            "/v1/checks",
            &servicing_email(ORG, "cust-c", IMPORTED, wait.clone()),
        )
        .await;
    assert_eq!(decision["allowed"], json!(false), "imported: {decision:#}");
    for address in [ADDRESS, IMPORTED] {
        let decision = ledger
            .post_ok("/v1/checks", &address_email(address, wait.clone()))
            .await;
        assert_eq!(decision["allowed"], json!(false), "{address}: {decision:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suppression_list_pages_through_every_address_with_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::serve(&dir.path().join("ledger"), &[], &[]).await;
    let wait = recorded(&ledger).await;
    const IMPORTED_ROWS: usize = 23;
    let events: Vec<Value> = (0..IMPORTED_ROWS)
        .map(|i| {
            let address = format!("row{i}@example.org");
            email_opt_out(ORG, None, Some(&address), "2026-04-03T08:00:00Z")
        })
        .collect();
    let more = positions(
        &ledger
            .post_ok("/v1/events", &json!({ "events": events }))
            .await,
    );
    // Wait for the view through a check that awaits every position.
    let mut all = wait.as_array().cloned().unwrap_or_default();
    all.extend(more.as_array().cloned().unwrap_or_default());
    ledger
        .post_ok("/v1/checks", &address_email(ADDRESS, Value::Array(all)))
        .await;

    let cli = |format: &str| {
        vec![
            "suppressions".to_owned(),
            "--organisation".to_owned(),
            ORG.to_owned(),
            "--page-size".to_owned(),
            "4".to_owned(),
            "--format".to_owned(),
            format.to_owned(),
            "--server".to_owned(),
            ledger.base.clone(),
        ]
    };
    let output = run(&cli("ndjson"), Duration::from_secs(60)).await;
    assert!(output.status.success(), "{}", describe(&output));
    let entries: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON entry a line"))
        .collect();
    assert_eq!(entries.len(), IMPORTED_ROWS + 2, "{}", describe(&output));
    let addresses: Vec<&str> = entries
        .iter()
        .map(|e| e["address"].as_str().expect("address"))
        .collect();
    let mut sorted = addresses.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, addresses, "in address order, each once");
    // Sealed: digests, never the clear address, but the clear value where
    // a subject's key opens it; none for the address-only facts.
    assert!(
        addresses.iter().all(|a| a.starts_with("digest:")),
        "{addresses:?}"
    );
    let clear: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["clearValue"].as_str())
        .filter(|v| !v.is_empty())
        .collect();
    assert_eq!(clear, vec![ADDRESS], "{entries:#?}");
    let opened = entries
        .iter()
        .find(|e| e["clearValue"] == json!(ADDRESS))
        .expect("the opened entry");
    assert_eq!(opened["kind"], json!("CONTACT_KIND_EMAIL"));
    assert_eq!(opened["facts"][0]["kind"], json!("opt_out_recorded"));
    assert_eq!(opened["facts"][0]["subjectId"], json!("cust-a"));

    // The same list as CSV: a header and one row per address.
    let output = run(&cli("csv"), Duration::from_secs(60)).await;
    assert!(output.status.success(), "{}", describe(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), IMPORTED_ROWS + 3, "{text}");
    assert!(
        lines[0].starts_with("address,kind,clear_value,event_ids"),
        "{text}"
    );
    assert!(text.contains(ADDRESS), "{text}");
}

/// An SMS marketing check now (the ledger's clock), for `subject` (none:
/// the number alone) at `number` (none: the subject's recorded numbers).
fn sms_now(subject: Option<&str>, number: Option<&str>, wait_for: Value) -> Value {
    let mut check = json!({"organisationId": ORG, "channel": "CHANNEL_SMS",
        "purpose": "PURPOSE_COMMERCIAL", "productCategoryId": "servicing",
        "messageClass": "MESSAGE_CLASS_MARKETING", "promotionalContent": true,
        "optOutIncluded": true, "senderIdentified": true, "waitFor": wait_for});
    if let Some(subject) = subject {
        check["subjectId"] = json!(subject);
    }
    if let Some(number) = number {
        check["contactPoint"] = json!({"kind": "CONTACT_KIND_MOBILE", "value": number});
    }
    check
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sms_stop_suppresses_the_number_for_every_subject_that_uses_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = "sms-webhook-test-secret";
    let ledger = Ledger::serve_sms(&dir.path().join("ledger"), secret, "+447700900999", ORG).await;
    // Two customer records with one mobile number, one of them typed in
    // national format.
    let mut events = car_dealer(ORG);
    for (subject, number) in [("cust-a", "+447700900123"), ("cust-b", "07700 900123")] {
        events.push(mobile_recorded(
            ORG,
            subject,
            number,
            "2026-02-01T10:00:00Z",
        ));
    }
    let wait = positions(
        &ledger
            .post_ok("/v1/events", &json!({ "events": events }))
            .await,
    );
    let suppressed =
        |decision: &Value| reasons_against(decision).contains(&"R1/address_opted_out".to_owned());
    let before = ledger
        .post_ok("/v1/checks", &sms_now(Some("cust-b"), None, wait.clone()))
        .await;
    assert!(!suppressed(&before), "{before}");

    // cust-a texts STOP from the shared number.
    let body = "From=%2B447700900123&To=%2B447700900999&Body=STOP&MessageSid=SM0042";
    let answer = ledger.post_sms(secret, body).await;
    let recorded = answer["recorded"].as_array().expect("recorded").len();
    assert_eq!(
        recorded, 2,
        "one opt-out per subject with the number: {answer}"
    );
    let wait = json!(answer["recorded"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["position"].clone())
        .collect::<Vec<_>>());

    // Every way a sender may ask: the other subject by its recorded
    // number, the other subject at the number, the number alone.
    for check in [
        sms_now(Some("cust-b"), None, wait.clone()),
        sms_now(Some("cust-b"), Some("+447700900123"), wait.clone()),
        sms_now(None, Some("07700900123"), wait.clone()),
        sms_now(Some("cust-z"), Some("07700 900123"), wait.clone()),
    ] {
        let decision = ledger.post_ok("/v1/checks", &check).await;
        assert_eq!(decision["allowed"], json!(false), "{check}: {decision}");
        assert!(
            suppressed(&decision)
                || reasons_against(&decision).contains(&"R1/opted_out".to_owned()),
            "{check}: {decision}"
        );
    }
    // The number alone and a subject that never had it are refused by the
    // address fact itself.
    let alone = ledger
        .post_ok(
            "/v1/checks",
            &sms_now(None, Some("07700900123"), wait.clone()),
        )
        .await;
    assert!(suppressed(&alone), "{alone}");
    let stranger = ledger
        .post_ok(
            "/v1/checks",
            &sms_now(Some("cust-z"), Some("+447700900123"), wait),
        )
        .await;
    assert!(suppressed(&stranger), "{stranger}");

    // A STOP from a number no subject has is recorded for the number
    // alone: a subject it is later given to is not texted.
    let body = "From=07700%20900456&To=%2B447700900999&Body=stop&MessageSid=SM0043";
    let answer = ledger.post_sms(secret, body).await;
    assert_eq!(answer["recorded"][0]["subjectId"], Value::Null, "{answer}");
    let wait = json!([answer["recorded"][0]["position"].clone()]);
    let later = ledger
        .post_ok(
            "/v1/checks",
            &sms_now(Some("cust-new"), Some("+447700900456"), wait),
        )
        .await;
    assert!(suppressed(&later), "{later}");
}
