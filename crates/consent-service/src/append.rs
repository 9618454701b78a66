//! Appending facts: validate every event, then one durable log append.

use crate::error::LedgerError;
use crate::ledger::Ledger;
use consent_domain::event::{Event, Fact};
use consent_domain::{EventId, Timestamp};
use consent_intake::UnsubscribeClaim;
use consent_log::{AppendRecord, LogError, LogPosition};
use consent_schema::{encode_envelope, family_of, prepare_for_append, routing_key, v1};

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
        let appended = self.append_sends(events).await?;
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
        let appended = self.append_sends(events).await?;
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
    ) -> Result<Vec<(EventId, LogPosition, Option<UnsubscribeClaim>)>, LedgerError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let layout = inner.log.layout();
        let mut ids = Vec::with_capacity(events.len());
        let mut records = Vec::with_capacity(events.len());
        let mut sends = Vec::with_capacity(events.len());
        for (index, envelope) in events.into_iter().enumerate() {
            let (envelope, event) = prepare_for_append(envelope, now, || inner.ids.new_id().0)
                .map_err(|error| {
                    LedgerError::invalid(Some(index), error.within(&format!("events[{index}]")))
                })?;
            records.push(AppendRecord {
                topic: layout.topic(family_of(&event.fact)),
                key: routing_key(&event.organisation, event.subject.as_ref()),
                payload: encode_envelope(&envelope),
                headers: vec![(
                    EVENT_KIND_HEADER.to_owned(),
                    event.fact.kind().as_bytes().to_vec(),
                )],
            });
            sends.push(unsubscribe_claim(&event, now));
            ids.push(event.id);
        }
        if records.is_empty() {
            return Ok(Vec::new());
        }

        let sizes: Vec<usize> = records.iter().map(|r| r.payload.len()).collect();
        let timeout = inner.config.append_timeout;
        let appended = match tokio::time::timeout(timeout, inner.log.append(records)).await {
            Ok(appended) => appended,
            Err(_elapsed) => Err(LogError::Unavailable(format!(
                "the append was not acknowledged within {} ms",
                timeout.as_millis()
            ))),
        };
        let positions = appended.map_err(|error| match error {
            LogError::RecordTooLarge { size, limit } => {
                // The log does not say which record; the largest is one.
                let index = sizes
                    .iter()
                    .enumerate()
                    .max_by_key(|(_, size)| **size)
                    .map_or(0, |(index, _)| index);
                LedgerError::RecordTooLarge { index, size, limit }
            }
            error => {
                tracing::warn!(%error, events = ids.len(), "append not acknowledged by the log");
                LedgerError::LogUnavailable(error)
            }
        })?;
        if positions.len() != ids.len() {
            return Err(LedgerError::LogUnavailable(LogError::Backend(format!(
                "the log returned {} positions for {} records",
                positions.len(),
                ids.len()
            ))));
        }
        tracing::debug!(events = ids.len(), "appended events");
        Ok(ids
            .into_iter()
            .zip(positions)
            .zip(sends)
            .map(|((id, position), send)| (id, position, send))
            .collect())
    }
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
