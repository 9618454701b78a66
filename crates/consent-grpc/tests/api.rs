//! The gRPC API as a marketing system sees it: a real server on 127.0.0.1
//! over the embedded log, the sled view and a running projector, called
//! with the generated tonic client.

mod common;

use common::*;
use consent_grpc::error::{FIELD_METADATA, ITEM_INDEX_METADATA};
use consent_schema::v1;
use serde_json::json;
use tonic::Code;
use tonic_types::StatusExt;

#[tokio::test]
async fn a_sale_with_an_opt_out_offered_allows_email_about_a_similar_product() {
    let mut ledgers = Ledgers::start().await;
    let appended = ledgers.append(shop_and_sale()).await;
    assert_eq!(appended.len(), 3);

    let mut check = email_check(SUBJECT, "helmets", "2025-06-01T09:00:00Z");
    check.wait_for = appended.clone();
    let decision = ledgers
        .grpc
        .check(check)
        .await
        .expect("a decision")
        .into_inner();
    assert!(decision.allowed, "{decision:?}");
    assert_eq!(decision.lawful_basis, i32::from(v1::LawfulBasis::SoftOptIn));
    assert!(decision
        .relied_on
        .iter()
        .any(|r| r.kind == "sale_recorded" && r.position.as_ref() == appended.get(2)));
    let r3b = decision
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
    assert_eq!(decision.freshness.map(|f| f.measured), Some(true));

    // Insurance is not similar to bikes: refused, with the reason.
    let refused = ledgers
        .grpc
        .check(email_check(SUBJECT, "insurance", "2025-06-01T09:00:00Z"))
        .await
        .expect("a decision")
        .into_inner();
    assert!(!refused.allowed);
    assert!(!refused.reasons_against.is_empty());
    ledgers.stop().await;
}

#[tokio::test]
async fn an_invalid_check_is_invalid_argument_naming_the_field() {
    let mut ledgers = Ledgers::start().await;
    let mut check = email_check(SUBJECT, "helmets", "2025-06-01T09:00:00Z");
    check.channel = i32::from(v1::Channel::Unspecified);
    let status = ledgers
        .grpc
        .check(check)
        .await
        .expect_err("an unspecified channel is refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("`channel`"),
        "{}",
        status.message()
    );
    assert_eq!(
        metadata(&status, FIELD_METADATA).as_deref(),
        Some("channel")
    );
    let violations = status
        .get_details_bad_request()
        .expect("a google.rpc.BadRequest detail")
        .field_violations;
    assert_eq!(violations[0].field, "channel");

    // An invalid event in an append names its index, and nothing is
    // appended.
    let mut append = shop_and_sale();
    append.events[1].organisation_id.clear();
    let status = ledgers
        .grpc
        .append(append)
        .await
        .expect_err("an event without an organisation is refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        metadata(&status, FIELD_METADATA).as_deref(),
        Some("events[1].organisation_id")
    );
    let history = ledgers
        .grpc
        .history(v1::HistoryRequest {
            organisation_id: ORG.to_owned(),
            subject_id: SUBJECT.to_owned(),
            ..Default::default()
        })
        .await
        .expect("a history")
        .into_inner();
    assert!(history.events.is_empty());

    // A rule set that does not exist is NOT_FOUND.
    let mut check = email_check(SUBJECT, "helmets", "2025-06-01T09:00:00Z");
    check.rule_set_id = "uk-1066".to_owned();
    let status = ledgers
        .grpc
        .check(check)
        .await
        .expect_err("unknown rule set");
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(
        metadata(&status, FIELD_METADATA).as_deref(),
        Some("rule_set_id")
    );
    ledgers.stop().await;
}

#[tokio::test]
async fn history_lists_the_subjects_events_as_of_a_time_with_the_decision() {
    let mut ledgers = Ledgers::start().await;
    let appended = ledgers.append(shop_and_sale()).await;
    let mut check = email_check(SUBJECT, "helmets", "2025-06-01T09:00:00Z");
    check.wait_for = appended;
    let history = ledgers
        .grpc
        .history(v1::HistoryRequest {
            organisation_id: ORG.to_owned(),
            subject_id: SUBJECT.to_owned(),
            at: Some(from_json(json!("2025-06-01T09:00:00Z"))),
            decision_for: Some(check),
        })
        .await
        .expect("a history")
        .into_inner();
    assert_eq!(history.events.len(), 1, "{history:?}");
    let sale = history.events[0].event.as_ref().expect("the stored event");
    assert_eq!(sale.subject_id, SUBJECT);
    assert!(matches!(
        sale.payload,
        Some(v1::envelope::Payload::SaleRecorded(_))
    ));
    let decision = history.decision.expect("the decision asked for");
    assert!(decision.allowed);

    // Before the sale, nothing had happened to this subject.
    let before = ledgers
        .grpc
        .history(v1::HistoryRequest {
            organisation_id: ORG.to_owned(),
            subject_id: SUBJECT.to_owned(),
            at: Some(from_json(json!("2025-01-01T00:00:00Z"))),
            decision_for: None,
        })
        .await
        .expect("a history")
        .into_inner();
    assert!(before.events.is_empty());
    assert_eq!(before.decision, None);

    let status = ledgers
        .grpc
        .history(v1::HistoryRequest {
            organisation_id: ORG.to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("a history needs a subject");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        metadata(&status, FIELD_METADATA).as_deref(),
        Some("subject_id")
    );
    ledgers.stop().await;
}

#[tokio::test]
async fn http_and_grpc_give_the_same_decision_for_the_same_check() {
    let mut ledgers = Ledgers::start().await;
    let appended = ledgers.append(shop_and_sale()).await;
    let wait_for = serde_json::to_value(&appended).expect("positions as JSON");

    for category in ["helmets", "insurance"] {
        let mut json_check = email_check_json(SUBJECT, category, "2025-06-01T09:00:00Z");
        json_check["waitFor"] = wait_for.clone();

        let (status, body) = ledgers.http_post("/v1/checks", &json_check).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        let over_http: v1::Decision = from_json(body);
        let over_grpc = ledgers
            .grpc
            .check(from_json::<v1::CheckRequest>(json_check))
            .await
            .expect("a decision")
            .into_inner();
        assert_eq!(over_http, over_grpc, "{category}");
    }

    // And the same rule sets.
    let (status, body) = ledgers.http_get("/v1/rule-sets").await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let over_http: Vec<v1::RuleSetDescription> = from_json(body);
    let over_grpc = ledgers
        .grpc
        .list_rule_sets(v1::ListRuleSetsRequest {})
        .await
        .expect("rule sets")
        .into_inner()
        .rule_sets;
    assert!(!over_grpc.is_empty());
    assert_eq!(over_http, over_grpc);
    ledgers.stop().await;
}

#[tokio::test]
async fn check_stream_ends_at_the_first_item_it_cannot_decide() {
    let mut ledgers = Ledgers::start().await;
    let appended = ledgers.append(shop_and_sale()).await;
    let mut first = email_check(SUBJECT, "helmets", "2025-06-01T09:00:00Z");
    first.wait_for = appended;
    let mut requests = vec![
        first,
        email_check(SUBJECT, "insurance", "2025-06-01T09:00:00Z"),
        email_check("someone-else", "helmets", "2025-06-01T09:00:00Z"),
        email_check(SUBJECT, "helmets", "2025-06-01T09:00:00Z"),
        email_check(SUBJECT, "helmets", "2025-06-01T09:00:00Z"),
    ];
    requests[3].purpose = i32::from(v1::Purpose::Unspecified);

    let mut answers = ledgers
        .grpc
        .check_stream(tokio_stream::iter(requests))
        .await
        .expect("the stream is accepted")
        .into_inner();
    let mut decisions = Vec::new();
    let status = loop {
        match answers.message().await {
            Ok(Some(decision)) => decisions.push(decision),
            Ok(None) => panic!("the stream ended without an error"),
            Err(status) => break status,
        }
    };
    let allowed: Vec<bool> = decisions.iter().map(|d| d.allowed).collect();
    assert_eq!(allowed, [true, false, false]);
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("`checks[3].purpose`"),
        "{}",
        status.message()
    );
    assert_eq!(
        metadata(&status, FIELD_METADATA).as_deref(),
        Some("checks[3].purpose")
    );
    assert_eq!(metadata(&status, ITEM_INDEX_METADATA).as_deref(), Some("3"));
    ledgers.stop().await;
}

#[tokio::test]
async fn wait_for_positions_answers_once_the_view_has_applied_them() {
    let mut ledgers = Ledgers::start().await;
    let appended = ledgers.append(shop_and_sale()).await;
    let waited = ledgers
        .grpc
        .wait_for_positions(v1::WaitRequest {
            positions: appended.clone(),
            timeout_ms: 10_000,
        })
        .await
        .expect("the view applies the append")
        .into_inner();
    for position in &appended {
        let applied = waited
            .applied
            .iter()
            .find(|a| a.topic == position.topic && a.partition == position.partition)
            .unwrap_or_else(|| panic!("{position:?} reported"));
        assert!(applied.offset >= position.offset);
    }

    // A position beyond the end of the log is never applied.
    let mut beyond = appended[0].clone();
    beyond.offset += 1_000;
    let status = ledgers
        .grpc
        .wait_for_positions(v1::WaitRequest {
            positions: vec![beyond],
            timeout_ms: 200,
        })
        .await
        .expect_err("the view cannot apply what is not in the log");
    assert_eq!(status.code(), Code::DeadlineExceeded);

    // Positions the view does not read, and waits beyond the limit, are
    // refused at once.
    let status = ledgers
        .grpc
        .wait_for_positions(v1::WaitRequest {
            positions: vec![v1::LogPosition {
                topic: "elsewhere".to_owned(),
                partition: 0,
                offset: 0,
            }],
            timeout_ms: 0,
        })
        .await
        .expect_err("not a topic of the log");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        metadata(&status, FIELD_METADATA).as_deref(),
        Some("positions[0]")
    );
    let status = ledgers
        .grpc
        .wait_for_positions(v1::WaitRequest {
            positions: appended,
            timeout_ms: 3_600_000,
        })
        .await
        .expect_err("an hour is too long");
    assert_eq!(
        metadata(&status, FIELD_METADATA).as_deref(),
        Some("timeout_ms")
    );
    ledgers.stop().await;
}

#[tokio::test]
async fn an_export_over_grpc_is_a_bundle_that_verifies() {
    let mut ledgers = Ledgers::start().await;
    let appended = ledgers.append(shop_and_sale()).await;
    let mut wait = email_check(SUBJECT, "helmets", "2025-06-01T09:00:00Z");
    wait.wait_for = appended;
    ledgers
        .grpc
        .check(wait)
        .await
        .expect("the view applies the sale");

    let mut question = email_check(SUBJECT, "helmets", "2025-06-01T09:00:00Z");
    question.organisation_id.clear();
    question.subject_id.clear();
    let request = v1::ExportRequest {
        organisation_id: ORG.to_owned(),
        scope: Some(v1::export_request::Scope::Subject(v1::SubjectExport {
            subject_id: SUBJECT.to_owned(),
            checks: vec![question],
        })),
        ..Default::default()
    };
    let file = ledgers
        .grpc
        .export(request)
        .await
        .expect("a bundle")
        .into_inner()
        .bundle;
    let key = consent_evidence::CheckpointSigner::from_seed("ledger.test/consent", &[6; 32])
        .expect("the test key")
        .verifier_key();
    let report = consent_audit::audit_bundle_json(
        &file,
        &[key],
        &consent_domain::rules::RuleCatalogue::uk(),
    );
    assert!(report.passed(), "{report}");
    // The question asked, then the subject's status: a decision per
    // channel at the export's time.
    assert_eq!(report.decisions, 6);
    assert!(report.records_proven >= 3, "{report}");

    // No scope: the field is named.
    let status = ledgers
        .grpc
        .export(v1::ExportRequest {
            organisation_id: ORG.to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("no scope");
    assert_eq!(status.code(), Code::InvalidArgument);
    ledgers.stop().await;
}
