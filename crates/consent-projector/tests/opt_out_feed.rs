//! The opt-out feed the projector writes: every fact that stops marketing
//! in the log has its notice on the feed, whether the projector ran
//! uninterrupted, stopped and resumed, or rebuilt the view; nothing else is
//! on it.

mod support;

use consent_domain::{Event, Fact};
use consent_log::LogRecord;
use consent_projector::opt_out_feed::{MESSAGE_TYPE, OPT_OUT_NOTICE_TYPE};
use consent_projector::StepOutcome;
use consent_store::{MemoryStore, ViewStore};
use consent_store_sled::SledStore;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::Arc;
use support::*;

/// Whether a fact is one the feed reports.
fn stops_marketing(fact: &Fact) -> bool {
    matches!(
        fact,
        Fact::OptOutRecorded(_)
            | Fact::ObjectionRecorded(_)
            | Fact::ConsentWithdrawn(_)
            | Fact::ToldNotToCall(_)
            | Fact::ErasureRequested(_)
            | Fact::ContactsSuppressed(_)
    )
}

fn expected(events: &[Event]) -> BTreeSet<String> {
    events
        .iter()
        .filter(|e| stops_marketing(&e.fact))
        .map(|e| e.id.to_string())
        .collect()
}

/// The source event ids of the feed's notices, each checked to be keyed by
/// its organisation and subject.
fn feed_ids(records: &[LogRecord]) -> BTreeSet<String> {
    records
        .iter()
        .map(|record| {
            assert!(record
                .headers
                .iter()
                .any(|(k, v)| k == MESSAGE_TYPE && v == OPT_OUT_NOTICE_TYPE.as_bytes()));
            let notice = consent_schema::decode_opt_out_notice(&record.payload).expect("a notice");
            assert_eq!(record.key, consent_schema::opt_out_notice_key(&notice));
            notice.source_event_id
        })
        .collect()
}

fn feed() -> Vec<String> {
    vec![consent_schema::opt_out_feed_topic(&layout())]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn every_opt_out_is_on_the_feed_after_a_restart_and_after_a_rebuild(
        (events, batch_size, steps_before_stop) in (event_set(30), 1usize..6, 0usize..8)
    ) {
        let log_dir = tempfile::tempdir().expect("tempdir");
        let view_dir = tempfile::tempdir().expect("tempdir");
        let log = open_log(log_dir.path());
        let rt = runtime();
        let (first_half, second_half) = events.split_at(events.len() / 2);
        rt.block_on(append_events(log.as_ref(), first_half, 4));
        {
            let store: Arc<dyn ViewStore> = Arc::new(SledStore::open(view_dir.path()).expect("open view"));
            let mut first = projector(&log, store, batch_size);
            rt.block_on(async {
                for _ in 0..steps_before_stop {
                    if first.step().await.expect("step") == StepOutcome::Idle {
                        break;
                    }
                }
            });
        }
        rt.block_on(append_events(log.as_ref(), second_half, 3));
        let reopened: Arc<dyn ViewStore> = Arc::new(SledStore::open(view_dir.path()).expect("reopen view"));
        let mut second = projector(&log, reopened, batch_size);
        rt.block_on(second.catch_up(&|_| {})).expect("catch up");

        let published = rt.block_on(read_topics(log.as_ref(), &feed()));
        prop_assert_eq!(feed_ids(&published), expected(&events));
        // Published once each: the second projector resumed where the first
        // committed.
        prop_assert_eq!(published.len(), expected(&events).len());

        // A rebuild publishes every notice again (at least once): still no gap.
        rt.block_on(second.rebuild(&|_| {})).expect("rebuild");
        let after_rebuild = rt.block_on(read_topics(log.as_ref(), &feed()));
        prop_assert_eq!(feed_ids(&after_rebuild), expected(&events));
        prop_assert_eq!(after_rebuild.len(), published.len() + expected(&events).len());
    }
}

#[test]
fn a_log_without_opt_outs_gives_an_empty_feed() {
    let events: Vec<Event> = fixed_events(40)
        .into_iter()
        .filter(|e| !stops_marketing(&e.fact))
        .collect();
    assert!(!events.is_empty());
    let log_dir = tempfile::tempdir().expect("tempdir");
    let log = open_log(log_dir.path());
    let rt = runtime();
    rt.block_on(append_events(log.as_ref(), &events, 7));
    let mut projector = projector(&log, Arc::new(MemoryStore::new()), 10);
    let status = rt.block_on(projector.catch_up(&|_| {})).expect("catch up");
    assert_eq!(status.opt_out_notices, 0);
    assert!(rt.block_on(read_topics(log.as_ref(), &feed())).is_empty());
}

#[test]
fn instances_sharing_the_partitions_publish_each_notice_once() {
    let events = fixed_events(120);
    let expected = expected(&events);
    assert!(expected.len() > 5, "the fixed events have opt-outs");
    let log_dir = tempfile::tempdir().expect("tempdir");
    let log = open_log(log_dir.path());
    let rt = runtime();
    rt.block_on(append_events(log.as_ref(), &events, 9));
    // Three instances, one partition each (the reference topic is followed
    // by every one of them): each publishes what its partition holds.
    for owned in ["0", "1", "2"] {
        let dyn_log: Arc<dyn consent_log::EventLog> = log.clone();
        let config = consent_projector::ProjectorConfig {
            ownership: owned.parse().expect("a valid set of partitions"),
            ..config(11)
        };
        let mut instance =
            consent_projector::Projector::new(dyn_log, Arc::new(MemoryStore::new()), config);
        rt.block_on(instance.catch_up(&|_| {})).expect("catch up");
    }
    let published = rt.block_on(read_topics(log.as_ref(), &feed()));
    assert_eq!(feed_ids(&published), expected);
    assert_eq!(published.len(), expected.len(), "each notice once");
}
