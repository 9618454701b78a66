//! What every [`EventLog`] must do, written once: the checks that the
//! embedded log (`consent-log-embedded`) and the Kafka log
//! (`consent-kafka`, against a real broker) both run from their tests.
//!
//! An implementation's test gives [`run_all`] a [`LogFactory`] that opens a
//! fresh, empty log per check. The checks speak only through the trait:
//! append, positions, end offsets, readers from start offsets, refusals.
//! What only one engine does (the embedded log's crash recovery and file
//! format, Kafka's topic creation, security and outages) stays in that
//! engine's own tests.
//!
//! Each check panics with what went wrong (this is test code). Reads are
//! bounded by a number of empty batches, never by a measured time: a log
//! on a broker may deliver a record a few polls after it was appended.

mod checks;
mod support;

pub use checks::*;
pub use support::{key_for, record, suite_layout, LogFactory, SUITE_PARTITIONS};

/// Runs every check in order, each on a fresh log of `factory`'s, and
/// names each one on stderr before it runs (so a failure names it).
pub async fn run_all(factory: &dyn LogFactory) {
    macro_rules! run {
        ($($check:ident),* $(,)?) => {$(
            eprintln!("EventLog conformance: {}", stringify!($check));
            checks::$check(factory).await;
        )*};
    }
    run!(
        the_layout_is_the_one_asked_for,
        appended_records_read_back_byte_for_byte_in_order,
        offsets_continue_densely_across_appends,
        one_key_lands_on_the_same_partition_of_every_topic,
        records_of_one_append_are_routed_per_key,
        a_reader_starts_at_any_offset,
        a_reader_reads_only_the_partitions_it_was_given,
        a_batch_holds_at_most_the_records_asked_for,
        end_offsets_cover_every_topic_partition_but_not_dead_letters,
        an_empty_append_stores_nothing,
        unknown_topics_and_partitions_are_refused,
        an_idle_reader_returns_an_empty_batch_after_the_wait,
        a_waiting_reader_gets_a_record_appended_while_it_waits,
        concurrent_appends_get_dense_unique_offsets,
        a_healthy_log_reports_no_faults,
    );
}
