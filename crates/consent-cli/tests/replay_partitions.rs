//! `consent-ledger replay` split across instances by partition, through
//! the real binary: each instance replays the partitions it owns, `replay
//! merge` joins their reports into the one a single run gives, and
//! `--changes` lists every changed decision.

mod support;

use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use support::*;

fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("the report")).expect("report JSON")
}

fn changed(totals: &Value) -> u64 {
    ["allowed_to_refused", "refused_to_allowed", "basis_changed"]
        .iter()
        .map(|k| totals[k].as_u64().expect("a count"))
        .sum()
}

#[tokio::test]
async fn instances_replay_their_partitions_and_merge_into_one_report() {
    let data = tempfile::tempdir().expect("data dir");
    let work = tempfile::tempdir().expect("work dir");
    let path = |name: &str| work.path().join(name).display().to_string();
    let generated = run(
        &args(&[
            "generate",
            "--subjects",
            "300",
            "--events",
            "4000",
            "--organisations",
            "3",
            "--seed",
            "5",
            "--out",
            &path("history.ndjson"),
        ]),
        Duration::from_secs(60),
    )
    .await;
    assert!(generated.status.success(), "{}", describe(&generated));
    let mut ledger = Ledger::serve(data.path(), &[], &[]).await;
    let appended = run(
        &args(&["append", &path("history.ndjson"), "--server", &ledger.base]),
        Duration::from_secs(120),
    )
    .await;
    // The generator's last facts lie ahead of today's clock, and the
    // ledger refuses facts from the future: what it took is the history.
    assert!(
        describe(&appended).contains(" appended, "),
        "{}",
        describe(&appended)
    );
    ledger.wait_caught_up(Duration::from_secs(60)).await;
    ledger.kill();

    let data_dir = data.path().display().to_string();
    let replay = |extra: &[&str]| {
        let mut all = args(&[
            "replay",
            "--data-dir",
            &data_dir,
            "--baseline-rule-set",
            "uk-pecr-2003",
            "--candidate-rule-set",
            "uk-pecr-duaa-2026-02-05",
            "--as-of",
            "2026-06-01T00:00:00Z",
        ]);
        all.extend(args(extra));
        all
    };
    let whole = run(
        &replay(&[
            "--out",
            &path("whole.json"),
            "--changes",
            &path("whole.ndjson"),
        ]),
        Duration::from_secs(120),
    )
    .await;
    assert!(whole.status.success(), "{}", describe(&whole));
    let whole_report = read_json(&work.path().join("whole.json"));
    let changes = std::fs::read_to_string(work.path().join("whole.ndjson")).expect("changes");
    let lines: Vec<Value> = changes
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert!(
        changed(&whole_report["totals"]) > 0,
        "{}",
        whole_report["totals"]
    );
    assert_eq!(lines.len() as u64, changed(&whole_report["totals"]));
    for line in &lines {
        assert!(line["change"].is_string(), "{line}");
        assert!(line["baseline"]["allowed"].is_boolean(), "{line}");
        assert!(line["candidate"]["relied_on"].is_array(), "{line}");
        assert!(line["question"]["kind"].is_string(), "{line}");
    }

    // Two instances, four partitions each (the embedded log has eight).
    for (name, partitions) in [("a", "0-3"), ("b", "4-7")] {
        let out = path(&format!("{name}.json"));
        let changes = path(&format!("{name}.ndjson"));
        let part = run(
            &replay(&[
                "--own-partitions",
                partitions,
                "--threads",
                "2",
                "--out",
                &out,
                "--changes",
                &changes,
            ]),
            Duration::from_secs(120),
        )
        .await;
        assert!(part.status.success(), "{}", describe(&part));
    }
    let merged = run(
        &args(&[
            "replay",
            "merge",
            &path("a.json"),
            &path("b.json"),
            "--out",
            &path("merged.json"),
        ]),
        Duration::from_secs(30),
    )
    .await;
    assert!(merged.status.success(), "{}", describe(&merged));
    let mut merged_report = read_json(&work.path().join("merged.json"));
    assert_eq!(
        merged_report["partitions"]["replayed"],
        serde_json::json!([0, 1, 2, 3, 4, 5, 6, 7])
    );
    merged_report
        .as_object_mut()
        .expect("an object")
        .remove("partitions");
    assert_eq!(merged_report, whole_report);
    let part_lines = ["a.ndjson", "b.ndjson"]
        .iter()
        .map(|f| {
            std::fs::read_to_string(work.path().join(f))
                .expect("changes")
                .lines()
                .count()
        })
        .sum::<usize>();
    assert_eq!(part_lines, lines.len());

    // A partition twice, or one left out: refused, saying which.
    let twice = run(
        &args(&[
            "replay",
            "merge",
            &path("a.json"),
            &path("a.json"),
            "--out",
            &path("bad.json"),
        ]),
        Duration::from_secs(30),
    )
    .await;
    assert!(!twice.status.success());
    assert!(
        describe(&twice).contains("partition 0 is in more than one report"),
        "{}",
        describe(&twice)
    );
    let missing = run(
        &args(&[
            "replay",
            "merge",
            &path("a.json"),
            "--out",
            &path("bad.json"),
        ]),
        Duration::from_secs(30),
    )
    .await;
    assert!(!missing.status.success());
    assert!(
        describe(&missing).contains("no report covers partition(s) [4, 5, 6, 7] of 8"),
        "{}",
        describe(&missing)
    );
}
