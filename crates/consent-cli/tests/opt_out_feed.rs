//! The opt-out feed, end to end: the real `consent-ledger serve` on the
//! embedded log and on a real Kafka-protocol broker (tansu) publishes one
//! `consent.v1.OptOutNotice` per opt-out, objection, withdrawal,
//! told-not-to-call and erasure on `{prefix}.opt-out-feed`; a consumer
//! decoding only that message finds every one, and no clear contact value
//! in the bytes; after `consent-ledger rebuild` the feed still has every
//! one (published again: at least once, no gap).

mod support;

use consent_kafka::test_support::TestBroker;
use consent_kafka::{KafkaConfig, KafkaLog};
use consent_log::{EventLog, LogRecord, StartOffsets, TopicPartition};
use consent_log_embedded::EmbeddedLog;
use consent_schema::v1;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};
use support::*;

const ORG: &str = "acme-motors";
const NUMBER: &str = "+447700900123";

fn address(n: usize) -> String {
    format!("feed-customer-{n}@example.com")
}

/// One fact of every kind the feed reports, about subjects `c-0`..`c-4`.
fn opt_outs() -> Vec<Value> {
    let at = "2026-03-01T10:00:00Z";
    vec![
        json!({"organisationId": ORG, "subjectId": "c-0", "occurredAt": at,
               "optOutRecorded": {"channels": ["CHANNEL_EMAIL"], "receivedVia": "OPT_OUT_METHOD_UNSUBSCRIBE_LINK",
                                  "contactPoint": {"kind": "CONTACT_KIND_EMAIL", "value": address(0)}}}),
        json!({"organisationId": ORG, "subjectId": "c-1", "occurredAt": at,
               "objectionRecorded": {"receivedVia": "OPT_OUT_METHOD_GPC_SIGNAL"}}),
        json!({"organisationId": ORG, "subjectId": "c-2", "occurredAt": at,
               "consentWithdrawn": {"receivedVia": "OPT_OUT_METHOD_PREFERENCE_CENTRE"}}),
        json!({"organisationId": ORG, "subjectId": "c-3", "occurredAt": at,
               "toldNotToCall": {"number": NUMBER}}),
        json!({"organisationId": ORG, "subjectId": "c-4", "occurredAt": at,
               "erasureRequested": {"reason": "Art 17 request by email"}}),
    ]
}

/// Facts that are no opt-out: the dealer, sales (with the addresses that
/// must never appear on the feed in clear) and a recorded mobile.
fn other_facts() -> Vec<Value> {
    let mut facts = car_dealer(ORG);
    for n in 0..5 {
        facts.push(car_sale(
            ORG,
            &format!("c-{n}"),
            &address(n),
            "2026-02-01T10:00:00Z",
        ));
    }
    facts.push(mobile_recorded(ORG, "c-3", NUMBER, "2026-02-01T10:00:00Z"));
    facts
}

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

/// Every record of the feed topic of `log`, from the beginning, reading
/// until `enough` holds of what was read or `within` passes.
async fn read_feed(
    log: &dyn EventLog,
    within: Duration,
    enough: impl Fn(&[LogRecord]) -> bool,
) -> Vec<LogRecord> {
    let topic = consent_schema::opt_out_feed_topic(log.layout());
    let start: StartOffsets = (0..log.layout().partitions)
        .map(|p| (TopicPartition::new(topic.clone(), p), 0))
        .collect();
    let mut reader = log.reader(start).await.expect("a reader of the feed");
    let started = Instant::now();
    let mut records = Vec::new();
    loop {
        let batch = reader
            .next_batch(500, Duration::from_millis(300))
            .await
            .expect("read the feed");
        records.extend(batch);
        if enough(&records) || started.elapsed() > within {
            return records;
        }
    }
}

/// What a consumer does: decodes each record as an `OptOutNotice`, and
/// checks it is keyed by organisation and subject.
fn notices(records: &[LogRecord]) -> Vec<v1::OptOutNotice> {
    records
        .iter()
        .map(|record| {
            let notice = <v1::OptOutNotice as prost::Message>::decode(record.payload.as_slice())
                .expect("an OptOutNotice");
            let mut key = notice.organisation_id.as_bytes().to_vec();
            key.push(0x1f);
            key.extend_from_slice(notice.subject_id.as_bytes());
            assert_eq!(record.key, key, "keyed by organisation and subject");
            notice
        })
        .collect()
}

fn ids(notices: &[v1::OptOutNotice]) -> BTreeSet<String> {
    notices.iter().map(|n| n.source_event_id.clone()).collect()
}

/// Every expected opt-out is on the feed, and nothing but opt-outs; no
/// clear contact value is in the bytes.
fn check_feed(records: &[LogRecord], expected: &BTreeSet<String>, not_opt_outs: &BTreeSet<String>) {
    let notices = notices(records);
    let found = ids(&notices);
    assert!(
        expected.is_subset(&found),
        "missing from the feed: {:?}",
        expected.difference(&found).collect::<Vec<_>>()
    );
    assert!(
        found.is_disjoint(not_opt_outs),
        "only opt-outs are on the feed"
    );
    // Beyond what was appended, only the ledger's own suppression after the erasure.
    for notice in notices
        .iter()
        .filter(|n| !expected.contains(&n.source_event_id))
    {
        assert_eq!(
            notice.kind(),
            v1::OptOutNoticeKind::ContactsSuppressed,
            "{notice:?}"
        );
        assert_eq!(notice.subject_id, "c-4");
        assert!(!notice.suppressed_digests.is_empty());
    }
    let kinds: BTreeSet<i32> = notices.iter().map(|n| n.kind).collect();
    assert_eq!(kinds.len(), 6, "every kind of notice: {kinds:?}");
    let opt_out = notices
        .iter()
        .find(|n| n.kind() == v1::OptOutNoticeKind::OptOut)
        .expect("the opt-out");
    let sealed = opt_out.contact.as_ref().expect("its address, sealed");
    assert_eq!(sealed.digest.len(), 32);
    assert!(
        !sealed.ciphertext.is_empty(),
        "the sealed value for key holders"
    );
    let told = notices
        .iter()
        .find(|n| n.kind() == v1::OptOutNoticeKind::ToldNotToCall)
        .expect("told not to call");
    assert_eq!(told.channels().collect::<Vec<_>>(), [v1::Channel::LiveCall]);
    assert!(told.contact.as_ref().is_some_and(|c| c.digest.len() == 32));
    for record in records {
        for clear in [address(0).as_str(), "@example.com", NUMBER, "7700900123"] {
            assert!(
                !record
                    .payload
                    .windows(clear.len())
                    .any(|w| w == clear.as_bytes()),
                "{clear} in clear on the feed"
            );
        }
    }
}

fn rebuild_args(data: &Path, log_args: &[String]) -> Vec<String> {
    let mut args = vec![
        "rebuild".to_owned(),
        "--data-dir".to_owned(),
        data.display().to_string(),
    ];
    args.extend(log_args.iter().cloned());
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_on_the_embedded_log_has_every_opt_out_and_no_gap_after_a_rebuild() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("ledger");
    let mut ledger = Ledger::serve(&data, &[], &[]).await;
    let not_opt_outs = record(&ledger, other_facts()).await;
    let expected = record(&ledger, opt_outs()).await;
    ledger.wait_caught_up(Duration::from_secs(30)).await;
    ledger.kill();

    let layout = consent_schema::ledger_layout("consent", 8);
    let first = {
        let log = EmbeddedLog::open(&data.join("log"), layout.clone()).expect("open the log");
        read_feed(&log, Duration::ZERO, |_| true).await
    };
    check_feed(&first, &expected, &not_opt_outs);

    let output = run(&rebuild_args(&data, &[]), Duration::from_secs(60)).await;
    assert!(output.status.success(), "{}", describe(&output));
    let log = EmbeddedLog::open(&data.join("log"), layout).expect("open the log");
    let after = read_feed(&log, Duration::ZERO, |_| true).await;
    check_feed(&after, &expected, &not_opt_outs);
    assert_eq!(
        after.len(),
        2 * first.len(),
        "the rebuild published every notice again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_on_kafka_has_every_opt_out_and_no_gap_after_a_rebuild() {
    let Some(broker) = TestBroker::for_test() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("ledger");
    let prefix = "e2e-feed";
    let log_args = log_args(&broker, prefix);
    let mut ledger = Ledger::serve(&data, &log_args, &[]).await;
    let not_opt_outs = record(&ledger, other_facts()).await;
    let expected = record(&ledger, opt_outs()).await;
    ledger.wait_caught_up(Duration::from_secs(30)).await;

    // A consumer of the topic, while the ledger runs.
    let mut config = KafkaConfig::new(
        broker.bootstrap(),
        consent_schema::ledger_layout(prefix, PARTITIONS),
    );
    config.replication_factor = 1;
    config.client_id = "e2e-feed-consumer".to_owned();
    let consumer = KafkaLog::open(config).await.expect("open the log");
    let complete = |records: &[LogRecord]| expected.is_subset(&ids(&notices(records)));
    let first = read_feed(&consumer, Duration::from_secs(30), complete).await;
    check_feed(&first, &expected, &not_opt_outs);

    ledger.kill();
    let output = run(&rebuild_args(&data, &log_args), Duration::from_secs(120)).await;
    assert!(output.status.success(), "{}", describe(&output));
    let twice = |records: &[LogRecord]| records.len() >= 2 * first.len();
    let after = read_feed(&consumer, Duration::from_secs(30), twice).await;
    check_feed(&after, &expected, &not_opt_outs);
    assert_eq!(
        after.len(),
        2 * first.len(),
        "the rebuild published every notice again"
    );
}
