//! The streamed replay gives the in-memory replay's report, for generated
//! histories appended to a real embedded log: whatever the sort's run size
//! (in memory or spilled), the number of workers, or the split of the
//! partitions between instances whose reports are merged. Its changes
//! file holds exactly the changed decisions; its organisation filter
//! replays only that organisation.

use consent_domain::rules::RuleCatalogue;
use consent_domain::vocabulary::Channel;
use consent_domain::{OrganisationId, Timestamp};
use consent_generator::{Generator, GeneratorConfig};
use consent_log::{AppendRecord, EventLog, StartOffsets};
use consent_log_embedded::EmbeddedLog;
use consent_replay::{
    ChangedDecision, EligibilityQuestions, ReplayPlan, ReplayReport, Replayer, RuleSelection,
};
use consent_replay_runner::{run, RunOutcome, RunnerConfig, Silent};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

const PARTITIONS: u32 = 4;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    log: Arc<dyn EventLog>,
    _dir: tempfile::TempDir,
}

/// A generated history in a new embedded log, with some records delivered
/// twice and one record that does not decode, under a subject's key.
fn fixture(seed: u64, subjects: u64, events: u64) -> Fixture {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let layout = consent_schema::ledger_layout("consent", PARTITIONS);
    let log = EmbeddedLog::open(&dir.path().join("log"), layout.clone()).unwrap();
    let log: Arc<dyn EventLog> = Arc::new(log);
    let generator = Generator::new(GeneratorConfig {
        seed,
        subjects,
        events,
        organisations: Some(3),
    })
    .unwrap();
    let mut records: Vec<AppendRecord> = generator
        .map(|envelope| {
            let event = consent_schema::event_from_proto(&envelope).unwrap();
            AppendRecord {
                topic: consent_schema::family_of(&event.fact).topic(&layout),
                key: consent_schema::record_key(&event),
                payload: consent_schema::encode_envelope(&envelope),
                headers: Vec::new(),
            }
        })
        .collect();
    let again: Vec<AppendRecord> = records.iter().step_by(17).cloned().collect();
    records.extend(again);
    let first_subject_key = records
        .iter()
        .find(|r| !consent_schema::is_organisation_key(&r.key))
        .map(|r| r.key.clone())
        .unwrap();
    records.push(AppendRecord {
        topic: consent_schema::EventFamily::Grants.topic(&layout),
        key: first_subject_key,
        payload: b"not an envelope".to_vec(),
        headers: Vec::new(),
    });
    runtime.block_on(log.append(records)).unwrap();
    Fixture {
        runtime,
        log,
        _dir: dir,
    }
}

fn plan() -> ReplayPlan {
    let mut plan = ReplayPlan::new(
        RuleSelection::named("uk-pecr-2003"),
        RuleSelection::named("uk-pecr-duaa-2026-02-05"),
    );
    plan.questions.eligibility = Some(EligibilityQuestions {
        as_of: Timestamp::parse_rfc3339("2026-06-01T00:00:00Z").unwrap(),
        channels: vec![Channel::Email, Channel::Sms, Channel::LiveCall],
    });
    plan.samples_per_kind = 3;
    plan
}

/// The reference: the in-memory replayer fed every record of the log.
fn in_memory(fixture: &Fixture, plan: ReplayPlan) -> ReplayReport {
    let mut replayer = Replayer::new(plan, RuleCatalogue::uk()).unwrap();
    fixture.runtime.block_on(async {
        let ends = fixture.log.end_offsets().await.unwrap();
        let total: u64 = ends.values().sum();
        let start: StartOffsets = ends.keys().map(|tp| (tp.clone(), 0)).collect();
        let mut reader = fixture.log.reader(start).await.unwrap();
        let mut read = 0;
        while read < total {
            let batch = reader
                .next_batch(1_000, Duration::from_millis(100))
                .await
                .unwrap();
            read += batch.len() as u64;
            for record in batch {
                if consent_schema::is_ledger_record_key(&record.key) {
                    continue;
                }
                let position = consent_schema::event_position(&record.position);
                let _ = replayer.apply_stored(position, &record.payload);
            }
        }
    });
    replayer.report()
}

fn streamed(
    fixture: &Fixture,
    plan: ReplayPlan,
    partitions: Option<&[u32]>,
    threads: usize,
    run_bytes: usize,
    changes: Option<std::path::PathBuf>,
) -> RunOutcome {
    let config = RunnerConfig {
        partitions: partitions.map(|p| p.iter().copied().collect()),
        threads,
        run_bytes,
        changes,
        ..RunnerConfig::new(plan, RuleCatalogue::uk())
    };
    run(
        fixture.runtime.handle(),
        fixture.log.clone(),
        config,
        &Silent,
    )
    .unwrap()
}

fn read_changes(path: &std::path::Path) -> Vec<ChangedDecision> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn change_keys(changes: &[ChangedDecision]) -> BTreeSet<String> {
    changes
        .iter()
        .map(|c| serde_json::to_string(c).unwrap())
        .collect()
}

#[test]
fn one_streamed_run_gives_the_in_memory_report_and_every_change() {
    let fixture = fixture(7, 400, 6_000);
    let expected = in_memory(&fixture, plan());
    assert!(
        expected.totals.changed() > 0,
        "the history must change some decisions for the test to mean anything"
    );
    assert_eq!(expected.input.rejected, 1);
    assert!(expected.input.duplicates > 0);

    let dir = tempfile::tempdir().unwrap();
    let changes = dir.path().join("changes.ndjson");
    // A 4 KiB run: every partition is sorted in many spilled runs.
    let outcome = streamed(&fixture, plan(), None, 2, 4 * 1024, Some(changes.clone()));
    assert!(outcome.spilled_bytes > 0);
    assert_eq!(outcome.report, expected);

    let lines = read_changes(&changes);
    assert_eq!(lines.len() as u64, expected.totals.changed());
    assert_eq!(outcome.changes_written, expected.totals.changed());
    let by_kind = |kind| lines.iter().filter(|c| c.change == kind).count() as u64;
    use consent_replay::ChangeKind;
    assert_eq!(
        by_kind(ChangeKind::AllowedToRefused),
        expected.totals.allowed_to_refused
    );
    assert_eq!(
        by_kind(ChangeKind::RefusedToAllowed),
        expected.totals.refused_to_allowed
    );
    assert_eq!(
        by_kind(ChangeKind::BasisChanged),
        expected.totals.basis_changed
    );
    // Every sample of the report is one of the lines.
    let keys = change_keys(&lines);
    for (kind, samples) in [
        (
            ChangeKind::AllowedToRefused,
            &expected.samples.allowed_to_refused,
        ),
        (
            ChangeKind::RefusedToAllowed,
            &expected.samples.refused_to_allowed,
        ),
        (ChangeKind::BasisChanged, &expected.samples.basis_changed),
    ] {
        for sample in samples {
            let line = ChangedDecision {
                change: kind,
                decision: sample.clone(),
            };
            assert!(keys.contains(&serde_json::to_string(&line).unwrap()));
        }
    }
}

#[test]
fn the_organisation_filter_replays_only_that_organisation() {
    let fixture = fixture(11, 300, 4_000);
    let everything = in_memory(&fixture, plan());
    let organisation: OrganisationId = everything
        .by_organisation
        .iter()
        .max_by_key(|(_, counts)| counts.changed())
        .map(|(o, _)| o.clone())
        .unwrap();
    let mut filtered_plan = plan();
    filtered_plan.organisations.insert(organisation.clone());

    let dir = tempfile::tempdir().unwrap();
    let changes = dir.path().join("changes.ndjson");
    let outcome = streamed(
        &fixture,
        filtered_plan.clone(),
        None,
        2,
        64 * 1024,
        Some(changes.clone()),
    );
    let report = outcome.report;
    assert_eq!(report, in_memory(&fixture, filtered_plan));
    assert_eq!(
        report.by_organisation.keys().collect::<Vec<_>>(),
        vec![&organisation]
    );
    assert_eq!(report.totals, everything.by_organisation[&organisation]);
    let lines = read_changes(&changes);
    assert_eq!(lines.len() as u64, report.totals.changed());
    assert!(lines
        .iter()
        .all(|c| c.decision.organisation == organisation));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// Split the partitions between instances in any way, with any
    /// number of workers and run size: the merged report is the one run's
    /// over every partition, which is the in-memory report; the changes
    /// files together hold the one run's changes.
    #[test]
    fn split_by_partition_then_merged_is_one_run(
        seed in 1u64..1_000,
        owners in proptest::collection::vec(0usize..3, PARTITIONS as usize),
        threads in 1usize..4,
        run_bytes in prop_oneof![Just(2_048usize), Just(usize::MAX)],
    ) {
        let fixture = fixture(seed, 150, 2_000);
        let all: Vec<u32> = (0..PARTITIONS).collect();
        let dir = tempfile::tempdir().unwrap();
        let whole_changes = dir.path().join("whole.ndjson");
        let whole = streamed(&fixture, plan(), Some(&all), threads, run_bytes, Some(whole_changes.clone()));

        let mut parts = Vec::new();
        let mut part_changes = Vec::new();
        for instance in 0..3 {
            let owned: Vec<u32> = all.iter().copied().filter(|p| owners[*p as usize] == instance).collect();
            if owned.is_empty() {
                continue;
            }
            let path = dir.path().join(format!("part-{instance}.ndjson"));
            parts.push(streamed(&fixture, plan(), Some(&owned), threads, run_bytes, Some(path.clone())).report);
            part_changes.extend(read_changes(&path));
        }
        // Through JSON, as `consent-ledger replay merge` reads them.
        let parts: Vec<ReplayReport> = parts
            .iter()
            .map(|r| serde_json::from_slice(&serde_json::to_vec(r).unwrap()).unwrap())
            .collect();
        let merged = ReplayReport::merge(parts).unwrap();
        prop_assert_eq!(&merged, &whole.report);

        let mut unsplit = whole.report.clone();
        unsplit.partitions = None;
        prop_assert_eq!(unsplit, in_memory(&fixture, plan()));
        let whole_lines = read_changes(&whole_changes);
        prop_assert_eq!(part_changes.len(), whole_lines.len());
        prop_assert_eq!(change_keys(&part_changes), change_keys(&whole_lines));
    }
}

#[test]
fn merge_refuses_overlapping_missing_and_different_replays() {
    let fixture = fixture(3, 100, 1_500);
    let a = streamed(&fixture, plan(), Some(&[0, 1]), 1, usize::MAX, None).report;
    let b = streamed(&fixture, plan(), Some(&[1, 2, 3]), 1, usize::MAX, None).report;
    let c = streamed(&fixture, plan(), Some(&[2]), 1, usize::MAX, None).report;
    let d = streamed(&fixture, plan(), Some(&[3]), 1, usize::MAX, None).report;
    let overlap = ReplayReport::merge(vec![a.clone(), b]).unwrap_err();
    assert_eq!(
        overlap.to_string(),
        "partition 1 is in more than one report (report 1 replayed it again)"
    );
    let missing = ReplayReport::merge(vec![a.clone(), c.clone()]).unwrap_err();
    assert_eq!(
        missing.to_string(),
        "no report covers partition(s) [3] of 4"
    );
    let mut other_plan = plan();
    other_plan.candidate = RuleSelection::InForce;
    let other = streamed(&fixture, other_plan, Some(&[3]), 1, usize::MAX, None).report;
    let different = ReplayReport::merge(vec![a.clone(), c.clone(), other]).unwrap_err();
    assert_eq!(
        different.to_string(),
        "report 2 replayed another plan than report 0: its `candidate` differs"
    );
    assert!(ReplayReport::merge(vec![a, c, d]).is_ok());
}
