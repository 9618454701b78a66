//! What only the embedded log's readers do: wake on an append to a
//! partition they read (and only then), take partitions in turn, and lose
//! nothing when a read is cancelled. What every `EventLog`'s readers do is
//! in `tests/conformance.rs`.

mod common;

use common::*;
use consent_log::{EventLog, TopicPartition};
use std::task::Poll;
use std::time::{Duration, Instant};

fn from_start(partitions: &[u32]) -> consent_log::StartOffsets {
    partitions
        .iter()
        .map(|&p| (TopicPartition::new(first_topic(), p), 0))
        .collect()
}

#[tokio::test]
async fn a_waiting_reader_returns_as_soon_as_a_record_is_appended() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let mut reader = log.reader(from_start(&[0])).await.unwrap();
    let writer = log.clone();
    let key = key_for(0, PARTITIONS);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        writer
            .append(vec![record(&first_topic(), &key, b"late")])
            .await
            .unwrap();
    });

    let started = Instant::now();
    let batch = reader.next_batch(10, Duration::from_secs(5)).await.unwrap();

    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].payload, b"late");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_waiting_reader_ignores_appends_to_partitions_it_does_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let mut reader = log.reader(from_start(&[0])).await.unwrap();
    let writer = log.clone();
    let other = key_for(1, PARTITIONS);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        writer
            .append(vec![record(&first_topic(), &other, b"elsewhere")])
            .await
            .unwrap();
    });

    let started = Instant::now();
    let batch = reader
        .next_batch(10, Duration::from_millis(300))
        .await
        .unwrap();

    assert!(batch.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_busy_partition_does_not_starve_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let busy = key_for(0, PARTITIONS);
    let quiet = key_for(1, PARTITIONS);
    log.append(vec![record(&first_topic(), &busy, b"busy"); 500])
        .await
        .unwrap();
    log.append(vec![record(&first_topic(), &quiet, b"quiet")])
        .await
        .unwrap();

    let mut reader = log.reader(from_start(&[0, 1])).await.unwrap();
    let batch = reader.next_batch(10, Duration::ZERO).await.unwrap();
    assert_eq!(batch.len(), 10);
    assert!(
        batch.iter().any(|r| r.payload == b"quiet"),
        "the quiet partition was starved"
    );

    // With one record per batch, partitions take turns.
    let mut reader = log.reader(from_start(&[0, 1])).await.unwrap();
    let first = reader.next_batch(1, Duration::ZERO).await.unwrap();
    let second = reader.next_batch(1, Duration::ZERO).await.unwrap();
    let partitions: Vec<u32> = first
        .iter()
        .chain(&second)
        .map(|r| r.position.partition)
        .collect();
    assert_eq!(partitions.len(), 2);
    assert_ne!(partitions[0], partitions[1]);
}

#[tokio::test]
async fn a_cancelled_read_loses_no_record() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let key = key_for(0, PARTITIONS);
    log.append(vec![record(&first_topic(), &key, b"x"); 1000])
        .await
        .unwrap();
    let mut reader = log.reader(from_start(&[0])).await.unwrap();

    // Poll reads once and drop them, many times over. A read that happened
    // to finish in that one poll delivered its records; the others must
    // leave the reader where it was.
    let mut delivered = 0u64;
    for _ in 0..20 {
        let mut read = reader.next_batch(10, Duration::ZERO);
        let polled = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
        if let Poll::Ready(batch) = polled {
            delivered += u64::try_from(batch.unwrap().len()).unwrap();
        }
    }
    let mut offsets = Vec::new();
    loop {
        let batch = reader.next_batch(100, Duration::ZERO).await.unwrap();
        if batch.is_empty() {
            break;
        }
        offsets.extend(batch.iter().map(|r| r.position.offset));
    }
    assert_eq!(offsets, (delivered..1000).collect::<Vec<u64>>());
}
