//! Opt-outs out, by webhook: the real `consent-ledger serve` pushes every
//! opt-out of an organisation to a real HTTP receiver (which verifies each
//! signature), through an outage of the receiver and a restart of the
//! ledger, losing none; a receiver that always fails gets each notice the
//! configured number of times, then it is a dead letter the operator lists
//! and pushes again.

mod support;

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::webhook_receiver::WebhookReceiver;
use support::*;

const SECRET: &str = "whsec-0123456789abcdef0123456789";
const ORG: &str = "acme-motors";
const OTHER_ORG: &str = "hope-charity";

/// Writes the endpoints' secret (mode 0600) and a webhooks file with
/// `endpoints` (name, organisation, url) into `dir`.
fn webhooks_file(dir: &Path, endpoints: &[(&str, &str, &str)]) -> PathBuf {
    let secret = dir.join("webhook.secret");
    std::fs::write(&secret, format!("{SECRET}\n")).expect("write the secret");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let mut text = String::new();
    for (name, organisation, url) in endpoints {
        text.push_str(&format!(
            "[[endpoint]]\nname = \"{name}\"\norganisation = \"{organisation}\"\nurl = \"{url}\"\nsecret_file = \"webhook.secret\"\n\n"
        ));
    }
    let path = dir.join("webhooks.toml");
    std::fs::write(&path, text).expect("write the webhooks file");
    path
}

fn email(n: usize) -> String {
    format!("customer-{n}@example.com")
}

/// An opt-out, objection or withdrawal by subject `c-{n}` of `organisation`,
/// rotating through the three.
fn opt_out(organisation: &str, n: usize) -> Value {
    let subject = format!("c-{n}");
    let at = "2026-03-01T10:00:00Z";
    let point = json!({"kind": "CONTACT_KIND_EMAIL", "value": email(n)});
    match n % 3 {
        0 => json!({"organisationId": organisation, "subjectId": subject, "occurredAt": at,
                    "optOutRecorded": {"channels": ["CHANNEL_EMAIL"], "receivedVia": "OPT_OUT_METHOD_ONE_CLICK",
                                       "contactPoint": point}}),
        1 => json!({"organisationId": organisation, "subjectId": subject, "occurredAt": at,
                    "objectionRecorded": {"receivedVia": "OPT_OUT_METHOD_EMAIL_REPLY", "contactPoint": point}}),
        _ => json!({"organisationId": organisation, "subjectId": subject, "occurredAt": at,
                    "consentWithdrawn": {"channels": ["CHANNEL_SMS"], "receivedVia": "OPT_OUT_METHOD_REPLY_STOP"}}),
    }
}

/// Appends `events`; the ids the ledger gave them.
async fn record(ledger: &Ledger, events: Vec<Value>) -> BTreeSet<String> {
    let answer = ledger
        .post_ok("/v1/events", &json!({"events": events}))
        .await;
    answer["appended"]
        .as_array()
        .expect("appended")
        .iter()
        .map(|a| a["eventId"].as_str().expect("eventId").to_owned())
        .collect()
}

fn dead_letters(data_dir: &Path) -> Vec<Value> {
    let output = std::process::Command::new(BIN)
        .args(["webhooks", "dead-letters", "--data-dir"])
        .arg(data_dir)
        .output()
        .expect("run consent-ledger webhooks dead-letters");
    assert!(output.status.success(), "{}", describe(&output));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a dead letter as JSON"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_opt_out_reaches_the_webhook_through_an_outage_and_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut receiver = WebhookReceiver::start(SECRET).await;
    // A second organisation's endpoint is down the whole time: it holds
    // back only its own notices.
    let down = format!("http://{}/hook", free_address());
    let file = webhooks_file(
        dir.path(),
        &[
            ("acme-crm", ORG, &receiver.url()),
            ("hope-crm", OTHER_ORG, &down),
        ],
    );
    let data = dir.path().join("ledger");
    let mut ledger = Ledger::serve(
        &data,
        &[],
        &[
            "--webhooks",
            &file.display().to_string(),
            "--webhook-initial-backoff-ms",
            "100",
            "--webhook-max-backoff-secs",
            "1",
        ],
    )
    .await;

    // Given the dealer, a sale (no notice) and three opt-outs, pushed.
    let mut not_opt_outs = record(&ledger, car_dealer(ORG)).await;
    not_opt_outs.extend(
        record(
            &ledger,
            vec![car_sale(ORG, "c-0", &email(0), "2026-02-01T10:00:00Z")],
        )
        .await,
    );
    let mut expected = record(&ledger, (0..3).map(|n| opt_out(ORG, n)).collect()).await;
    let others = record(&ledger, (0..2).map(|n| opt_out(OTHER_ORG, n)).collect()).await;
    receiver.wait_for(&expected, Duration::from_secs(30)).await;

    // When the receiver goes down, more opt-outs are recorded, the ledger
    // restarts, one more is recorded, and the receiver comes back...
    receiver.stop().await;
    expected.extend(record(&ledger, (3..6).map(|n| opt_out(ORG, n)).collect()).await);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    ledger.restart().await;
    expected.extend(record(&ledger, vec![opt_out(ORG, 6)]).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    receiver.restart().await;

    // ...then every opt-out has been delivered at least once, none lost,
    // only the organisation's own, each signed, none carrying the address.
    receiver.wait_for(&expected, Duration::from_secs(60)).await;
    assert_eq!(expected.len(), 7);
    let received = receiver.event_ids();
    assert_eq!(received, expected, "exactly the organisation's opt-outs");
    assert!(received.is_disjoint(&not_opt_outs));
    assert!(received.is_disjoint(&others));
    receiver.seen(|seen| {
        assert_eq!(seen.bad_signatures, 0, "every push verifies");
        for (notice, body) in seen.accepted.iter().zip(&seen.bodies) {
            assert_eq!(notice["organisationId"], json!(ORG));
            assert!(
                !String::from_utf8_lossy(body).contains("@example.com"),
                "{notice}"
            );
        }
        let opt_out = seen
            .accepted
            .iter()
            .find(|n| n["kind"] == json!("OPT_OUT_NOTICE_KIND_OPT_OUT"))
            .expect("an opt-out notice");
        assert_eq!(opt_out["channels"], json!(["CHANNEL_EMAIL"]));
        assert_eq!(opt_out["receivedVia"], json!("OPT_OUT_METHOD_ONE_CLICK"));
        assert!(
            opt_out["contact"]["digest"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{opt_out}"
        );
        assert!(opt_out["sourcePosition"]["topic"].is_string(), "{opt_out}");
    });
    // Nothing was given up on: the receiver was down for less than the tries.
    assert_eq!(dead_letters(&data).len(), 0, "no dead letter");
    let metrics = ledger
        .client
        .get(format!("{}/metrics", ledger.base))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics text");
    for name in [
        "consent_webhook_delivered_total{endpoint=\"acme-crm\"}",
        "consent_webhook_retries_total{endpoint=\"hope-crm\"}",
        "consent_webhook_lag_seconds{endpoint=\"hope-crm\"}",
    ] {
        assert!(metrics.contains(name), "{name} in /metrics:\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_always_fails_gets_n_tries_then_a_dead_letter_to_retry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let receiver = WebhookReceiver::start(SECRET).await;
    receiver.fail_every_request(true);
    let file = webhooks_file(dir.path(), &[("acme-crm", ORG, &receiver.url())]);
    let data = dir.path().join("ledger");
    let ledger = Ledger::serve(
        &data,
        &[],
        &[
            "--webhooks",
            &file.display().to_string(),
            "--webhook-max-tries",
            "3",
            "--webhook-initial-backoff-ms",
            "50",
        ],
    )
    .await;
    let ids = record(&ledger, (0..2).map(|n| opt_out(ORG, n)).collect()).await;

    // Each notice is tried three times, then dead-lettered.
    let started = std::time::Instant::now();
    let letters = loop {
        let letters = dead_letters(&data);
        if letters.len() == ids.len() {
            break letters;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "dead letters after 30 s: {letters:?}\n{}",
            ledger.output_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let lettered: BTreeSet<String> = letters
        .iter()
        .map(|l| l["source_event_id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(lettered, ids);
    for letter in &letters {
        assert_eq!(letter["tries"], json!(3), "{letter}");
        assert_eq!(letter["endpoint"], json!("acme-crm"));
        assert!(
            letter["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("503")),
            "{letter}"
        );
        assert!(!letter["body"]
            .as_str()
            .unwrap_or("")
            .contains("@example.com"));
    }
    receiver.seen(|seen| {
        for id in &ids {
            assert_eq!(seen.failed_tries.get(id), Some(&3), "tries of {id}");
        }
        assert!(seen.accepted.is_empty());
    });

    // The endpoint is fixed; the operator pushes the dead letters again.
    receiver.fail_every_request(false);
    let output = run(
        &[
            "webhooks".into(),
            "retry".into(),
            "--data-dir".into(),
            data.display().to_string(),
            "--webhooks".into(),
            file.display().to_string(),
        ],
        Duration::from_secs(30),
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    assert_eq!(receiver.event_ids(), ids, "delivered by the retry");
    assert!(dead_letters(&data).is_empty(), "and no longer dead letters");

    // A later opt-out is pushed as usual: the position moved past the letters.
    let later = record(&ledger, vec![opt_out(ORG, 7)]).await;
    receiver.wait_for(&later, Duration::from_secs(30)).await;
}
