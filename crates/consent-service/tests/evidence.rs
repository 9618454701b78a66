//! Evidence made by the ledger verifies with nothing but the bundle, the
//! published key and the rules: every record proven, every decision
//! recomputed; and a bundle changed after export does not.

use consent_audit::{audit_bundle, audit_bundle_json, bundle_report_html, ReportDrawing};
use consent_domain::rules::RuleCatalogue;
use consent_evidence::{CheckpointSigner, EvidenceBundle, Finding, ManifestField};
use consent_log::LogPosition;
use consent_schema::v1;
use consent_service::{Ledger, LedgerError};
use consent_store::MemoryStore;
use consent_testkit::ledger::*;
use consent_testkit::wire::*;
use serde_json::Value;
use std::sync::Arc;

const ORIGIN: &str = "ledger.test/consent";

fn signer() -> CheckpointSigner {
    CheckpointSigner::from_seed(ORIGIN, &[7; 32]).expect("a key")
}

/// The organisation, a sale to SUBJECT, a helmet email (allowed by the soft
/// opt-in), an objection, and a second helmet email (sent after the
/// objection: refused).
async fn history(ledger: &Ledger) -> Vec<LogPosition> {
    let appended = ledger
        .append(vec![
            organisation_registered(),
            categories_defined(),
            sale(SUBJECT, "2025-03-01T10:00:00Z"),
            helmet_email_sent(SUBJECT, "2025-04-01T09:00:00Z", "msg-1"),
            objection(SUBJECT, "2025-05-01T12:00:00Z"),
            helmet_email_sent(SUBJECT, "2025-06-01T09:00:00Z", "msg-2"),
            sale("customer-2", "2025-03-02T10:00:00Z"),
        ])
        .await
        .expect("append");
    appended.into_iter().map(|(_, position)| position).collect()
}

async fn settle(ledger: &Ledger, positions: &[LogPosition]) {
    // A check that waits for the positions: read-your-writes.
    ledger
        .check(helmet_email(SUBJECT, positions))
        .await
        .expect("the view applies the history");
}

fn subject_export(checks: Vec<v1::CheckRequest>) -> v1::ExportRequest {
    v1::ExportRequest {
        organisation_id: ORG.to_owned(),
        scope: Some(v1::export_request::Scope::Subject(v1::SubjectExport {
            subject_id: SUBJECT.to_owned(),
            checks,
        })),
        ..Default::default()
    }
}

fn decisions(bundle: &EvidenceBundle) -> Vec<(bool, String)> {
    bundle
        .decisions
        .iter()
        .map(|d| {
            (
                d["decision"]["allowed"].as_bool().expect("allowed"),
                d["request"]["at"].as_str().expect("at").to_owned(),
            )
        })
        .collect()
}

fn audit(bundle: &EvidenceBundle) -> consent_evidence::VerificationReport {
    audit_bundle(bundle, &[signer().verifier_key()], &RuleCatalogue::uk())
}

#[tokio::test]
async fn a_subject_export_verifies_offline_and_every_decision_recomputes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running =
        RunningLedger::start_with_evidence(dir.path(), Arc::new(MemoryStore::new()), signer());
    let positions = history(&running.ledger).await;
    settle(&running.ledger, &positions).await;

    let mut june = helmet_email(SUBJECT, &[]);
    june.at = Some(at("2025-04-15T00:00:00Z"));
    let bundle = running
        .ledger
        .export(subject_export(vec![june]))
        .await
        .expect("export");

    // The organisation's two facts and the subject's four events; not the
    // other customer's sale.
    assert_eq!(bundle.records.len(), 6);
    assert!(bundle
        .records
        .windows(2)
        .all(|pair| pair[0].position < pair[1].position));
    // Both sends, in time order, then the question asked, then the status:
    // one decision per channel at the export's time, as its scope says.
    let answered = decisions(&bundle);
    assert_eq!(
        answered[..3],
        [
            (true, "2025-04-01T09:00:00+00:00".to_owned()),
            (false, "2025-06-01T09:00:00+00:00".to_owned()),
            (true, "2025-04-15T00:00:00+00:00".to_owned()),
        ]
    );
    assert_eq!(answered.len(), 3 + 5);
    assert_eq!(bundle.scope["status"]["decisions"], 5);
    let status_at = &bundle.decisions[3]["request"]["at"];
    assert_eq!(&bundle.scope["status"]["at"], status_at);
    assert!(bundle.decisions[3..]
        .iter()
        .all(|d| &d["request"]["at"] == status_at));
    let refused = &bundle.decisions[1]["decision"];
    assert!(refused["reasonsAgainst"]
        .as_array()
        .expect("reasons")
        .iter()
        .any(|r| r["ruleId"] == "R1"));
    assert_eq!(bundle.attachments["rule_sets"][0]["id"], "uk-pecr-2003");
    assert!(bundle.attachments["rule_sets"][0]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .all(|rule| !rule["citation"].as_str().unwrap_or("").is_empty()));

    // A third party with the file, the published key and the rules.
    let file = bundle.to_json_pretty().expect("bundle JSON");
    let published = running.ledger.checkpoint_key().expect("key").to_string();
    let key = published.parse().expect("a published key parses");
    let report = audit_bundle_json(&file, &[key], &RuleCatalogue::uk());
    assert!(report.passed(), "{report}");
    assert_eq!(report.records_proven, 6);
    assert_eq!(report.decisions, 8);

    // The regulator's page says the same.
    let page = bundle_report_html(&bundle, &report, &RuleCatalogue::uk(), &drawing());
    for fact in [
        "VERIFIED",
        "Evidence for subject customer-1842 of acme-cycles",
        "ALLOWED",
        "REFUSED",
        "PECR 2003 reg 22(3)",
        "UK GDPR Art 21",
    ] {
        assert!(page.contains(fact), "the report lacks {fact:?}");
    }
    running.stop().await;
}

#[tokio::test]
async fn tampering_with_an_exported_bundle_is_caught() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running =
        RunningLedger::start_with_evidence(dir.path(), Arc::new(MemoryStore::new()), signer());
    let positions = history(&running.ledger).await;
    settle(&running.ledger, &positions).await;
    let bundle = running
        .ledger
        .export(subject_export(vec![]))
        .await
        .expect("export");
    running.stop().await;
    assert!(audit(&bundle).passed());

    // Dropping the objection: the manifest's record list no longer
    // matches, and the refusal of the second send no longer recomputes.
    let mut dropped = bundle.clone();
    let objection = dropped
        .records
        .iter()
        .position(|r| r.position.topic.ends_with(".optouts"))
        .expect("the objection is in the bundle");
    dropped.records.remove(objection);
    let report = audit(&dropped);
    assert!(report.findings.iter().any(|f| matches!(
        f,
        Finding::ManifestMismatch {
            field: ManifestField::RecordCount,
            ..
        }
    )));
    assert!(
        report
            .findings
            .iter()
            .any(|f| matches!(f, Finding::Decision { decision: Some(1), message } if message.contains("the bundle says refused, the records say allowed"))),
        "{report}"
    );

    // Turning the refusal into an allowance.
    let mut edited = bundle.clone();
    edited.decisions[1]["decision"]["allowed"] = Value::Bool(true);
    let report = audit(&edited);
    assert!(report.findings.iter().any(|f| matches!(
        f,
        Finding::Decision {
            decision: Some(1),
            ..
        }
    )));
    assert!(report.findings.iter().any(|f| matches!(
        f,
        Finding::ManifestMismatch {
            field: ManifestField::Decisions,
            ..
        }
    )));

    // Flipping a byte of a stored event.
    let mut flipped = bundle;
    flipped.records[3].payload[5] ^= 0x40;
    let report = audit(&flipped);
    let page = bundle_report_html(&flipped, &report, &RuleCatalogue::uk(), &drawing());
    assert!(page.contains("FAILED") && !page.contains("VERIFIED"));
    assert!(report
        .findings
        .iter()
        .any(|f| matches!(f, Finding::InclusionProofFailed { record: 3, .. })));
}

#[tokio::test]
async fn a_later_export_proves_it_extends_a_published_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running =
        RunningLedger::start_with_evidence(dir.path(), Arc::new(MemoryStore::new()), signer());
    let positions = history(&running.ledger).await;
    settle(&running.ledger, &positions).await;
    let published = running.ledger.sign_checkpoint().await.expect("checkpoint");
    // Nothing new: the same checkpoint.
    assert_eq!(
        running.ledger.sign_checkpoint().await.expect("again"),
        published
    );

    let more = running
        .ledger
        .append(vec![sale(SUBJECT, "2025-07-01T10:00:00Z")])
        .await
        .expect("append");
    settle(&running.ledger, &[more[0].1.clone()]).await;
    let mut request = subject_export(vec![]);
    request.previous_checkpoint = published.note.clone();
    let bundle = running.ledger.export(request).await.expect("export");
    let report = audit(&bundle);
    assert!(report.passed(), "{report}");
    assert_eq!(
        report.previous_checkpoint.map(|c| c.records()),
        Some(published.checkpoint.records())
    );
    assert!(report.checkpoint.expect("checkpoint").records() > published.checkpoint.records());

    // A checkpoint signed by someone else is refused, not linked to.
    let stranger = CheckpointSigner::from_seed(ORIGIN, &[8; 32]).expect("key");
    let mut request = subject_export(vec![]);
    request.previous_checkpoint = published.checkpoint.sign(&stranger).expect("sign");
    assert!(matches!(
        running.ledger.export(request).await,
        Err(LedgerError::Export(_))
    ));
    running.stop().await;

    // The archive keeps the checkpoints across a restart.
    let running =
        RunningLedger::start_with_evidence(dir.path(), Arc::new(MemoryStore::new()), signer());
    let latest = running.ledger.latest_checkpoint().expect("latest");
    assert!(latest.expect("archived").checkpoint.records() > published.checkpoint.records());
    running.stop().await;
}

#[tokio::test]
async fn campaign_and_time_range_exports_decide_each_subject() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running =
        RunningLedger::start_with_evidence(dir.path(), Arc::new(MemoryStore::new()), signer());
    let positions = history(&running.ledger).await;
    settle(&running.ledger, &positions).await;

    let mut message = helmet_email("", &[]);
    message.at = Some(at("2025-08-01T09:00:00Z"));
    let campaign = v1::ExportRequest {
        organisation_id: ORG.to_owned(),
        scope: Some(v1::export_request::Scope::Campaign(v1::CampaignExport {
            subject_ids: vec![SUBJECT.to_owned(), "customer-2".to_owned()],
            message: Some(message),
        })),
        ..Default::default()
    };
    let bundle = running.ledger.export(campaign).await.expect("campaign");
    let answers: Vec<(String, bool)> = bundle
        .decisions
        .iter()
        .map(|d| {
            (
                d["request"]["subjectId"].as_str().unwrap_or("").to_owned(),
                d["decision"]["allowed"].as_bool().unwrap_or(true),
            )
        })
        .collect();
    assert_eq!(
        answers,
        vec![(SUBJECT.to_owned(), false), ("customer-2".to_owned(), true)]
    );
    assert!(audit(&bundle).passed());

    let range = v1::ExportRequest {
        organisation_id: ORG.to_owned(),
        scope: Some(v1::export_request::Scope::TimeRange(v1::TimeRangeExport {
            from: Some(at("2025-05-15T00:00:00Z")),
            to: Some(at("2025-07-01T00:00:00Z")),
        })),
        ..Default::default()
    };
    let bundle = running.ledger.export(range).await.expect("range");
    // Only SUBJECT has an event in the range: the second send, refused.
    assert_eq!(
        decisions(&bundle),
        vec![(false, "2025-06-01T09:00:00+00:00".to_owned())]
    );
    assert_eq!(bundle.scope["kind"], "time_range");
    assert!(audit(&bundle).passed());

    let mut csv = Vec::new();
    let mut message = helmet_email("", &[]);
    message.at = Some(at("2025-08-01T09:00:00Z"));
    let rows = running
        .ledger
        .eligibility_csv(ORG, &message, &mut csv)
        .expect("csv");
    assert_eq!(rows, 2);
    let text = String::from_utf8(csv).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("organisation_id,subject_id,channel"));
    assert!(
        lines[1].starts_with("acme-cycles,customer-1842,CHANNEL_EMAIL"),
        "{text}"
    );
    assert!(lines[1].contains(",false,LAWFUL_BASIS_NONE,"), "{text}");
    assert!(
        lines[2].contains(",true,LAWFUL_BASIS_SOFT_OPT_IN,"),
        "{text}"
    );
    running.stop().await;
}

#[tokio::test]
async fn an_export_names_the_bad_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running =
        RunningLedger::start_with_evidence(dir.path(), Arc::new(MemoryStore::new()), signer());
    let no_scope = v1::ExportRequest {
        organisation_id: ORG.to_owned(),
        ..Default::default()
    };
    match running.ledger.export(no_scope).await {
        Err(LedgerError::Invalid { error, .. }) => assert_eq!(error.field, "scope"),
        other => panic!("expected an invalid request, got {other:?}"),
    }
    let backwards = v1::ExportRequest {
        organisation_id: ORG.to_owned(),
        scope: Some(v1::export_request::Scope::TimeRange(v1::TimeRangeExport {
            from: Some(at("2025-07-01T00:00:00Z")),
            to: Some(at("2025-05-15T00:00:00Z")),
        })),
        ..Default::default()
    };
    match running.ledger.export(backwards).await {
        Err(LedgerError::Invalid { error, .. }) => assert_eq!(error.field, "time_range.to"),
        other => panic!("expected an invalid request, got {other:?}"),
    }
    running.stop().await;
}

/// A page drawn on 1 September 2025, by no one in particular.
fn drawing() -> ReportDrawing {
    ReportDrawing {
        produced_at: consent_domain::Timestamp::parse_rfc3339("2025-09-01T00:00:00Z")
            .expect("time"),
        verified_by: None,
        bundle_file: None,
    }
}
