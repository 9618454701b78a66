//! Erasure with the real binary, as an operator runs it (docs/ERASURE.md):
//! `serve` seals contact values with keys it keeps beside the data, an
//! erasure makes the address unreadable and keeps the person suppressed,
//! and `rebuild` (the view from the log alone) changes none of that.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use support::*;

const ORG: &str = "acme-motors";
const SUBJECT: &str = "cust-42";
const NEW_ID: &str = "cust-4242";
const ADDRESS: &str = "ada.lovelace@example.com";

fn dealer_and_sale(subject: &str, at: &str) -> Value {
    let mut events = car_dealer(ORG);
    events.push(car_sale(ORG, subject, ADDRESS, at));
    json!({ "events": events })
}

/// The reasons against emailing the erased customer, and the new id at the
/// same address.
async fn check_both(ledger: &Ledger, wait: Value) -> (Vec<String>, Vec<String>) {
    let old = ledger
        .post_ok(
            "/v1/checks",
            &servicing_email(ORG, SUBJECT, ADDRESS, json!([])),
        )
        .await;
    let new = ledger
        .post_ok("/v1/checks", &servicing_email(ORG, NEW_ID, ADDRESS, wait))
        .await;
    (reasons_against(&old), reasons_against(&new))
}

fn bytes_under(dir: &Path, skip: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if skip.contains(&name) {
            continue;
        }
        if path.is_dir() {
            out.extend(bytes_under(&path, skip));
        } else {
            out.extend(std::fs::read(&path).expect("read"));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_seals_addresses_and_an_erased_person_stays_suppressed_after_a_rebuild() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("ledger");
    let mut ledger = Ledger::serve(&data, &[], &[]).await;

    let sold = ledger
        .post_ok(
            "/v1/events",
            &dealer_and_sale(SUBJECT, "2026-03-01T14:30:00Z"),
        )
        .await;
    let allowed = ledger
        .post_ok(
            "/v1/checks",
            &servicing_email(ORG, SUBJECT, ADDRESS, positions(&sold)),
        )
        .await;
    assert_eq!(allowed["allowed"], json!(true), "{allowed:#}");
    assert_eq!(
        sale_contact(&ledger, ORG, SUBJECT).await["value"],
        json!(ADDRESS)
    );

    // The key files exist, readable by the ledger's user only; nothing but
    // the view and the log could hold the address, and neither does.
    #[cfg(unix)]
    for file in ["contact-digest.key", "subject-keys.sqlite"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{file} has mode {mode:o}");
    }
    let stored = bytes_under(&data, &["subject-keys.sqlite", "contact-digest.key"]);
    assert!(
        stored
            .windows(b"Acme Motors Ltd".len())
            .any(|w| w == b"Acme Motors Ltd"),
        "the data directory holds records in clear"
    );
    assert!(
        !stored
            .windows(ADDRESS.len())
            .any(|w| w == ADDRESS.as_bytes()),
        "the address is not in the log or the view"
    );

    // The customer is erased; then the address comes back under a new id.
    ledger
        .post_ok(
            "/v1/events",
            &json!({"events": [
            {"organisationId": ORG, "subjectId": SUBJECT, "occurredAt": "2026-04-01T10:00:00Z",
             "erasureRequested": {"reason": "Art 17 request by email"}}]}),
        )
        .await;
    let reimported = ledger
        .post_ok(
            "/v1/events",
            &json!({"events": [dealer_and_sale(NEW_ID, "2026-05-01T10:00:00Z")["events"][2]]}),
        )
        .await;
    ledger.wait_caught_up(Duration::from_secs(30)).await;

    let expected = (
        vec!["R9/erasure_requested".to_owned()],
        vec!["R9/contact_suppressed".to_owned()],
    );
    assert_eq!(check_both(&ledger, positions(&reimported)).await, expected);
    let redacted = sale_contact(&ledger, ORG, SUBJECT).await;
    assert_eq!(redacted["value"].as_str().unwrap_or(""), "", "{redacted}");
    assert!(
        redacted["sealed"]["digest"].is_string(),
        "only the seal: {redacted}"
    );
    assert_eq!(
        sale_contact(&ledger, ORG, NEW_ID).await["value"],
        json!(ADDRESS)
    );

    // Stop, rebuild the view from the log, start again: the same answers.
    ledger.kill();
    let rebuilt = run(
        &[
            "rebuild".to_owned(),
            "--data-dir".to_owned(),
            data.display().to_string(),
        ],
        Duration::from_secs(60),
    )
    .await;
    assert!(rebuilt.status.success(), "{}", describe(&rebuilt));
    ledger.restart().await;
    ledger.wait_caught_up(Duration::from_secs(30)).await;
    assert_eq!(check_both(&ledger, json!([])).await, expected);
    let redacted = sale_contact(&ledger, ORG, SUBJECT).await;
    assert_eq!(redacted["value"].as_str().unwrap_or(""), "", "{redacted}");
}
