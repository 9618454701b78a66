//! The projected view depends only on the set of events in the log: any
//! order, any duplication, any spread over topics and partitions and any
//! batch size give the view (states, history, contacts) and the decisions
//! of a straightforward fold.

mod support;

use consent_domain::Event;
use consent_store::{MemoryStore, ViewStore};
use consent_store_sled::SledStore;
use proptest::prelude::*;
use std::sync::Arc;
use support::*;

fn scenario() -> impl Strategy<Value = (Vec<Event>, Vec<Event>, usize, usize)> {
    event_set(30).prop_flat_map(|events| {
        (
            Just(events.clone()),
            deliveries(events),
            1usize..8,
            1usize..12,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn any_delivery_of_a_set_projects_to_the_fold_of_the_set(
        (events, delivered, batch_size, chunk) in scenario()
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = open_log(dir.path());
        let store = Arc::new(MemoryStore::new());
        let (records, status) = runtime().block_on(async {
            append_events(log.as_ref(), &delivered, chunk).await;
            let mut projector = projector(&log, store.clone(), batch_size);
            let status = projector.catch_up(&|_| {}).await.expect("catch up");
            (read_topics(log.as_ref(), &layout().topics()).await, status)
        });
        let projected = view_of(store.as_ref() as &dyn ViewStore);

        // The view is the fold of what the log holds, positions included.
        let model = model_fold(&records);
        prop_assert_eq!(&projected, &model);
        prop_assert_eq!(decisions(&projected), decisions(&model));

        // And without positions it is the fold of the set itself: order and
        // duplicates leave no trace.
        let set = set_view(&events);
        prop_assert_eq!(facts_of(&projected), facts_of(&set));
        prop_assert_eq!(without_positions(decisions(&projected)), without_positions(decisions(&set)));

        prop_assert_eq!(status.events_applied, u64::try_from(delivered.len()).expect("small"));
        prop_assert_eq!(status.dead_letters, 0);
        prop_assert_eq!(status.conflicts, 0);
    }

    /// The sled view's layout (format 8: a subject's facts one per key,
    /// records once in blocks, history read from them) answers every state,
    /// history (with each record's bytes), contact lookup and decision as
    /// the plain fold of what the log holds, after any delivery.
    #[test]
    fn the_sled_layout_answers_as_the_fold_of_the_log(
        (_events, delivered, batch_size, chunk) in scenario()
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = open_log(&dir.path().join("log"));
        let store = Arc::new(SledStore::open(&dir.path().join("view")).expect("open the view"));
        let records = runtime().block_on(async {
            append_events(log.as_ref(), &delivered, chunk).await;
            let mut projector = projector(&log, store.clone(), batch_size);
            projector.catch_up(&|_| {}).await.expect("catch up");
            read_topics(log.as_ref(), &layout().topics()).await
        });
        let projected = view_of(store.as_ref() as &dyn ViewStore);
        let model = model_fold(&records);
        prop_assert_eq!(&projected, &model);
        prop_assert_eq!(decisions(&projected), decisions(&model));
    }
}
