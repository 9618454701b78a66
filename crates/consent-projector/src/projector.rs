use crate::batch::fold_batch;
use crate::config::ProjectorConfig;
use crate::dead_letter;
use crate::decode::{decode_record, DecodedEvent};
use crate::error::ProjectorError;
use crate::handle::ProjectionHandle;
use crate::opt_out_feed;
use crate::ownership::OwnedPartitions;
use crate::projection::Projection;
use crate::status::{lag, ProjectionFailure, ProjectionProgress, ProjectionStatus};
use crate::trees::PartitionTrees;
use consent_domain::event::FactScope;
use consent_log::{
    EndOffsets, EventLog, LogError, LogLayout, LogReader, LogRecord, TopicPartition,
};
use consent_schema::EventFamily;
use consent_store::{StoreError, StoredOffsets, ViewBatch, ViewStore};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tracing::Instrument;

/// Folds the log into the view store, one atomic batch at a time.
///
/// # Invariants
///
/// * The view's stored offsets are exactly the records folded into it: a
///   batch's states, history, contact index entries and next offsets are
///   written in one [`ViewStore::apply`].
/// * A record is consumed exactly once per view: either folded, or (if it
///   cannot be decoded or validated) dead-lettered, logged and counted. A
///   bad record never stops the stream.
/// * The projector never skips: it starts from the stored offsets, or from
///   offset 0 of every topic-partition it follows for an uninitialised
///   view, and refuses to start ([`ProjectorError::requires_rebuild`]) when
///   the stored offsets do not fit the log or the configured ownership.
/// * It follows the topic-partitions [`OwnedPartitions::followed`] names
///   (all of them by default). From the reference topic on a partition it
///   does not own it folds only organisation-level records, consuming the
///   others unread: their owner folds them. The ledger's own records
///   ([`consent_schema::is_ledger_record_key`]) are read past everywhere.
/// * Every folded fact that stops marketing gives a notice on the layout's
///   opt-out feed ([`crate::opt_out_feed`]), appended before its batch is
///   committed, by the instance owning the record's partition: at least
///   once (again after a crash or a rebuild), never missing for a
///   committed record.
/// * A failed step commits nothing; the next step reads the same records
///   again from the committed offsets (as stored).
/// * Every consumed record (folded, dead-lettered or read past) is the
///   next leaf of its topic-partition's RFC 9162 tree; the new tree nodes
///   and frontiers are written in the same [`ViewBatch`] as the states and
///   offsets, so each tree's size is its stored offset. A gap in a
///   partition's offsets stops the projector ([`ProjectorError::OffsetGap`]).
pub struct Projector {
    log: Arc<dyn EventLog>,
    store: Arc<dyn ViewStore>,
    config: ProjectorConfig,
    /// The offsets committed with the view; `None` until started.
    committed: Option<StoredOffsets>,
    /// Positioned at `committed`. Taken out while a batch is in flight, so
    /// a failed or cancelled step leaves none and the next step reopens one
    /// from what the store holds.
    reader: Option<Box<dyn LogReader>>,
    status: watch::Sender<ProjectionStatus>,
    /// The topic-partitions this projector reads (from the ownership).
    followed: Arc<BTreeSet<TopicPartition>>,
    /// The frontiers of the followed topic-partitions' trees, as committed
    /// with `committed` (loaded with it).
    trees: PartitionTrees,
}

/// What one [`Projector::step`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// No record arrived within the poll wait.
    Idle,
    /// A batch was folded and committed.
    Committed(BatchSummary),
}

/// One committed batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchSummary {
    pub records: usize,
    pub partitions: usize,
    pub events: u64,
    pub dead_letters: u64,
    pub conflicts: u64,
    pub duration: Duration,
}

impl std::fmt::Debug for Projector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projector")
            .field("layout", self.log.layout())
            .field("config", &self.config)
            .field("committed", &self.committed)
            .finish_non_exhaustive()
    }
}

impl Projector {
    /// A projector of `log` into `store`. Nothing is read until the first
    /// [`Projector::start`] (which every other method calls first).
    pub fn new(log: Arc<dyn EventLog>, store: Arc<dyn ViewStore>, config: ProjectorConfig) -> Self {
        let (status, _) = watch::channel(ProjectionStatus::default());
        let followed = Arc::new(config.ownership.followed(log.layout()));
        Self {
            log,
            store,
            config,
            committed: None,
            reader: None,
            status,
            followed,
            trees: PartitionTrees::default(),
        }
    }

    /// A handle that follows this projector's progress (and ends its waits
    /// when the projector is dropped).
    pub fn handle(&self) -> ProjectionHandle {
        ProjectionHandle::new(
            self.status.subscribe(),
            self.config.ownership.clone(),
            Arc::clone(&self.followed),
        )
    }

    /// The log this projector follows, the view it writes and its
    /// [`Projector::handle`], together: what a ledger is built over, so
    /// that it appends to and reads from exactly what this projector folds.
    pub fn projection(&self) -> Projection {
        Projection::new(
            Arc::clone(&self.log),
            Arc::clone(&self.store),
            self.handle(),
        )
    }

    pub fn status(&self) -> ProjectionStatus {
        self.status.borrow().clone()
    }

    /// Reads the stored offsets and checks them against the log; does
    /// nothing once started.
    ///
    /// An uninitialised view is cleared (a crash during an earlier clear may
    /// have left data without offsets) and initialised at offset 0 of every
    /// topic-partition the projector follows. An initialised view must have
    /// an offset for exactly the topic-partitions it follows, none beyond
    /// the log's end; otherwise this fails with an error for which
    /// [`ProjectorError::requires_rebuild`] holds. It never jumps to the
    /// log's end. Owned partitions the layout does not have are refused
    /// ([`ProjectorError::OwnedPartitionOutsideLayout`]).
    pub async fn start(&mut self) -> Result<(), ProjectorError> {
        if self.committed.is_some() {
            return Ok(());
        }
        let layout = self.log.layout().clone();
        let ownership = &self.config.ownership;
        if let Some(partition) = ownership.outside(&layout) {
            return Err(ProjectorError::OwnedPartitionOutsideLayout {
                partition,
                partitions: layout.partitions,
            });
        }
        let offsets = match blocking(&self.store, |store| store.offsets()).await? {
            Some(stored) => {
                let end = self.log.end_offsets().await?;
                check_offsets(&layout, ownership, &stored, &end)?;
                tracing::info!(
                    partitions = stored.len(),
                    owned_partitions = %ownership,
                    behind = lag(&stored, &end).total,
                    "resuming the projection from the view's offsets"
                );
                stored
            }
            None => {
                let initial: StoredOffsets = self
                    .followed
                    .iter()
                    .map(|partition| (partition.clone(), 0))
                    .collect();
                let batch = ViewBatch {
                    offsets: initial.clone(),
                    ..ViewBatch::default()
                };
                blocking(&self.store, move |store| {
                    store.clear()?;
                    store.apply(batch)
                })
                .await?;
                tracing::info!(
                    partitions = initial.len(),
                    owned_partitions = %ownership,
                    "initialised an empty view; projecting the log from offset 0"
                );
                initial
            }
        };
        self.load_trees(&offsets).await?;
        self.status
            .send_modify(|status| status.applied = offsets.clone());
        self.committed = Some(offsets);
        Ok(())
    }

    /// Loads the committed tree frontiers that go with `offsets` and
    /// publishes their heads.
    async fn load_trees(&mut self, offsets: &StoredOffsets) -> Result<(), ProjectorError> {
        let followed = Arc::clone(&self.followed);
        let stored = blocking(&self.store, move |store| {
            PartitionTrees::read(store, &followed)
        })
        .await?;
        let trees = PartitionTrees::resume(stored, offsets)?;
        let (heads, root) = trees.ledger_head()?;
        self.trees = trees;
        self.status.send_modify(|status| {
            status.partition_heads = heads;
            status.ledger_head = Some(root);
        });
        Ok(())
    }

    /// Reads one batch, folds it and commits it with its offsets. Records
    /// that cannot be decoded or validated are dead-lettered first (see
    /// [`crate::dead_letter`]); if that append fails, nothing is committed.
    pub async fn step(&mut self) -> Result<StepOutcome, ProjectorError> {
        self.start().await?;
        let mut reader = match self.reader.take() {
            Some(reader) => reader,
            None => self.open_reader().await?,
        };
        let records = reader
            .next_batch(self.config.batch_size, self.config.poll_wait)
            .await?;
        if records.is_empty() {
            self.reader = Some(reader);
            return Ok(StepOutcome::Idle);
        }
        let span = tracing::info_span!(
            "projector_batch",
            records = records.len(),
            partitions = tracing::field::Empty,
            events = tracing::field::Empty,
            dead_letters = tracing::field::Empty,
            conflicts = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let summary = self.commit(records, &span).instrument(span.clone()).await?;
        // Only now is the reader's position the committed one again.
        self.reader = Some(reader);
        Ok(StepOutcome::Committed(summary))
    }

    /// Opens a reader at the offsets the store holds, which may be ahead of
    /// `committed` if a cancelled step's write completed after all.
    async fn open_reader(&mut self) -> Result<Box<dyn LogReader>, ProjectorError> {
        if let Some(stored) = blocking(&self.store, |store| store.offsets()).await? {
            if self.committed.as_ref() != Some(&stored) {
                self.load_trees(&stored).await?;
                self.status
                    .send_modify(|status| status.applied = stored.clone());
                self.committed = Some(stored);
            }
        }
        let start = self.committed.clone().unwrap_or_default();
        Ok(self.log.reader(start).await?)
    }

    async fn commit(
        &mut self,
        records: Vec<LogRecord>,
        span: &tracing::Span,
    ) -> Result<BatchSummary, ProjectorError> {
        let started = Instant::now();
        // Before any side effect: a gap in the offsets stops the step.
        let tree = self.trees.append(&records)?;
        let mut offsets = self.committed.clone().unwrap_or_default();
        let mut partitions = BTreeSet::new();
        let mut events = Vec::with_capacity(records.len());
        let mut dead_letters = Vec::new();
        let dead_letter_topic = self.log.layout().dead_letter_topic();
        // Only a layout with the feed gets notices (the ledger's has it).
        let feed_topic = consent_schema::has_opt_out_feed(self.log.layout())
            .then(|| consent_schema::opt_out_feed_topic(self.log.layout()));
        let mut notices = Vec::new();
        // One span per record that carries the trace context of its append
        // (traces on): open until the batch is committed, so it shows when
        // the record became visible to checks.
        let mut record_spans = Vec::new();
        for record in &records {
            let partition = record.position.topic_partition();
            let next = record.position.offset.saturating_add(1);
            let slot = offsets.entry(partition.clone()).or_insert(0);
            *slot = (*slot).max(next);
            partitions.insert(partition);
            if consent_schema::is_ledger_record_key(&record.key) {
                // The ledger's own record (the contact-digest key's
                // fingerprint), not a fact: read past, a leaf like any.
                continue;
            }
            let record_span = record_span(record, span);
            let owned = self.config.ownership.owns(record.position.partition);
            if !owned && !consent_schema::is_organisation_key(&record.key) {
                // A subject's fact on the reference topic of a partition
                // this instance does not own: its owner folds it.
                if let Some(record_span) = record_span {
                    record_span.record("outcome", "read_past");
                    record_spans.push(record_span);
                }
                continue;
            }
            let decoded = decode_record(record).map(|mut decoded| {
                // An address fact's subject part belongs to the subject's
                // owner, wherever the record sits.
                if let Some(subject) = &decoded.event.subject {
                    decoded.subject_here = self.config.ownership.owns_subject(
                        self.log.layout(),
                        &decoded.event.organisation,
                        subject,
                    );
                }
                decoded
            });
            // From a partition it does not own, an instance folds the
            // organisation's own facts and the address part of address
            // facts (both keyed to the organisation).
            let folded_here = |decoded: &DecodedEvent| {
                owned
                    || decoded.event.fact.scope() == FactScope::Organisation
                    || decoded.event.fact.address().is_some()
            };
            if let Some(record_span) = record_span {
                let outcome = match &decoded {
                    Ok(event) if folded_here(event) => "folded",
                    Ok(_) => "read_past",
                    Err(_) => "dead_lettered",
                };
                record_span.record("outcome", outcome);
                record_spans.push(record_span);
            }
            match decoded {
                Ok(mut event) => {
                    // The owner of the record's partition publishes its
                    // notice, so each is published once across instances.
                    if let (true, Some(topic), Some(notice)) =
                        (owned, &feed_topic, event.opt_out_notice.take())
                    {
                        notices.push(opt_out_feed::record(&notice, topic.clone()));
                    }
                    if folded_here(&event) {
                        events.push(event);
                    }
                }
                Err(reason) => {
                    tracing::warn!(
                        position = %record.position,
                        %reason,
                        dead_letter_topic = %dead_letter_topic,
                        dead_lettered = self.config.dead_letters,
                        "a record cannot be projected; it is dead-lettered and the stream goes on"
                    );
                    dead_letters.push(dead_letter::record(
                        record,
                        dead_letter_topic.clone(),
                        &reason,
                    ));
                }
            }
        }
        let dead_letter_count = count(dead_letters.len());
        if self.config.dead_letters && !dead_letters.is_empty() {
            self.log
                .append(dead_letters)
                .await
                .map_err(ProjectorError::DeadLetter)?;
        }

        let notice_count = count(notices.len());
        if !notices.is_empty() {
            self.log
                .append(notices)
                .await
                .map_err(ProjectorError::OptOutFeed)?;
        }

        let committed = offsets.clone();
        let frontiers = tree.frontiers.clone();
        let (event_count, conflicts) = blocking(&self.store, move |store| {
            let mut folded = fold_batch(store, &events, offsets)?;
            folded.batch.merkle_nodes = tree.nodes;
            folded.batch.merkle_frontiers = tree.frontiers;
            folded.batch.records = tree.records;
            store.apply(folded.batch)?;
            Ok((folded.events, folded.conflicts))
        })
        .await?;

        // The records are visible to checks now: their spans end.
        drop(record_spans);
        self.committed = Some(committed.clone());
        self.trees.commit(frontiers);
        let (heads, ledger_head) = self.trees.ledger_head()?;
        self.status.send_modify(|status| {
            status.partition_heads = heads;
            status.ledger_head = Some(ledger_head);
            status.applied = committed;
            status.dead_letters = status.dead_letters.saturating_add(dead_letter_count);
            status.opt_out_notices = status.opt_out_notices.saturating_add(notice_count);
            status.conflicts = status.conflicts.saturating_add(conflicts);
            status.events_applied = status.events_applied.saturating_add(event_count);
            status.batches = status.batches.saturating_add(1);
            // A committed batch ends any failure, in the same update that
            // shows its offsets.
            status.failure = None;
        });
        let summary = BatchSummary {
            records: records.len(),
            partitions: partitions.len(),
            events: event_count,
            dead_letters: dead_letter_count,
            conflicts,
            duration: started.elapsed(),
        };
        span.record("partitions", summary.partitions);
        span.record("events", summary.events);
        span.record("dead_letters", summary.dead_letters);
        span.record("conflicts", summary.conflicts);
        span.record("duration_ms", millis(summary.duration));
        tracing::debug!(
            records = summary.records,
            partitions = summary.partitions,
            events = summary.events,
            dead_letters = summary.dead_letters,
            conflicts = summary.conflicts,
            duration_ms = millis(summary.duration),
            "committed a batch to the view"
        );
        Ok(summary)
    }

    /// Publishes a failed step in the status (keeping when the failures
    /// began).
    fn record_failure(&self, error: &ProjectorError, stopped: bool) {
        let cause = error.cause();
        let error = error.to_string();
        self.status.send_modify(|status| {
            let since = status
                .failure
                .as_ref()
                .map_or_else(Instant::now, |failure| failure.since);
            status.failure = Some(ProjectionFailure {
                cause,
                error,
                since,
                stopped,
            });
        });
    }

    /// Steps until `shutdown` becomes true (or its sender is dropped), then
    /// flushes the store.
    ///
    /// A failed step is logged and retried after a pause that doubles from
    /// `retry_initial` up to `retry_max`; log outages, dead-letter append
    /// failures and store I/O errors never end the loop. Only an error for
    /// which [`ProjectorError::is_permanent`] holds does: retrying cannot
    /// fix it, and the operator must rebuild the view or fix the
    /// configuration.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<(), ProjectorError> {
        let mut backoff = self.config.retry_initial;
        loop {
            if *shutdown.borrow_and_update() {
                break;
            }
            match self.step().await {
                Ok(_) => {
                    backoff = self.config.retry_initial;
                    if self.status.borrow().failure.is_some() {
                        tracing::info!("a projector step succeeded again");
                        self.status.send_modify(|status| status.failure = None);
                    }
                }
                Err(error) if error.is_permanent() => {
                    tracing::error!(%error, "the view cannot be projected; the projector stops");
                    self.record_failure(&error, true);
                    return Err(error);
                }
                Err(error) => {
                    self.record_failure(&error, false);
                    tracing::warn!(
                        %error,
                        retry_in_ms = millis(backoff),
                        "a projector step failed; retrying"
                    );
                    let stop = tokio::select! {
                        () = tokio::time::sleep(backoff) => false,
                        changed = shutdown.changed() => changed.is_err(),
                    };
                    if stop {
                        break;
                    }
                    backoff = backoff.saturating_mul(2).min(self.config.retry_max);
                }
            }
        }
        blocking(&self.store, |store| store.flush()).await?;
        tracing::info!("the projector stopped");
        Ok(())
    }

    /// Steps until every topic-partition has reached the log end observed
    /// when the call starts, reporting progress after every step. Used by
    /// `consent-ledger rebuild` and by tests. Fails on the first error.
    pub async fn catch_up(
        &mut self,
        progress: &(dyn Fn(ProjectionProgress) + Sync),
    ) -> Result<ProjectionStatus, ProjectorError> {
        self.start().await?;
        let target: EndOffsets = self
            .log
            .end_offsets()
            .await?
            .into_iter()
            .filter(|(partition, _)| self.followed.contains(partition))
            .collect();
        let behind = |projector: &Self| {
            lag(
                projector
                    .committed
                    .as_ref()
                    .unwrap_or(&StoredOffsets::new()),
                &target,
            )
            .total
        };
        let records_total = behind(self);
        let at_start = self.status();
        let report = |projector: &Self| {
            let status = projector.status();
            progress(ProjectionProgress {
                records_done: records_total.saturating_sub(behind(projector)),
                records_total,
                events_applied: status
                    .events_applied
                    .saturating_sub(at_start.events_applied),
                dead_letters: status.dead_letters.saturating_sub(at_start.dead_letters),
            });
        };
        report(self);
        while behind(self) > 0 {
            if let StepOutcome::Committed(_) = self.step().await? {
                report(self);
            }
        }
        self.store_flush().await?;
        Ok(self.status())
    }

    /// Clears the view and projects the whole log again (see
    /// [`Projector::catch_up`]). The counters start again from zero.
    ///
    /// Records that are dead letters are dead-lettered again (the
    /// `dead_letter.origin_*` headers identify the duplicates).
    pub async fn rebuild(
        &mut self,
        progress: &(dyn Fn(ProjectionProgress) + Sync),
    ) -> Result<ProjectionStatus, ProjectorError> {
        self.reader = None;
        self.committed = None;
        blocking(&self.store, |store| store.clear()).await?;
        self.status
            .send_modify(|status| *status = ProjectionStatus::default());
        tracing::info!("cleared the view; rebuilding it from the log");
        self.catch_up(progress).await
    }

    async fn store_flush(&self) -> Result<(), ProjectorError> {
        blocking(&self.store, |store| store.flush()).await
    }
}

/// An initialised view's offsets must cover exactly the topic-partitions
/// `ownership` follows in the layout, none beyond the log's end.
fn check_offsets(
    layout: &LogLayout,
    ownership: &OwnedPartitions,
    stored: &StoredOffsets,
    end: &EndOffsets,
) -> Result<(), ProjectorError> {
    let in_layout: BTreeSet<_> = layout.topic_partitions().into_iter().collect();
    if let Some(partition) = stored.keys().find(|p| !in_layout.contains(*p)) {
        return Err(ProjectorError::UnknownPartition {
            partition: partition.clone(),
        });
    }
    let expected = ownership.followed(layout);
    // The partitions the view was built owning: those it has an offset for
    // on a topic other than the reference topic, which every owner follows.
    let reference = EventFamily::Reference.topic(layout);
    let view_owned: BTreeSet<u32> = stored
        .keys()
        .filter(|p| p.topic != reference)
        .map(|p| p.partition)
        .collect();
    let configured = ownership.partitions(layout);
    if view_owned != configured {
        return Err(ProjectorError::OwnershipMismatch {
            view: OwnedPartitions::describe(&view_owned),
            configured: OwnedPartitions::describe(&configured),
        });
    }
    if let Some(partition) = stored.keys().find(|p| !expected.contains(*p)) {
        return Err(ProjectorError::UnknownPartition {
            partition: partition.clone(),
        });
    }
    for partition in &expected {
        let Some(&stored) = stored.get(partition) else {
            return Err(ProjectorError::MissingOffset {
                partition: partition.clone(),
            });
        };
        let Some(&end) = end.get(partition) else {
            return Err(ProjectorError::Log(LogError::UnknownPartition(
                partition.clone(),
            )));
        };
        if stored > end {
            return Err(ProjectorError::OffsetBeyondLogEnd {
                partition: partition.clone(),
                stored,
                end,
            });
        }
    }
    Ok(())
}

/// Runs a store call on tokio's blocking pool (view stores do file IO).
async fn blocking<T, F>(store: &Arc<dyn ViewStore>, call: F) -> Result<T, ProjectorError>
where
    T: Send + 'static,
    F: FnOnce(&dyn ViewStore) -> Result<T, StoreError> + Send + 'static,
{
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || call(store.as_ref()))
        .await
        .map_err(|error| ProjectorError::Task(error.to_string()))?
        .map_err(ProjectorError::from)
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The `project_record` span of `record` when its headers carry the trace
/// context of its append (see `consent-trace-context`): a child of the
/// appending span, following from the batch's span. `None` for records
/// without one (traces off), which cost no span.
fn record_span(record: &LogRecord, batch: &tracing::Span) -> Option<tracing::Span> {
    if !consent_trace_context::has_trace_context(&record.headers) {
        return None;
    }
    let span = tracing::info_span!(
        parent: batch,
        "project_record",
        position = %record.position,
        outcome = tracing::field::Empty,
    );
    consent_trace_context::continue_record_trace(&span, &record.headers);
    span.follows_from(batch);
    Some(span)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
