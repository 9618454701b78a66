//! Imports that can be re-run (issue 12, items 1 and 4), with the real
//! binary against a real ledger (embedded log): the same file appended
//! twice records each fact once and says so; an interrupted import re-run
//! appends only what is missing; a bad line is reported by number and the
//! rest appended; an import started before the ledger answers retries
//! until it does; suppression exports and TPS files import with the same
//! machinery.

mod support;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::*;

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/examples")
        .join(name)
}

fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).collect()
}

/// `consent-ledger append FILE` against `ledger`, with `extra` options.
async fn append(ledger: &Ledger, file: &Path, extra: &[&str]) -> std::process::Output {
    let mut command = args(&[
        "append",
        &file.display().to_string(),
        "--server",
        &ledger.base,
    ]);
    command.extend(args(extra));
    run(&command, Duration::from_secs(120)).await
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The summary line's counts: (appended, already present, refused).
fn counts(output: &std::process::Output) -> (u64, u64, u64) {
    let text = stdout(output);
    let line = text
        .lines()
        .find(|line| line.contains(" appended, "))
        .unwrap_or_else(|| panic!("no summary in the output: {}", describe(output)));
    let number_before = |word: &str| -> u64 {
        let at = line
            .find(word)
            .unwrap_or_else(|| panic!("`{word}` in {line}"));
        line[..at]
            .trim_end()
            .rsplit(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a count before `{word}` in {line}"))
    };
    (
        number_before(" appended"),
        number_before(" already present"),
        number_before(" refused"),
    )
}

/// Records in the log, over every partition.
async fn records_in_log(ledger: &Ledger) -> u64 {
    let status = ledger.wait_caught_up(Duration::from_secs(60)).await;
    status["partitions"]
        .as_array()
        .expect("partitions")
        .iter()
        .map(|p| p["endOffset"].as_u64().unwrap_or(0))
        .sum()
}

async fn history(ledger: &Ledger, organisation: &str, subject: &str) -> Vec<Value> {
    // The history is the view's: read it once the view has what was appended.
    ledger.wait_caught_up(Duration::from_secs(60)).await;
    let answer = ledger
        .get_ok(&format!(
            "/v1/organisations/{organisation}/subjects/{subject}/history"
        ))
        .await;
    answer["events"].as_array().cloned().unwrap_or_default()
}

/// `count` opt-outs, one per subject, as NDJSON lines without event ids.
fn opt_out_lines(count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            json!({
                "organisationId": "bulk-shop",
                "subjectId": format!("s-{i}"),
                "occurredAt": "2026-02-01T10:00:00Z",
                "source": {"system": "crm"},
                "optOutRecorded": {"channels": ["CHANNEL_EMAIL"], "receivedVia": "OPT_OUT_METHOD_UNSUBSCRIBE_LINK"}
            })
            .to_string()
        })
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").expect("write the file");
}

#[tokio::test]
async fn appending_the_same_file_twice_records_each_fact_once() {
    let data = tempfile::tempdir().expect("data dir");
    let ledger = Ledger::serve(data.path(), &[], &[]).await;
    let file = example("acme-motors.ndjson");

    let first = append(&ledger, &file, &[]).await;
    assert!(first.status.success(), "{}", describe(&first));
    assert_eq!(counts(&first), (3, 0, 0), "{}", describe(&first));
    let in_log = records_in_log(&ledger).await;

    let second = append(&ledger, &file, &[]).await;
    assert!(second.status.success(), "{}", describe(&second));
    assert_eq!(counts(&second), (0, 3, 0), "{}", describe(&second));
    assert_eq!(
        records_in_log(&ledger).await,
        in_log,
        "the second run wrote nothing to the log"
    );
    let events = history(&ledger, "acme-motors", "cust-42").await;
    assert_eq!(events.len(), 1, "the sale once: {events:?}");
}

#[tokio::test]
async fn an_interrupted_import_re_run_appends_each_fact_once() {
    let data = tempfile::tempdir().expect("data dir");
    let work = tempfile::tempdir().expect("work dir");
    let ledger = Ledger::serve(data.path(), &[], &[]).await;
    let lines = opt_out_lines(2_000);
    // The run that stopped half-way appended the first half of the file.
    let half = work.path().join("half.ndjson");
    write_lines(&half, &lines[..1_000]);
    let whole = work.path().join("whole.ndjson");
    write_lines(&whole, &lines);

    // The log's own records (the contact-digest key's) are there before.
    let before = records_in_log(&ledger).await;
    let first = append(&ledger, &half, &["--batch", "100"]).await;
    assert_eq!(counts(&first), (1_000, 0, 0), "{}", describe(&first));
    let rerun = append(&ledger, &whole, &["--batch", "100"]).await;
    assert!(rerun.status.success(), "{}", describe(&rerun));
    assert_eq!(counts(&rerun), (1_000, 1_000, 0), "{}", describe(&rerun));
    assert_eq!(
        records_in_log(&ledger).await - before,
        2_000,
        "each fact once in the log"
    );
    for subject in ["s-0", "s-999", "s-1000", "s-1999"] {
        let events = history(&ledger, "bulk-shop", subject).await;
        assert_eq!(events.len(), 1, "{subject}: {events:?}");
    }
}

#[tokio::test]
async fn a_bad_line_is_reported_by_number_and_the_rest_appended() {
    let data = tempfile::tempdir().expect("data dir");
    let work = tempfile::tempdir().expect("work dir");
    let ledger = Ledger::serve(data.path(), &[], &[]).await;
    let mut lines = opt_out_lines(6);
    lines[1] = "this is not JSON".to_owned();
    // Valid JSON, but an opt-out of no channel: the ledger refuses it.
    lines[3] = json!({
        "organisationId": "bulk-shop", "subjectId": "s-3", "occurredAt": "2026-02-01T10:00:00Z",
        "optOutRecorded": {"receivedVia": "OPT_OUT_METHOD_UNSUBSCRIBE_LINK"}
    })
    .to_string();
    let file = work.path().join("bad.ndjson");
    write_lines(&file, &lines);

    let output = append(&ledger, &file, &[]).await;
    assert!(
        !output.status.success(),
        "refused lines fail the run: {}",
        describe(&output)
    );
    assert_eq!(counts(&output), (4, 0, 2), "{}", describe(&output));
    let text = stdout(&output);
    assert!(
        text.contains("refused line 2: not a consent.v1.Envelope"),
        "{text}"
    );
    assert!(
        text.contains("refused line 4: events[") && text.contains("channels"),
        "the ledger's reason, naming the field: {text}"
    );
    assert_eq!(history(&ledger, "bulk-shop", "s-5").await.len(), 1);
}

#[tokio::test]
async fn an_import_started_before_the_ledger_answers_retries_until_it_does() {
    let data = tempfile::tempdir().expect("data dir");
    let listen = free_address();
    // The import starts first: its first attempts get no answer.
    let import = Command::new(BIN)
        .args([
            "append",
            &example("acme-motors.ndjson").display().to_string(),
            "--server",
            &format!("http://{listen}"),
            "--wait-for-view-secs",
            "0",
            "--attempts",
            "12",
        ])
        .env("CONSENT_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run consent-ledger append");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let mut ledger = Ledger::spawn_at(listen, data.path(), &[], &[], &[]);
    ledger.wait_ready().await;
    let output = tokio::task::spawn_blocking(move || import.wait_with_output())
        .await
        .expect("waiting")
        .expect("the import's output");
    assert!(output.status.success(), "{}", describe(&output));
    assert_eq!(counts(&output), (3, 0, 0), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("retrying"),
        "the failed attempts are logged: {stderr}"
    );
}

// ------------------------------------------------------ suppressions, TPS

/// A SendGrid global-unsubscribes export of `count` addresses, with a
/// spam-report export beside it.
fn sendgrid_unsubscribes(path: &Path, count: usize) {
    let mut text = String::from("email,created\n");
    for i in 0..count {
        text.push_str(&format!("person{i}@example.com,{}\n", 1_767_225_600 + i));
    }
    std::fs::write(path, text).expect("write the export");
}

async fn import(ledger: &Ledger, parts: &[&str]) -> std::process::Output {
    let mut command = args(&["import"]);
    command.extend(args(parts));
    command.extend(args(&["--server", &ledger.base]));
    run(&command, Duration::from_secs(300)).await
}

#[tokio::test]
async fn a_suppression_export_imports_its_refusals_and_counts_its_bounces() {
    let data = tempfile::tempdir().expect("data dir");
    let work = tempfile::tempdir().expect("work dir");
    let ledger = Ledger::serve(data.path(), &[], &[]).await;
    let ses = work.path().join("ses.csv");
    std::fs::write(
        &ses,
        "EmailAddress,Reason,LastUpdateTime\n\
         a@example.com,COMPLAINT,2026-03-01T10:00:00Z\n\
         b@example.com,BOUNCE,2026-03-01T10:00:00Z\n\
         c@example.com,COMPLAINT,\n\
         d@example.com,COMPLAINT,2026-03-02T10:00:00.524+00:00\n",
    )
    .expect("write");
    let before = records_in_log(&ledger).await;
    let output = import(
        &ledger,
        &[
            "suppressions",
            "--organisation",
            "acme",
            &ses.display().to_string(),
        ],
    )
    .await;
    assert!(
        !output.status.success(),
        "a refused row: {}",
        describe(&output)
    );
    assert_eq!(counts(&output), (2, 0, 1), "{}", describe(&output));
    let text = stdout(&output);
    assert!(
        text.contains("1 skipped (not a refusal: 1 bounces)"),
        "{text}"
    );
    assert!(text.contains("refused line 4: no readable time"), "{text}");
    assert_eq!(records_in_log(&ledger).await - before, 2);
}

#[tokio::test]
async fn a_tps_file_records_its_screening_only_after_every_row() {
    let data = tempfile::tempdir().expect("data dir");
    let work = tempfile::tempdir().expect("work dir");
    let ledger = Ledger::serve(data.path(), &[], &[]).await;
    let good = work.path().join("tps-full.txt");
    // As the TPS full file writes numbers: national, with or without the
    // space, CRLF.
    std::fs::write(&good, "01632 960001\r\n07700 900123\r\n01632960002 \r\n").expect("write");
    let output = import(
        &ledger,
        &[
            "tps",
            "--organisation",
            "acme",
            "--service",
            "tps",
            "--full",
            "--taken-at",
            "2026-03-01",
            &good.display().to_string(),
        ],
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    assert_eq!(
        counts(&output),
        (4, 0, 0),
        "3 listings and the screening: {}",
        describe(&output)
    );
    assert!(stdout(&output).contains("screening recorded: full TPS file of 3 numbers"));

    let bad = work.path().join("tps-bad.txt");
    std::fs::write(&bad, "01632 960003\n0163 29\n").expect("write");
    let output = import(
        &ledger,
        &[
            "tps",
            "--organisation",
            "acme",
            "--service",
            "ctps",
            "--full",
            "--taken-at",
            "2026-03-02",
            &bad.display().to_string(),
        ],
    )
    .await;
    assert!(!output.status.success(), "{}", describe(&output));
    assert_eq!(
        counts(&output),
        (1, 0, 1),
        "no screening: {}",
        describe(&output)
    );
    let text = stdout(&output);
    assert!(text.contains("refused line 2"), "{text}");
    assert!(text.contains("no screening recorded"), "{text}");
}

/// 20,000 rows, imported twice: the second run appends nothing, each row
/// (an address-only fact, found in its address's state) and the screening
/// (an organisation fact) answered "already present".
#[tokio::test]
async fn a_20k_row_suppression_export_and_tps_file_imported_twice_append_once() {
    let data = tempfile::tempdir().expect("data dir");
    let work = tempfile::tempdir().expect("work dir");
    let ledger = Ledger::serve(data.path(), &[], &[]).await;
    let export = work.path().join("unsubscribes.csv");
    sendgrid_unsubscribes(&export, 20_000);
    let tps = work.path().join("tps.txt");
    let numbers: String = (0..20_000).map(|i| format!("07400 {i:06}\r\n")).collect();
    std::fs::write(&tps, numbers).expect("write");
    let suppressions = [
        "suppressions",
        "--organisation",
        "acme",
        export.to_str().expect("path"),
    ];
    let screening = [
        "tps",
        "--organisation",
        "acme",
        "--service",
        "tps",
        "--full",
        "--taken-at",
        "2026-03-01",
        tps.to_str().expect("path"),
    ];

    let first = import(&ledger, &suppressions).await;
    assert_eq!(counts(&first), (20_000, 0, 0), "{}", describe(&first));
    let first = import(&ledger, &screening).await;
    assert_eq!(counts(&first), (20_001, 0, 0), "{}", describe(&first));
    let in_log = records_in_log(&ledger).await;

    let again = import(&ledger, &suppressions).await;
    assert_eq!(counts(&again), (0, 20_000, 0), "{}", describe(&again));
    let again = import(&ledger, &screening).await;
    assert_eq!(counts(&again), (0, 20_001, 0), "{}", describe(&again));
    assert_eq!(records_in_log(&ledger).await, in_log);
}
