//! Projection throughput: the real projector folding the embedded log into
//! the sled view (states, history, indexes, trees and offsets in one atomic
//! write per batch), against raw sled `apply_batch` of the same records'
//! bytes read from the same log in batches of the same size. Also the
//! view's bytes on disk per event.

use crate::measure::directory_bytes;
use crate::outcome::Outcome;
use anyhow::Context;
use consent_log::{EventLog, StartOffsets};
use consent_projector::{Projector, ProjectorConfig};
use consent_store::ViewStore;
use consent_store_sled::SledStore;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Records per projector step (one atomic write), and per raw batch.
pub const BATCH: usize = 1_000;

pub struct Projected {
    pub projector: Projector,
    pub seconds: f64,
    pub events: u64,
}

pub fn projector_config() -> ProjectorConfig {
    ProjectorConfig {
        batch_size: BATCH,
        poll_wait: Duration::from_millis(20),
        dead_letters: false,
        ..ProjectorConfig::default()
    }
}

/// Projects the whole of `log` into a new sled view in `dir` with the real
/// projector and flushes it.
pub async fn project(log: Arc<dyn EventLog>, dir: &Path) -> anyhow::Result<Projected> {
    let store = {
        let dir = dir.to_owned();
        Arc::new(tokio::task::spawn_blocking(move || SledStore::open(&dir)).await??)
    };
    let mut projector = Projector::new(log, store.clone(), projector_config());
    let started = Instant::now();
    let status = projector
        .catch_up(&|_| {})
        .await
        .context("projecting the log")?;
    let flush_store = store.clone();
    tokio::task::spawn_blocking(move || flush_store.flush()).await??;
    let seconds = started.elapsed().as_secs_f64();
    Ok(Projected {
        projector,
        seconds,
        events: status.events_applied,
    })
}

/// The raw baseline: every record of `log`, read in batches of [`BATCH`],
/// written with one sled `apply_batch` per batch as `routing key -> stored
/// bytes` plus the batch's offsets; flushed at the end. Returns the seconds
/// it took, the records written, and the raw database (whose keys the raw
/// `get` baseline reads).
pub async fn raw_baseline(
    log: Arc<dyn EventLog>,
    dir: &Path,
) -> anyhow::Result<(f64, u64, sled::Db)> {
    let db = sled::Config::new().path(dir).open()?;
    let tree = db.open_tree("raw")?;
    let ends = log.end_offsets().await?;
    let total: u64 = ends.values().sum();
    let start: StartOffsets = ends.keys().map(|tp| (tp.clone(), 0)).collect();
    let mut reader = log.reader(start).await?;
    let mut offsets: std::collections::BTreeMap<String, u64> = Default::default();
    let started = Instant::now();
    let mut written = 0u64;
    while written < total {
        let records = reader.next_batch(BATCH, Duration::from_millis(200)).await?;
        if records.is_empty() {
            anyhow::bail!("the log ended at {written} of {total} records");
        }
        written += records.len() as u64;
        let tree = tree.clone();
        let mut batch = sled::Batch::default();
        for record in &records {
            batch.insert(record.key.as_slice(), record.payload.as_slice());
            offsets.insert(
                format!("{}/{}", record.position.topic, record.position.partition),
                record.position.offset + 1,
            );
        }
        let encoded: Vec<u8> = offsets
            .iter()
            .flat_map(|(tp, offset)| tp.bytes().chain(offset.to_be_bytes()))
            .collect();
        batch.insert(&b"\xffoffsets"[..], encoded);
        tokio::task::spawn_blocking(move || tree.apply_batch(batch)).await??;
    }
    let flush = db.clone();
    tokio::task::spawn_blocking(move || flush.flush()).await??;
    Ok((started.elapsed().as_secs_f64(), written, db))
}

pub fn throughput_outcome(projected: &Projected, raw: (f64, u64)) -> Outcome {
    let mut outcome = Outcome::new(
        "projection",
        "Projection throughput, embedded log -> sled view",
    );
    let ledger = projected.events as f64 / projected.seconds;
    let baseline = raw.1 as f64 / raw.0;
    outcome.figure("events projected", projected.events as f64, "events");
    outcome.figure("projector", ledger, "events/s");
    outcome.figure("raw sled apply_batch", baseline, "records/s");
    outcome.ratio(
        ledger / baseline,
        "raw sled apply_batch of the same records (routing key -> stored bytes, plus offsets), batches of 1,000 read from the same log",
    );
    let ratio = ledger / baseline;
    outcome.target("at least 0.5x the raw write", ratio >= 0.5);
    outcome.note(format!(
        "{BATCH} records per atomic write; the projector decodes and validates each record, reads each touched state once per batch, folds, and writes states, history, contact index, tree nodes and offsets; both runs end with a flush"
    ));
    outcome
}

pub fn disk_outcome(view_dir: &Path, events: u64, raw_bytes: u64) -> anyhow::Result<Outcome> {
    let view = directory_bytes(view_dir)?;
    let mut outcome = Outcome::new("disk", "Disk bytes per event in the sled view");
    let per_event = view as f64 / events as f64;
    let raw = raw_bytes as f64 / events as f64;
    outcome.figure("view on disk", view as f64, "bytes");
    outcome.figure("view per event", per_event, "bytes/event");
    outcome.figure("raw event (encoded envelope)", raw, "bytes/event");
    outcome.ratio(per_event / raw, "the raw encoded event bytes");
    outcome.target("at most 3x the raw event bytes", per_event / raw <= 3.0);
    outcome.note("every file of the sled directory after a flush, divided by events projected");
    Ok(outcome)
}
