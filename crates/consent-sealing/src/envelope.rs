//! Sealing the contact values of envelopes at the append edge, and opening
//! them again for the organisation's own reading.

use crate::digest::ContactDigestKey;
use crate::error::SealError;
use crate::key_store::{Digest, KeyState, SealingBatch, SubjectKeyStore};
use crate::subject_key::SubjectKey;
use consent_domain::vocabulary::{ContactDigest, ContactKind, ContactPoint, ContactValue};
use consent_domain::{OrganisationId, SubjectId};
use consent_schema::v1::envelope::Payload;
use consent_schema::{contact_fields, ContactField, ValidationError};
use consent_schema::{contact_kind, event_id, normalised_value, v1};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Seals contact values with the ledger's digest key and the subjects'
/// keys from a [`SubjectKeyStore`].
pub struct Sealer {
    digest_key: ContactDigestKey,
    keys: Arc<dyn SubjectKeyStore>,
}

impl Sealer {
    pub fn new(digest_key: ContactDigestKey, keys: Arc<dyn SubjectKeyStore>) -> Self {
        Self { digest_key, keys }
    }

    pub fn key_store(&self) -> &dyn SubjectKeyStore {
        self.keys.as_ref()
    }

    /// Seals, in place, every contact value of `envelopes` (completed and
    /// validated envelopes of one append, in order): each value becomes its
    /// digest and its ciphertext under the subject's key. Destroys the keys
    /// of the subjects these envelopes erase, after recording the digests
    /// of this append, so a value and its erasure in one append end
    /// unreadable. Returns, by envelope index, each erasure's digests: what
    /// the organisation's suppression list must gain.
    ///
    /// One key-store transaction per call. A value a producer sent already
    /// sealed is refused (only the ledger seals: a digest from outside could
    /// not be trusted to be of the address).
    pub fn seal(
        &self,
        envelopes: &mut [v1::Envelope],
    ) -> Result<BTreeMap<usize, BTreeSet<Digest>>, SealError> {
        let mut batch = SealingBatch::default();
        let mut normalised: Vec<Vec<(String, Digest)>> = Vec::with_capacity(envelopes.len());
        let mut erasures = BTreeMap::new();
        for (index, envelope) in envelopes.iter_mut().enumerate() {
            let organisation = OrganisationId::from(envelope.organisation_id.as_str());
            let subject = (!envelope.subject_id.is_empty())
                .then(|| SubjectId::from(envelope.subject_id.as_str()));
            let values = self
                .digest_fields(&organisation, envelope)
                .map_err(|error| error.within(&format!("events[{index}]")))?;
            if let Some(subject) = &subject {
                let id = (organisation.clone(), subject.clone());
                if matches!(envelope.payload, Some(Payload::ErasureRequested(_))) {
                    let erasure =
                        event_id(&format!("events[{index}].event_id"), &envelope.event_id)?;
                    batch.erasures.entry(id.clone()).or_insert(erasure);
                    erasures.insert(index, id.clone());
                }
                if !values.is_empty() {
                    batch
                        .digests
                        .entry(id)
                        .or_default()
                        .extend(values.iter().map(|(_, digest)| *digest));
                }
            }
            normalised.push(values);
        }
        let prepared = self.keys.prepare(&batch)?;

        for (envelope, values) in envelopes.iter_mut().zip(normalised) {
            if values.is_empty() {
                continue;
            }
            let organisation = OrganisationId::from(envelope.organisation_id.as_str());
            let subject = SubjectId::from(envelope.subject_id.as_str());
            // A fact about an address alone (an imported suppression list,
            // a TPS file) has no subject and so no key: its values keep
            // their digest only, with no ciphertext (nothing to open, and
            // nothing an erasure could destroy).
            let key = if envelope.subject_id.is_empty() {
                None
            } else {
                prepared
                    .keys
                    .get(&(organisation.clone(), subject.clone()))
                    .cloned()
                    .flatten()
            };
            let mut values = values.into_iter();
            for field in contact_fields(envelope.payload.as_mut()) {
                let Some((value, digest)) = values.next() else {
                    break;
                };
                let ciphertext = match &key {
                    Some(key) => key.seal(&organisation, &subject, &value)?,
                    None => Vec::new(),
                };
                field.seal(v1::SealedValue {
                    digest: digest.to_vec(),
                    ciphertext,
                });
            }
        }
        Ok(erasures
            .into_iter()
            .filter_map(|(index, subject)| {
                prepared
                    .suppressed
                    .get(&subject)
                    .filter(|digests| !digests.is_empty())
                    .map(|digests| (index, digests.clone()))
            })
            .collect())
    }

    /// Replaces, in place, every contact value of `envelope` (completed and
    /// validated) by its sealed form without a ciphertext: the digest alone.
    /// The envelope then converts to the same fact as its stored, sealed
    /// copy, which is what an append compares a retried event with. Reads
    /// and writes no key.
    pub fn digest_values(&self, envelope: &mut v1::Envelope) -> Result<(), ValidationError> {
        let organisation = OrganisationId::from(envelope.organisation_id.as_str());
        let values = self.digest_fields(&organisation, envelope)?;
        for (field, (_, digest)) in contact_fields(envelope.payload.as_mut())
            .into_iter()
            .zip(values)
        {
            field.seal(v1::SealedValue {
                digest: digest.to_vec(),
                ciphertext: Vec::new(),
            });
        }
        Ok(())
    }

    /// `contact` (an address as a check gives it, normalised) as the rules
    /// compare it: its digest. A value already in digest form is kept.
    pub fn digest_contact(
        &self,
        organisation: &OrganisationId,
        contact: &ContactPoint,
    ) -> ContactPoint {
        match &contact.value {
            ContactValue::Digest(_) => contact.clone(),
            ContactValue::Clear(value) => ContactPoint {
                kind: contact.kind,
                value: ContactValue::Digest(ContactDigest(
                    self.digest_key.digest(organisation, value),
                )),
            },
        }
    }

    /// The normalised value and digest of each contact field of `envelope`,
    /// in [`fields`] order.
    fn digest_fields(
        &self,
        organisation: &OrganisationId,
        envelope: &mut v1::Envelope,
    ) -> Result<Vec<(String, Digest)>, ValidationError> {
        contact_fields(envelope.payload.as_mut())
            .into_iter()
            .map(|field| {
                let value = field.normalised()?;
                let digest = self.digest_key.digest(organisation, &value);
                Ok((value, digest))
            })
            .collect()
    }
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

/// What opening an envelope's sealed values gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsealed {
    /// No value was sealed in it.
    NothingSealed,
    /// Every sealed value is back in clear.
    Opened,
    /// The subject is erased (or its key is unknown here): the values stay
    /// sealed, only their digests are shown.
    Redacted,
}

/// Fills each sealed value of `envelope` back in clear (`value`, `number`)
/// when `key` is the subject's live key; the sealed form stays beside it.
pub fn unseal_envelope(envelope: &mut v1::Envelope, key: &KeyState) -> Unsealed {
    let organisation = OrganisationId::from(envelope.organisation_id.as_str());
    let subject = SubjectId::from(envelope.subject_id.as_str());
    let mut outcome = Unsealed::NothingSealed;
    for field in contact_fields(envelope.payload.as_mut()) {
        let Some(sealed) = field.sealed().cloned() else {
            continue;
        };
        let opened = match key {
            KeyState::Live(key) => open(key, &organisation, &subject, &sealed),
            KeyState::Erased { .. } | KeyState::Unknown => None,
        };
        outcome = match (opened, outcome) {
            (Some(value), Unsealed::NothingSealed | Unsealed::Opened) => {
                field.show(value);
                Unsealed::Opened
            }
            (Some(value), Unsealed::Redacted) => {
                field.show(value);
                Unsealed::Redacted
            }
            (None, _) => Unsealed::Redacted,
        };
    }
    outcome
}

fn open(
    key: &SubjectKey,
    organisation: &OrganisationId,
    subject: &SubjectId,
    sealed: &v1::SealedValue,
) -> Option<String> {
    (!sealed.ciphertext.is_empty())
        .then(|| key.open(organisation, subject, &sealed.ciphertext).ok())
        .flatten()
}

/// What sealing does with one contact value of an event
/// ([`consent_schema::contact_fields`] finds them).
trait SealedField {
    /// The value, validated and normalised; refuses a value sent sealed.
    fn normalised(&self) -> Result<String, ValidationError>;
    /// Replaces the value in clear by its sealed form.
    fn seal(self, value: v1::SealedValue);
    /// The sealed form, when the value is sealed.
    fn sealed(&self) -> Option<&v1::SealedValue>;
    /// Puts the opened value back in clear beside its sealed form.
    fn show(self, value: String);
}

impl SealedField for ContactField<'_> {
    fn normalised(&self) -> Result<String, ValidationError> {
        match self {
            ContactField::Point { path, point } => {
                if point.sealed.is_some() {
                    return Err(sent_sealed(&format!("{path}.sealed")));
                }
                let kind = contact_kind(&format!("{path}.kind"), point.kind)?;
                normalised_value(&format!("{path}.value"), kind, &point.value)
            }
            ContactField::Number {
                path,
                number,
                sealed,
            } => {
                if sealed.is_some() {
                    return Err(sent_sealed(&format!("{path}.sealed_number")));
                }
                normalised_value(&format!("{path}.number"), ContactKind::Mobile, number)
            }
        }
    }

    fn seal(self, value: v1::SealedValue) {
        match self {
            ContactField::Point { point, .. } => {
                point.value.clear();
                point.sealed = Some(value);
            }
            ContactField::Number { number, sealed, .. } => {
                number.clear();
                *sealed = Some(value);
            }
        }
    }

    fn sealed(&self) -> Option<&v1::SealedValue> {
        match self {
            ContactField::Point { point, .. } => point.sealed.as_ref(),
            ContactField::Number { sealed, .. } => sealed.as_ref(),
        }
    }

    fn show(self, value: String) {
        match self {
            ContactField::Point { point, .. } => point.value = value,
            ContactField::Number { number, .. } => *number = value,
        }
    }
}

fn sent_sealed(field: &str) -> ValidationError {
    ValidationError::new(
        field,
        "set by the ledger, never by a producer: send the address in `value` (or `number`)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key_store::MemoryKeyStore;
    use consent_schema::v1::envelope::Payload;

    /// A sealed value's digest as the rules compare it.
    fn digest_value(digest: &[u8]) -> ContactValue {
        ContactValue::Digest(ContactDigest::from_slice(digest).expect("a 32-byte digest"))
    }

    fn sealer() -> (Sealer, Arc<MemoryKeyStore>) {
        let keys = Arc::new(MemoryKeyStore::default());
        let sealer = Sealer::new(ContactDigestKey::from_bytes([1; 32]), keys.clone());
        (sealer, keys)
    }

    fn told_not_to_call(subject: &str, number: &str) -> v1::Envelope {
        v1::Envelope {
            event_id: "0190f2a4-7b3c-7d2e-9f10-1a2b3c4d5e6f".to_owned(),
            organisation_id: "acme".to_owned(),
            subject_id: subject.to_owned(),
            payload: Some(Payload::ToldNotToCall(v1::ToldNotToCall {
                number: number.to_owned(),
                sealed_number: None,
            })),
            ..v1::Envelope::default()
        }
    }

    fn erasure(subject: &str) -> v1::Envelope {
        v1::Envelope {
            event_id: "0190f2a4-7b3c-7d2e-9f10-1a2b3c4d5e70".to_owned(),
            organisation_id: "acme".to_owned(),
            subject_id: subject.to_owned(),
            payload: Some(Payload::ErasureRequested(v1::ErasureRequested {
                reason: String::new(),
            })),
            ..v1::Envelope::default()
        }
    }

    fn sealed_number(envelope: &v1::Envelope) -> (String, v1::SealedValue) {
        match &envelope.payload {
            Some(Payload::ToldNotToCall(p)) => {
                (p.number.clone(), p.sealed_number.clone().expect("sealed"))
            }
            other => panic!("not a told-not-to-call: {other:?}"),
        }
    }

    fn email_opt_out(subject: &str, address: &str) -> v1::Envelope {
        v1::Envelope {
            event_id: "0190f2a4-7b3c-7d2e-9f10-1a2b3c4d5e71".to_owned(),
            organisation_id: "acme".to_owned(),
            subject_id: subject.to_owned(),
            payload: Some(Payload::OptOutRecorded(v1::OptOutRecorded {
                channels: vec![v1::Channel::Email as i32],
                all_channels: false,
                received_via: v1::OptOutMethod::UnsubscribeLink as i32,
                contact_point: Some(v1::ContactPoint {
                    kind: v1::ContactKind::Email as i32,
                    value: address.to_owned(),
                    sealed: None,
                }),
            })),
            ..v1::Envelope::default()
        }
    }

    fn sealed_opt_out(envelope: &v1::Envelope) -> v1::SealedValue {
        match &envelope.payload {
            Some(Payload::OptOutRecorded(p)) => {
                let point = p.contact_point.as_ref().expect("a contact point");
                assert_eq!(point.value, "", "the address is not left in clear");
                point.sealed.clone().expect("sealed")
            }
            other => panic!("not an opt-out: {other:?}"),
        }
    }

    #[test]
    fn an_opt_outs_address_is_sealed_and_an_address_only_one_keeps_its_digest_alone() {
        let (sealer, _keys) = sealer();
        let mut envelopes = vec![
            email_opt_out("alice", "ada@example.com"),
            email_opt_out("", "ada@example.com"),
        ];
        sealer.seal(&mut envelopes).expect("sealed");
        let with_subject = sealed_opt_out(&envelopes[0]);
        let address_only = sealed_opt_out(&envelopes[1]);
        assert!(!with_subject.ciphertext.is_empty(), "under alice's key");
        assert!(address_only.ciphertext.is_empty(), "no subject, no key");
        assert_eq!(with_subject.digest, address_only.digest);
        // A check of the address compares equal to both.
        let check = sealer.digest_contact(
            &OrganisationId::from("acme"),
            &ContactPoint {
                kind: ContactKind::Email,
                value: ContactValue::clear("ada@example.com"),
            },
        );
        assert_eq!(check.value, digest_value(&address_only.digest));
    }

    #[test]
    fn a_number_is_sealed_normalised_and_opens_for_its_subject_only_until_erasure() {
        let (sealer, keys) = sealer();
        let mut envelopes = vec![told_not_to_call("alice", "+44 1632 960 001")];
        assert!(sealer.seal(&mut envelopes).expect("sealed").is_empty());
        let (clear, sealed) = sealed_number(&envelopes[0]);
        assert_eq!(clear, "", "the number is not left in clear");
        // The digest is the normalised number's: a check of it compares equal.
        let check = sealer.digest_contact(
            &OrganisationId::from("acme"),
            &ContactPoint {
                kind: ContactKind::Landline,
                value: ContactValue::clear("+441632960001"),
            },
        );
        assert_eq!(check.value, digest_value(&sealed.digest));

        let live = keys.key(&"acme".into(), &"alice".into()).expect("the key");
        let mut read = envelopes[0].clone();
        assert_eq!(unseal_envelope(&mut read, &live), Unsealed::Opened);
        assert_eq!(sealed_number(&read).0, "+441632960001");
        // Moved to another subject's record, it does not open.
        let mut moved = envelopes[0].clone();
        moved.subject_id = "bob".to_owned();
        assert_eq!(unseal_envelope(&mut moved, &live), Unsealed::Redacted);

        let mut erasing = vec![erasure("alice")];
        let suppressed = sealer.seal(&mut erasing).expect("erased");
        assert_eq!(
            suppressed
                .get(&0)
                .map(|d| d.iter().map(|d| d.to_vec()).collect::<Vec<_>>()),
            Some(vec![sealed.digest.clone()]),
            "the erasure suppresses the number's digest"
        );
        let gone = keys
            .key(&"acme".into(), &"alice".into())
            .expect("the key state");
        let mut read = envelopes[0].clone();
        assert_eq!(unseal_envelope(&mut read, &gone), Unsealed::Redacted);
        assert_eq!(sealed_number(&read).0, "");
    }

    #[test]
    fn a_national_number_entering_is_one_address_with_its_e164_form() {
        use consent_schema::{prepare_for_append, timestamp_to_proto, EntryRules};
        let (sealer, _) = sealer();
        let received = consent_domain::Timestamp::from_unix_micros(1_767_225_600_000_000);
        let e164 = sealer.digest_contact(
            &OrganisationId::from("acme"),
            &ContactPoint {
                kind: ContactKind::Mobile,
                value: ContactValue::clear("+447700900123"),
            },
        );
        for spelling in [
            "07700 900123",
            "07700900123",
            "0044 7700 900123",
            "+447700900123",
        ] {
            let mut wire = told_not_to_call("alice", spelling);
            wire.occurred_at = Some(timestamp_to_proto(received));
            // The append edge: numbers to E.164, then sealing.
            let (prepared, _) = prepare_for_append(
                wire,
                received,
                || unreachable!("the id is given"),
                &EntryRules::default(),
            )
            .expect(spelling);
            let mut envelopes = vec![prepared];
            sealer.seal(&mut envelopes).expect("sealed");
            let (clear, sealed) = sealed_number(&envelopes[0]);
            assert_eq!(clear, "", "{spelling}");
            assert_eq!(digest_value(&sealed.digest), e164.value, "{spelling}");
        }
    }

    #[test]
    fn a_value_sent_sealed_or_malformed_is_refused_naming_the_field() {
        let (sealer, _) = sealer();
        let mut forged = vec![told_not_to_call("alice", "")];
        if let Some(Payload::ToldNotToCall(p)) = &mut forged[0].payload {
            p.sealed_number = Some(v1::SealedValue::default());
        }
        let error = sealer.seal(&mut forged).expect_err("refused");
        assert!(
            error
                .to_string()
                .contains("events[0].told_not_to_call.sealed_number"),
            "{error}"
        );
        // Sealing reads stored form: a national number has been made E.164
        // before it (`prepare_for_append`), so one here is malformed.
        let mut malformed = vec![
            told_not_to_call("alice", "+441632960001"),
            told_not_to_call("alice", "01632 960001"),
        ];
        let error = sealer.seal(&mut malformed).expect_err("refused");
        assert!(
            error
                .to_string()
                .contains("events[1].told_not_to_call.number"),
            "{error}"
        );
    }
}
