//! Long work as jobs, against a running ledger (the embedded log, a view,
//! the projector, sealing): a campaign pre-flight from a marketer's CSV,
//! an evidence export verified and drawn as a report, a replay from the
//! running ledger; each job seen with its progress by its organisation
//! and the admin, and by no other organisation.

use consent_evidence::CheckpointSigner;
use consent_schema::v1;
use consent_sealing::{ContactDigestKey, MemoryKeyStore, Sealer};
use consent_service::{
    Job, JobError, JobId, JobOutput, JobProgress, Ledger, LedgerError, PreflightRequest,
    ReplayRequest, Viewer,
};
use consent_store::MemoryStore;
use consent_testkit::ledger::*;
use consent_testkit::wire::every_kind::email;
use consent_testkit::wire::*;
use std::sync::Arc;
use std::time::Duration;

const ANN: &str = "ann@example.com";

fn start(dir: &std::path::Path) -> RunningLedger {
    RunningLedger::start_with(
        dir,
        Arc::new(MemoryStore::new()),
        LedgerParts {
            signer: Some(
                CheckpointSigner::from_seed("ledger.test/consent", &[7; 32]).expect("key"),
            ),
            sealer: Some(Sealer::new(
                ContactDigestKey::from_bytes([3; 32]),
                Arc::new(MemoryKeyStore::default()),
            )),
            ..LedgerParts::default()
        },
    )
}

/// A sale whose details were collected with `address`.
fn sale_at_address(subject: &str, address: &str) -> v1::Envelope {
    let mut sale = sale(subject, "2025-03-01T10:00:00Z");
    if let Some(v1::envelope::Payload::SaleRecorded(recorded)) = &mut sale.payload {
        if let Some(collection) = &mut recorded.collection {
            collection.contact_point = Some(email(address));
        }
    }
    sale
}

/// The shop; Ann bought a bike (her email recorded with the sale);
/// customer-2 bought one and then objected; a helmet email went to Ann in
/// April.
async fn history(ledger: &Ledger) {
    let appended = ledger
        .append(vec![
            organisation_registered(),
            categories_defined(),
            sale_at_address("customer-1", ANN),
            sale("customer-2", "2025-03-02T10:00:00Z"),
            objection("customer-2", "2025-05-01T12:00:00Z"),
            helmet_email_sent("customer-1", "2025-04-01T09:00:00Z", "msg-1"),
        ])
        .await
        .expect("append");
    let positions: Vec<_> = appended.into_iter().map(|(_, p)| p).collect();
    ledger
        .check(helmet_email("customer-1", &positions))
        .await
        .expect("the view applies the history");
    // The organisation's facts are on another partition: wait for all.
    for _ in 0..500 {
        if ledger.status().await.lag.is_some_and(|lag| lag.total == 0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the view did not catch up with the log");
}

/// The helmet campaign's message, as the pre-flight form gives it.
fn helmet_campaign() -> v1::CheckRequest {
    let mut message = helmet_email("", &[]);
    message.organisation_id = String::new();
    message.at = Some(at("2025-07-01T09:00:00Z"));
    message
}

fn acme() -> Viewer {
    Viewer::Organisation(consent_domain::OrganisationId::new(ORG))
}

fn rival() -> Viewer {
    Viewer::Organisation(consent_domain::OrganisationId::new("rival-bikes"))
}

/// The job once it has finished (a bounded wait, not a timing).
async fn finished(ledger: &Ledger, id: &JobId) -> Job {
    for _ in 0..1200 {
        let job = ledger.jobs().get(id, &Viewer::Admin).expect("the job");
        if !job.is_running() {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {id} did not finish in a minute");
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_counts_the_recipients_by_outcome_and_reason_and_writes_each_ones_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(dir.path());
    let ledger = &running.ledger;
    history(ledger).await;

    let csv = "Name,Email,subject_id\n\
               Ann,ANN@example.com ,\n\
               Bob,,customer-2\n\
               Cat,cat@example.com,\n\
               Dan,,\n\
               Eve,not an address,\n";
    let id = ledger
        .start_preflight(PreflightRequest {
            organisation_id: ORG.to_owned(),
            message: helmet_campaign(),
            csv: csv.as_bytes().to_vec(),
        })
        .expect("started");
    let job = finished(ledger, &id).await;
    assert_eq!((job.done, job.total, job.percent()), (5, 5, Some(100)));
    let Some(JobOutput::Preflight(result)) = job.output() else {
        panic!("a pre-flight result, not {:?}", job.state);
    };
    let counts = &result.counts;
    assert_eq!(
        (
            counts.recipients,
            counts.allowed,
            counts.refused,
            counts.invalid
        ),
        (5, 1, 2, 2)
    );
    let bases: Vec<(&str, u64)> = counts
        .by_basis
        .iter()
        .map(|c| (c.code, c.recipients))
        .collect();
    assert_eq!(bases, [("soft_opt_in", 1)]);
    let reasons: Vec<(String, u64)> = counts
        .by_reason
        .iter()
        .map(|r| (format!("{}:{}", r.rule_id, r.code), r.recipients))
        .collect();
    assert!(
        reasons.contains(&("R1:objection_recorded".to_owned(), 1)),
        "{reasons:?}"
    );
    assert!(counts.by_reason.iter().all(|r| !r.citation.is_empty()));
    let bad: Vec<String> = counts.bad_rows.iter().map(ToString::to_string).collect();
    assert_eq!(
        bad[0],
        "row 5: no recipient: fill in subject_id, email or phone"
    );
    assert!(
        bad[1].starts_with("row 6, column email or phone: "),
        "{bad:?}"
    );
    assert_eq!(result.ignored_columns, ["Name"]);

    let out = text(&result.csv);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "row,recipient,subjects,channel,allowed,lawful_basis,reasons,citations,explanation"
    );
    // Ann, by her address (in another case, with a space): through its
    // digest, the subject it was recorded for.
    assert!(
        lines[1].starts_with("2,ANN@example.com,customer-1,email,yes,soft_opt_in,,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("3,customer-2,customer-2,email,no,none,"),
        "{}",
        lines[2]
    );
    assert!(lines[2].contains("R1:objection_recorded"));
    // An address no subject has: decided alone, and refused.
    assert!(
        lines[3].starts_with("4,cat@example.com,,email,no,none,"),
        "{}",
        lines[3]
    );
    assert!(
        lines[4].starts_with("5,,,,no,,invalid_row,,\"row 5: no recipient"),
        "{}",
        lines[4]
    );
    assert_eq!(lines.len(), 6);
    // The clear addresses never reached the log.
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_that_cannot_be_read_is_refused_at_once_naming_the_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(dir.path());
    let ledger = &running.ledger;
    let refused = |csv: &str, message: v1::CheckRequest| {
        let error = ledger
            .start_preflight(PreflightRequest {
                organisation_id: ORG.to_owned(),
                message,
                csv: csv.as_bytes().to_vec(),
            })
            .expect_err("refused");
        match error {
            JobError::Refused(error @ LedgerError::Invalid { .. }) => error.to_string(),
            other => panic!("refused as invalid, not {other}"),
        }
    };
    assert_eq!(
        refused("name\nAnn\n", helmet_campaign()),
        "invalid `file`: the header row names no recipient column: it needs subject_id, email or phone (it has `name`)"
    );
    let mut no_channel = helmet_campaign();
    no_channel.channel = 0;
    assert!(
        refused("email\nann@example.com\n", no_channel.clone()).starts_with("invalid `channel`")
    );
    // A channel column stands in for the form's.
    ledger
        .start_preflight(PreflightRequest {
            organisation_id: ORG.to_owned(),
            message: no_channel,
            csv: b"email,channel\nann@example.com,email\n".to_vec(),
        })
        .expect("the file says the channel");
    assert!(ledger.jobs().list(&rival()).is_empty());
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_job_gives_the_bundle_the_verifiers_result_and_the_report_drawn_from_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(dir.path());
    let ledger = &running.ledger;
    history(ledger).await;

    let id = ledger
        .start_export(v1::ExportRequest {
            organisation_id: ORG.to_owned(),
            scope: Some(v1::export_request::Scope::Subject(v1::SubjectExport {
                subject_id: "customer-1".to_owned(),
                checks: vec![],
            })),
            ..Default::default()
        })
        .expect("started");
    assert!(ledger.jobs().get(&id, &acme()).is_ok());
    assert!(matches!(
        ledger.jobs().get(&id, &rival()),
        Err(JobError::NotFound(_))
    ));
    let job = finished(ledger, &id).await;
    assert_eq!(job.title, "evidence export of subject customer-1");
    let Some(JobOutput::Export(export)) = job.output() else {
        panic!("an export, not {:?}", job.state);
    };
    let verification = &export.verification;
    assert!(verification.passed, "{}", verification.text);
    assert_eq!(verification.records, verification.records_proven);
    assert!(verification.decisions >= 1);
    assert!(verification.text.starts_with("PASS"));
    assert_eq!(
        verification.verifier_key,
        ledger.checkpoint_key().expect("key").to_string()
    );
    // The bundle is the file a third party verifies; the report names it.
    let bundle: serde_json::Value = serde_json::from_slice(&export.bundle_json).expect("JSON");
    assert_eq!(
        bundle["scope"]["subject"], "customer-1",
        "{}",
        bundle["scope"]
    );
    assert!(export
        .bundle_file
        .starts_with("evidence-acme-cycles-subject_customer-1-"));
    assert!(export.bundle_file.ends_with(".json"));
    assert!(export.report_html.contains(&export.bundle_file));
    assert!(export.report_html.starts_with("<!DOCTYPE html>"));

    // A request that cannot be exported is refused before it starts.
    let error = ledger
        .start_export(v1::ExportRequest {
            organisation_id: ORG.to_owned(),
            ..Default::default()
        })
        .expect_err("no scope");
    assert!(
        matches!(error, JobError::Refused(LedgerError::Invalid { .. })),
        "{error}"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_job_reads_the_running_ledgers_log_and_reports_the_changes_by_organisation_channel_and_rule(
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(dir.path());
    let ledger = &running.ledger;
    history(ledger).await;

    // Helmets no longer similar to bikes: April's email to Ann loses its
    // soft opt-in.
    let similarity = r#"{"acme-cycles": {"categories": [
        {"id": "bikes", "name": "Bicycles"}, {"id": "helmets", "name": "Helmets"}]}}"#;
    let id = ledger
        .start_replay(ReplayRequest {
            organisation: Some(ORG.to_owned()),
            similarity: Some(similarity.to_owned()),
            ..Default::default()
        })
        .expect("started");
    assert!(ledger.jobs().get(&id, &rival()).is_err());
    let job = finished(ledger, &id).await;
    assert!(job.total > 0 && job.done == job.total, "{job:?}");
    let Some(JobOutput::Replay(replay)) = job.output() else {
        panic!("a replay, not {:?}", job.state);
    };
    let report = &replay.report;
    assert_eq!(report.totals.allowed_to_refused, 1, "{}", replay.summary);
    assert_eq!(
        report.by_organisation[&consent_domain::OrganisationId::new(ORG)].allowed_to_refused,
        1
    );
    assert_eq!(report.by_channel["email"].allowed_to_refused, 1);
    assert!(
        report.by_rule.keys().any(|rule| rule.starts_with("R3b")),
        "{:?}",
        report.by_rule
    );
    let changes = text(&replay.changes_ndjson().expect("the list"));
    assert_eq!(changes.lines().count(), 1);
    assert!(changes.contains("allowed_to_refused"));

    // The admin's replay of every organisation is the admin's alone.
    let everyone = ledger
        .start_replay(ReplayRequest::default())
        .expect("a replay of every organisation");
    assert!(ledger.jobs().get(&everyone, &acme()).is_err());
    let job = finished(ledger, &everyone).await;
    assert_eq!(job.title, "replay of every organisation");
    assert!(job.output().is_some(), "{:?}", job.state);

    // An organisation replays only its own map.
    let error = ledger
        .start_replay(ReplayRequest {
            organisation: Some("rival-bikes".to_owned()),
            similarity: Some(similarity.to_owned()),
            ..Default::default()
        })
        .expect_err("another organisation's map");
    assert!(
        error.to_string().contains("may replace only its own map"),
        "{error}"
    );
    let error = ledger
        .start_replay(ReplayRequest {
            candidate_rule_set: Some("uk-1066".to_owned()),
            ..Default::default()
        })
        .expect_err("no such rule set");
    assert!(error
        .to_string()
        .starts_with("invalid `candidate_rule_set`: no rule set `uk-1066`"));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_reports_its_progress_recipient_by_recipient() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(dir.path());
    let ledger = &running.ledger;
    history(ledger).await;
    let progress = JobProgress::default();
    let mut csv = String::from("subject_id\n");
    for i in 0..50 {
        csv.push_str(&format!("customer-{i}\n"));
    }
    let worker = ledger.clone();
    let watched = progress.clone();
    let result = tokio::task::spawn_blocking(move || {
        worker.preflight_blocking(
            PreflightRequest {
                organisation_id: ORG.to_owned(),
                message: helmet_campaign(),
                csv: csv.into_bytes(),
            },
            &watched,
        )
    })
    .await
    .expect("ran")
    .expect("a pre-flight");
    assert_eq!(result.counts.recipients, 50);
    assert_eq!(progress.done_of_total(), (50, 50));
    assert_eq!(progress.current_phase(), "checking the recipients");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_shared_by_two_subjects_may_be_sent_to_only_if_both_allow_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(dir.path());
    let ledger = &running.ledger;
    history(ledger).await;
    // A second customer record with Ann's address, whose holder objected.
    ledger
        .append(vec![
            sale_at_address("customer-9", ANN),
            objection("customer-9", "2025-05-02T12:00:00Z"),
        ])
        .await
        .expect("append");
    for _ in 0..500 {
        if ledger.status().await.lag.is_some_and(|lag| lag.total == 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let result = tokio::task::spawn_blocking({
        let ledger = ledger.clone();
        move || {
            ledger.preflight_blocking(
                PreflightRequest {
                    organisation_id: ORG.to_owned(),
                    message: helmet_campaign(),
                    csv: format!("email\n{ANN}\n").into_bytes(),
                },
                &JobProgress::default(),
            )
        }
    })
    .await
    .expect("ran")
    .expect("a pre-flight");
    assert_eq!((result.counts.allowed, result.counts.refused), (0, 1));
    let csv = text(&result.csv);
    let row = csv.lines().nth(1).expect("Ann's row");
    assert!(
        row.starts_with("2,ann@example.com,customer-1 customer-9,email,no,none,"),
        "{row}"
    );
    assert!(row.contains("R1:objection_recorded"), "{row}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_range_export_job_verifies_like_a_subjects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(dir.path());
    let ledger = &running.ledger;
    history(ledger).await;
    let id = ledger
        .start_export(v1::ExportRequest {
            organisation_id: ORG.to_owned(),
            scope: Some(v1::export_request::Scope::TimeRange(v1::TimeRangeExport {
                from: Some(at("2025-03-01T00:00:00Z")),
                to: Some(at("2025-06-01T00:00:00Z")),
            })),
            ..Default::default()
        })
        .expect("started");
    let job = finished(ledger, &id).await;
    assert_eq!(
        job.title,
        "evidence export of 2025-03-01T00:00:00Z to 2025-06-01T00:00:00Z"
    );
    let Some(JobOutput::Export(export)) = job.output() else {
        panic!("an export, not {:?}", job.state);
    };
    assert!(export.verification.passed, "{}", export.verification.text);
    assert!(export.verification.decisions >= 1);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_in_national_format_finds_the_subject_it_was_recorded_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(dir.path());
    let ledger = &running.ledger;
    history(ledger).await;
    let mut mobile = sale("customer-1", "2025-03-03T10:00:00Z");
    mobile.payload = Some(v1::envelope::Payload::ContactPointRecorded(
        v1::ContactPointRecorded {
            contact_point: Some(v1::ContactPoint {
                kind: v1::ContactKind::Mobile.into(),
                value: "+447700900123".to_owned(),
                sealed: None,
            }),
        },
    ));
    let appended = ledger.append(vec![mobile]).await.expect("append");
    let positions: Vec<_> = appended.into_iter().map(|(_, p)| p).collect();
    ledger
        .check(helmet_email("customer-1", &positions))
        .await
        .expect("applied");
    let mut message = helmet_campaign();
    message.channel = v1::Channel::Sms.into();
    let result = tokio::task::spawn_blocking({
        let ledger = ledger.clone();
        move || {
            ledger.preflight_blocking(
                PreflightRequest {
                    organisation_id: ORG.to_owned(),
                    message,
                    csv: b"phone\n07700 900123\n07700 900999\n".to_vec(),
                },
                &JobProgress::default(),
            )
        }
    })
    .await
    .expect("ran")
    .expect("a pre-flight");
    let csv = text(&result.csv);
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    // Read as E.164 (the ledger's region), digested, found.
    assert!(
        rows[0].starts_with("2,07700 900123,customer-1,sms,"),
        "{csv}"
    );
    // A number no subject has: decided alone.
    assert!(rows[1].starts_with("3,07700 900999,,sms,no,"), "{csv}");
    running.stop().await;
}
