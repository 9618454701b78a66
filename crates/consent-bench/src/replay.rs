//! Replay of the whole log under the other rule set, with the diff and
//! every changed decision written to a file (consent-replay-runner, as
//! `consent-ledger replay --changes` runs it: bounded memory, one worker
//! per core), against the raw read of the same records.

use crate::measure::{peak_resident_bytes, reset_peak_resident, resident_bytes};
use crate::outcome::Outcome;
use consent_domain::rules::RuleCatalogue;
use consent_log::{EventLog, LogRecord, StartOffsets};
use consent_replay::{ReplayPlan, RuleSelection};
use consent_replay_runner::{run, RunnerConfig, Silent};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The log size the replay target names.
const TARGET_EVENTS: u64 = 10_000_000;

pub const BASELINE_RULE_SET: &str = "uk-pecr-2003";
pub const CANDIDATE_RULE_SET: &str = "uk-pecr-duaa-2026-02-05";

/// Reads every record of `log`, handing each batch to `each`.
async fn read_all(
    log: &Arc<dyn EventLog>,
    mut each: impl FnMut(Vec<LogRecord>),
) -> anyhow::Result<u64> {
    let ends = log.end_offsets().await?;
    let total: u64 = ends.values().sum();
    let start: StartOffsets = ends.keys().map(|tp| (tp.clone(), 0)).collect();
    let mut reader = log.reader(start).await?;
    let mut read = 0u64;
    while read < total {
        let records = reader.next_batch(2_000, Duration::from_millis(200)).await?;
        if records.is_empty() {
            anyhow::bail!("the log ended at {read} of {total} records");
        }
        read += records.len() as u64;
        each(records);
    }
    Ok(read)
}

pub async fn replay(log: Arc<dyn EventLog>) -> anyhow::Result<Outcome> {
    // The raw baseline: the same records read, nothing done with them.
    let started = Instant::now();
    let mut bytes = 0u64;
    let read = read_all(&log, |records| {
        bytes += records.iter().map(|r| r.payload.len() as u64).sum::<u64>();
    })
    .await?;
    let raw_seconds = started.elapsed().as_secs_f64();

    let resident_before = resident_bytes().unwrap_or(0);
    let reset = reset_peak_resident();
    let plan = ReplayPlan::new(
        RuleSelection::named(BASELINE_RULE_SET),
        RuleSelection::named(CANDIDATE_RULE_SET),
    );
    let spill = tempfile::tempdir()?;
    let changes_path = spill.path().join("changes.ndjson");
    let mut config = RunnerConfig::new(plan, RuleCatalogue::uk());
    config.spill_dir = Some(spill.path().to_owned());
    config.changes = Some(changes_path.clone());
    let threads = config.threads;
    let runtime = tokio::runtime::Handle::current();
    let started = Instant::now();
    let heap = crate::heap::Measurement::start();
    let replayed = tokio::task::spawn_blocking(move || run(&runtime, log, config, &Silent)).await;
    let heap_peak = heap.finish();
    let replayed = replayed??;
    let seconds = started.elapsed().as_secs_f64();
    let peak = peak_resident_bytes().unwrap_or(0);
    let report = replayed.report;
    let changes_bytes = std::fs::metadata(&changes_path).map_or(0, |m| m.len());
    let rejected = report.input.rejected;

    let mut outcome = Outcome::new(
        "replay",
        format!("Replay under {CANDIDATE_RULE_SET} against {BASELINE_RULE_SET}, with the diff"),
    );
    outcome.figure("records replayed", read as f64, "records");
    outcome.figure("replay time", seconds, "s");
    outcome.figure("replay rate", read as f64 / seconds, "records/s");
    outcome.figure("raw read rate", read as f64 / raw_seconds, "records/s");
    outcome.figure(
        "decisions compared",
        report.totals.evaluated as f64,
        "decisions",
    );
    outcome.figure(
        "decisions changed",
        report.totals.changed() as f64,
        "decisions",
    );
    outcome.figure("records rejected", rejected as f64, "records");
    outcome.figure(
        "changes file (every changed decision, NDJSON)",
        changes_bytes as f64,
        "bytes",
    );
    outcome.figure(
        "changed decisions written",
        replayed.changes_written as f64,
        "decisions",
    );
    outcome.figure(
        "spilled to sort runs",
        replayed.spilled_bytes as f64 / 1_048_576.0,
        "MiB",
    );
    outcome.figure("worker threads", threads as f64, "threads");
    outcome.figure("peak resident memory", peak as f64 / 1_048_576.0, "MiB");
    outcome.figure(
        "resident before the replay",
        resident_before as f64 / 1_048_576.0,
        "MiB",
    );
    outcome.ratio(
        raw_seconds / seconds,
        "reading the same records from the embedded log and doing nothing with them",
    );
    // The target names the 10M-event log; a smaller run is extrapolated
    // linearly (the replay is linear in the log), never credited as is.
    let seconds_for_10m = seconds * (TARGET_EVENTS as f64 / (read.max(1) as f64));
    outcome.figure(
        "replay time, extrapolated to 10M events",
        seconds_for_10m,
        "s",
    );
    // Issue #13: the replay's own memory at most 1 GiB, whatever the
    // log's size: the heap it held at its peak (counted by the allocator),
    // and, noisier, the process's peak resident set less what it held
    // before.
    let own = peak.saturating_sub(resident_before);
    outcome.figure(
        "replay's own memory (peak less resident before)",
        own as f64 / 1_048_576.0,
        "MiB",
    );
    outcome.figure(
        "replay's own heap at its peak (allocated less freed)",
        heap_peak as f64 / 1_048_576.0,
        "MiB",
    );
    outcome.target(
        "at most 60 s for the 10M-event log, at most 1 GiB of its own memory",
        seconds_for_10m <= 60.0 && reset && own <= 1 << 30 && heap_peak <= 1 << 30,
    );
    if !reset {
        outcome.note("the peak could not be reset (no /proc/self/clear_refs): it includes the earlier benchmarks");
    } else {
        outcome.note("peak memory is the process's VmHWM, reset just before the replay; it includes what the process held already (the resident figure before)");
    }
    Ok(outcome)
}
