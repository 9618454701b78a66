//! Stopping the projector mid-stream and starting a new one on the view
//! reopened from disk gives the view of one uninterrupted fold.

mod support;

use consent_domain::Event;
use consent_projector::StepOutcome;
use consent_store::{MemoryStore, ViewStore};
use consent_store_sled::SledStore;
use proptest::prelude::*;
use std::sync::Arc;
use support::*;

fn scenario() -> impl Strategy<Value = (Vec<Event>, Vec<Event>, usize, usize)> {
    (event_set(25), event_set(10))
        .prop_flat_map(|(before, after)| (deliveries(before), Just(after), 1usize..6, 0usize..12))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn a_restarted_projector_ends_with_the_uninterrupted_view(
        (before, after, batch_size, steps_before_stop) in scenario()
    ) {
        // Ids of the second set must not collide with the first.
        let after: Vec<Event> = after
            .into_iter()
            .map(|mut e| { e.id = consent_domain::EventId(uuid::Uuid::from_u128(e.id.0.as_u128() + 1_000)); e })
            .collect();
        let log_dir = tempfile::tempdir().expect("tempdir");
        let view_dir = tempfile::tempdir().expect("tempdir");
        let log = open_log(log_dir.path());
        let rt = runtime();
        rt.block_on(append_events(log.as_ref(), &before, 4));

        // A first projector stops after a few steps; its store is dropped.
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

        // More facts arrive while it is down; a second projector resumes
        // from the view reopened from disk.
        rt.block_on(append_events(log.as_ref(), &after, 3));
        let reopened = Arc::new(SledStore::open(view_dir.path()).expect("reopen view"));
        let mut second = projector(&log, reopened.clone(), batch_size);
        rt.block_on(second.catch_up(&|_| {})).expect("catch up");

        // One uninterrupted fold of the same log.
        let uninterrupted = Arc::new(MemoryStore::new());
        let mut once = projector(&log, uninterrupted.clone(), 1000);
        rt.block_on(once.catch_up(&|_| {})).expect("catch up");

        let resumed = view_of(reopened.as_ref());
        prop_assert_eq!(&resumed, &view_of(uninterrupted.as_ref()));
        prop_assert_eq!(reopened.offsets().expect("offsets"), uninterrupted.offsets().expect("offsets"));
        let records = rt.block_on(read_topics(log.as_ref(), &layout().topics()));
        prop_assert_eq!(&resumed, &model_fold(&records));
    }
}
