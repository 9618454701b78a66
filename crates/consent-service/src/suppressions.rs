//! An organisation's suppression list, a page at a time: every address it
//! holds facts about whichever subject they were recorded under (the
//! view's address states), and every address an erasure suppressed (the
//! organisation state's `ContactsSuppressed` facts), merged in address
//! order. The address is also the cursor.

use crate::error::LedgerError;
use crate::ledger::Ledger;
use consent_domain::vocabulary::ContactKind;
use consent_domain::{AddressState, Fact, OrganisationId, Recorded, SubjectId};
use consent_schema::v1::envelope::Payload;
use consent_schema::{decode_envelope, timestamp_to_proto, v1, ValidationError, Vocabulary};
use consent_sealing::{unseal_envelope, KeyState};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Entries per page when the request names no limit.
pub const DEFAULT_SUPPRESSION_PAGE: u32 = 100;
/// The most entries one page may ask for.
pub const MAX_SUPPRESSION_PAGE: u32 = 1000;

/// What is known of one address on a page.
#[derive(Default)]
struct Entry<'a> {
    state: Option<AddressState>,
    erasures: Vec<&'a Recorded<Fact>>,
}

impl Ledger {
    /// One page of `organisation`'s suppression list, from the address
    /// after `request.after`. Any instance answers: address states and
    /// erasure suppressions are folded on every instance
    /// (docs/SCALING.md); the clear value of an address is found only
    /// where the history of a subject it was recorded under is kept (its
    /// owner) and that subject's key still exists.
    pub async fn suppressions(
        &self,
        request: v1::SuppressionListRequest,
    ) -> Result<v1::SuppressionListResponse, LedgerError> {
        if request.organisation_id.is_empty() {
            return Err(LedgerError::invalid(
                None,
                ValidationError::new("organisation_id", "required"),
            ));
        }
        let limit = match request.limit {
            0 => DEFAULT_SUPPRESSION_PAGE,
            n if n > MAX_SUPPRESSION_PAGE => {
                return Err(LedgerError::invalid(
                    None,
                    ValidationError::new(
                        "limit",
                        format!("at most {MAX_SUPPRESSION_PAGE} entries a page, asked for {n}"),
                    ),
                ))
            }
            n => n,
        } as usize;
        let organisation = OrganisationId::new(request.organisation_id.as_str());
        let after = (!request.after.is_empty()).then_some(request.after.as_str());
        let store = &self.inner.store;

        // One more than a page from each source: the first `limit + 1`
        // addresses of the union are among them.
        let states = store.address_states(&organisation, after, limit + 1)?;
        let organisation_state = store.shared_organisation_state(&organisation)?;
        let mut erased: BTreeMap<&str, Vec<&Recorded<Fact>>> = BTreeMap::new();
        if let Some(state) = &organisation_state {
            for recorded in state.suppressions.facts() {
                let Fact::ContactsSuppressed(suppressed) = &recorded.fact else {
                    continue;
                };
                for digest in &suppressed.digests {
                    if after.is_none_or(|after| digest.as_str() > after) {
                        erased.entry(digest.as_str()).or_default().push(recorded);
                    }
                }
            }
        }
        let mut merged: BTreeMap<String, Entry<'_>> = BTreeMap::new();
        for (address, state) in states {
            merged.entry(address).or_default().state = Some(state);
        }
        for (digest, facts) in erased.into_iter().take(limit + 1) {
            merged.entry(digest.to_owned()).or_default().erasures = facts;
        }
        let more = merged.len() > limit;
        let page: Vec<(String, Entry<'_>)> = merged.into_iter().take(limit).collect();

        let keys = self.subject_keys(&organisation, &page).await?;
        let mut entries = Vec::with_capacity(page.len());
        for (address, entry) in &page {
            entries.push(self.suppressed_address(&organisation, address, entry, &keys)?);
        }
        let next_cursor = match (more, entries.last()) {
            (true, Some(last)) => last.address.clone(),
            _ => String::new(),
        };
        Ok(v1::SuppressionListResponse {
            entries,
            next_cursor,
        })
    }

    /// The suppression list's entry of one address of `organisation`, given
    /// in clear (`value`, read as the edge reads it, `field` naming it in a
    /// refusal) and looked up by its digest: empty when the list does not
    /// hold it. The console's search of the list.
    pub async fn suppression_of(
        &self,
        organisation: &OrganisationId,
        search: crate::AddressSearch,
        field: &str,
        value: &str,
    ) -> Result<Vec<v1::SuppressedAddress>, LedgerError> {
        let mut addresses: Vec<String> = self
            .comparable_points(organisation, search, field, value)?
            .into_iter()
            .map(|point| point.value)
            .collect();
        addresses.dedup();
        let store = &self.inner.store;
        let organisation_state = store.shared_organisation_state(organisation)?;
        let mut page: Vec<(String, Entry<'_>)> = Vec::new();
        for address in addresses {
            let state = store.address_state(organisation, &address)?;
            let erasures: Vec<&Recorded<Fact>> = organisation_state
                .iter()
                .flat_map(|state| state.suppressions.facts())
                .filter(|recorded| match &recorded.fact {
                    Fact::ContactsSuppressed(f) => {
                        f.digests.iter().any(|digest| digest.as_str() == address)
                    }
                    _ => false,
                })
                .collect();
            if state.is_some() || !erasures.is_empty() {
                page.push((address, Entry { state, erasures }));
            }
        }
        let keys = self.subject_keys(organisation, &page).await?;
        page.iter()
            .map(|(address, entry)| self.suppressed_address(organisation, address, entry, &keys))
            .collect()
    }

    /// The keys of the subjects the page's facts were recorded under, when
    /// this ledger seals (one trip to the key store, on the blocking pool).
    async fn subject_keys(
        &self,
        organisation: &OrganisationId,
        page: &[(String, Entry<'_>)],
    ) -> Result<BTreeMap<SubjectId, KeyState>, LedgerError> {
        let Some(sealer) = &self.inner.sealer else {
            return Ok(BTreeMap::new());
        };
        let mut subjects: Vec<SubjectId> = page
            .iter()
            .filter_map(|(_, entry)| entry.state.as_ref())
            .flat_map(|state| state.subjects.values().cloned())
            .collect();
        subjects.sort();
        subjects.dedup();
        if subjects.is_empty() {
            return Ok(BTreeMap::new());
        }
        let (sealer, organisation) = (Arc::clone(sealer), organisation.clone());
        tokio::task::spawn_blocking(move || {
            subjects
                .into_iter()
                .map(|subject| {
                    let key = sealer.key_store().key(&organisation, &subject)?;
                    Ok((subject, key))
                })
                .collect::<Result<BTreeMap<_, _>, consent_sealing::KeyStoreError>>()
        })
        .await
        .map_err(|error| LedgerError::KeyStore(format!("the key lookup task failed: {error}")))?
        .map_err(|error| LedgerError::KeyStore(error.to_string()))
    }

    fn suppressed_address(
        &self,
        organisation: &OrganisationId,
        address: &str,
        entry: &Entry<'_>,
        keys: &BTreeMap<SubjectId, KeyState>,
    ) -> Result<v1::SuppressedAddress, LedgerError> {
        let mut facts: Vec<(&Recorded<Fact>, Option<&SubjectId>)> = Vec::new();
        let mut kind = ContactKind::Email;
        let mut kind_known = false;
        if let Some(state) = &entry.state {
            for recorded in state.facts.facts() {
                if let Fact::OptOutRecorded(f) = &recorded.fact {
                    if let Some(point) = &f.contact_point {
                        (kind, kind_known) = (point.kind, true);
                    }
                }
                if let Fact::ObjectionRecorded(f) = &recorded.fact {
                    if let Some(point) = &f.contact_point {
                        (kind, kind_known) = (point.kind, true);
                    }
                }
                facts.push((recorded, state.subject_of(&recorded.id)));
            }
        }
        let erased_subjects: Vec<SubjectId> = entry
            .erasures
            .iter()
            .filter_map(|recorded| match &recorded.fact {
                Fact::ContactsSuppressed(f) => Some(f.erased_subject.clone()),
                _ => None,
            })
            .collect();
        for (recorded, subject) in entry.erasures.iter().zip(&erased_subjects) {
            facts.push((recorded, Some(subject)));
        }
        facts.sort_by_key(|(recorded, _)| (recorded.occurred_at, recorded.id));

        let clear_value = match &self.inner.sealer {
            // Not sealed: the address is its own clear value.
            None if consent_schema::digest_bytes(address).is_none() => address.to_owned(),
            None => String::new(),
            Some(_) => self.clear_value(organisation, &entry.state, keys)?,
        };
        Ok(v1::SuppressedAddress {
            address: address.to_owned(),
            kind: if kind_known {
                kind.to_wire()
            } else {
                v1::ContactKind::Unspecified as i32
            },
            clear_value,
            facts: facts
                .into_iter()
                .map(|(recorded, subject)| suppressing_fact(recorded, subject))
                .collect(),
        })
    }

    /// The address in clear, opened from the stored record of a fact about
    /// it recorded under a subject whose key is live and whose history
    /// this instance keeps; empty otherwise.
    fn clear_value(
        &self,
        organisation: &OrganisationId,
        state: &Option<AddressState>,
        keys: &BTreeMap<SubjectId, KeyState>,
    ) -> Result<String, LedgerError> {
        let Some(state) = state else {
            return Ok(String::new());
        };
        for (event, subject) in &state.subjects {
            let Some(key @ KeyState::Live(_)) = keys.get(subject) else {
                continue;
            };
            let Some(entry) = self
                .inner
                .store
                .history_entry(organisation, subject, event)?
            else {
                continue;
            };
            let Ok(mut envelope) = decode_envelope(&entry.stored_bytes) else {
                continue;
            };
            unseal_envelope(&mut envelope, key);
            let value = match &envelope.payload {
                Some(Payload::OptOutRecorded(p)) => {
                    p.contact_point.as_ref().map(|c| c.value.clone())
                }
                Some(Payload::ObjectionRecorded(p)) => {
                    p.contact_point.as_ref().map(|c| c.value.clone())
                }
                Some(Payload::PreferenceServiceListing(p)) => Some(p.number.clone()),
                Some(Payload::ToldNotToCall(p)) => Some(p.number.clone()),
                Some(Payload::DoesNotObjectToCalls(p)) => Some(p.number.clone()),
                _ => None,
            };
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                return Ok(value);
            }
        }
        Ok(String::new())
    }
}

fn suppressing_fact(recorded: &Recorded<Fact>, subject: Option<&SubjectId>) -> v1::SuppressingFact {
    let (channels, all_channels, listed) = match &recorded.fact {
        Fact::OptOutRecorded(f) => (f.channels.clone(), f.all_channels, false),
        Fact::PreferenceServiceListing(f) => (Vec::new(), false, f.listed),
        _ => (Vec::new(), false, false),
    };
    v1::SuppressingFact {
        event_id: recorded.id.to_string(),
        kind: recorded.fact.kind().to_owned(),
        channels: channels.into_iter().map(Vocabulary::to_wire).collect(),
        all_channels,
        occurred_at: Some(timestamp_to_proto(recorded.occurred_at)),
        subject_id: subject.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        position: recorded.position.as_ref().map(v1::LogPosition::from),
        listed,
    }
}
