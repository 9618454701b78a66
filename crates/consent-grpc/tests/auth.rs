//! API keys over gRPC: for every RPC of `consent.v1.ConsentLedger` (read
//! from the compiled descriptors, so a new RPC without a case fails), no
//! key is UNAUTHENTICATED, another organisation's key PERMISSION_DENIED,
//! the organisation's own key is served; the admin reads any organisation
//! but neither appends nor checks; a CheckStream reaching another
//! organisation's request ends there.

mod common;

use common::*;
use consent_auth::{ApiKey, Guard, KeyEntry, KeyRing, Principal};
use consent_domain::OrganisationId;
use consent_schema::v1;
use consent_service::LedgerConfig;
use prost::Message;
use serde_json::json;
use tonic::{Code, Request, Status};

const OTHER_ORG: &str = "globex-direct";

fn keys() -> (Guard, [String; 3]) {
    let keys = [
        (
            ApiKey::from_random_bytes(&[11; 32]),
            Principal::Organisation(OrganisationId::new(ORG)),
        ),
        (
            ApiKey::from_random_bytes(&[22; 32]),
            Principal::Organisation(OrganisationId::new(OTHER_ORG)),
        ),
        (ApiKey::from_random_bytes(&[33; 32]), Principal::Admin),
    ];
    let text: Vec<String> = keys
        .iter()
        .map(|(key, principal)| {
            KeyEntry {
                hash: key.hash(),
                principal: principal.clone(),
                created: None,
                note: None,
            }
            .to_toml()
        })
        .collect();
    let ring = KeyRing::parse(&text.join("\n")).expect("key file");
    let [own, other, admin] = keys.map(|(key, _)| key.secret().to_owned());
    (Guard::keys(ring), [own, other, admin])
}

fn with_key<T>(message: T, key: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(key) = key {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {key}").parse().expect("metadata"),
        );
    }
    request
}

/// The RPCs of the service, from the compiled descriptors.
fn rpcs() -> Vec<String> {
    let set = prost_types::FileDescriptorSet::decode(consent_schema::FILE_DESCRIPTOR_SET)
        .expect("descriptors");
    let service = set
        .file
        .iter()
        .flat_map(|file| &file.service)
        .find(|service| service.name() == "ConsentLedger")
        .expect("the ConsentLedger service is compiled");
    service.method.iter().map(|m| m.name().to_owned()).collect()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Scope {
    Writes,
    Reads,
    AnyCaller,
}

/// Calls `rpc` about [`ORG`]'s data with `key`; its scope and outcome.
async fn call(ledgers: &mut Ledgers, rpc: &str, key: Option<&str>) -> (Scope, Result<(), Status>) {
    let check = email_check(SUBJECT, "helmets", "2025-06-01T00:00:00Z");
    let grpc = &mut ledgers.grpc;
    match rpc {
        "Append" => {
            let events: v1::AppendRequest = from_json(json!({ "events": [sale(SUBJECT, 91)] }));
            (
                Scope::Writes,
                grpc.append(with_key(events, key)).await.map(drop),
            )
        }
        "Check" => (
            Scope::Writes,
            grpc.check(with_key(check, key)).await.map(drop),
        ),
        "CheckBatch" => {
            let batch = v1::CheckBatchRequest {
                checks: vec![check.clone(), check],
            };
            (
                Scope::Writes,
                grpc.check_batch(with_key(batch, key)).await.map(drop),
            )
        }
        "CheckStream" => {
            let requests = tokio_stream::iter(vec![check.clone(), check]);
            let outcome = match grpc.check_stream(with_key(requests, key)).await {
                Err(status) => Err(status),
                Ok(response) => {
                    let mut answers = response.into_inner();
                    let mut outcome = Ok(());
                    while let Some(answer) = answers.message().await.transpose() {
                        if let Err(status) = answer {
                            outcome = Err(status);
                            break;
                        }
                    }
                    outcome
                }
            };
            (Scope::Writes, outcome)
        }
        "History" => {
            let request = v1::HistoryRequest {
                organisation_id: ORG.to_owned(),
                subject_id: SUBJECT.to_owned(),
                ..Default::default()
            };
            (
                Scope::Reads,
                grpc.history(with_key(request, key)).await.map(drop),
            )
        }
        "ListRuleSets" => (
            Scope::AnyCaller,
            grpc.list_rule_sets(with_key(v1::ListRuleSetsRequest::default(), key))
                .await
                .map(drop),
        ),
        "WaitForPositions" => (
            Scope::AnyCaller,
            grpc.wait_for_positions(with_key(v1::WaitRequest::default(), key))
                .await
                .map(drop),
        ),
        "Export" => {
            let request = v1::ExportRequest {
                organisation_id: ORG.to_owned(),
                scope: Some(v1::export_request::Scope::Subject(v1::SubjectExport {
                    subject_id: SUBJECT.to_owned(),
                    checks: vec![],
                })),
                ..Default::default()
            };
            (
                Scope::Reads,
                grpc.export(with_key(request, key)).await.map(drop),
            )
        }
        "ListSuppressions" => {
            let request = v1::SuppressionListRequest {
                organisation_id: ORG.to_owned(),
                ..Default::default()
            };
            (
                Scope::Reads,
                grpc.list_suppressions(with_key(request, key))
                    .await
                    .map(drop),
            )
        }
        other => panic!("RPC {other} has no case here: add one, with the scope it authorizes"),
    }
}

fn assert_code(what: &str, outcome: &Result<(), Status>, code: Code) {
    match outcome {
        Ok(()) => panic!("{what}: served, expected {code:?}"),
        Err(status) => {
            assert_eq!(status.code(), code, "{what}: {status:?}");
            assert!(!status.message().contains("order-"), "{what}: {status:?}");
        }
    }
}

#[tokio::test]
async fn every_rpc_serves_only_its_own_organisation() {
    let (guard, [own, other, admin]) = keys();
    let mut ledgers = Ledgers::start_guarded(LedgerConfig::default(), guard).await;
    let mut setup = shop_and_sale();
    setup.events.push(from_json(sale(SUBJECT, 90)));
    ledgers
        .grpc
        .append(with_key(setup, Some(&own)))
        .await
        .expect("the organisation appends its facts");

    let rpcs = rpcs();
    assert!(rpcs.len() >= 7, "{rpcs:?}");
    for rpc in &rpcs {
        let (scope, outcome) = call(&mut ledgers, rpc, None).await;
        assert_code(
            &format!("{rpc} without a key"),
            &outcome,
            Code::Unauthenticated,
        );
        let (_, outcome) = call(&mut ledgers, rpc, Some("clk_unknown")).await;
        assert_code(
            &format!("{rpc} with an unknown key"),
            &outcome,
            Code::Unauthenticated,
        );

        let (_, outcome) = call(&mut ledgers, rpc, Some(&other)).await;
        match scope {
            Scope::AnyCaller => {
                assert!(outcome.is_ok(), "{rpc}, another organisation: {outcome:?}")
            }
            _ => assert_code(
                &format!("{rpc}, another organisation"),
                &outcome,
                Code::PermissionDenied,
            ),
        }
        let (_, outcome) = call(&mut ledgers, rpc, Some(&own)).await;
        assert!(outcome.is_ok(), "{rpc}, own key: {outcome:?}");
        let (_, outcome) = call(&mut ledgers, rpc, Some(&admin)).await;
        match scope {
            Scope::Writes => {
                assert_code(&format!("{rpc}, admin"), &outcome, Code::PermissionDenied)
            }
            _ => assert!(outcome.is_ok(), "{rpc}, admin: {outcome:?}"),
        }
    }
    ledgers.stop().await;
}

#[tokio::test]
async fn a_check_stream_ends_at_the_first_request_of_another_organisation() {
    let (guard, [own, _, _]) = keys();
    let mut ledgers = Ledgers::start_guarded(LedgerConfig::default(), guard).await;
    ledgers
        .grpc
        .append(with_key(shop_and_sale(), Some(&own)))
        .await
        .expect("appended");
    let mine = email_check(SUBJECT, "helmets", "2025-06-01T00:00:00Z");
    let mut theirs = mine.clone();
    theirs.organisation_id = OTHER_ORG.to_owned();
    let requests = tokio_stream::iter(vec![mine.clone(), mine.clone(), theirs, mine]);
    let mut answers = ledgers
        .grpc
        .check_stream(with_key(requests, Some(&own)))
        .await
        .expect("the stream starts")
        .into_inner();
    let mut decided = 0;
    let status = loop {
        match answers.message().await {
            Ok(Some(_)) => decided += 1,
            Ok(None) => panic!("the stream ended without refusing the foreign request"),
            Err(status) => break status,
        }
    };
    assert_eq!(decided, 2, "the requests before it are decided");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(
        metadata(&status, "consent-item-index").as_deref(),
        Some("2")
    );
    assert_eq!(
        metadata(&status, "consent-field").as_deref(),
        Some("checks[2].organisation_id")
    );

    // A unary batch mixing organisations is refused whole.
    let mut foreign = email_check(SUBJECT, "helmets", "2025-06-01T00:00:00Z");
    foreign.organisation_id = OTHER_ORG.to_owned();
    let batch = v1::CheckBatchRequest {
        checks: vec![
            email_check(SUBJECT, "helmets", "2025-06-01T00:00:00Z"),
            foreign,
        ],
    };
    let refused = ledgers
        .grpc
        .check_batch(with_key(batch, Some(&own)))
        .await
        .expect_err("a mixed batch");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert_eq!(
        metadata(&refused, "consent-field").as_deref(),
        Some("checks[1].organisation_id")
    );
    ledgers.stop().await;
}
