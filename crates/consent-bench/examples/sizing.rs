//! The measurements behind docs/SCALING.md: stored event sizes, log and
//! view bytes per event, projector throughput and memory, on generated
//! events.
//!
//! ```sh
//! cargo run --release -p consent-bench --example sizing -- [SUBJECTS] [EVENTS_PER_SUBJECT] [DIR]
//! ```
//!
//! With `DIR`, the generated log is kept in `DIR/log`, where
//! `consent-ledger rebuild --data-dir DIR --topic-prefix sizing` finds it
//! (to time the real binary: `/usr/bin/time -v consent-ledger rebuild ...`).
//!
//! Defaults: 1,000 subjects of 100 events each (100,000 events), spread
//! over 100 organisations, on an 8-partition embedded log in a temporary
//! directory. The events are consent-generator's (seed 1, the benchmarks'
//! dataset): organisations of every kind, and per subject a first fact (a
//! sale, an enquiry, a donation or a consent), then about half marketing
//! messages sent and the rest a mix of every other fact; appended in time
//! order.
//!
//! It then
//! * sizes every encoded envelope, per kind and on average;
//! * models Kafka's storage of the same records: the record-batch v2
//!   encoding, uncompressed and zstd-compressed, batched as append
//!   requests of 500 events (a bulk import) or of one event cut them per
//!   partition;
//! * measures the embedded log's files;
//! * projects the whole log into a sled view (`catch_up`, as
//!   `consent-ledger rebuild` does) and reports events per second and the
//!   view's bytes on disk after a flush;
//! * projects again as an owner of 2 of the 8 partitions;
//! * reports the process's peak resident memory while projecting
//!   (`VmHWM`, reset after the events are generated and appended).

use consent_generator::{Generator, GeneratorConfig};
use consent_log::partitioner::partition_for;
use consent_log::{AppendRecord, EventLog, LogLayout};
use consent_log_embedded::EmbeddedLog;
use consent_projector::{OwnedPartitions, Projector, ProjectorConfig};
use consent_schema::v1;
use consent_store::ViewStore;
use consent_store_sled::SledStore;
use std::collections::BTreeMap;
use std::error::Error;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

const ORGANISATIONS: usize = 100;
const PARTITIONS: u32 = 8;
/// Events per append request, as `consent-ledger append` sends them.
const APPEND_BATCH: usize = 500;
/// librdkafka's default zstd level.
const ZSTD_LEVEL: i32 = 3;
/// Kafka's record-batch header (magic 2), in bytes.
const KAFKA_BATCH_HEADER: usize = 61;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let subjects: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1_000);
    let per_subject: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(100);
    if per_subject < 5 {
        return Err("EVENTS_PER_SUBJECT must be at least 5".into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let temporary = tempfile::tempdir()?;
    // With a third argument, the log is kept there (in `DIR/log`, as
    // `consent-ledger --data-dir DIR` expects it) for measuring the binary.
    let kept = args.next().map(std::path::PathBuf::from);
    let log_root = kept.as_deref().unwrap_or(temporary.path());
    let layout = consent_schema::ledger_layout("sizing", PARTITIONS);

    // ---------------------------------------------------------- events
    // In time order, as they would arrive: a campaign's messages to every
    // subject, then the next.
    let mut envelopes = generate(subjects, per_subject)?;
    envelopes.sort_by_key(|e| e.occurred_at.as_ref().map(|t| (t.seconds, t.nanos)));
    let mut by_kind: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    let mut records = Vec::with_capacity(envelopes.len());
    for envelope in &envelopes {
        let event = consent_schema::event_from_proto(envelope)
            .map_err(|error| format!("generated an invalid event: {error}"))?;
        let payload = consent_schema::encode_envelope(envelope);
        let entry = by_kind.entry(event.fact.kind()).or_default();
        entry.0 += 1;
        entry.1 += payload.len() as u64;
        records.push(AppendRecord {
            topic: consent_schema::family_of(&event.fact).topic(&layout),
            key: consent_schema::record_key(&event),
            payload,
            headers: vec![(
                "event-kind".to_owned(),
                event.fact.kind().as_bytes().to_vec(),
            )],
        });
    }
    let events = records.len() as u64;
    let payload_bytes: u64 = records.iter().map(|r| r.payload.len() as u64).sum();
    let (kafka_plain, kafka_zstd) = kafka_model(&records, &layout, APPEND_BATCH)?;
    let (single_plain, single_zstd) = kafka_model(&records, &layout, 1)?;

    // ---------------------------------------------------------- the log
    let log_dir = log_root.join("log");
    let log = Arc::new(EmbeddedLog::open(&log_dir, layout.clone())?);
    let started = Instant::now();
    runtime.block_on(async {
        for chunk in records.chunks(APPEND_BATCH) {
            log.append(chunk.to_vec()).await?;
        }
        Ok::<_, consent_log::LogError>(())
    })?;
    let append_seconds = started.elapsed().as_secs_f64();
    let log_bytes = directory_bytes(&log_dir)?;
    // The generated events are no longer needed; measure the projector's
    // memory from here.
    drop((envelopes, records));
    let baseline = reset_peak_resident();

    // ---------------------------------------------------------- the view
    let (full_seconds, full_events, view_bytes) = project(
        &runtime,
        &log,
        &temporary.path().join("view"),
        OwnedPartitions::All,
    )?;
    let quarter: OwnedPartitions = "0-1".parse()?;
    let (owner_seconds, owner_events, owner_view_bytes) =
        project(&runtime, &log, &temporary.path().join("view-0-1"), quarter)?;

    // ---------------------------------------------------------- report
    println!("{events} events: {subjects} subjects x {per_subject}, {ORGANISATIONS} organisations, {PARTITIONS} partitions");
    println!();
    println!("encoded envelope (the stored payload), bytes:");
    for (kind, (count, bytes)) in &by_kind {
        println!(
            "  {kind:<28} {count:>9} events  {:>7.1} average",
            *bytes as f64 / *count as f64
        );
    }
    println!(
        "  {:<28} {events:>9} events  {:>7.1} average",
        "all",
        payload_bytes as f64 / events as f64
    );
    println!();
    let per_event = |bytes: u64| bytes as f64 / events as f64;
    println!("Kafka log (record batch v2), bytes per event:");
    println!(
        "  {APPEND_BATCH}-event appends, uncompressed  {:>7.1}",
        per_event(kafka_plain)
    );
    println!(
        "  {APPEND_BATCH}-event appends, zstd {ZSTD_LEVEL}        {:>7.1}",
        per_event(kafka_zstd)
    );
    println!(
        "  one-event appends, uncompressed {:>6.1}",
        per_event(single_plain)
    );
    println!(
        "  one-event appends, zstd {ZSTD_LEVEL}        {:>7.1}",
        per_event(single_zstd)
    );
    println!(
        "embedded log files, bytes per event {:>7.1}",
        per_event(log_bytes)
    );
    println!(
        "embedded log appends           {:>7.0} events/s ({APPEND_BATCH}-event fsynced appends)",
        events as f64 / append_seconds
    );
    println!();
    println!(
        "sled view after flush, bytes per event {:>7.1} ({:.1} MiB)",
        per_event(view_bytes),
        view_bytes as f64 / 1048576.0
    );
    println!(
        "projector, full replica        {:>7.0} events/s ({full_events} events in {full_seconds:.2} s)",
        full_events as f64 / full_seconds
    );
    println!(
        "projector, owner of 0-1 of {PARTITIONS}  {:>7.0} events/s ({owner_events} events in {owner_seconds:.2} s; view {:.1} MiB)",
        owner_events as f64 / owner_seconds,
        owner_view_bytes as f64 / 1048576.0
    );
    match (baseline, peak_resident_kib()) {
        (Some(baseline), Some(peak)) => println!(
            "peak resident memory, projecting {:>5.0} MiB (VmHWM; {:.0} MiB before the first projection)",
            peak as f64 / 1024.0,
            baseline as f64 / 1024.0
        ),
        _ => println!("peak resident memory: not available on this system"),
    }
    Ok(())
}

/// Projects the whole log into a fresh sled view and returns the seconds
/// taken, the events applied and the view's bytes on disk after a flush.
fn project(
    runtime: &tokio::runtime::Runtime,
    log: &Arc<EmbeddedLog>,
    view_dir: &Path,
    ownership: OwnedPartitions,
) -> Result<(f64, u64, u64), Box<dyn Error>> {
    let store = Arc::new(SledStore::open(view_dir)?);
    let log: Arc<dyn EventLog> = log.clone();
    let config = ProjectorConfig {
        ownership,
        ..ProjectorConfig::default()
    };
    let mut projector = Projector::new(log, store.clone(), config);
    let started = Instant::now();
    let status = runtime.block_on(projector.catch_up(&|_| {}))?;
    let seconds = started.elapsed().as_secs_f64();
    store.flush()?;
    drop(projector);
    drop(store);
    Ok((seconds, status.events_applied, directory_bytes(view_dir)?))
}

// ------------------------------------------------------------ generated events

/// `subjects` subjects of `per_subject` events each (the organisations'
/// facts on top), from consent-generator: the same seeded histories as the
/// benchmarks' dataset.
fn generate(subjects: usize, per_subject: usize) -> Result<Vec<v1::Envelope>, Box<dyn Error>> {
    let subjects = u64::try_from(subjects)?;
    let per_subject = u64::try_from(per_subject)?;
    let organisations = u32::try_from(ORGANISATIONS)?;
    let mut config = GeneratorConfig {
        seed: 1,
        subjects,
        events: subjects * per_subject,
        organisations: Some(organisations),
    };
    // The organisations' own facts (a registration, and categories for
    // those that sell) on top of the subjects'.
    let organisation_facts: usize = Generator::new(config)?
        .organisations()
        .iter()
        .zip(0u32..)
        .map(|(organisation, index)| organisation.facts(index).len())
        .sum();
    config.events += u64::try_from(organisation_facts)?;
    Ok(Generator::new(config)?.collect())
}

/// Bytes Kafka stores for `records` appended `per_append` at a time: one
/// record batch per (append, topic, partition), uncompressed and with zstd
/// over the batch's records (the batch header stays uncompressed).
fn kafka_model(
    records: &[AppendRecord],
    layout: &LogLayout,
    per_append: usize,
) -> Result<(u64, u64), Box<dyn Error>> {
    let (mut plain, mut compressed) = (0u64, 0u64);
    for chunk in records.chunks(per_append) {
        let mut batches: BTreeMap<(&str, u32), Vec<u8>> = BTreeMap::new();
        let mut deltas: BTreeMap<(&str, u32), i64> = BTreeMap::new();
        for record in chunk {
            let at = (
                record.topic.as_str(),
                partition_for(&record.key, layout.partitions),
            );
            let delta = deltas.entry(at).or_default();
            encode_kafka_record(record, *delta, batches.entry(at).or_default());
            *delta += 1;
        }
        for bytes in batches.values() {
            plain += (KAFKA_BATCH_HEADER + bytes.len()) as u64;
            compressed +=
                (KAFKA_BATCH_HEADER + zstd::bulk::compress(bytes, ZSTD_LEVEL)?.len()) as u64;
        }
    }
    Ok((plain, compressed))
}

/// One record of Kafka's record-batch v2 format: length, attributes,
/// timestamp delta, offset delta, key, value, headers (zig-zag varints).
fn encode_kafka_record(record: &AppendRecord, offset_delta: i64, out: &mut Vec<u8>) {
    let mut body = vec![0u8]; // attributes
    varint(0, &mut body); // timestamp delta
    varint(offset_delta, &mut body);
    bytes_field(&record.key, &mut body);
    bytes_field(&record.payload, &mut body);
    varint(record.headers.len() as i64, &mut body);
    for (name, value) in &record.headers {
        bytes_field(name.as_bytes(), &mut body);
        bytes_field(value, &mut body);
    }
    varint(body.len() as i64, out);
    out.extend_from_slice(&body);
}

fn bytes_field(bytes: &[u8], out: &mut Vec<u8>) {
    varint(bytes.len() as i64, out);
    out.extend_from_slice(bytes);
}

fn varint(value: i64, out: &mut Vec<u8>) {
    let mut zigzag = ((value << 1) ^ (value >> 63)) as u64;
    while zigzag >= 0x80 {
        out.push(low_seven_bits(zigzag) | 0x80);
        zigzag >>= 7;
    }
    out.push(low_seven_bits(zigzag));
}

// ------------------------------------------------------------ the machine

/// Bytes of every file under `dir`: the larger of the apparent size and
/// the blocks allocated on disk.
fn directory_bytes(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let metadata = entry.metadata()?;
        total += if metadata.is_dir() {
            directory_bytes(&entry.path())?
        } else {
            metadata.len().max(metadata.blocks() * 512)
        };
    }
    Ok(total)
}

/// The process's peak resident set (`VmHWM` of /proc/self/status), in KiB.
fn peak_resident_kib() -> Option<u64> {
    status_kib("VmHWM:")
}

/// Resets the peak resident set to the current one (Linux: `5` written
/// to /proc/self/clear_refs) and returns the current one, in KiB.
fn reset_peak_resident() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_kib("VmRSS:")
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The low seven bits of a varint's next group.
fn low_seven_bits(value: u64) -> u8 {
    u8::try_from(value & 0x7f).unwrap_or(0)
}
