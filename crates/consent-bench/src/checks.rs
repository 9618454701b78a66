//! In-process checks: `Ledger::check` (validate, select the rule set, read
//! the organisation's and the subject's state from the sled view, decide,
//! encode the decision) against the raw floor of the same question: two
//! sled `get`s of the same two keys' worth of data (the organisation's and
//! the subject's routing keys in the raw baseline database).

use crate::measure::Latencies;
use crate::outcome::Outcome;
use consent_domain::{OrganisationId, SubjectId};
use consent_schema::v1;
use consent_service::Ledger;
use std::sync::Arc;
use std::time::Instant;

/// Concurrent callers for the throughput figures (the machine's cores).
fn callers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

pub async fn in_process(
    ledger: &Ledger,
    raw: &sled::Tree,
    requests: Arc<Vec<v1::CheckRequest>>,
    count: usize,
) -> anyhow::Result<Outcome> {
    // Warm up both paths (page cache, sled's cache, allocator).
    for request in requests.iter().take(count / 10) {
        ledger.check(request.clone()).await?;
        raw_get(raw, request)?;
    }

    let mut ledger_latency = Latencies::with_capacity(count);
    let mut allowed = 0u64;
    for request in requests.iter().cycle().take(count) {
        let started = Instant::now();
        let decision = ledger.check(request.clone()).await?;
        ledger_latency.record(started.elapsed());
        allowed += u64::from(decision.allowed);
    }
    let mut raw_latency = Latencies::with_capacity(count);
    for request in requests.iter().cycle().take(count) {
        let started = Instant::now();
        raw_get(raw, request)?;
        raw_latency.record(started.elapsed());
    }

    // Throughput with one caller per core.
    let callers = callers();
    let per_caller = count / callers;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for caller in 0..callers {
        let (ledger, requests) = (ledger.clone(), requests.clone());
        tasks.push(tokio::spawn(async move {
            for request in requests.iter().cycle().skip(caller * 7919).take(per_caller) {
                ledger.check(request.clone()).await?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let ledger_rate = (per_caller * callers) as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut threads = Vec::new();
    for caller in 0..callers {
        let (raw, requests) = (raw.clone(), requests.clone());
        threads.push(tokio::task::spawn_blocking(move || {
            for request in requests.iter().cycle().skip(caller * 7919).take(per_caller) {
                raw_get(&raw, request)?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for thread in threads {
        thread.await??;
    }
    let raw_rate = (per_caller * callers) as f64 / started.elapsed().as_secs_f64();

    let mut outcome = Outcome::new(
        "check",
        "In-process check (Ledger::check over the sled view)",
    );
    let p50 = ledger_latency.percentile_us(50.0);
    let p99 = ledger_latency.percentile_us(99.0);
    outcome.figure("check p50", p50, "us");
    outcome.figure("check p99", p99, "us");
    outcome.figure("check p99.9", ledger_latency.percentile_us(99.9), "us");
    outcome.figure(
        format!("checks/s, {callers} callers"),
        ledger_rate,
        "checks/s",
    );
    outcome.figure("raw 2x get p50", raw_latency.percentile_us(50.0), "us");
    outcome.figure("raw 2x get p99", raw_latency.percentile_us(99.0), "us");
    outcome.figure(
        format!("raw 2x get/s, {callers} threads"),
        raw_rate,
        "lookups/s",
    );
    outcome.figure(
        "allowed share of sampled checks",
        allowed as f64 / count as f64,
        "fraction",
    );
    let ratio = ledger_rate / raw_rate;
    outcome.ratio(
        ratio,
        "raw sled get of the organisation's and the subject's routing keys (2 gets per check), same questions, same concurrency",
    );
    outcome.target(
        "at least 0.5x the raw gets, p99 at most 20 us",
        ratio >= 0.5 && p99 <= 20.0,
    );
    outcome.note(format!(
        "{count} sequential checks timed one by one (after a warm-up of {}), then {count} across {callers} concurrent callers",
        count / 10
    ));
    Ok(outcome)
}

fn raw_get(raw: &sled::Tree, request: &v1::CheckRequest) -> anyhow::Result<usize> {
    let organisation = OrganisationId::new(request.organisation_id.clone());
    let subject = SubjectId::new(request.subject_id.clone());
    let a = raw.get(consent_schema::routing_key(&organisation, None))?;
    let b = raw.get(consent_schema::routing_key(&organisation, Some(&subject)))?;
    Ok(a.map_or(0, |v| v.len()) + b.map_or(0, |v| v.len()))
}
