//! The `consent-ledger` binary on Kafka, end to end: real processes on a
//! real Kafka-protocol broker (tansu, one per test), talked to over HTTP as
//! a client would.
//!
//! Needs tansu (`.ci/install-tansu.sh`); `CONSENT_SKIP_KAFKA_TESTS=1`
//! skips these tests deliberately.

mod support;

use consent_kafka::test_support::TestBroker;
use consent_kafka::{KafkaConfig, KafkaLog};
use consent_log::{EventLog, LogRecord, StartOffsets, TopicPartition};
use consent_projector::dead_letter;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

const ORG: &str = "acme-motors";
const SUBJECT: &str = "cust-42";

// ------------------------------------------------------------ facts and checks

/// The README's dealer, its category map, and a sale of a car where the
/// customer gave an email address and was offered an opt-out.
fn dealer_and_sale(organisation: &str, subjects: &[&str]) -> Value {
    let mut events = dealer(organisation);
    for subject in subjects {
        events.push(sale(organisation, subject, "2026-03-01T14:30:00Z"));
    }
    json!({ "events": events })
}

fn dealer(organisation: &str) -> Vec<Value> {
    vec![
        json!({"organisationId": organisation, "occurredAt": "2026-01-10T09:00:00Z",
               "organisationRegistered": {"name": "Acme Motors Ltd", "kind": "ORGANISATION_KIND_COMMERCIAL"}}),
        json!({"organisationId": organisation, "occurredAt": "2026-01-10T09:00:00Z",
               "productCategoriesDefined": {"categories": [
                   {"id": "cars", "name": "Cars", "similarCategoryIds": ["servicing", "mot"]},
                   {"id": "servicing", "name": "Servicing", "similarCategoryIds": ["mot"]},
                   {"id": "mot", "name": "MOT tests"},
                   {"id": "insurance", "name": "Motor insurance"}]}}),
    ]
}

fn consent_given(organisation: &str, subject: &str, at: &str) -> Value {
    json!({"organisationId": organisation, "subjectId": subject, "occurredAt": at,
           "source": {"system": "web", "formId": "newsletter"},
           "consentGiven": {"channels": ["CHANNEL_EMAIL", "CHANNEL_SMS"], "purposes": ["PURPOSE_COMMERCIAL"],
               "wordingVersion": "newsletter-v2", "wordingSha256": "a".repeat(64),
               "method": "COLLECTION_METHOD_UNTICKED_CHECKBOX", "collector": "CONSENT_COLLECTOR_FIRST_PARTY"}})
}

fn consent_withdrawn(organisation: &str, subject: &str, at: &str) -> Value {
    json!({"organisationId": organisation, "subjectId": subject, "occurredAt": at,
           "consentWithdrawn": {"receivedVia": "OPT_OUT_METHOD_EMAIL_REPLY"}})
}

fn objection(organisation: &str, subject: &str, at: &str) -> Value {
    json!({"organisationId": organisation, "subjectId": subject, "occurredAt": at,
           "objectionRecorded": {"receivedVia": "OPT_OUT_METHOD_CALL"}})
}

fn message_sent(organisation: &str, subject: &str, at: &str, n: usize) -> Value {
    json!({"organisationId": organisation, "subjectId": subject, "occurredAt": at,
           "marketingMessageSent": {"channel": "CHANNEL_EMAIL", "purpose": "PURPOSE_COMMERCIAL",
               "productCategoryId": "servicing", "messageClass": "MESSAGE_CLASS_MARKETING",
               "promotionalContent": true, "optOutIncluded": true, "senderIdentified": true,
               "messageId": format!("msg-{subject}-{n}"), "campaignId": "spring",
               "contactPoint": {"kind": "CONTACT_KIND_EMAIL", "value": format!("{subject}@example.com")}}})
}

/// "May the dealer email this customer about `category` at `at`?"
fn email_check(
    organisation: &str,
    subject: &str,
    category: &str,
    at: &str,
    wait_for: Value,
) -> Value {
    json!({"organisationId": organisation, "subjectId": subject,
           "channel": "CHANNEL_EMAIL", "purpose": "PURPOSE_COMMERCIAL", "productCategoryId": category,
           "messageClass": "MESSAGE_CLASS_MARKETING", "promotionalContent": true,
           "optOutIncluded": true, "senderIdentified": true, "at": at, "waitFor": wait_for})
}

fn sms_check(organisation: &str, subject: &str, at: &str) -> Value {
    let mut check = email_check(organisation, subject, "cars", at, json!([]));
    check["channel"] = json!("CHANNEL_SMS");
    check
}

fn reason_codes(decision: &Value) -> Vec<(String, String)> {
    decision["reasonsAgainst"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (text(&r["ruleId"]), text(&r["code"]))
        })
        .collect()
}

fn history_path(organisation: &str, subject: &str) -> String {
    format!("/v1/organisations/{organisation}/subjects/{subject}/history")
}

/// `(event id, position)` of every history entry, in history order.
fn history_entries(history: &Value) -> Vec<(String, Value)> {
    history["events"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| {
            let id = entry["event"]["eventId"]
                .as_str()
                .expect("an event id")
                .to_owned();
            (id, entry["position"].clone())
        })
        .collect()
}

fn without_freshness(mut decision: Value) -> Value {
    if let Some(fields) = decision.as_object_mut() {
        fields.remove("freshness");
    }
    decision
}

fn cli_position((topic, partition, offset): (String, u64, u64)) -> String {
    format!("{topic}/{partition}@{offset}")
}

// ------------------------------------------------------------ a. the example

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_kafka_answers_the_readme_example_with_read_your_writes() {
    let Some(broker) = TestBroker::for_test() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_args(&broker, "e2e-readme");
    let ledger = Ledger::serve(&dir.path().join("ledger"), &log, &[]).await;

    // Given the dealer, its category map and the sale, appended through Kafka.
    let appended = ledger
        .post_ok("/v1/events", &dealer_and_sale(ORG, &[SUBJECT]))
        .await;
    let topics: Vec<&str> = appended["appended"]
        .as_array()
        .expect("appended")
        .iter()
        .map(|a| a["position"]["topic"].as_str().expect("topic"))
        .collect();
    assert_eq!(
        topics,
        [
            "e2e-readme.reference",
            "e2e-readme.reference",
            "e2e-readme.commerce"
        ]
    );

    // When Acme asks, waiting for its own writes, to email about servicing
    // in June: the soft opt-in, measured fresh.
    let june = "2026-06-01T09:00:00Z";
    let decision = ledger
        .post_ok(
            "/v1/checks",
            &email_check(ORG, SUBJECT, "servicing", june, positions(&appended)),
        )
        .await;
    assert_eq!(decision["allowed"], json!(true), "{decision:#}");
    assert_eq!(decision["lawfulBasis"], json!("LAWFUL_BASIS_SOFT_OPT_IN"));
    assert_eq!(
        decision["freshness"]["measured"],
        json!(true),
        "{decision:#}"
    );
    let insurance = ledger
        .post_ok(
            "/v1/checks",
            &email_check(ORG, SUBJECT, "insurance", june, json!([])),
        )
        .await;
    assert_eq!(insurance["allowed"], json!(false), "{insurance:#}");

    // When the customer unsubscribes in April, the CLI's check waiting for
    // that append refuses June (exit 3, R1) and allows mid-March (exit 0).
    let opted_out = ledger
        .post_ok(
            "/v1/events",
            &json!({"events": [email_opt_out(ORG, Some(SUBJECT), None, "2026-04-02T08:00:00Z")]}),
        )
        .await;
    let wait_for = cli_position(position_parts(&opted_out["appended"][0]["position"]));
    let check = |at: &str| {
        [
            "check",
            "--server",
            &ledger.base,
            "--org",
            ORG,
            "--subject",
            SUBJECT,
            "--channel",
            "email",
            "--category",
            "servicing",
            "--at",
            at,
            "--wait-for",
            &wait_for,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect::<Vec<_>>()
    };
    let refused = run(&check(june), Duration::from_secs(30)).await;
    assert_eq!(refused.status.code(), Some(3), "{}", describe(&refused));
    let printed = String::from_utf8_lossy(&refused.stdout);
    assert!(
        printed.starts_with("REFUSED") && printed.contains("[R1]"),
        "{printed}"
    );
    let allowed = run(&check("2026-03-15T09:00:00Z"), Duration::from_secs(30)).await;
    assert_eq!(allowed.status.code(), Some(0), "{}", describe(&allowed));

    // The history holds the sale and the opt-out, each once.
    let history = ledger.get_ok(&history_path(ORG, SUBJECT)).await;
    assert_eq!(history_entries(&history).len(), 2, "{history:#}");
}

// ------------------------------------------------------------ b. kill -9

/// The stream of the crash test: two dealers, their subjects' sales,
/// consents, opt-outs, withdrawals, objections and messages, each with an
/// id the client assigned, in a random order, cut into random batches.
struct Stream {
    batches: Vec<Vec<Value>>,
    subjects: Vec<(String, String)>,
    /// Subject-level event ids (those a history lists).
    subject_event_ids: BTreeSet<String>,
}

fn stream(rng: &mut fastrand::Rng) -> Stream {
    let mut events = Vec::new();
    let mut subjects = Vec::new();
    for organisation in ["acme-motors", "bolt-bikes"] {
        events.extend(dealer(organisation));
        for i in 0..24 {
            let subject = format!("s-{i:02}");
            let day = |month: u32| format!("2026-{month:02}-{:02}T10:00:00Z", 1 + i % 27);
            events.push(sale(organisation, &subject, &day(2)));
            events.push(message_sent(organisation, &subject, &day(3), 1));
            events.push(message_sent(organisation, &subject, &day(5), 2));
            if i % 3 == 0 {
                events.push(consent_given(organisation, &subject, &day(3)));
            }
            if i % 4 == 1 {
                events.push(email_opt_out(organisation, Some(&subject), None, &day(4)));
            }
            if i % 5 == 2 {
                events.push(consent_withdrawn(organisation, &subject, &day(5)));
            }
            if i % 7 == 3 {
                events.push(objection(organisation, &subject, &day(5)));
            }
            subjects.push((organisation.to_owned(), subject));
        }
    }
    let mut subject_event_ids = BTreeSet::new();
    for event in &mut events {
        let id = uuid::Uuid::now_v7().to_string();
        if event.get("subjectId").is_some() {
            subject_event_ids.insert(id.clone());
        }
        event["eventId"] = json!(id);
    }
    rng.shuffle(&mut events);
    let mut batches = Vec::new();
    while !events.is_empty() {
        let take = rng.usize(1..=6).min(events.len());
        batches.push(events.drain(..take).collect());
    }
    Stream {
        batches,
        subjects,
        subject_event_ids,
    }
}

/// What the appender saw.
#[derive(Default)]
struct Appended {
    acknowledged: BTreeSet<String>,
    /// Attempts that did not get a 200 (the ledger was down or killed
    /// mid-request) and were retried with the same ids.
    retries: usize,
}

/// Appends every batch in order, retrying a batch with the same event ids
/// until the ledger acknowledges it. `done` counts acknowledged batches.
async fn append_all(base: String, batches: Vec<Vec<Value>>, done: Arc<AtomicUsize>) -> Appended {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("HTTP client");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut appended = Appended::default();
    for batch in batches {
        let ids: Vec<String> = batch
            .iter()
            .map(|e| e["eventId"].as_str().expect("id").to_owned())
            .collect();
        let body = json!({ "events": batch });
        loop {
            assert!(
                Instant::now() < deadline,
                "the stream was not appended within 120 s"
            );
            let answer = client
                .post(format!("{base}/v1/events"))
                .json(&body)
                .send()
                .await;
            let answer = match answer {
                Ok(response) => {
                    let status = response.status();
                    (status, response.json::<Value>().await)
                }
                Err(_) => {
                    appended.retries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match answer {
                (StatusCode::OK, Ok(body)) => {
                    let returned: Vec<&str> = body["appended"]
                        .as_array()
                        .expect("appended")
                        .iter()
                        .map(|a| a["eventId"].as_str().expect("event id"))
                        .collect();
                    assert_eq!(returned, ids, "the ledger keeps client-assigned ids");
                    appended.acknowledged.extend(ids.iter().cloned());
                    done.fetch_add(1, Ordering::SeqCst);
                    break;
                }
                (status, body) if status.is_client_error() => {
                    panic!("the ledger refused a valid batch: {status} {body:?}")
                }
                _ => {
                    appended.retries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    appended
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_killed_at_random_moments_comes_back_to_what_a_rebuild_gives() {
    let Some(broker) = TestBroker::for_test() else {
        return;
    };
    let seed = std::env::var("CONSENT_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("kill -9 test seed: {seed} (rerun with CONSENT_TEST_SEED={seed})");
    let mut rng = fastrand::Rng::with_seed(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_args(&broker, "e2e-crash");
    let mut ledger = Ledger::serve(&dir.path().join("killed"), &log, &[]).await;

    let Stream {
        batches,
        subjects,
        subject_event_ids,
    } = stream(&mut rng);
    let batch_count = batches.len();
    let done = Arc::new(AtomicUsize::new(0));
    let appender = tokio::spawn(append_all(ledger.base.clone(), batches, Arc::clone(&done)));

    // Four kills at random points of the stream: after a random number of
    // acknowledged batches, plus a random few milliseconds, so that they
    // land between requests, mid-append and mid-projection.
    let mut thresholds: Vec<usize> = (0..4).map(|_| rng.usize(2..batch_count - 4)).collect();
    thresholds.sort_unstable();
    let mut kills = 0;
    for threshold in thresholds {
        while done.load(Ordering::SeqCst) < threshold && !appender.is_finished() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.u64(0..40))).await;
        ledger.kill();
        kills += 1;
        tokio::time::sleep(Duration::from_millis(rng.u64(0..300))).await;
        ledger.restart().await;
    }
    let appended = appender.await.expect("the appender");
    assert_eq!(kills, 4);
    assert_eq!(
        appended.acknowledged.len(),
        subject_event_ids.len() + 4,
        "every event acknowledged"
    );
    let status = ledger.wait_caught_up(Duration::from_secs(60)).await;

    // A fresh view of the same topics: `consent-ledger rebuild` on a second
    // data directory, then served.
    let rebuilt_dir = dir.path().join("rebuilt");
    let mut rebuild = vec![
        "rebuild".to_owned(),
        "--data-dir".to_owned(),
        rebuilt_dir.display().to_string(),
    ];
    rebuild.extend(log.iter().cloned());
    let output = run(&rebuild, Duration::from_secs(60)).await;
    assert!(output.status.success(), "{}", describe(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("view rebuilt"),
        "{}",
        describe(&output)
    );
    // Every instance on one log seals under the log's contact-digest key.
    let digest_key = ledger
        .data_dir
        .join("contact-digest.key")
        .display()
        .to_string();
    let rebuilt = Ledger::serve(&rebuilt_dir, &log, &["--contact-digest-key", &digest_key]).await;
    let rebuilt_status = rebuilt.wait_caught_up(Duration::from_secs(30)).await;
    assert_eq!(
        status["partitions"], rebuilt_status["partitions"],
        "both views at the log's end"
    );

    // Every subject: the same history (ids and positions) and the same
    // decisions; every acknowledged event exactly once.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (organisation, subject) in &subjects {
        let history = history_entries(&ledger.get_ok(&history_path(organisation, subject)).await);
        let fresh = history_entries(&rebuilt.get_ok(&history_path(organisation, subject)).await);
        assert_eq!(
            history, fresh,
            "history of {organisation}/{subject}: restarted vs rebuilt"
        );
        for (id, _) in history {
            *seen.entry(id).or_default() += 1;
        }
        for check in [
            email_check(
                organisation,
                subject,
                "servicing",
                "2026-06-15T09:00:00Z",
                json!([]),
            ),
            email_check(
                organisation,
                subject,
                "insurance",
                "2026-02-20T09:00:00Z",
                json!([]),
            ),
            email_check(
                organisation,
                subject,
                "mot",
                "2026-03-20T09:00:00Z",
                json!([]),
            ),
            sms_check(organisation, subject, "2026-06-15T09:00:00Z"),
        ] {
            let restarted = ledger.post_ok("/v1/checks", &check).await;
            let fresh = rebuilt.post_ok("/v1/checks", &check).await;
            assert_eq!(
                without_freshness(restarted),
                without_freshness(fresh),
                "decision for {check}: restarted vs rebuilt"
            );
        }
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "events applied twice: {twice:?}");
    let seen: BTreeSet<String> = seen.into_keys().collect();
    let lost: Vec<_> = subject_event_ids.difference(&seen).collect();
    assert!(
        lost.is_empty(),
        "acknowledged events missing from the view: {lost:?}"
    );
    assert_eq!(
        seen, subject_event_ids,
        "the view holds exactly the acknowledged events"
    );

    let records: u64 = status["partitions"]
        .as_array()
        .expect("partitions")
        .iter()
        .filter_map(|p| p["endOffset"].as_u64())
        .sum();
    eprintln!(
        "{kills} kills, {} retried appends, {records} records in the log for {} events",
        appended.retries,
        appended.acknowledged.len()
    );
}

// ------------------------------------------------------------ c. broker outage

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_broker_down_appends_fail_fast_checks_answer_stale_and_all_resumes() {
    let Some(mut broker) = TestBroker::for_test() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::serve(
        &dir.path().join("ledger"),
        &log_args(&broker, "e2e-outage"),
        &[],
    )
    .await;
    let appended = ledger
        .post_ok("/v1/events", &dealer_and_sale(ORG, &[SUBJECT]))
        .await;
    let june = "2026-06-01T09:00:00Z";
    let decision = ledger
        .post_ok(
            "/v1/checks",
            &email_check(ORG, SUBJECT, "servicing", june, positions(&appended)),
        )
        .await;
    assert_eq!(decision["allowed"], json!(true), "{decision:#}");

    tokio::task::block_in_place(|| broker.stop()).expect("stop the broker");

    // An append fails fast (the delivery timeout is 3 s) with a 503 that
    // names the log; nothing is acknowledged.
    let mut opt_out = email_opt_out(ORG, Some(SUBJECT), None, "2026-04-02T08:00:00Z");
    opt_out["eventId"] = json!(uuid::Uuid::now_v7().to_string());
    let retry = json!({ "events": [opt_out] });
    let started = Instant::now();
    let (status, body) = ledger.post("/v1/events", &retry).await.expect("an answer");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], json!("unavailable"), "{body}");
    let message = body["error"]["message"].as_str().expect("a message");
    assert!(
        message.contains("event log is unavailable") && message.contains("Kafka"),
        "{message}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );

    // Checks keep answering from the view, and say it is not measured fresh.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let decision = ledger
            .post_ok(
                "/v1/checks",
                &email_check(ORG, SUBJECT, "servicing", june, json!([])),
            )
            .await;
        assert_eq!(decision["allowed"], json!(true), "{decision:#}");
        if decision["freshness"]
            .get("measured")
            .is_none_or(|m| m == &json!(false))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "freshness still measured with the broker down: {decision}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = ledger.get_ok("/v1/status").await;
    assert_eq!(status["logReachable"], json!(false), "{status}");

    // The broker comes back: the same append (same id) goes through, the
    // projector resumes, and checks are measured again.
    tokio::task::block_in_place(|| broker.start()).expect("restart the broker");
    let deadline = Instant::now() + Duration::from_secs(60);
    let appended = loop {
        let (status, body) = ledger.post("/v1/events", &retry).await.expect("an answer");
        if status == StatusCode::OK {
            break body;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(
            Instant::now() < deadline,
            "appends did not resume within 60 s: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let decision = ledger
        .post_ok(
            "/v1/checks",
            &email_check(ORG, SUBJECT, "servicing", june, positions(&appended)),
        )
        .await;
    assert_eq!(decision["allowed"], json!(false), "{decision:#}");
    assert!(
        reason_codes(&decision).contains(&("R1".to_owned(), "opted_out".to_owned())),
        "{decision:#}"
    );
    ledger.wait_caught_up(Duration::from_secs(30)).await;
    let history = history_entries(&ledger.get_ok(&history_path(ORG, SUBJECT)).await);
    assert_eq!(
        history.len(),
        2,
        "the sale and the opt-out, once: {history:?}"
    );
}

// ------------------------------------------------------------ d. dead letters

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_record_is_dead_lettered_with_its_origin_and_the_stream_goes_on() {
    let Some(broker) = TestBroker::for_test() else {
        return;
    };
    let prefix = "e2e-dlq";
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::serve(&dir.path().join("ledger"), &log_args(&broker, prefix), &[]).await;
    let appended = ledger
        .post_ok("/v1/events", &dealer_and_sale(ORG, &[SUBJECT]))
        .await;
    let (_, partition, _) = position_parts(&appended["appended"][2]["position"]);
    let partition = u32::try_from(partition).expect("a partition number");

    // Garbage straight onto the subject's partition of the grants topic,
    // as a misbehaving producer would write it.
    let garbage: &[u8] = b"\xff\xff\xff\x0fnot a consent.v1.Envelope";
    let key = format!("{ORG}\x1f{SUBJECT}");
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .create()
        .expect("a producer");
    let grants = format!("{prefix}.grants");
    let delivered = producer
        .send(
            FutureRecord::to(&grants)
                .partition(i32::try_from(partition).expect("fits"))
                .key(key.as_bytes())
                .payload(garbage),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(error, _)| error)
        .expect("the garbage is produced");
    let garbage_offset = u64::try_from(delivered.offset).expect("an offset");

    // A valid consent after it, on the same topic-partition: projected.
    let consent = ledger
        .post_ok(
            "/v1/events",
            &json!({"events": [consent_given(ORG, SUBJECT, "2026-03-05T10:00:00Z")]}),
        )
        .await;
    let (topic, consent_partition, consent_offset) =
        position_parts(&consent["appended"][0]["position"]);
    assert_eq!(
        (topic.as_str(), consent_partition),
        (grants.as_str(), u64::from(partition))
    );
    assert!(consent_offset > garbage_offset);
    // Read-your-writes covers the positions named: the organisation's
    // registration (another topic) as well as the consent.
    let mut wait_for = positions(&appended);
    if let (Some(all), Some(more)) = (wait_for.as_array_mut(), positions(&consent).as_array()) {
        all.extend(more.iter().cloned());
    }
    let decision = ledger
        .post_ok(
            "/v1/checks",
            &email_check(ORG, SUBJECT, "insurance", "2026-06-01T09:00:00Z", wait_for),
        )
        .await;
    assert_eq!(
        decision["allowed"],
        json!(true),
        "the consent after the garbage counts: {decision:#}"
    );
    assert_eq!(
        decision["lawfulBasis"],
        json!("LAWFUL_BASIS_CONSENT"),
        "{decision:#}"
    );
    let status = ledger.get_ok("/v1/status").await;
    assert_eq!(status["deadLetters"], json!(1), "{status}");

    // The dead-letter topic holds the record, with why and where from.
    let mut config = KafkaConfig::new(
        broker.bootstrap(),
        consent_schema::ledger_layout(prefix, PARTITIONS),
    );
    config.replication_factor = 1;
    config.client_id = "e2e-dlq-reader".to_owned();
    let log = KafkaLog::open(config).await.expect("open the log");
    let start: StartOffsets = (0..PARTITIONS)
        .map(|p| (TopicPartition::new(log.layout().dead_letter_topic(), p), 0))
        .collect();
    let mut reader = log.reader(start).await.expect("a reader");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut letters: Vec<LogRecord> = Vec::new();
    while letters.is_empty() {
        assert!(Instant::now() < deadline, "no dead letter within 20 s");
        letters = reader
            .next_batch(10, Duration::from_millis(500))
            .await
            .expect("read");
    }
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter = &letters[0];
    let header = |name: &str| {
        letter
            .headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", letter.headers))
    };
    assert!(
        header(dead_letter::REASON).starts_with("undecodable"),
        "{}",
        header(dead_letter::REASON)
    );
    assert_eq!(header(dead_letter::ORIGIN_TOPIC), grants);
    assert_eq!(header(dead_letter::ORIGIN_PARTITION), partition.to_string());
    assert_eq!(
        header(dead_letter::ORIGIN_OFFSET),
        garbage_offset.to_string()
    );
    assert_eq!(letter.payload, garbage);
    assert_eq!(letter.key, key.as_bytes());
}

// ------------------------------------------------------------ scaling out

/// A subject id among `cust-0`, `cust-1`, ... whose partition `pick`
/// accepts, with that partition, as `GET /v1/routing` tells.
async fn subject_where(ledger: &Ledger, pick: impl Fn(u64) -> bool) -> (String, u64) {
    for n in 0..200 {
        let subject = format!("cust-{n}");
        let routing = ledger
            .get_ok(&format!(
                "/v1/routing?organisationId={ORG}&subjectId={subject}"
            ))
            .await;
        let partition = routing["partition"].as_u64().expect("a partition");
        if pick(partition) {
            return (subject, partition);
        }
    }
    panic!("no subject among 200 on the wanted partitions");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_owning_some_partitions_answer_for_their_subjects_and_refuse_the_others() {
    let Some(broker) = TestBroker::for_test() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_args(&broker, "e2e-owners");
    let mut low = Ledger::serve(&dir.path().join("low"), &log, &["--own-partitions", "0-1"]).await;
    // Every instance on one log seals under the log's contact-digest key.
    let digest_key = low
        .data_dir
        .join("contact-digest.key")
        .display()
        .to_string();
    let high = Ledger::serve(
        &dir.path().join("high"),
        &log,
        &[
            "--own-partitions",
            "2-3",
            "--contact-digest-key",
            &digest_key,
        ],
    )
    .await;

    let (mine, mine_partition) = subject_where(&low, |p| p <= 1).await;
    let (theirs, theirs_partition) = subject_where(&low, |p| p >= 2).await;
    let routed = high
        .get_ok(&format!(
            "/v1/routing?organisationId={ORG}&subjectId={theirs}"
        ))
        .await;
    assert_eq!(
        routed,
        json!({"organisationId": ORG, "subjectId": theirs, "partition": theirs_partition,
               "partitions": PARTITIONS, "ownedHere": true, "ownedPartitions": "2-3"})
    );

    // A fact carrying a contact value needs the subject's key, which the
    // owner of its partition keeps (docs/ERASURE.md): another instance
    // refuses it, naming the partition (421). Facts without one are
    // accepted anywhere: the log routes them. The routing endpoint names
    // the partition the log put each subject's facts on.
    let (status, body) = low
        .post("/v1/events", &dealer_and_sale(ORG, &[&theirs]))
        .await
        .expect("an answer");
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{body}");
    assert_eq!(
        body["error"]["partition"],
        json!(theirs_partition),
        "{body}"
    );
    let appended = low
        .post_ok("/v1/events", &dealer_and_sale(ORG, &[&mine]))
        .await;
    let theirs_sale = high
        .post_ok(
            "/v1/events",
            &json!({"events": [sale(ORG, &theirs, "2026-03-01T14:30:00Z")]}),
        )
        .await;
    let mut events = appended["appended"].as_array().expect("appended").clone();
    events.extend(
        theirs_sale["appended"]
            .as_array()
            .expect("appended")
            .iter()
            .cloned(),
    );
    let org_positions: Vec<Value> = events[..2].iter().map(|e| e["position"].clone()).collect();
    assert_eq!(position_parts(&events[2]["position"]).1, mine_partition);
    assert_eq!(position_parts(&events[3]["position"]).1, theirs_partition);
    let waiting = |subject_event: &Value| {
        let mut wait_for = org_positions.clone();
        wait_for.push(subject_event["position"].clone());
        Value::Array(wait_for)
    };

    // Each owner answers for its subjects, with the dealer's category map
    // wherever the dealer's own facts sit.
    let june = "2026-06-01T09:00:00Z";
    for (owner, subject, event) in [(&low, &mine, &events[2]), (&high, &theirs, &events[3])] {
        let decision = owner
            .post_ok(
                "/v1/checks",
                &email_check(ORG, subject, "servicing", june, waiting(event)),
            )
            .await;
        assert_eq!(decision["allowed"], json!(true), "{subject}: {decision:#}");
        assert_eq!(
            decision["lawfulBasis"],
            json!("LAWFUL_BASIS_SOFT_OPT_IN"),
            "{decision:#}"
        );
    }

    // The other instance refuses, naming the partition (421).
    let (status, body) = low
        .post(
            "/v1/checks",
            &email_check(ORG, &theirs, "servicing", june, json!([])),
        )
        .await
        .expect("an answer");
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], json!("wrong_partition"), "{body}");
    assert_eq!(
        body["error"]["partition"],
        json!(theirs_partition),
        "{body}"
    );
    let (status, body) = low
        .get(&history_path(ORG, &theirs))
        .await
        .expect("an answer");
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{body}");
    assert_eq!(
        body["error"]["partition"],
        json!(theirs_partition),
        "{body}"
    );
    let status = low.get_ok("/v1/status").await;
    assert_eq!(status["ownedPartitions"], json!("0-1"), "{status}");

    // Started with another ownership, the view built for 0-1 is refused
    // with a clear error; rebuilt as a full replica, it answers for all.
    low.kill();
    let mut replica = Ledger::spawn(&low.data_dir, &log, &[]);
    let exit = replica.wait_exit(Duration::from_secs(30)).await;
    assert!(!exit.success());
    let output = replica.output_tail();
    assert!(
        output.contains("built owning partitions 0-1") && output.contains("consent-ledger rebuild"),
        "{output}"
    );
    let mut rebuild = vec![
        "rebuild".to_owned(),
        "--data-dir".to_owned(),
        low.data_dir.display().to_string(),
    ];
    rebuild.extend(log.iter().cloned());
    let output = run(&rebuild, Duration::from_secs(60)).await;
    assert!(output.status.success(), "{}", describe(&output));
    let replica = Ledger::serve(&low.data_dir, &log, &[]).await;
    let decision = replica
        .post_ok(
            "/v1/checks",
            &email_check(ORG, &theirs, "servicing", june, json!([])),
        )
        .await;
    assert_eq!(decision["allowed"], json!(true), "{decision:#}");
    assert_eq!(
        replica.get_ok("/v1/status").await["ownedPartitions"],
        json!("all")
    );
}

/// A car sold to `subject` at `at`, who gave `SUBJECT@example.com`.
fn sale(organisation: &str, subject: &str, at: &str) -> Value {
    car_sale(organisation, subject, &format!("{subject}@example.com"), at)
}
