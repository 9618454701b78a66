//! The generated data set, appended to an embedded log: the input every
//! benchmark reads.

use anyhow::Context;
use consent_generator::{Generator, GeneratorConfig};
use consent_log::{AppendRecord, EventLog, LogLayout};
use consent_log_embedded::EmbeddedLog;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Records per append, as a bulk import sends them.
const APPEND_CHUNK: usize = 5_000;

pub struct Dataset {
    pub log: Arc<EmbeddedLog>,
    pub events: u64,
    /// Sum of the stored payloads (the encoded envelopes).
    pub raw_bytes: u64,
    pub generate_time: Duration,
    pub append_time: Duration,
}

/// An append record of an envelope, routed as the ledger routes it.
pub fn record_of(
    layout: &LogLayout,
    envelope: &consent_schema::v1::Envelope,
) -> anyhow::Result<AppendRecord> {
    let event = consent_schema::event_from_proto(envelope)
        .with_context(|| format!("the generator made an invalid event {}", envelope.event_id))?;
    Ok(AppendRecord {
        topic: consent_schema::family_of(&event.fact).topic(layout),
        key: consent_schema::record_key(&event),
        payload: consent_schema::encode_envelope(envelope),
        headers: vec![(
            "event-kind".to_owned(),
            event.fact.kind().as_bytes().to_vec(),
        )],
    })
}

/// Generates the data set and appends it to a new embedded log in `dir`.
pub async fn build(
    config: GeneratorConfig,
    dir: &Path,
    layout: LogLayout,
) -> anyhow::Result<Dataset> {
    let log = {
        let dir = dir.to_owned();
        let layout = layout.clone();
        tokio::task::spawn_blocking(move || EmbeddedLog::open(&dir, layout)).await??
    };
    let log = Arc::new(log);
    let mut generator = Generator::new(config)?;
    let (mut events, mut raw_bytes) = (0u64, 0u64);
    let (mut generate_time, mut append_time) = (Duration::ZERO, Duration::ZERO);
    loop {
        let started = Instant::now();
        let mut chunk = Vec::with_capacity(APPEND_CHUNK);
        for envelope in generator.by_ref().take(APPEND_CHUNK) {
            let record = record_of(&layout, &envelope)?;
            raw_bytes += record.payload.len() as u64;
            chunk.push(record);
        }
        generate_time += started.elapsed();
        if chunk.is_empty() {
            break;
        }
        events += chunk.len() as u64;
        let started = Instant::now();
        log.append(chunk)
            .await
            .context("appending to the embedded log")?;
        append_time += started.elapsed();
        if events % 500_000 < APPEND_CHUNK as u64 {
            tracing::info!(events, "generated and appended");
        }
    }
    Ok(Dataset {
        log,
        events,
        raw_bytes,
        generate_time,
        append_time,
    })
}
