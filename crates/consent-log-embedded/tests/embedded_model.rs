//! Model-based tests: the embedded log behaves like a `Vec` per partition,
//! across reopens and after a crash cuts a partition file anywhere.

mod common;

use common::*;
use consent_log::{AppendRecord, EventLog, LogError, LogLayout, TopicPartition};
use consent_log_embedded::EmbeddedLog;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

const MODEL_PARTITIONS: u32 = 2;

fn model_layout() -> LogLayout {
    LogLayout::new("model", MODEL_PARTITIONS, ["first", "second", "third"])
}

/// What the model keeps of a record.
type Stored = (Vec<u8>, Vec<u8>, Vec<(String, Vec<u8>)>);

#[derive(Debug, Clone)]
enum Op {
    Append(Vec<AppendRecord>),
    Reopen,
}

fn topics() -> Vec<String> {
    let layout = model_layout();
    let mut topics = layout.topics();
    topics.push(layout.dead_letter_topic());
    topics
}

fn any_record() -> impl Strategy<Value = AppendRecord> {
    (
        0..topics().len(),
        0u8..6,
        prop::collection::vec(any::<u8>(), 0..48),
        prop::collection::vec(
            ("[a-z-]{1,8}", prop::collection::vec(any::<u8>(), 0..8)),
            0..3,
        ),
    )
        .prop_map(|(topic, subject, payload, headers)| AppendRecord {
            topic: topics()[topic].clone(),
            key: format!("org-1/subject-{subject}").into_bytes(),
            payload,
            headers,
        })
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop::collection::vec(any_record(), 1..6).prop_map(Op::Append),
        1 => Just(Op::Reopen),
    ]
}

fn open_model_log(dir: &Path) -> EmbeddedLog {
    EmbeddedLog::open(dir, model_layout()).expect("open")
}

async fn check_against_model(log: &EmbeddedLog, model: &BTreeMap<TopicPartition, Vec<Stored>>) {
    for topic in topics() {
        for partition in 0..MODEL_PARTITIONS {
            let tp = TopicPartition::new(topic.clone(), partition);
            let stored: Vec<Stored> = read_partition(log, &topic, partition)
                .await
                .into_iter()
                .enumerate()
                .map(|(i, r)| {
                    assert_eq!(r.position.offset, u64::try_from(i).unwrap());
                    (r.key, r.payload, r.headers)
                })
                .collect();
            assert_eq!(&stored, model.get(&tp).unwrap_or(&Vec::new()), "{tp}");
        }
    }
    let ends = log.end_offsets().await.unwrap();
    for (tp, end) in ends {
        let expected = model.get(&tp).map_or(0, Vec::len);
        assert_eq!(end, u64::try_from(expected).unwrap(), "end of {tp}");
    }
}

async fn run_ops(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open_model_log(dir.path());
    let mut model: BTreeMap<TopicPartition, Vec<Stored>> = BTreeMap::new();
    for op in ops {
        match op {
            Op::Append(records) => {
                let positions = log.append(records.clone()).await.unwrap();
                for (position, record) in positions.into_iter().zip(records) {
                    let partition = model.entry(position.topic_partition()).or_default();
                    assert_eq!(position.offset, u64::try_from(partition.len()).unwrap());
                    partition.push((record.key, record.payload, record.headers));
                }
            }
            Op::Reopen => {
                drop(log);
                log = open_model_log(dir.path());
                check_against_model(&log, &model).await;
            }
        }
    }
    check_against_model(&log, &model).await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn appends_and_reopens_read_back_like_a_vec(ops in prop::collection::vec(any_op(), 1..24)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(run_ops(ops));
    }

    #[test]
    fn a_crash_cut_keeps_the_whole_appends_before_it(
        appends in any_appends(),
        cut in any::<prop::sample::Index>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let written = write_appends(&appends).await;
            let full = fs::read(&written.file).unwrap();
            let cut = cut.index(full.len() + 1);
            fs::write(&written.file, &full[..cut]).unwrap();

            let log = open_model_log(written.dir.path());

            // Whole appends before the cut survive, and the complete records
            // of the append the cut falls in; nothing after.
            let cut = u64::try_from(cut).unwrap();
            let whole_appends = written.lengths.iter().filter(|&&l| l <= cut).count() - 1;
            let read = written.read_back(&log).await;
            let at_least: usize = appends[..whole_appends].iter().map(Vec::len).sum();
            let at_most = at_least + appends.get(whole_appends).map_or(0, Vec::len);
            prop_assert!((at_least..=at_most).contains(&read.len()),
                "cut at {cut}: read {} records, expected {at_least}..={at_most}", read.len());
            prop_assert_eq!(&read[..], &written.payloads()[..read.len()]);
            Ok(())
        })?;
    }

    #[test]
    fn a_flipped_byte_is_corruption_unless_it_is_in_the_last_append(
        appends in any_appends(),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let written = write_appends(&appends).await;
            let mut bytes = fs::read(&written.file).unwrap();
            let at = at.index(bytes.len());
            bytes[at] ^= flip;
            fs::write(&written.file, &bytes).unwrap();

            let opened = EmbeddedLog::open(written.dir.path(), model_layout());

            let last_append_start = written.lengths[written.lengths.len() - 2];
            if u64::try_from(at).unwrap() < last_append_start {
                prop_assert!(matches!(opened, Err(LogError::Corrupt { .. })), "{opened:?}");
            } else {
                let log = opened.unwrap();
                let read = written.read_back(&log).await;
                let earlier: usize = appends[..appends.len() - 1].iter().map(Vec::len).sum();
                prop_assert!(read.len() >= earlier && read.len() < written.payloads().len());
                prop_assert_eq!(&read[..], &written.payloads()[..read.len()]);
            }
            Ok(())
        })?;
    }
}

/// Appends: each a batch of payloads for one partition.
fn any_appends() -> impl Strategy<Value = Vec<Vec<Vec<u8>>>> {
    let payload = prop::collection::vec(any::<u8>(), 0..64);
    prop::collection::vec(prop::collection::vec(payload, 1..4), 1..8)
}

/// A log closed after appends to one partition.
struct Written {
    dir: tempfile::TempDir,
    topic: String,
    file: std::path::PathBuf,
    /// File length before the first append and after each.
    lengths: Vec<u64>,
    appends: Vec<Vec<Vec<u8>>>,
}

impl Written {
    fn payloads(&self) -> Vec<Vec<u8>> {
        self.appends.iter().flatten().cloned().collect()
    }

    async fn read_back(&self, log: &EmbeddedLog) -> Vec<Vec<u8>> {
        read_partition(log, &self.topic, 0)
            .await
            .into_iter()
            .map(|r| r.payload)
            .collect()
    }
}

async fn write_appends(appends: &[Vec<Vec<u8>>]) -> Written {
    let dir = tempfile::tempdir().unwrap();
    let topic = model_layout().topic("third");
    let key = key_for(0, MODEL_PARTITIONS);
    let file = partition_file(dir.path(), &topic, 0);
    let mut lengths = vec![0u64];
    let log = open_model_log(dir.path());
    for payloads in appends {
        let batch = payloads.iter().map(|p| record(&topic, &key, p)).collect();
        log.append(batch).await.unwrap();
        lengths.push(fs::metadata(&file).unwrap().len());
    }
    Written {
        dir,
        topic,
        file,
        lengths,
        appends: appends.to_vec(),
    }
}
