//! A real log outage: the API over Kafka (a tansu broker child process),
//! with the broker taken down mid-test.
//!
//! Needs tansu (`.ci/install-tansu.sh`); `CONSENT_SKIP_KAFKA_TESTS=1` skips.

mod common;

use common::*;
use consent_kafka::test_support::TestBroker;
use consent_kafka::{KafkaConfig, KafkaLog};
use consent_log::EventLog;
use consent_projector::{Projector, ProjectorConfig};
use consent_service::{FreshnessConfig, HealthConfig, Ledger, LedgerConfig};
use consent_store::MemoryStore;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

async fn post(client: &reqwest::Client, url: String, body: &Value) -> (StatusCode, Value) {
    let response = client
        .post(url)
        .json(body)
        .send()
        .await
        .expect("request sent");
    let status = response.status();
    (status, response.json().await.expect("JSON body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_log_down_appends_fail_with_503_and_checks_keep_answering_from_the_view() {
    let Some(mut broker) = TestBroker::for_test() else {
        return;
    };
    let mut kafka = KafkaConfig::new(
        broker.bootstrap(),
        consent_schema::ledger_layout("outage", 2),
    );
    kafka.replication_factor = 1;
    kafka.client_id = "consent-http-outage-test".to_owned();
    kafka.request_timeout = Duration::from_secs(2);
    kafka.delivery_timeout = Duration::from_secs(3);
    let log: Arc<dyn EventLog> = Arc::new(KafkaLog::open(kafka).await.expect("open the Kafka log"));
    let store = Arc::new(MemoryStore::new());
    let projector = Projector::new(
        Arc::clone(&log),
        store.clone(),
        ProjectorConfig {
            poll_wait: Duration::from_millis(100),
            retry_max: Duration::from_secs(1),
            ..ProjectorConfig::default()
        },
    );
    let config = LedgerConfig {
        wait_timeout: Duration::from_secs(20),
        freshness: FreshnessConfig {
            probe_timeout: Duration::from_secs(1),
            ..FreshnessConfig::default()
        },
        health: HealthConfig {
            unhealthy_after: Duration::from_secs(2),
        },
        ..LedgerConfig::default()
    };
    let ledger = Ledger::builder(projector.projection())
        .config(config)
        .build();
    let (stop_projector, stopped) = watch::channel(false);
    let projector = tokio::spawn(projector.run(stopped));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (stop_server, stop) = oneshot::channel::<()>();
    let server = tokio::spawn(consent_http::serve(listener, ledger, async {
        let _ = stop.await;
    }));
    let client = reqwest::Client::new();

    let (status, appended) = post(&client, format!("{base}/v1/events"), &shop_and_sale()).await;
    assert_eq!(status, StatusCode::OK, "{appended}");
    let (status, body) = post(
        &client,
        format!("{base}/v1/checks"),
        &helmet_email(&positions(&appended)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["allowed"], json!(true), "{body}");

    broker.stop().expect("stop the broker");

    let started = Instant::now();
    let (status, body) = post(
        &client,
        format!("{base}/v1/events"),
        &objection("2025-06-01T09:00:00Z"),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], json!("unavailable"));
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("log is unavailable"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );

    // Checks keep answering from the view; once the log has failed to
    // answer, they say their freshness is not measured.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut unmeasured = false;
    while !unmeasured && Instant::now() < deadline {
        let (status, body) = post(
            &client,
            format!("{base}/v1/checks"),
            &helmet_email(&json!([])),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["allowed"], json!(true), "{body}");
        unmeasured = body["freshness"]
            .get("measured")
            .is_none_or(|m| m == &json!(false));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(unmeasured, "freshness still measured with the broker down");

    let response = client
        .get(format!("{base}/v1/status"))
        .send()
        .await
        .expect("status");
    assert_eq!(response.status(), StatusCode::OK);
    let status: Value = response.json().await.expect("JSON");
    assert_eq!(status["logReachable"], json!(false), "{status}");
    assert!(status["logError"].is_string(), "{status}");

    // Beyond the bound, liveness fails naming the unreachable log, so an
    // orchestrator restarts the instance; readiness fails with it.
    let deadline = Instant::now() + Duration::from_secs(20);
    let health = loop {
        let response = client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .expect("healthz");
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            break response.json::<Value>().await.expect("JSON");
        }
        assert!(
            Instant::now() < deadline,
            "/healthz still {} with the broker down",
            response.status()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(health["status"], json!("unhealthy"), "{health}");
    assert!(
        health["faults"]
            .as_array()
            .is_some_and(|faults| faults.iter().any(|f| f["kind"] == json!("log_unreachable"))),
        "{health}"
    );
    let response = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);

    let _ = stop_server.send(());
    server.await.expect("server task").expect("server ran");
    stop_projector.send_replace(true);
    projector
        .await
        .expect("projector task")
        .expect("projector stopped cleanly");
}
