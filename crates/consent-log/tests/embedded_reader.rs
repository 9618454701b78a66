//! Readers: waiting for appends, fairness, concurrent writers.

mod common;

use common::*;
use consent_log::{EventLog, LogPosition, TopicPartition};
use std::collections::BTreeMap;
use std::task::Poll;
use std::time::{Duration, Instant};

fn from_start(partitions: &[u32]) -> consent_log::StartOffsets {
    partitions
        .iter()
        .map(|&p| (TopicPartition::new(grants(), p), 0))
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
            .append(vec![record(&grants(), &key, b"late")])
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
            .append(vec![record(&grants(), &other, b"elsewhere")])
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
async fn an_idle_reader_returns_an_empty_batch_after_the_wait() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let mut reader = log.reader(from_start(&[0, 1])).await.unwrap();
    let started = Instant::now();
    assert!(reader
        .next_batch(10, Duration::from_millis(200))
        .await
        .unwrap()
        .is_empty());
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn a_busy_partition_does_not_starve_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let busy = key_for(0, PARTITIONS);
    let quiet = key_for(1, PARTITIONS);
    log.append(vec![record(&grants(), &busy, b"busy"); 500])
        .await
        .unwrap();
    log.append(vec![record(&grants(), &quiet, b"quiet")])
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
async fn records_within_a_partition_come_in_offset_order() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    for i in 0..50u32 {
        let batch = (0..PARTITIONS)
            .map(|p| record(&grants(), &key_for(p, PARTITIONS), &i.to_le_bytes()))
            .collect();
        log.append(batch).await.unwrap();
    }
    let mut reader = log.reader(from_start(&[0, 1, 2, 3])).await.unwrap();
    let mut next: BTreeMap<u32, u64> = BTreeMap::new();
    loop {
        let batch = reader.next_batch(7, Duration::ZERO).await.unwrap();
        if batch.is_empty() {
            break;
        }
        for r in batch {
            let expected = next.entry(r.position.partition).or_insert(0);
            assert_eq!(r.position.offset, *expected);
            *expected += 1;
        }
    }
    assert_eq!(next.values().copied().collect::<Vec<_>>(), vec![50; 4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_get_dense_unique_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let mut tasks = Vec::new();
    for task in 0..8u32 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut positions = Vec::new();
            for i in 0..25u32 {
                // Keys repeat across tasks, so tasks contend on partitions.
                let key = format!("org-1/subject-{}", (task + i) % 6).into_bytes();
                let payload = format!("{task}/{i}").into_bytes();
                let position = log
                    .append(vec![record(&grants(), &key, &payload)])
                    .await
                    .unwrap();
                positions.push((position[0].clone(), payload));
            }
            positions
        }));
    }
    let mut by_partition: BTreeMap<u32, Vec<(LogPosition, Vec<u8>)>> = BTreeMap::new();
    for task in tasks {
        for (position, payload) in task.await.unwrap() {
            by_partition
                .entry(position.partition)
                .or_default()
                .push((position, payload));
        }
    }

    let mut total = 0;
    for (partition, mut appended) in by_partition {
        appended.sort();
        let offsets: Vec<u64> = appended.iter().map(|(p, _)| p.offset).collect();
        let count = u64::try_from(appended.len()).unwrap();
        assert_eq!(
            offsets,
            (0..count).collect::<Vec<u64>>(),
            "partition {partition}"
        );
        let stored = read_partition(&log, &grants(), partition).await;
        let stored: Vec<Vec<u8>> = stored.into_iter().map(|r| r.payload).collect();
        let expected: Vec<Vec<u8>> = appended.into_iter().map(|(_, payload)| payload).collect();
        assert_eq!(stored, expected, "partition {partition}");
        total += count;
    }
    assert_eq!(total, 200);
}

#[tokio::test]
async fn a_cancelled_read_loses_no_record() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let key = key_for(0, PARTITIONS);
    log.append(vec![record(&grants(), &key, b"x"); 1000])
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
