//! A replay under another similarity map kept as a side view, then
//! promoted: the live ledger's answers change from the effective time on,
//! and not before; the live view and the log are untouched until then.

mod support;

use serde_json::{json, Value};
use std::path::PathBuf;
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

/// "May the tea shop email tom about teapots at `at`?"
fn teapots_for_tom(at: &str) -> Value {
    json!({"organisationId": "tea-shop", "subjectId": "tom", "channel": "CHANNEL_EMAIL",
           "purpose": "PURPOSE_COMMERCIAL", "productCategoryId": "teapots",
           "messageClass": "MESSAGE_CLASS_MARKETING", "promotionalContent": true,
           "optOutIncluded": true, "senderIdentified": true, "at": at})
}

#[tokio::test]
async fn a_promoted_similarity_map_changes_answers_from_its_effective_time_only() {
    let data = tempfile::tempdir().expect("data dir");
    let work = tempfile::tempdir().expect("work dir");
    let mut ledger = Ledger::serve(data.path(), &[], &[]).await;
    let output = run(
        &args(&[
            "append",
            &example("tea-shop.ndjson").display().to_string(),
            "--server",
            &ledger.base,
        ]),
        Duration::from_secs(60),
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    ledger.wait_caught_up(Duration::from_secs(30)).await;
    let before = ledger
        .post_ok("/v1/checks", &teapots_for_tom("2026-08-01T00:00:00Z"))
        .await;
    assert_eq!(before["allowed"], json!(false), "{before}");
    ledger.kill();

    // The replay: the embedded log admits one process, so the ledger is stopped.
    let side_view = work.path().join("tea-map");
    let output = run(
        &args(&[
            "replay",
            "--data-dir",
            &data.path().display().to_string(),
            "--similarity",
            &example("tea-shop-similarity.json").display().to_string(),
            "--side-view",
            &side_view.display().to_string(),
        ]),
        Duration::from_secs(120),
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    let written: Value = serde_json::from_slice(
        &std::fs::read(side_view.join("side-view.json")).expect("the side view"),
    )
    .expect("side view JSON");
    assert_eq!(written["format"], "consent-ledger side view v1");
    assert_eq!(
        written["report"]["totals"]["refused_to_allowed"],
        json!(2),
        "{}",
        written["report"]["totals"]
    );

    // The live ledger is as it was.
    ledger.restart().await;
    let still = ledger
        .post_ok("/v1/checks", &teapots_for_tom("2026-08-01T00:00:00Z"))
        .await;
    assert_eq!(still["allowed"], json!(false));

    // Promote from 1 July 2026.
    let promote = args(&[
        "promote",
        &side_view.display().to_string(),
        "--server",
        &ledger.base,
        "--effective-from",
        "2026-07-01T00:00:00Z",
    ]);
    let first = run(&promote, Duration::from_secs(60)).await;
    assert!(first.status.success(), "{}", describe(&first));
    ledger.wait_caught_up(Duration::from_secs(30)).await;
    let after = ledger
        .post_ok("/v1/checks", &teapots_for_tom("2026-08-01T00:00:00Z"))
        .await;
    assert_eq!(after["allowed"], json!(true), "{after}");
    assert_eq!(after["lawfulBasis"], json!("LAWFUL_BASIS_SOFT_OPT_IN"));
    let earlier = ledger
        .post_ok("/v1/checks", &teapots_for_tom("2026-06-30T00:00:00Z"))
        .await;
    assert_eq!(earlier["allowed"], json!(false), "history keeps its map");

    // Promoting again appends the same event (same id): the fold counts it once.
    let again = run(&promote, Duration::from_secs(60)).await;
    assert!(again.status.success(), "{}", describe(&again));
    let event_id = |output: &std::process::Output| {
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.split("(event ")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no event id in {text}"))
    };
    assert_eq!(event_id(&first), event_id(&again));
}
