//! `consent-ledger report`: the regulator's page drawn from a bundle file,
//! with the real binary against a real served ledger (embedded log). The
//! page opens with whether the subject may be contacted today, and ends
//! with the commands that re-verify it, which work as printed.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use support::*;

const ORG: &str = "acme-motors";
const SUBJECT: &str = "cust-42";
const ORIGIN: &str = "ledger.acme.example/consent";

fn history() -> Value {
    let mut events = car_dealer(ORG);
    events.extend([
        json!({"organisationId": ORG, "subjectId": SUBJECT, "occurredAt": "2026-03-01T14:30:00Z",
         "saleRecorded": {"productCategoryId": "cars", "orderRef": "7781",
             "collection": {"route": "COLLECTION_ROUTE_DIRECT", "optOutOffered": true,
                            "contactPoint": {"kind": "CONTACT_KIND_EMAIL", "value": "jo@example.com"}}}}),
        json!({"organisationId": ORG, "subjectId": SUBJECT, "occurredAt": "2026-05-01T12:00:00Z",
         "optOutRecorded": {"channels": ["CHANNEL_EMAIL"], "receivedVia": "OPT_OUT_METHOD_UNSUBSCRIBE_LINK"}}),
    ]);
    json!({ "events": events })
}

fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).collect()
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// A served ledger with the car dealer's customer, and a subject bundle
/// exported with the CLI (no checks asked) into `dir`, with the ledger's
/// published key copied beside it. Returns the ledger, bundle and key.
async fn exported(data: &Path, dir: &Path) -> (Ledger, std::path::PathBuf, std::path::PathBuf) {
    let ledger = Ledger::serve(data, &[], &["--checkpoint-origin", ORIGIN]).await;
    ledger.post_ok("/v1/events", &history()).await;
    ledger.wait_caught_up(Duration::from_secs(30)).await;
    let bundle = dir.join("cust-42.json");
    let output = run(
        &args(&[
            "export",
            "--server",
            &ledger.base,
            "--organisation",
            ORG,
            "--subject",
            SUBJECT,
            "--out",
            &path(&bundle),
            "--html",
            &path(&dir.join("exported.html")),
        ]),
        Duration::from_secs(60),
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    let key = dir.join("checkpoint.pub");
    std::fs::copy(data.join("checkpoint.pub"), &key).expect("copy the published key");
    (ledger, bundle, key)
}

/// The commands the page prints, in order, as text.
fn printed_commands(html: &str) -> Vec<String> {
    html.split("<pre class=\"command\"><code>")
        .skip(1)
        .map(|rest| {
            rest.split("</code></pre>")
                .next()
                .expect("a closed command")
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .collect()
}

fn position_of(html: &str, id: &str) -> usize {
    html.find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("the page has no id={id}"))
}

#[tokio::test]
async fn a_subject_report_opens_with_today_and_ends_with_commands_that_verify_it() {
    let data = tempfile::tempdir().expect("data dir");
    let elsewhere = tempfile::tempdir().expect("the regulator's machine");
    let (_ledger, bundle, key) = exported(data.path(), elsewhere.path()).await;

    // The bundle carries the status: the last five decisions, one per
    // channel, at the export's time, named in its (signed) scope.
    let parsed: Value =
        serde_json::from_slice(&std::fs::read(&bundle).expect("read the bundle")).expect("JSON");
    assert_eq!(
        parsed["scope"]["status"]["decisions"], 5,
        "{}",
        parsed["scope"]
    );
    let decisions = parsed["decisions"].as_array().expect("decisions");
    assert_eq!(
        decisions.len(),
        5,
        "no sends and no checks: only the status"
    );
    let channels: Vec<&str> = decisions
        .iter()
        .map(|d| d["request"]["channel"].as_str().expect("channel"))
        .collect();
    assert_eq!(
        channels,
        [
            "CHANNEL_EMAIL",
            "CHANNEL_SMS",
            "CHANNEL_LIVE_CALL",
            "CHANNEL_AUTOMATED_CALL",
            "CHANNEL_POST"
        ]
    );
    for decision in decisions {
        assert_eq!(decision["request"]["at"], parsed["scope"]["status"]["at"]);
    }

    let page = elsewhere.path().join("report.html");
    let output = run(
        &args(&[
            "report",
            &path(&bundle),
            "--key",
            &path(&key),
            "--out",
            &path(&page),
        ]),
        Duration::from_secs(60),
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("PASS"));
    let html = std::fs::read_to_string(&page).expect("the page");

    // It opens with the status, before the verdict and every detail.
    let status_at = position_of(&html, "status");
    assert_eq!(
        html[..status_at].matches("<section").count(),
        1,
        "the status is the first section (its own tag opens just before its id)"
    );
    assert!(status_at < position_of(&html, "verification"));
    let status = &html[status_at..position_of(&html, "verification")];
    assert!(
        status.contains(&format!("May {ORG} contact {SUBJECT} today (")),
        "{status}"
    );
    let email = status
        .split("<div class=\"status-line\">")
        .nth(1)
        .expect("a line for email");
    assert!(
        email.contains("<strong>Email</strong>") && email.contains("REFUSED"),
        "{email}"
    );
    assert!(
        email.contains("reg 22(3)(c)"),
        "the opt-out's citation: {email}"
    );
    for channel in ["SMS", "Live calls", "Automated calls", "Post"] {
        assert!(
            status.contains(&format!("<strong>{channel}</strong>")),
            "{channel} in {status}"
        );
    }
    assert!(!html.contains("This report contains no decision"));

    // Who verified it: this command, its version, against the key given.
    let verdict = &html[position_of(&html, "verification")..];
    assert!(verdict.contains(">VERIFIED<"));
    assert!(verdict.contains(&format!(
        "Checked by consent-ledger {}, run by the holder of this file, at ",
        env!("CARGO_PKG_VERSION")
    )));
    assert!(verdict.contains(&format!("{ORIGIN}+")));

    // It ends with how to verify it yourself; the command it prints works.
    let last_section = html.rfind("<section").expect("sections");
    assert!(html[last_section..].contains("id=\"verify-yourself\""));
    let commands = printed_commands(&html[last_section..]);
    let verify = commands
        .iter()
        .find(|c| c.starts_with("consent-ledger verify "))
        .unwrap_or_else(|| panic!("no verify command in {commands:?}"));
    assert_eq!(
        verify,
        "consent-ledger verify cust-42.json --key checkpoint.pub"
    );
    let substituted: Vec<String> = verify
        .split_whitespace()
        .skip(1)
        .map(|word| match word {
            "cust-42.json" => path(&bundle),
            "checkpoint.pub" => path(&key),
            other => other.to_owned(),
        })
        .collect();
    let output = run(&substituted, Duration::from_secs(60)).await;
    assert!(output.status.success(), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("PASS"));

    // `export --html` drew the same page from the bundle it wrote.
    let exported =
        std::fs::read_to_string(elsewhere.path().join("exported.html")).expect("the exported page");
    assert!(exported.contains(&format!("May {ORG} contact {SUBJECT} today (")));
    assert!(exported.contains("Checked by consent-ledger export"));
    assert!(exported.contains("consent-ledger verify cust-42.json --key checkpoint.pub"));
}

#[tokio::test]
async fn the_http_export_page_says_the_exporting_ledger_checked_it() {
    let data = tempfile::tempdir().expect("data dir");
    let ledger = Ledger::serve(data.path(), &[], &["--checkpoint-origin", ORIGIN]).await;
    ledger.post_ok("/v1/events", &history()).await;
    ledger.wait_caught_up(Duration::from_secs(30)).await;
    let response = ledger
        .client
        .post(format!("{}/v1/exports?format=html", ledger.base))
        .json(&json!({"organisationId": ORG, "subject": {"subjectId": SUBJECT}}))
        .send()
        .await
        .expect("POST the export");
    assert!(response.status().is_success());
    let html = response.text().await.expect("the page");
    assert!(html.contains(&format!("May {ORG} contact {SUBJECT} today (")));
    assert!(html.contains("Checked by the exporting ledger"));
    assert!(html.contains("How to verify this yourself"));
}

#[tokio::test]
async fn a_report_with_pdf_prints_a_pdf_with_chromium() {
    if std::env::var("CONSENT_SKIP_BROWSER_TESTS").as_deref() == Ok("1") {
        eprintln!("CONSENT_SKIP_BROWSER_TESTS=1: PDF test skipped");
        return;
    }
    let on_path = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| dir.join("chromium").is_file())
    });
    assert!(
        on_path,
        "`chromium` is not installed (Debian package chromium): run .ci/install-deps.sh, \
         or set CONSENT_SKIP_BROWSER_TESTS=1 to skip the PDF test"
    );
    let data = tempfile::tempdir().expect("data dir");
    let elsewhere = tempfile::tempdir().expect("the regulator's machine");
    let (_ledger, bundle, key) = exported(data.path(), elsewhere.path()).await;
    let pdf = elsewhere.path().join("report.pdf");
    let output = run(
        &args(&[
            "report",
            &path(&bundle),
            "--key",
            &path(&key),
            "--pdf",
            &path(&pdf),
        ]),
        Duration::from_secs(180),
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    let printed = std::fs::read(&pdf).expect("the PDF");
    assert!(printed.starts_with(b"%PDF"), "not a PDF");
    assert!(printed.len() > 10_000, "a {} byte PDF", printed.len());
    assert!(
        bundle.with_extension("html").is_file(),
        "the HTML beside the bundle"
    );
}

#[tokio::test]
async fn a_report_with_pdf_and_no_chromium_names_the_missing_tool() {
    let data = tempfile::tempdir().expect("data dir");
    let elsewhere = tempfile::tempdir().expect("the regulator's machine");
    let (_ledger, bundle, key) = exported(data.path(), elsewhere.path()).await;
    let output = run(
        &args(&[
            "report",
            &path(&bundle),
            "--key",
            &path(&key),
            "--pdf",
            &path(&elsewhere.path().join("report.pdf")),
            "--chromium",
            "/nonexistent/chromium",
        ]),
        Duration::from_secs(60),
    )
    .await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--pdf needs Chromium"), "{stderr}");
    assert!(stderr.contains("/nonexistent/chromium"), "{stderr}");
}
