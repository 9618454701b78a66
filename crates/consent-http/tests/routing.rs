//! Routing for instances that own some partitions: `GET /v1/routing` names
//! a subject's partition, and a request another instance owns is a 421.

mod common;

use common::*;
use consent_projector::OwnedPartitions;
use consent_service::LedgerConfig;
use reqwest::StatusCode;
use serde_json::json;

fn routing_path(subject: &str) -> String {
    format!("/v1/routing?organisationId={ORG}&subjectId={subject}")
}

#[tokio::test]
async fn routing_names_the_partition_and_a_misdirected_check_is_a_421_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Where the subject's facts go, as a full replica reports it.
    let full = Server::start(&dir.path().join("full"), LedgerConfig::default()).await;
    let (status, routed) = full.get(&routing_path(SUBJECT)).await;
    assert_eq!(status, StatusCode::OK, "{routed}");
    let partition = routed["partition"].as_u64().expect("a partition");
    assert_eq!(routed["ownedHere"], json!(true));
    assert_eq!(routed["ownedPartitions"], json!("all"));
    assert_eq!(routed["partitions"], json!(4));
    let (_, appended) = full.post("/v1/events", &shop_and_sale()).await;
    assert_eq!(
        appended["appended"][2]["position"]["partition"]
            .as_u64()
            .unwrap_or(0),
        partition
    );
    full.stop().await;

    // An instance owning every other partition.
    let others: std::collections::BTreeSet<u32> =
        (0..4).filter(|p| u64::from(*p) != partition).collect();
    let owner = Server::start_owning(
        &dir.path().join("other"),
        LedgerConfig::default(),
        OwnedPartitions::Only(others),
    )
    .await;
    let (_, routed) = owner.get(&routing_path(SUBJECT)).await;
    assert_eq!(routed["partition"].as_u64(), Some(partition));
    assert_eq!(routed["ownedHere"], json!(false));

    let (status, body) = owner.post("/v1/checks", &helmet_email(&json!([]))).await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], json!("wrong_partition"));
    assert_eq!(body["error"]["partition"].as_u64(), Some(partition));
    let message = body["error"]["message"].as_str().expect("a message");
    assert!(message.contains("GET /v1/routing"), "{message}");
    let (status, body) = owner
        .get(&format!(
            "/v1/organisations/{ORG}/subjects/{SUBJECT}/history"
        ))
        .await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{body}");
    assert_eq!(body["error"]["partition"].as_u64(), Some(partition));

    // Appends are accepted by any instance.
    let (status, body) = owner
        .post("/v1/events", &objection("2025-06-01T09:00:00Z"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A routing request must name both halves of the key.
    let (status, body) = owner
        .get(&format!("/v1/routing?organisationId={ORG}"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["field"], json!("subjectId"));
    owner.stop().await;
}
