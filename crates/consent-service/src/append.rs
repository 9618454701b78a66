//! Appending facts: validate every event, then one durable log append.

use crate::error::LedgerError;
use crate::ledger::Ledger;
use crate::metrics::Entry;
use consent_domain::event::{Event, Fact, FactScope};
use consent_domain::fold::Recorded;
use consent_domain::{EventId, Timestamp};
use consent_intake::UnsubscribeClaim;
use consent_log::{AppendRecord, LogError, LogLayout, LogPosition};
use consent_schema::{
    decode_envelope, encode_envelope, event_from_proto, family_of, prepare_for_append, record_key,
    timestamp_to_proto, v1, ValidationError,
};
use consent_sealing::SealError;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use tracing::Instrument;

/// The record header naming the fact's kind (e.g. `sale_recorded`), so that
/// consumers can route records without decoding them.
pub const EVENT_KIND_HEADER: &str = "event-kind";

impl Ledger {
    /// Appends `events` to the log and returns each one's id and position,
    /// in request order.
    ///
    /// Every event is completed (id, `recorded_at`, schema version, its
    /// telephone numbers in E.164) and validated, a fact from the future
    /// refused (see [`consent_schema::EntryRules`]), before anything is
    /// written: one invalid event rejects the
    /// whole request with [`LedgerError::Invalid`] naming its index and
    /// field (`events[2].consent_given.channels[0]`), and nothing is
    /// appended. The valid events then go to the log in one append; the
    /// stored bytes are the encoding of the completed envelope.
    ///
    /// `Ok` means the log acknowledged every record as durable. On
    /// [`LedgerError::LogUnavailable`] nothing is acknowledged, but a prefix
    /// may have been stored. Producers that set `event_id` themselves can
    /// retry safely with the same ids: an event the view already holds
    /// with the same content is not appended again (see
    /// [`Ledger::append_response`]), and the fold counts an id once.
    pub async fn append(
        &self,
        events: Vec<v1::Envelope>,
    ) -> Result<Vec<(EventId, LogPosition)>, LedgerError> {
        self.append_from(events, Entry::Api).await
    }

    /// [`Ledger::append`], counting opt-outs under `entry`.
    pub(crate) async fn append_from(
        &self,
        events: Vec<v1::Envelope>,
        entry: Entry,
    ) -> Result<Vec<(EventId, LogPosition)>, LedgerError> {
        let appended = self.append_sends(events, entry).await?;
        Ok(appended
            .into_iter()
            .map(|answer| (answer.event_id, answer.position))
            .collect())
    }

    /// [`Ledger::append`], answering in the wire form: each event's id and
    /// position, whether it was already present, and for each
    /// `MarketingMessageSent` about a subject its signed one-click
    /// unsubscribe URL, when intake is configured (see
    /// [`crate::IntakeConfig`]), whether the send was appended now or was
    /// already present.
    ///
    /// An event whose caller-given id the view already holds with the same
    /// content (the same `occurred_at` and fact, contact values compared by
    /// digest, as the fold compares them) is not appended again: it is
    /// answered `already_present` with its stored position. The same id
    /// with different content is refused as invalid, naming
    /// `events[i].event_id`, and nothing is appended. The same id twice in
    /// one request is appended once. The lookup reads the view, so this is
    /// exactly-once when the view has caught up with the log (and the
    /// subject's partition is this instance's); otherwise the event is
    /// appended again and the fold counts its id once.
    ///
    /// Counted (`consent_appends_total`) under the transport this handle
    /// serves ([`Ledger::serving`]).
    pub async fn append_response(
        &self,
        events: Vec<v1::Envelope>,
    ) -> Result<Vec<v1::AppendedEvent>, LedgerError> {
        let appended = self.append_response_uncounted(events).await;
        if let Some(transport) = self.transport {
            crate::metrics::record_append(transport, &appended);
        }
        appended
    }

    async fn append_response_uncounted(
        &self,
        events: Vec<v1::Envelope>,
    ) -> Result<Vec<v1::AppendedEvent>, LedgerError> {
        let appended = self.append_sends(events, Entry::Api).await?;
        Ok(appended
            .into_iter()
            .map(|answer| v1::AppendedEvent {
                event_id: answer.event_id.to_string(),
                position: Some(v1::LogPosition::from(answer.position)),
                // A send appended again (a retried pipeline) gets a URL too:
                // a token issued now for the same message, as valid as the
                // first (tokens do not expire), so a retry can still put
                // the link in the message it queues.
                unsubscribe_url: answer
                    .send
                    .and_then(|claim| self.unsubscribe_url(&claim))
                    .unwrap_or_default(),
                already_present: answer.already_present,
            })
            .collect())
    }

    /// The append itself; each event comes back with the claim of its
    /// unsubscribe token when it is a message sent to a subject.
    async fn append_sends(
        &self,
        events: Vec<v1::Envelope>,
        entry: Entry,
    ) -> Result<Vec<AppendAnswer>, LedgerError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let layout = inner.log.layout();
        let mut envelopes = Vec::with_capacity(events.len());
        let mut requested = Vec::with_capacity(events.len());
        let mut caller_ids = Vec::with_capacity(events.len());
        for (index, envelope) in events.into_iter().enumerate() {
            caller_ids.push(!envelope.event_id.is_empty());
            let (envelope, event) =
                prepare_for_append(envelope, now, || inner.ids.new_id().0, &inner.config.entry)
                    .map_err(|error| {
                        LedgerError::invalid(Some(index), error.within(&format!("events[{index}]")))
                    })?;
            self.ensure_keyed_here(&event, index)?;
            envelopes.push(envelope);
            requested.push(event);
        }
        if envelopes.is_empty() {
            return Ok(Vec::new());
        }
        // What becomes of each event: appended, already recorded (compared
        // by digest, as stored), or a repeat within this request. Decided
        // before sealing, which must not run for a refused request.
        let dispositions = self.dispositions(&envelopes, &caller_ids)?;
        // Sealing comes last before the log: it destroys the keys of erased
        // subjects, which must not happen for a request refused as invalid.
        // (A retried erasure destroys nothing new.)
        let suppressions = self.seal(&mut envelopes, &requested, now).await?;

        // The append's span: its trace context (when traces are on) goes
        // into every record's headers, so the projector's span for each
        // record continues this trace.
        let span =
            tracing::info_span!("log_append", records = envelopes.len() + suppressions.len());
        let trace_headers = consent_trace_context::record_headers(&span);
        let mut records = Vec::with_capacity(envelopes.len() + suppressions.len());
        // (request index, index of its record), for the events appended.
        let mut answered: Vec<(usize, usize)> = Vec::with_capacity(envelopes.len());
        for (index, (envelope, event)) in envelopes.iter().zip(&requested).enumerate() {
            if !matches!(dispositions[index], Disposition::Append) {
                continue;
            }
            answered.push((index, records.len()));
            records.push(append_record(layout, envelope, event, &trace_headers));
            if let Some((envelope, event)) = suppressions.get(&index) {
                records.push(append_record(layout, envelope, event, &trace_headers));
            }
        }

        let positions = if records.is_empty() {
            Vec::new()
        } else {
            self.append_records(records, &answered, span).await?
        };
        let mut appended_at: BTreeMap<usize, LogPosition> = answered
            .iter()
            .map(|(index, record)| (*index, positions[*record].clone()))
            .collect();
        let mut answers: Vec<AppendAnswer> = Vec::with_capacity(requested.len());
        let mut appended_events = Vec::with_capacity(answered.len());
        for (index, (event, disposition)) in requested.into_iter().zip(dispositions).enumerate() {
            let (position, already_present) = match disposition {
                Disposition::Present(position) => (position, true),
                Disposition::RepeatOf(first) => (answers[first].position.clone(), true),
                Disposition::Append => match appended_at.remove(&index) {
                    Some(position) => (position, false),
                    None => {
                        return Err(LedgerError::LogUnavailable(LogError::Backend(format!(
                            "no position answered for event {index}"
                        ))))
                    }
                },
            };
            answers.push(AppendAnswer {
                event_id: event.id,
                position,
                send: unsubscribe_claim(&event, now),
                already_present,
            });
            if !already_present {
                appended_events.push(event);
            }
        }
        tracing::debug!(
            appended = appended_events.len(),
            already_present = answers.len() - appended_events.len(),
            "appended events"
        );
        crate::metrics::record_opt_outs(entry, &appended_events);
        Ok(answers)
    }

    /// One durable log append of `records`, bounded by the append timeout;
    /// their positions in order. `answered` maps request indexes to the
    /// index of their record, to name a record that is too large.
    async fn append_records(
        &self,
        records: Vec<AppendRecord>,
        answered: &[(usize, usize)],
        span: tracing::Span,
    ) -> Result<Vec<LogPosition>, LedgerError> {
        let sizes: Vec<usize> = records.iter().map(|r| r.payload.len()).collect();
        let count = records.len();
        let timeout = self.inner.config.append_timeout;
        let appended =
            match tokio::time::timeout(timeout, self.inner.log.append(records).instrument(span))
                .await
            {
                Ok(appended) => appended,
                Err(_elapsed) => Err(LogError::Unavailable(format!(
                    "the append was not acknowledged within {} ms",
                    timeout.as_millis()
                ))),
            };
        let positions = appended.map_err(|error| match error {
            LogError::RecordTooLarge { size, limit } => {
                // The log does not say which record; the largest is one.
                // Named by its request index (a suppression record counts
                // as the erasure it follows).
                let record = sizes
                    .iter()
                    .enumerate()
                    .max_by_key(|(_, size)| **size)
                    .map_or(0, |(record, _)| record);
                let at = answered
                    .partition_point(|(_, first)| *first <= record)
                    .saturating_sub(1);
                let index = answered.get(at).map_or(0, |(index, _)| *index);
                LedgerError::RecordTooLarge { index, size, limit }
            }
            error => {
                tracing::warn!(%error, events = count, "append not acknowledged by the log");
                LedgerError::LogUnavailable(error)
            }
        })?;
        if positions.len() != count {
            return Err(LedgerError::LogUnavailable(LogError::Backend(format!(
                "the log returned {} positions for {count} records",
                positions.len(),
            ))));
        }
        Ok(positions)
    }

    /// What becomes of each of `envelopes` (completed, not yet sealed): an event
    /// whose caller-given id is already recorded with the same content is
    /// [`Disposition::Present`] at its stored position, and one whose id an
    /// earlier event of the request has, with the same content, is
    /// [`Disposition::RepeatOf`] that one. The same id with other content
    /// is refused, naming `events[i].event_id`.
    ///
    /// Read from the view, where the event's state keeps it: a subject's
    /// history, the organisation's state, or (for an address-only fact)
    /// the address's state.
    fn dispositions(
        &self,
        envelopes: &[v1::Envelope],
        caller_ids: &[bool],
    ) -> Result<Vec<Disposition>, LedgerError> {
        let mut dispositions = Vec::with_capacity(envelopes.len());
        let mut first_of: BTreeMap<EventId, (usize, Event)> = BTreeMap::new();
        for (index, envelope) in envelopes.iter().enumerate() {
            if !caller_ids.get(index).copied().unwrap_or(false) {
                dispositions.push(Disposition::Append);
                continue;
            }
            // Contact values as stored: their digests.
            let mut digested;
            let envelope = match &self.inner.sealer {
                Some(sealer) => {
                    digested = envelope.clone();
                    sealer.digest_values(&mut digested).map_err(|error| {
                        LedgerError::invalid(Some(index), error.within(&format!("events[{index}]")))
                    })?;
                    &digested
                }
                None => envelope,
            };
            let event = event_from_proto(envelope).map_err(|error| {
                LedgerError::invalid(Some(index), error.within(&format!("events[{index}]")))
            })?;
            if let Some((first, earlier)) = first_of.get(&event.id) {
                if earlier.occurred_at != event.occurred_at
                    || earlier.fact != event.fact
                    || earlier.subject != event.subject
                    || earlier.organisation != event.organisation
                {
                    return Err(different_content(
                        index,
                        event.id,
                        &format!("events[{first}]"),
                    ));
                }
                dispositions.push(Disposition::RepeatOf(*first));
                continue;
            }
            let disposition = match self.recorded(&event)? {
                Some(recorded) => {
                    if recorded.occurred_at != event.occurred_at || recorded.fact != event.fact {
                        let at = recorded
                            .position
                            .as_ref()
                            .map_or_else(String::new, ToString::to_string);
                        return Err(different_content(index, event.id, &at));
                    }
                    match recorded.position {
                        Some(position) => {
                            Disposition::Present(LogPosition::from(v1::LogPosition::from(position)))
                        }
                        None => Disposition::Append,
                    }
                }
                None => Disposition::Append,
            };
            dispositions.push(disposition);
            first_of.insert(event.id, (index, event));
        }
        Ok(dispositions)
    }

    /// The fact recorded in the view under `event`'s id, where `event`
    /// would be kept, with its position; `None` when the view has none.
    fn recorded(&self, event: &Event) -> Result<Option<Recorded<Fact>>, LedgerError> {
        let store = &self.inner.store;
        let organisation = &event.organisation;
        let found = match (event.fact.scope(), &event.subject) {
            (FactScope::Organisation, _) => {
                let Some(state) = store.shared_organisation_state(organisation)? else {
                    return Ok(None);
                };
                let found = if matches!(event.fact, Fact::ContactsSuppressed(_)) {
                    state
                        .suppressions
                        .facts()
                        .into_iter()
                        .find(|f| f.id == event.id)
                        .cloned()
                } else {
                    state.facts.get(event.id).cloned()
                };
                found
            }
            (_, Some(subject)) => {
                let Some(entry) = store.history_entry(organisation, subject, &event.id)? else {
                    return Ok(None);
                };
                let envelope = decode_envelope(&entry.stored_bytes).map_err(|source| {
                    LedgerError::StoredRecord {
                        event_id: event.id.to_string(),
                        position: entry.position.to_string(),
                        source,
                    }
                })?;
                // A stored record this version no longer reads as a fact
                // is not an answer: the event is appended again.
                let Ok(stored) = event_from_proto(&envelope) else {
                    return Ok(None);
                };
                Some(Recorded {
                    id: stored.id,
                    occurred_at: stored.occurred_at,
                    position: Some(entry.position),
                    fact: stored.fact,
                })
            }
            (_, None) => {
                let Some(address) = event.fact.address() else {
                    return Ok(None);
                };
                store
                    .address_state(organisation, address)?
                    .and_then(|state| state.facts.get(event.id).cloned())
            }
        };
        // A fact folded without a position (never from the log) is not an
        // answer to give: it is appended again and the fold counts it once.
        Ok(found.filter(|f| f.position.is_some()))
    }

    /// With a key store private to this instance (the SQLite file), a
    /// subject's key lives only on the instance owning the subject's
    /// partition: facts that need the key (contact values to seal, an
    /// erasure to destroy it) are refused elsewhere, naming the partition,
    /// as checks are, so that no second key is made and no erasure misses
    /// the key. With a shared key store (PostgreSQL) every instance holds
    /// every key, and any instance seals and erases. Other facts are
    /// accepted by any instance.
    fn ensure_keyed_here(&self, event: &Event, index: usize) -> Result<(), LedgerError> {
        let Some(subject) = &event.subject else {
            return Ok(());
        };
        let needs_key = matches!(event.fact, Fact::ErasureRequested(_))
            || !event.fact.contact_values().is_empty();
        let Some(sealer) = &self.inner.sealer else {
            return Ok(());
        };
        if !needs_key || sealer.key_store().is_shared() {
            return Ok(());
        }
        self.ensure_owned(
            &event.organisation,
            subject,
            format_args!("events[{index}]: "),
        )
    }

    /// Seals the contact values of `envelopes` when this ledger seals, and
    /// returns, after the index of each erasure that has contact digests,
    /// the organisation-level `ContactsSuppressed` fact to append with it.
    /// Its id is derived from the erasure's, so a retried erasure appends
    /// the same fact (counted once).
    ///
    /// The key store is synchronous and may wait on a disk or a database:
    /// it runs on the blocking pool, not on the runtime's workers.
    async fn seal(
        &self,
        envelopes: &mut Vec<v1::Envelope>,
        events: &[Event],
        now: Timestamp,
    ) -> Result<BTreeMap<usize, (v1::Envelope, Event)>, LedgerError> {
        let Some(sealer) = &self.inner.sealer else {
            return Ok(BTreeMap::new());
        };
        let sealer = Arc::clone(sealer);
        let mut owned = std::mem::take(envelopes);
        let (owned, sealed) = tokio::task::spawn_blocking(move || {
            let sealed = sealer.seal(&mut owned);
            (owned, sealed)
        })
        .await
        .map_err(|error| LedgerError::KeyStore(format!("the sealing task failed: {error}")))?;
        *envelopes = owned;
        let erased = sealed.map_err(|error| match error {
            SealError::Invalid(error) => LedgerError::invalid(None, error),
            other => LedgerError::KeyStore(other.to_string()),
        })?;
        let mut suppressions = BTreeMap::new();
        for (index, digests) in erased {
            let erasure = &events[index];
            let Some(subject) = &erasure.subject else {
                continue;
            };
            let envelope = v1::Envelope {
                event_id: suppression_id(erasure.id).to_string(),
                organisation_id: erasure.organisation.as_str().to_owned(),
                occurred_at: Some(timestamp_to_proto(erasure.occurred_at)),
                source: Some(v1::Source {
                    system: "consent-ledger".to_owned(),
                    actor: "erasure".to_owned(),
                    evidence_ref: erasure.id.to_string(),
                    ..v1::Source::default()
                }),
                payload: Some(v1::envelope::Payload::ContactsSuppressed(
                    v1::ContactsSuppressed {
                        digests: digests.iter().map(|d| d.to_vec()).collect(),
                        erasure_event_id: erasure.id.to_string(),
                        erased_subject_id: subject.as_str().to_owned(),
                    },
                )),
                ..v1::Envelope::default()
            };
            let prepared = prepare_for_append(
                envelope,
                now,
                || {
                    // The id is set above; this is never asked for.
                    suppression_id(erasure.id).0
                },
                &self.inner.config.entry,
            )
            .map_err(|error| {
                LedgerError::invalid(Some(index), error.within(&format!("events[{index}]")))
            })?;
            suppressions.insert(index, prepared);
        }
        Ok(suppressions)
    }
}

/// What an append does with one requested event.
enum Disposition {
    /// Appended to the log.
    Append,
    /// Already recorded, with the same content, at this position.
    Present(LogPosition),
    /// The same event as an earlier one of the request (by index).
    RepeatOf(usize),
}

/// The refusal of an event whose id names a fact with other content,
/// recorded `at` (a position, or the request item that has it).
fn different_content(index: usize, id: EventId, at: &str) -> LedgerError {
    LedgerError::invalid(
        Some(index),
        ValidationError::new(
            format!("events[{index}].event_id"),
            format!(
                "{id} is already recorded ({at}) with different content; an event id names one fact"
            ),
        ),
    )
}

/// What the append answers for one requested event.
struct AppendAnswer {
    event_id: EventId,
    /// Where it was appended, or where it already was.
    position: LogPosition,
    /// The claim of its unsubscribe token, for a message sent to a subject.
    send: Option<UnsubscribeClaim>,
    /// The view already held it with the same content: not appended again.
    already_present: bool,
}

/// The log record of a completed envelope, with the append's trace
/// context headers (none when traces are off).
fn append_record(
    layout: &LogLayout,
    envelope: &v1::Envelope,
    event: &Event,
    trace_headers: &[(String, Vec<u8>)],
) -> AppendRecord {
    let mut headers = Vec::with_capacity(1 + trace_headers.len());
    headers.push((
        EVENT_KIND_HEADER.to_owned(),
        event.fact.kind().as_bytes().to_vec(),
    ));
    headers.extend_from_slice(trace_headers);
    AppendRecord {
        topic: family_of(&event.fact).topic(layout),
        // A fact about an address goes to the organisation's key, so that
        // every instance folds the address's suppression.
        key: record_key(event),
        payload: encode_envelope(envelope),
        headers,
    }
}

/// The id of the suppression that follows erasure `erasure`: a UUIDv8 of
/// a SHA-256 of the erasure's id, so that it is the same on every retry.
fn suppression_id(erasure: EventId) -> EventId {
    let digest = Sha256::new()
        .chain_update(b"contacts_suppressed\0")
        .chain_update(erasure.0.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    EventId(uuid::Builder::from_custom_bytes(bytes).into_uuid())
}

/// What the unsubscribe token of a message sent says: the message, its
/// subject and channel, issued at the time of the append.
fn unsubscribe_claim(event: &Event, now: Timestamp) -> Option<UnsubscribeClaim> {
    let Fact::MarketingMessageSent(sent) = &event.fact else {
        return None;
    };
    Some(UnsubscribeClaim {
        organisation: event.organisation.clone(),
        subject: event.subject.clone()?,
        message_id: sent.message_id.clone(),
        channel: sent.channel,
        send_event: event.id,
        issued_at: now,
    })
}
