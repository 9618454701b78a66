//! The campaign check: many checks over one `CheckStream`, answered in
//! order, without the server holding the whole stream.

mod common;

use common::*;
use consent_schema::{timestamp_to_proto, v1};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_stream::StreamExt;

/// Customers with a sale; the campaign also reaches as many without one.
const CUSTOMERS: usize = 100;

fn customer(index: usize) -> String {
    format!("customer-{index}")
}

/// The `index`-th check of the campaign: customers 0..100 bought a bike,
/// 100..200 never bought anything, and each check asks about its own
/// second in June 2025, so each decision says which check it answers
/// (`evaluated_at`) and whether it should be allowed.
fn campaign_check(index: usize) -> v1::CheckRequest {
    let mut check = email_check(
        &customer(index % (2 * CUSTOMERS)),
        "helmets",
        "2025-06-01T00:00:00Z",
    );
    check.at = Some(at(index));
    check
}

fn at(index: usize) -> consent_schema::pbjson_types::Timestamp {
    let june = consent_domain::Timestamp::from_date(2025, 6, 1).expect("a date");
    let seconds = i64::try_from(index).expect("small index");
    let mut at = timestamp_to_proto(june);
    at.seconds += seconds;
    at
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_checks_over_one_stream_are_answered_in_order() {
    const CHECKS: usize = 10_000;
    let mut ledgers = Ledgers::start().await;
    let mut events = shop().as_array().cloned().unwrap_or_default();
    events.extend((0..CUSTOMERS).map(|i| sale(&customer(i), i)));
    let appended = ledgers
        .append(from_json(serde_json::json!({ "events": events })))
        .await;

    let requests = tokio_stream::iter(0..CHECKS).map(move |index| {
        let mut check = campaign_check(index);
        if index == 0 {
            // Read-your-writes for the whole campaign: the view has every
            // sale before the first decision.
            check.wait_for = appended.clone();
        }
        check
    });
    let started = Instant::now();
    let mut answers = ledgers
        .grpc
        .check_stream(requests)
        .await
        .expect("the stream is accepted")
        .into_inner();
    let mut answered = 0;
    while let Some(decision) = answers.message().await.expect("a decision, not an error") {
        assert_eq!(
            decision.evaluated_at,
            Some(at(answered)),
            "answer {answered}"
        );
        assert_eq!(
            decision.allowed,
            answered % (2 * CUSTOMERS) < CUSTOMERS,
            "answer {answered}: {decision:?}"
        );
        answered += 1;
    }
    let elapsed = started.elapsed();
    assert_eq!(answered, CHECKS);
    eprintln!(
        "CheckStream: {CHECKS} decisions in {:.3} s = {:.0} decisions/s ({} build)",
        elapsed.as_secs_f64(),
        CHECKS as f64 / elapsed.as_secs_f64(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    );
    ledgers.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_with_a_bad_recipient_deep_in_it_stops_there_and_names_it() {
    const BAD: usize = 5_000;
    let mut ledgers = Ledgers::start().await;
    let requests = tokio_stream::iter(0..2 * BAD).map(|index| {
        let mut check = campaign_check(index);
        if index == BAD {
            check.contact_point = Some(v1::ContactPoint {
                kind: i32::from(v1::ContactKind::Unspecified),
                value: "not an address".to_owned(),
                sealed: None,
            });
        }
        check
    });
    let mut answers = ledgers
        .grpc
        .check_stream(requests)
        .await
        .expect("the stream is accepted")
        .into_inner();
    let mut answered = 0;
    let status = loop {
        match answers.message().await {
            Ok(Some(decision)) => {
                assert_eq!(
                    decision.evaluated_at,
                    Some(at(answered)),
                    "answer {answered}"
                );
                answered += 1;
            }
            Ok(None) => panic!("the stream ended without naming the bad check"),
            Err(status) => break status,
        }
    };
    assert_eq!(answered, BAD, "every check before the bad one is answered");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        metadata(&status, consent_grpc::error::ITEM_INDEX_METADATA).as_deref(),
        Some("5000")
    );
    let field = metadata(&status, consent_grpc::error::FIELD_METADATA).unwrap_or_default();
    assert!(field.starts_with("checks[5000].contact_point"), "{field}");
    ledgers.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_its_decisions_is_not_read_either() {
    const OFFERED: usize = 1_000_000;
    let mut ledgers = Ledgers::start().await;
    let sent = Arc::new(AtomicUsize::new(0));
    let stop_sending = Arc::new(AtomicBool::new(false));
    let (counter, stop) = (Arc::clone(&sent), Arc::clone(&stop_sending));
    // Checks as fast as the client can send them, until told to stop.
    let requests = tokio_stream::iter(0..OFFERED)
        .take_while(move |_| !stop.load(Ordering::SeqCst))
        .map(move |index| {
            counter.fetch_add(1, Ordering::SeqCst);
            campaign_check(index)
        });
    let mut answers = ledgers
        .grpc
        .check_stream(requests)
        .await
        .expect("the stream is accepted")
        .into_inner();

    // Read nothing, and wait until the client can send no more: flow
    // control has stopped it.
    let mut last = usize::MAX;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = sent.load(Ordering::SeqCst);
        if now == last || Instant::now() > deadline {
            break;
        }
        last = now;
    }
    let taken = sent.load(Ordering::SeqCst);
    eprintln!("CheckStream without reading: the client could send {taken} of {OFFERED} checks");
    assert!(taken > 0);
    assert!(
        taken < OFFERED / 10,
        "{taken} checks were taken from a client that reads no decision"
    );

    // End the campaign; every check sent is answered, in order.
    stop_sending.store(true, Ordering::SeqCst);
    let mut answered = 0;
    while let Some(decision) = answers.message().await.expect("a decision, not an error") {
        assert_eq!(
            decision.evaluated_at,
            Some(at(answered)),
            "answer {answered}"
        );
        answered += 1;
    }
    assert_eq!(answered, sent.load(Ordering::SeqCst));
    ledgers.stop().await;
}
