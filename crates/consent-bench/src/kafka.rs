//! The Kafka path through the tansu test broker: the broker's ingest, the
//! projector from Kafka into a sled view against the raw read of the same
//! topics, and an opt-out appended through the ledger then honoured by
//! checks (end to end: append, broker, projector, view, check).

use crate::measure::Latencies;
use crate::outcome::Outcome;
use crate::projection::{project, projector_config};
use anyhow::Context;
use consent_kafka::test_support::TestBroker;
use consent_kafka::{KafkaConfig, KafkaLog};
use consent_log::{AppendRecord, EventLog, LogLayout, StartOffsets};
use consent_projector::Projector;
use consent_schema::pbjson_types::Timestamp;
use consent_schema::v1;
use consent_service::Ledger;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct KafkaSizes {
    pub records: usize,
    pub opt_outs: usize,
}

pub async fn measure(
    source: Arc<dyn EventLog>,
    layout: LogLayout,
    work: &Path,
    sizes: KafkaSizes,
    requests: &[v1::CheckRequest],
) -> anyhow::Result<Vec<Outcome>> {
    let broker = tokio::task::spawn_blocking(TestBroker::launch)
        .await?
        .context("starting the tansu test broker")?;
    let mut config = KafkaConfig::new(broker.bootstrap(), layout);
    config.replication_factor = 1;
    let log: Arc<dyn EventLog> = Arc::new(KafkaLog::open(config).await?);

    // The first records of the embedded log, as they would be produced.
    let ends = source.end_offsets().await?;
    let start: StartOffsets = ends.keys().map(|tp| (tp.clone(), 0)).collect();
    let mut reader = source.reader(start).await?;
    let mut records: Vec<AppendRecord> = Vec::with_capacity(sizes.records);
    while records.len() < sizes.records {
        let batch = reader
            .next_batch(
                (sizes.records - records.len()).min(5_000),
                Duration::from_millis(200),
            )
            .await?;
        if batch.is_empty() {
            break;
        }
        records.extend(batch.into_iter().map(|record| AppendRecord {
            topic: record.position.topic,
            key: record.key,
            payload: record.payload,
            headers: record.headers,
        }));
    }
    let count = records.len();
    let started = Instant::now();
    for chunk in records.chunks(1_000) {
        log.append(chunk.to_vec())
            .await
            .context("appending to Kafka")?;
    }
    let append_seconds = started.elapsed().as_secs_f64();
    drop(records);

    // Raw: read everything back from the broker.
    let ends = log.end_offsets().await?;
    let total: u64 = ends.values().sum();
    let start: StartOffsets = ends.keys().map(|tp| (tp.clone(), 0)).collect();
    let mut reader = log.reader(start).await?;
    let started = Instant::now();
    let mut read = 0u64;
    while read < total {
        let batch = reader.next_batch(1_000, Duration::from_millis(500)).await?;
        if batch.is_empty() && started.elapsed() > Duration::from_secs(120) {
            anyhow::bail!("reading Kafka stalled at {read} of {total}");
        }
        read += batch.len() as u64;
    }
    let raw_seconds = started.elapsed().as_secs_f64();
    drop(reader);

    let projected = project(log.clone(), &work.join("kafka-view")).await?;
    let mut path = Outcome::new(
        "kafka-projection",
        "Projection through Kafka (tansu test broker)",
    );
    path.figure("records", count as f64, "records");
    path.figure(
        "broker ingest (append, acks=all)",
        count as f64 / append_seconds,
        "records/s",
    );
    path.figure(
        "raw read from the broker",
        read as f64 / raw_seconds,
        "records/s",
    );
    path.figure(
        "projector from Kafka",
        projected.events as f64 / projected.seconds,
        "events/s",
    );
    path.ratio(
        (projected.events as f64 / projected.seconds) / (read as f64 / raw_seconds),
        "reading the same records from the broker and doing nothing with them",
    );
    path.note("bounded by the single-process tansu broker (SQLite storage) on the same two cores; the projector's own ceiling is the embedded-log figure");

    // Opt-outs honoured end to end.
    let projection = projected.projector.projection();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(run(projected.projector, stopped));
    let ledger = Ledger::new(projection);
    let mut latencies = Latencies::with_capacity(sizes.opt_outs);
    let mut timeouts = 0;
    for (index, request) in requests.iter().take(sizes.opt_outs).enumerate() {
        let at = request.at.unwrap_or_default();
        let envelope = v1::Envelope {
            organisation_id: request.organisation_id.clone(),
            subject_id: request.subject_id.clone(),
            occurred_at: Some(Timestamp {
                seconds: at.seconds - 86_400,
                nanos: 0,
            }),
            payload: Some(v1::envelope::Payload::OptOutRecorded(v1::OptOutRecorded {
                contact_point: None,
                channels: Vec::new(),
                all_channels: true,
                received_via: v1::OptOutMethod::OneClick.into(),
            })),
            ..v1::Envelope::default()
        };
        let started = Instant::now();
        ledger
            .append(vec![envelope])
            .await
            .context("appending an opt-out")?;
        loop {
            let decision = ledger.check(request.clone()).await?;
            if decision
                .reasons_against
                .iter()
                .any(|r| r.code == "opted_out")
            {
                latencies.record(started.elapsed());
                break;
            }
            if started.elapsed() > Duration::from_secs(5) {
                timeouts += 1;
                break;
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        if index % 10 == 9 {
            tracing::debug!(done = index + 1, "opt-outs measured");
        }
    }
    let _ = stop.send(true);
    let _ = running.await;
    drop(broker);

    let mut opt_out = Outcome::new(
        "opt-out",
        "Opt-out appended, then honoured by checks, through Kafka",
    );
    let p99 = latencies.percentile_us(99.0) / 1_000.0;
    opt_out.figure("opt-outs", latencies.len() as f64, "opt-outs");
    opt_out.figure("p50", latencies.percentile_us(50.0) / 1_000.0, "ms");
    opt_out.figure("p99", p99, "ms");
    opt_out.figure("max", latencies.percentile_us(100.0) / 1_000.0, "ms");
    opt_out.figure("not honoured within 5 s", timeouts as f64, "opt-outs");
    opt_out.target("p99 at most 100 ms", p99 <= 100.0 && timeouts == 0);
    opt_out.note(format!(
        "from the append call to the first check refused with `opted_out` (checks polled every 0.2 ms); projector polling every {} ms",
        projector_config().poll_wait.as_millis()
    ));
    Ok(vec![path, opt_out])
}

async fn run(projector: Projector, stopped: tokio::sync::watch::Receiver<bool>) {
    if let Err(error) = projector.run(stopped).await {
        tracing::warn!(%error, "the Kafka projector stopped");
    }
}
