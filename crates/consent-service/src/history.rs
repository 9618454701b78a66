//! A subject's history: the stored events, as of a time, with the decision
//! the ledger would have made then.

use crate::error::LedgerError;
use crate::ledger::Ledger;
use consent_domain::{OrganisationId, SubjectId, Timestamp};
use consent_schema::{decode_envelope, timestamp_to_proto, v1};
use consent_sealing::unseal_envelope;
use std::sync::Arc;

impl Ledger {
    /// Every event recorded for `subject` of `organisation` (messages sent
    /// included), in `(occurred_at, event id)` order, each decoded from the
    /// bytes stored in the log and paired with its log position.
    ///
    /// With `at`, only the events with `occurred_at <= at`: what the ledger
    /// knew to have happened by then. With `decision_for`, the response
    /// also carries the decision for that check about this subject, taken
    /// at `at` unless the check gives its own time (its organisation and
    /// subject are those of the history). The decision is taken first, so
    /// the events include every position its `wait_for` awaited. A subject
    /// on a partition this instance does not own is refused with
    /// [`LedgerError::WrongPartition`].
    ///
    /// Sealed contact values come back in clear (`value`, `number`) beside
    /// their sealed form while the subject's key exists; after erasure only
    /// the sealed form (digest and unreadable ciphertext) remains.
    pub async fn history(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
        at: Option<Timestamp>,
        decision_for: Option<v1::CheckRequest>,
    ) -> Result<v1::HistoryResponse, LedgerError> {
        self.ensure_owned(organisation, subject, "")?;
        let decision = match decision_for {
            Some(mut request) => {
                request.organisation_id = organisation.as_str().to_owned();
                request.subject_id = subject.as_str().to_owned();
                if request.at.is_none() {
                    request.at = at.map(timestamp_to_proto);
                }
                Some(self.check_uncounted(request).await?)
            }
            None => None,
        };
        let entries = self.inner.store.history(organisation, subject)?;
        let key = match &self.inner.sealer {
            // On the blocking pool: the key store may wait on a database.
            Some(sealer) => {
                let (sealer, organisation, subject) =
                    (Arc::clone(sealer), organisation.clone(), subject.clone());
                let key = tokio::task::spawn_blocking(move || {
                    sealer.key_store().key(&organisation, &subject)
                })
                .await
                .map_err(|error| {
                    LedgerError::KeyStore(format!("the key lookup task failed: {error}"))
                })?
                .map_err(|error| LedgerError::KeyStore(error.to_string()))?;
                Some(key)
            }
            None => None,
        };
        let mut events = Vec::with_capacity(entries.len());
        for entry in entries {
            if at.is_some_and(|at| entry.occurred_at > at) {
                continue;
            }
            let mut envelope = decode_envelope(&entry.stored_bytes).map_err(|source| {
                LedgerError::StoredRecord {
                    event_id: entry.event_id.to_string(),
                    position: entry.position.to_string(),
                    source,
                }
            })?;
            if let Some(key) = &key {
                unseal_envelope(&mut envelope, key);
            }
            events.push(v1::HistoryEntry {
                event: Some(envelope),
                position: Some(v1::LogPosition::from(&entry.position)),
            });
        }
        Ok(v1::HistoryResponse { events, decision })
    }
}
