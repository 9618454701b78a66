//! Appending facts: validate every event, then one durable log append.

use crate::error::LedgerError;
use crate::ledger::Ledger;
use crate::metrics::Entry;
use consent_domain::event::{Event, Fact};
use consent_domain::{EventId, Timestamp};
use consent_intake::UnsubscribeClaim;
use consent_log::{AppendRecord, LogError, LogLayout, LogPosition};
use consent_schema::{
    encode_envelope, family_of, prepare_for_append, record_key, timestamp_to_proto, v1,
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
    /// Every event is completed (id, `recorded_at`, schema version) and
    /// validated before anything is written: one invalid event rejects the
    /// whole request with [`LedgerError::Invalid`] naming its index and
    /// field (`events[2].consent_given.channels[0]`), and nothing is
    /// appended. The valid events then go to the log in one append; the
    /// stored bytes are the encoding of the completed envelope.
    ///
    /// `Ok` means the log acknowledged every record as durable. On
    /// [`LedgerError::LogUnavailable`] nothing is acknowledged, but a prefix
    /// may have been stored. Producers that set `event_id` themselves can
    /// retry safely with the same ids: the fold counts an id once.
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
            .map(|(id, position, _)| (id, position))
            .collect())
    }

    /// [`Ledger::append`], answering in the wire form: each event's id and
    /// position, and for each `MarketingMessageSent` about a subject its
    /// signed one-click unsubscribe URL, when intake is configured (see
    /// [`crate::IntakeConfig`]).
    pub async fn append_response(
        &self,
        events: Vec<v1::Envelope>,
    ) -> Result<Vec<v1::AppendedEvent>, LedgerError> {
        let appended = self.append_sends(events, Entry::Api).await?;
        Ok(appended
            .into_iter()
            .map(|(event_id, position, send)| v1::AppendedEvent {
                event_id: event_id.to_string(),
                position: Some(v1::LogPosition::from(position)),
                unsubscribe_url: send
                    .and_then(|claim| self.unsubscribe_url(&claim))
                    .unwrap_or_default(),
            })
            .collect())
    }

    /// The append itself; each event comes back with the claim of its
    /// unsubscribe token when it is a message sent to a subject.
    async fn append_sends(
        &self,
        events: Vec<v1::Envelope>,
        entry: Entry,
    ) -> Result<Vec<(EventId, LogPosition, Option<UnsubscribeClaim>)>, LedgerError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let layout = inner.log.layout();
        let mut envelopes = Vec::with_capacity(events.len());
        let mut requested = Vec::with_capacity(events.len());
        for (index, envelope) in events.into_iter().enumerate() {
            let (envelope, event) = prepare_for_append(envelope, now, || inner.ids.new_id().0)
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
        // Sealing comes last before the log: it destroys the keys of erased
        // subjects, which must not happen for a request refused as invalid.
        let suppressions = self.seal(&mut envelopes, &requested, now).await?;

        // The append's span: its trace context (when traces are on) goes
        // into every record's headers, so the projector's span for each
        // record continues this trace.
        let span =
            tracing::info_span!("log_append", records = envelopes.len() + suppressions.len());
        let trace_headers = consent_trace_context::record_headers(&span);
        let mut records = Vec::with_capacity(envelopes.len() + suppressions.len());
        let mut answered = Vec::with_capacity(envelopes.len());
        for (index, (envelope, event)) in envelopes.iter().zip(&requested).enumerate() {
            answered.push(records.len());
            records.push(append_record(layout, envelope, event, &trace_headers));
            if let Some((envelope, event)) = suppressions.get(&index) {
                records.push(append_record(layout, envelope, event, &trace_headers));
            }
        }

        let sizes: Vec<usize> = records.iter().map(|r| r.payload.len()).collect();
        let count = records.len();
        let timeout = inner.config.append_timeout;
        let appended =
            match tokio::time::timeout(timeout, inner.log.append(records).instrument(span)).await {
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
                let index = answered
                    .partition_point(|first| *first <= record)
                    .saturating_sub(1);
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
        tracing::debug!(events = count, "appended events");
        crate::metrics::record_opt_outs(entry, &requested);
        Ok(requested
            .iter()
            .zip(answered)
            .map(|(event, record)| {
                (
                    event.id,
                    positions[record].clone(),
                    unsubscribe_claim(event, now),
                )
            })
            .collect())
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
        self.ensure_owned(&event.organisation, subject, &format!("events[{index}]: "))
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
            let prepared = prepare_for_append(envelope, now, || {
                // The id is set above; this is never asked for.
                suppression_id(erasure.id).0
            })
            .map_err(|error| {
                LedgerError::invalid(Some(index), error.within(&format!("events[{index}]")))
            })?;
            suppressions.insert(index, prepared);
        }
        Ok(suppressions)
    }
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
        topic: layout.topic(family_of(&event.fact)),
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
