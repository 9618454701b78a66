//! The HTTP API as a client sees it: a real server on 127.0.0.1 over the
//! embedded log, the sled view and a running projector.

mod common;

use common::*;
use consent_schema::v1;
use consent_service::LedgerConfig;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

fn history_path(query: &str) -> String {
    format!("/v1/organisations/{ORG}/subjects/{SUBJECT}/history{query}")
}

fn decision(body: Value) -> v1::Decision {
    serde_json::from_value(body).expect("a consent.v1.Decision")
}

#[tokio::test]
async fn a_sale_with_an_opt_out_offered_allows_similar_email_until_the_customer_objects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;

    let (status, appended) = server.post("/v1/events", &shop_and_sale()).await;
    assert_eq!(status, StatusCode::OK, "{appended}");
    let appended_response: v1::AppendResponse =
        serde_json::from_value(appended.clone()).expect("AppendResponse");
    assert_eq!(appended_response.appended.len(), 3);
    let sale_id = appended_response.appended[2].event_id.clone();

    let (status, body) = server
        .post("/v1/checks", &helmet_email(&positions(&appended)))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["allowed"], json!(true), "{body}");
    assert_eq!(body["lawfulBasis"], json!("LAWFUL_BASIS_SOFT_OPT_IN"));
    let allowed = decision(body);
    assert!(allowed.relied_on.iter().any(|r| r.event_id == sale_id));
    assert!(!allowed.rules.is_empty());
    for rule in &allowed.rules {
        assert!(
            !rule.citation.is_empty(),
            "rule {} has no citation",
            rule.rule_id
        );
    }
    let r3b = allowed
        .rules
        .iter()
        .find(|r| r.rule_id == "R3b")
        .expect("R3b listed");
    assert_eq!(r3b.outcome, i32::from(v1::RuleOutcome::Satisfied));
    assert!(
        r3b.citation.contains("PECR 2003 reg 22(3)"),
        "{}",
        r3b.citation
    );
    assert_eq!(allowed.freshness.map(|f| f.measured), Some(true));

    let (status, objected) = server
        .post("/v1/events", &objection("2025-06-01T09:00:00Z"))
        .await;
    assert_eq!(status, StatusCode::OK, "{objected}");
    let (status, body) = server
        .post("/v1/checks", &helmet_email(&positions(&objected)))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let refused = decision(body);
    assert!(!refused.allowed);
    assert_eq!(refused.lawful_basis, i32::from(v1::LawfulBasis::None));
    let reason = refused
        .reasons_against
        .iter()
        .find(|r| r.code == "objection_recorded")
        .expect("the objection is a reason against");
    assert!(!reason.message.is_empty());
    assert!(reason.citation.contains("Art 21"), "{}", reason.citation);

    // As of April 2025 the customer had not objected yet.
    let query = "?at=2025-04-01T00:00:00Z&channel=CHANNEL_EMAIL&purpose=PURPOSE_COMMERCIAL&productCategoryId=helmets";
    let (status, body) = server.get(&history_path(query)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let then: v1::HistoryResponse = serde_json::from_value(body).expect("HistoryResponse");
    assert_eq!(then.events.len(), 1, "only the sale had happened by then");
    assert_eq!(
        then.events[0].event.as_ref().map(|e| e.event_id.as_str()),
        Some(sale_id.as_str())
    );
    let earlier = then.decision.expect("a decision was asked for");
    assert!(earlier.allowed, "refused: {:?}", earlier.reasons_against);
    assert_eq!(earlier.lawful_basis, i32::from(v1::LawfulBasis::SoftOptIn));
    assert_eq!(earlier.rule_set_id, "uk-pecr-2003");

    let (status, body) = server
        .get(&history_path(
            "?channel=CHANNEL_EMAIL&purpose=PURPOSE_COMMERCIAL&productCategoryId=helmets",
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let now: v1::HistoryResponse = serde_json::from_value(body).expect("HistoryResponse");
    assert_eq!(now.events.len(), 2);
    assert!(!now.decision.expect("decision").allowed);

    server.stop().await;
}

#[tokio::test]
async fn a_malformed_body_is_a_400_naming_what_is_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;

    let (status, body) = server
        .post_text("/v1/events", r#"{"events": [{"organisationId": "#)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], json!("invalid_argument"));
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("EOF while parsing"), "{message}");

    let pigeon = json!({ "events": [{
        "organisationId": ORG, "subjectId": SUBJECT, "occurredAt": "2025-01-01T00:00:00Z",
        "consentGiven": { "channels": ["CHANNEL_EMAIL", "CHANNEL_PIGEON"] }
    }] });
    let (status, body) = server.post("/v1/events", &pigeon).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"]["field"],
        json!("events[0].consentGiven.channels[1]")
    );
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("CHANNEL_PIGEON"), "{message}");

    let (status, body) = server.post_text("/v1/checks", "[]").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("expected")),
        "{body}"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_invalid_event_in_a_batch_of_three_names_it_and_appends_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;
    let before = server.end_offsets().await;
    let mut events = shop_and_sale();
    // The second event, product categories, loses its organisation.
    events["events"][1]["organisationId"] = json!("");

    let (status, body) = server.post("/v1/events", &events).await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], json!("invalid_argument"));
    assert_eq!(body["error"]["field"], json!("events[1].organisation_id"));
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("events[1].organisation_id"), "{message}");
    assert_eq!(server.end_offsets().await, before, "nothing was appended");
    server.stop().await;
}

#[tokio::test]
async fn acknowledged_events_decide_the_same_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;
    let (status, appended) = server.post("/v1/events", &shop_and_sale()).await;
    assert_eq!(status, StatusCode::OK, "{appended}");
    let mut check = helmet_email(&positions(&appended));
    check["at"] = json!("2025-05-01T00:00:00Z");
    let (_, before) = server.post("/v1/checks", &check).await;
    server.stop().await;

    let server = Server::start(dir.path(), LedgerConfig::default()).await;
    let (status, after) = server.post("/v1/checks", &check).await;
    assert_eq!(status, StatusCode::OK, "{after}");

    let (mut before, mut after) = (decision(before), decision(after));
    assert!(after.allowed, "refused: {:?}", after.reasons_against);
    before.freshness = None;
    after.freshness = None;
    assert_eq!(after, before);
    server.stop().await;
}

#[tokio::test]
async fn errors_carry_a_status_and_code_a_client_can_act_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = LedgerConfig {
        wait_timeout: Duration::from_millis(200),
        ..LedgerConfig::default()
    };
    let server = Server::start(dir.path(), config).await;

    let mut check = helmet_email(&json!([]));
    check["ruleSetId"] = json!("eu-eprivacy-2002");
    let (status, body) = server.post("/v1/checks", &check).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], json!("not_found"));
    assert_eq!(
        body["error"]["message"],
        json!("unknown rule set `eu-eprivacy-2002`")
    );

    let beyond = json!([{ "topic": "test.grants", "partition": 0, "offset": "10000" }]);
    let (status, body) = server.post("/v1/checks", &helmet_email(&beyond)).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert_eq!(body["error"]["code"], json!("deadline_exceeded"));

    let elsewhere = json!([{ "topic": "prod.grants", "partition": 0, "offset": "1" }]);
    let (status, body) = server.post("/v1/checks", &helmet_email(&elsewhere)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["field"], json!("wait_for[0].topic"));

    let mut bad = helmet_email(&json!([]));
    bad["channel"] = json!("CHANNEL_UNSPECIFIED");
    let batch = json!({ "checks": [helmet_email(&json!([])), bad] });
    let (status, body) = server.post("/v1/checks:batch", &batch).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["field"], json!("checks[1].channel"));

    let (status, body) = server.get(&history_path("?at=last-tuesday")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["field"], json!("at"));
    let (status, body) = server.get(&history_path("?channel=CHANNEL_EMAIL")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["field"], json!("purpose"));

    let (status, body) = server.get("/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], json!("not_found"));
    let (status, body) = server.get("/v1/events").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["error"]["code"], json!("method_not_allowed"));

    let huge = format!(
        r#"{{"events": [], "padding": "{}"}}"#,
        "x".repeat(17 * 1024 * 1024)
    );
    let (status, body) = server.post_text("/v1/events", &huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], json!("payload_too_large"));
    server.stop().await;
}

#[tokio::test]
async fn a_batch_decides_every_check_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;
    let (_, appended) = server.post("/v1/events", &shop_and_sale()).await;
    let mut stranger = helmet_email(&json!([]));
    stranger["subjectId"] = json!("stranger");
    let batch = json!({ "checks": [helmet_email(&positions(&appended)), stranger] });

    let (status, body) = server.post("/v1/checks:batch", &batch).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let response: v1::CheckBatchResponse =
        serde_json::from_value(body).expect("CheckBatchResponse");
    let allowed: Vec<bool> = response.decisions.iter().map(|d| d.allowed).collect();
    assert_eq!(allowed, [true, false]);
    server.stop().await;
}

/// `"omitTexts": true`: the batch's decisions without their prose, the same
/// verdicts, reasons and events otherwise.
#[tokio::test]
async fn a_batch_without_texts_answers_the_same_without_prose() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;
    let (_, appended) = server.post("/v1/events", &shop_and_sale()).await;
    let allowed = helmet_email(&positions(&appended));
    let mut stranger = helmet_email(&json!([]));
    stranger["subjectId"] = json!("stranger");
    let lean = |check: &Value| {
        let mut check = check.clone();
        check["omitTexts"] = json!(true);
        check
    };
    let batch = json!({ "checks": [allowed, stranger, lean(&allowed), lean(&stranger)] });

    let (status, body) = server.post("/v1/checks:batch", &batch).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let decisions = body["decisions"].as_array().expect("decisions");
    for (full, lean) in decisions[..2].iter().zip(&decisions[2..]) {
        assert_eq!(lean["allowed"], full["allowed"]);
        assert_eq!(lean["lawfulBasis"], full["lawfulBasis"]);
        assert_eq!(lean["reliedOn"], full["reliedOn"]);
        let codes = |d: &Value, field: &str, keys: &[&str]| -> Vec<Vec<Value>> {
            d[field]
                .as_array()
                .expect(field)
                .iter()
                .map(|item| keys.iter().map(|key| item[*key].clone()).collect())
                .collect()
        };
        let reason_keys = ["ruleId", "code", "eventIds"];
        let rule_keys = ["ruleId", "outcome"];
        assert_eq!(
            codes(lean, "reasonsAgainst", &reason_keys),
            codes(full, "reasonsAgainst", &reason_keys)
        );
        assert_eq!(
            codes(lean, "rules", &rule_keys),
            codes(full, "rules", &rule_keys)
        );
        let prose = |d: &Value| -> Vec<Value> {
            let rules = d["rules"].as_array().expect("rules").iter().flat_map(|r| {
                [
                    r["title"].clone(),
                    r["citation"].clone(),
                    r["detail"].clone(),
                ]
            });
            let reasons = d["reasonsAgainst"]
                .as_array()
                .expect("reasons")
                .iter()
                .flat_map(|r| [r["message"].clone(), r["citation"].clone()]);
            rules.chain(reasons).collect()
        };
        assert!(prose(full).iter().all(|text| text != &json!("")));
        assert!(prose(lean).iter().all(|text| text == &json!("")));
    }
    assert_eq!(decisions[3]["allowed"], json!(false));
    server.stop().await;
}

#[tokio::test]
async fn rule_sets_health_and_status_describe_the_ledger() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;
    let (_, appended) = server.post("/v1/events", &shop_and_sale()).await;
    server
        .post("/v1/checks", &helmet_email(&positions(&appended)))
        .await;

    let (status, body) = server.get("/v1/rule-sets").await;
    assert_eq!(status, StatusCode::OK);
    let rule_sets: Vec<v1::RuleSetDescription> = serde_json::from_value(body).expect("rule sets");
    let ids: Vec<&str> = rule_sets.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["uk-pecr-2003", "uk-pecr-duaa-2026-02-05"]);
    assert!(rule_sets[1]
        .rules
        .iter()
        .any(|r| r.rule_id == "R3c" && r.citation.contains("22(3A)")));

    let (status, body) = server.get("/healthz").await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "ok" })));

    let (status, body) = server.get("/v1/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["logReachable"], json!(true), "{body}");
    assert_eq!(body["recordsBehind"], json!(0), "{body}");
    assert_eq!(body["eventsApplied"], json!(3), "{body}");
    assert_eq!(body["deadLetters"], json!(0), "{body}");
    let partitions = body["partitions"].as_array().expect("partitions");
    assert_eq!(
        partitions.len(),
        5 * 4,
        "every topic-partition of the layout"
    );
    let applied: u64 = partitions
        .iter()
        .filter_map(|p| p["appliedOffset"].as_u64())
        .sum();
    assert_eq!(applied, 3);
    server.stop().await;
}
