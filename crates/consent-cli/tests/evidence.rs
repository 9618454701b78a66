//! Evidence end to end, with the real binary on a real Kafka-protocol
//! broker: the ledger signs checkpoints and exports a bundle, and the
//! bundle verifies on "another machine" that has only the CLI, the bundle
//! and the published key; any tampering is reported with exit status 4.

mod support;

use consent_kafka::test_support::TestBroker;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use support::*;

const ORG: &str = "acme-motors";
const SUBJECT: &str = "cust-42";

fn history() -> Value {
    let mut events = car_dealer(ORG);
    events.extend([
        json!({"organisationId": ORG, "subjectId": SUBJECT, "occurredAt": "2026-03-01T14:30:00Z",
         "source": {"system": "dealer-pos", "evidenceRef": "order 7781"},
         "saleRecorded": {"productCategoryId": "cars", "orderRef": "7781",
             "collection": {"route": "COLLECTION_ROUTE_DIRECT", "optOutOffered": true, "formVersion": "sale-form-v3",
                            "contactPoint": {"kind": "CONTACT_KIND_EMAIL", "value": "jo@example.com"}}}}),
        json!({"organisationId": ORG, "subjectId": SUBJECT, "occurredAt": "2026-04-01T09:00:00Z",
         "marketingMessageSent": {"channel": "CHANNEL_EMAIL", "purpose": "PURPOSE_COMMERCIAL",
             "productCategoryId": "servicing", "messageClass": "MESSAGE_CLASS_MARKETING",
             "promotionalContent": true, "optOutIncluded": true, "senderIdentified": true,
             "messageId": "msg-1", "campaignId": "spring"}}),
        json!({"organisationId": ORG, "subjectId": SUBJECT, "occurredAt": "2026-05-01T12:00:00Z",
         "optOutRecorded": {"channels": ["CHANNEL_EMAIL"], "receivedVia": "OPT_OUT_METHOD_UNSUBSCRIBE_LINK"}}),
        json!({"organisationId": ORG, "subjectId": SUBJECT, "occurredAt": "2026-06-01T09:00:00Z",
         "marketingMessageSent": {"channel": "CHANNEL_EMAIL", "purpose": "PURPOSE_COMMERCIAL",
             "productCategoryId": "servicing", "messageClass": "MESSAGE_CLASS_MARKETING",
             "promotionalContent": true, "optOutIncluded": true, "senderIdentified": true,
             "messageId": "msg-2", "campaignId": "summer"}}),
    ]);
    json!({ "events": events })
}

fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).collect()
}

async fn verify(bundle: &Path, key: &Path, html: Option<&Path>) -> std::process::Output {
    let mut command = args(&[
        "verify",
        &bundle.display().to_string(),
        "--key",
        &key.display().to_string(),
    ]);
    if let Some(html) = html {
        command.extend(args(&["--html", &html.display().to_string()]));
    }
    run(&command, Duration::from_secs(60)).await
}

#[tokio::test]
async fn an_export_made_by_the_server_verifies_with_only_the_cli_and_tampering_is_reported() {
    let Some(broker) = TestBroker::for_test() else {
        return;
    };
    let data = tempfile::tempdir().expect("data dir");
    let ledger = Ledger::serve(
        data.path(),
        &log_args(&broker, "evidence"),
        &["--checkpoint-origin", "ledger.acme.example/consent"],
    )
    .await;
    let appended = ledger.post_ok("/v1/events", &history()).await;
    ledger.wait_caught_up(Duration::from_secs(30)).await;
    let _ = positions(&appended);

    // A checkpoint published earlier (e.g. on the organisation's website).
    let published = ledger.post_ok("/v1/checkpoints", &json!({})).await;
    let elsewhere = tempfile::tempdir().expect("the regulator's machine");
    let previous = elsewhere.path().join("published.checkpoint");
    std::fs::write(&previous, published["note"].as_str().expect("note")).expect("write");
    let later = ledger
        .post_ok(
            "/v1/events",
            &json!({"events": [{"organisationId": ORG, "subjectId": "cust-43", "occurredAt": "2026-06-02T09:00:00Z",
                "objectionRecorded": {"receivedVia": "OPT_OUT_METHOD_CALL"}}]}),
        )
        .await;
    let _ = later;
    ledger.wait_caught_up(Duration::from_secs(30)).await;

    // The organisation exports the subject's evidence with the CLI.
    let bundle = elsewhere.path().join("cust-42.bundle.json");
    let output = run(
        &args(&[
            "export",
            "--server",
            &ledger.base,
            "--organisation",
            ORG,
            "--subject",
            SUBJECT,
            "--previous-checkpoint",
            &previous.display().to_string(),
            "--out",
            &bundle.display().to_string(),
        ]),
        Duration::from_secs(60),
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));

    // The published key, as the ledger wrote it next to its key file.
    let key = elsewhere.path().join("ledger.pub");
    std::fs::copy(data.path().join("checkpoint.pub"), &key).expect("copy the public key");
    let served_key = reqwest::get(format!("{}/v1/checkpoint-key", ledger.base))
        .await
        .expect("GET the key")
        .text()
        .await
        .expect("key text");
    assert_eq!(
        served_key.trim(),
        std::fs::read_to_string(&key).expect("key").trim()
    );
    assert!(served_key.starts_with("ledger.acme.example/consent+"));
    drop(ledger);

    // The regulator: no server, no broker, only the CLI.
    let report = elsewhere.path().join("report.html");
    let output = verify(&bundle, &key, Some(&report)).await;
    assert!(output.status.success(), "{}", describe(&output));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(text.starts_with("PASS\n"), "{text}");
    assert!(
        // The two sends, and the status: one decision per channel.
        text.contains("records proven: 6 of 6; decisions: 7"),
        "{text}"
    );
    assert!(text.contains("previous checkpoint:"), "{text}");
    let page = std::fs::read_to_string(&report).expect("the report");
    for fact in ["VERIFIED", "cust-42", "ALLOWED", "REFUSED"] {
        assert!(page.contains(fact), "the report lacks {fact}");
    }

    // Any tampering fails, with exit status 4 and what failed.
    let original: Value =
        serde_json::from_slice(&std::fs::read(&bundle).expect("bundle")).expect("bundle JSON");
    let tampered = elsewhere.path().join("tampered.json");
    type Tamper = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "a flipped byte in a stored event",
            Box::new(|b: &mut Value| {
                let payload = b["records"][2]["payload"]
                    .as_str()
                    .expect("payload")
                    .to_owned();
                let mut chars: Vec<char> = payload.chars().collect();
                chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
                b["records"][2]["payload"] = json!(chars.into_iter().collect::<String>());
            }),
            "not proven to be in the checkpoint's log",
        ),
        (
            "the opt-out dropped",
            Box::new(|b: &mut Value| {
                let records = b["records"].as_array_mut().expect("records");
                records.retain(|r| {
                    !r["position"]["topic"]
                        .as_str()
                        .unwrap_or("")
                        .ends_with(".optouts")
                });
            }),
            "the records say allowed",
        ),
        (
            "two events swapped",
            Box::new(|b: &mut Value| {
                let records = b["records"].as_array_mut().expect("records");
                records.swap(2, 3);
            }),
            "must be in (topic, partition, offset) order",
        ),
        (
            "the status's decision for post dropped, and the scope made to name 4",
            Box::new(|b: &mut Value| {
                b["decisions"].as_array_mut().expect("decisions").pop();
                b["scope"]["status"]["decisions"] = json!(4);
            }),
            "the subject's status: no decision for post",
        ),
        (
            "the checkpoint swapped for the published one",
            Box::new(move |b: &mut Value| {
                let previous = b["consistency"]["previous_checkpoint"].clone();
                b["checkpoint"] = previous;
            }),
            "checkpoint",
        ),
    ];
    for (what, tamper, expected) in cases {
        let mut copy = original.clone();
        tamper(&mut copy);
        std::fs::write(&tampered, serde_json::to_vec_pretty(&copy).expect("JSON")).expect("write");
        let output = verify(&tampered, &key, None).await;
        assert_eq!(
            output.status.code(),
            Some(4),
            "{what}: {}",
            describe(&output)
        );
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(text.starts_with("FAIL\n"), "{what}: {text}");
        assert!(
            text.contains(expected),
            "{what}: expected {expected:?} in\n{text}"
        );
    }

    // A key that is not the ledger's.
    let stranger = elsewhere.path().join("stranger.pub");
    std::fs::write(
        &stranger,
        "ledger.acme.example/consent+ccd0d435+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
    )
    .expect("write");
    let output = verify(&bundle, &stranger, None).await;
    assert_eq!(output.status.code(), Some(4), "{}", describe(&output));
}
