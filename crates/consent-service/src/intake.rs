//! Opt-out intake where people actually opt out: RFC 8058 one-click
//! unsubscribe, inbound SMS STOP, and the Global Privacy Control signal.
//! Each becomes one ordinary fact (`OptOutRecorded` or
//! `ObjectionRecorded`) appended through [`Ledger::append`], carrying its
//! evidence in `source`; each waits until the view has applied it before
//! answering, so a check made after the answer refuses
//! (docs/OPT-OUTS.md).
//!
//! The token's and the webhook signature's cryptography is the pure
//! `consent-intake` crate; this module adds the ledger: the view (replay,
//! the contact index) and the log.

use crate::error::LedgerError;
use crate::esp::EspWebhooks;
use crate::ledger::Ledger;
use consent_domain::vocabulary::{ContactKind, ContactValue};
use consent_domain::{EventId, EventPosition, OrganisationId, SubjectId};
use consent_intake::{
    check_one_click_form, derived_event_id, is_stop_keyword, parse_inbound_form, verify_webhook,
    FormError, IntakeSecret, TokenError, UnsubscribeClaim, VerifiedToken,
};
use consent_log::LogPosition;
use consent_schema::{
    number_to_e164, timestamp_to_proto, v1, PhoneRegion, ValidationError, Vocabulary,
};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// Longest user agent kept as evidence (characters).
const MAX_USER_AGENT_CHARS: usize = 512;
/// Longest raw form kept as evidence (bytes, lossy UTF-8).
const MAX_FORM_EVIDENCE_BYTES: usize = 1024;

/// What opt-out intake needs: the secret that signs unsubscribe tokens,
/// the public URL the links point at, and the SMS webhook's shared secret
/// and receiving numbers.
#[derive(Clone)]
pub struct IntakeConfig {
    secret: IntakeSecret,
    public_url: String,
    sms_webhook_secret: Option<Zeroizing<Vec<u8>>>,
    /// Receiving number (E.164, normalised) -> the organisation owning it.
    sms_numbers: BTreeMap<String, OrganisationId>,
    /// The organisations' ESP webhooks (`esp`).
    pub(crate) esp: EspWebhooks,
}

impl IntakeConfig {
    /// One-click unsubscribe links `{public_url}/u/{token}`, signed with
    /// `secret`. `public_url` is where the `/u/` routes are reachable from
    /// the internet, e.g. `https://consent.example.org`.
    pub fn new(secret: IntakeSecret, public_url: impl Into<String>) -> Self {
        Self {
            secret,
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            sms_webhook_secret: None,
            sms_numbers: BTreeMap::new(),
            esp: EspWebhooks::default(),
        }
    }

    /// Enables the organisations' ESP webhooks (SendGrid, SES, Mailchimp,
    /// generic), each as its settings say (docs/INTEGRATION.md).
    pub fn esp_webhooks(mut self, webhooks: EspWebhooks) -> Self {
        self.esp = webhooks;
        self
    }

    /// The organisations' ESP webhooks.
    pub fn esp(&self) -> &EspWebhooks {
        &self.esp
    }

    /// Enables the inbound SMS webhook: requests are signed with
    /// `shared_secret`, and `numbers` maps each receiving number (in
    /// E.164, or in the national format of `region`) to the organisation
    /// that owns it. A number that is not a valid telephone number is
    /// refused, naming it.
    pub fn sms_webhook(
        mut self,
        shared_secret: impl Into<Vec<u8>>,
        numbers: impl IntoIterator<Item = (String, OrganisationId)>,
        region: PhoneRegion,
    ) -> Result<Self, ValidationError> {
        let shared_secret = shared_secret.into();
        if shared_secret.is_empty() {
            return Err(ValidationError::new(
                "sms_webhook_secret",
                "must not be empty",
            ));
        }
        self.sms_webhook_secret = Some(Zeroizing::new(shared_secret));
        for (number, organisation) in numbers {
            let normalised = number_to_e164(&format!("sms_numbers[{number}]"), &number, region)?;
            self.sms_numbers.insert(normalised, organisation);
        }
        Ok(self)
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }
}

impl std::fmt::Debug for IntakeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntakeConfig")
            .field("public_url", &self.public_url)
            .field("sms_webhook", &self.sms_webhook_secret.is_some())
            .field("sms_numbers", &self.sms_numbers)
            .field("esp", &self.esp)
            .finish_non_exhaustive()
    }
}

/// Why an intake request was refused. Nothing is recorded in any case.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// This ledger was started without the part of intake asked for.
    #[error("{0} is not configured on this ledger")]
    NotConfigured(&'static str),
    /// The unsubscribe token is malformed or forged.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The POST is not an RFC 8058 one-click form.
    #[error(transparent)]
    Form(#[from] FormError),
    /// The webhook's signature header is missing or does not verify.
    #[error("the webhook signature (header `x-consent-signature: sha256=<hex HMAC-SHA256 of the body>`) is missing or does not verify")]
    BadSignature,
    /// A header the request must carry is missing or wrong.
    #[error("{message}")]
    Header {
        header: &'static str,
        message: String,
    },
    /// The organisation has not enabled this ESP's webhook.
    #[error("{webhook} is not configured for organisation `{organisation}` on this ledger")]
    EspNotConfigured {
        webhook: &'static str,
        organisation: String,
    },
    /// An ESP webhook's authentication failed, or its body is not what the
    /// provider documents (`EspError::field` names where).
    #[error(transparent)]
    Esp(consent_intake::esp::EspError),
    /// A request field is missing or invalid; `field` names it.
    #[error("{0}")]
    Invalid(ValidationError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// What an unsubscribe token names, and whether it was already used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenStatus {
    pub claim: UnsubscribeClaim,
    /// The opt-out this token records, and whether the view already holds
    /// it (the link was used before).
    pub opt_out_event: EventId,
    pub already_used: bool,
}

/// The evidence of a one-click POST, as received.
#[derive(Clone, Debug, Default)]
pub struct OneClickRequest {
    pub token: String,
    pub content_type: String,
    pub body: Vec<u8>,
    pub user_agent: String,
}

/// An opt-out or objection the ledger holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntakeReceipt {
    pub organisation: OrganisationId,
    /// `None` for a fact about an address alone (a STOP from a number no
    /// subject has).
    pub subject: Option<SubjectId>,
    pub event_id: EventId,
    /// Where it is in the log.
    pub position: v1::LogPosition,
    /// True when this request recorded nothing new: the same fact was
    /// already in the view (a replayed token).
    pub replayed: bool,
}

/// What an inbound SMS did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SmsOutcome {
    /// The organisation owning the receiving number, when known.
    pub organisation: Option<OrganisationId>,
    /// One opt-out per subject with the sender's number.
    pub recorded: Vec<IntakeReceipt>,
    /// Why nothing (or what) was recorded, in words.
    pub note: String,
}

/// A Global Privacy Control signal forwarded by an organisation's web
/// backend.
#[derive(Clone, Debug, Default)]
pub struct GpcSignal {
    pub organisation_id: String,
    pub subject_id: String,
    /// The visitor's `Sec-GPC` header, as forwarded.
    pub sec_gpc: Option<String>,
    pub user_agent: String,
}

impl Ledger {
    /// The one-click unsubscribe URL of a message sent, when intake is
    /// configured.
    pub fn unsubscribe_url(&self, claim: &UnsubscribeClaim) -> Option<String> {
        let intake = self.inner.intake.as_ref()?;
        Some(format!(
            "{}/u/{}",
            intake.public_url,
            intake.secret.mint(claim)
        ))
    }

    fn verify_token(&self, token: &str) -> Result<VerifiedToken, IntakeError> {
        let intake = self
            .inner
            .intake
            .as_ref()
            .ok_or(IntakeError::NotConfigured("one-click unsubscribe"))?;
        Ok(intake.secret.verify(token)?)
    }

    /// What `token` names and whether it was used: for the confirmation
    /// page a GET shows. Records nothing.
    pub fn unsubscribe_token(&self, token: &str) -> Result<TokenStatus, IntakeError> {
        let verified = self.verify_token(token)?;
        let claim = &verified.claim;
        self.ensure_owned(&claim.organisation, &claim.subject, "")?;
        let already_used = self
            .inner
            .store
            .history_entry(&claim.organisation, &claim.subject, &verified.opt_out_event)
            .map_err(LedgerError::from)?
            .is_some();
        Ok(TokenStatus {
            claim: verified.claim,
            opt_out_event: verified.opt_out_event,
            already_used,
        })
    }

    /// RFC 8058 one-click: verifies the token and the form, then records an
    /// `OptOutRecorded` for the token's subject and channel (method
    /// one-click) with the request as evidence, and waits until the view
    /// has applied it. The opt-out's id is derived from the token, so a
    /// replayed token records nothing new ([`IntakeReceipt::replayed`]).
    pub async fn one_click_unsubscribe(
        &self,
        request: OneClickRequest,
    ) -> Result<IntakeReceipt, IntakeError> {
        let verified = self.verify_token(&request.token)?;
        check_one_click_form(&request.content_type, &request.body)?;
        let claim = &verified.claim;
        self.ensure_owned(&claim.organisation, &claim.subject, "")?;
        if let Some(entry) = self
            .inner
            .store
            .history_entry(&claim.organisation, &claim.subject, &verified.opt_out_event)
            .map_err(LedgerError::from)?
        {
            tracing::info!(
                organisation = %claim.organisation,
                token_id = %verified.token_id,
                "one-click unsubscribe replayed: already recorded"
            );
            return Ok(IntakeReceipt {
                organisation: claim.organisation.clone(),
                subject: Some(claim.subject.clone()),
                event_id: verified.opt_out_event,
                position: v1::LogPosition::from(&entry.position),
                replayed: true,
            });
        }
        let received_at = self.inner.clock.now();
        let evidence = serde_json::json!({
            "method": "RFC 8058 one-click POST",
            "tokenId": verified.token_id,
            "messageId": claim.message_id,
            "sendEventId": claim.send_event.to_string(),
            "tokenIssuedAt": claim.issued_at.to_string(),
            "receivedAt": received_at.to_string(),
            "userAgent": truncate_chars(&request.user_agent, MAX_USER_AGENT_CHARS),
            "contentType": truncate_chars(&request.content_type, 200),
            "form": lossy_prefix(&request.body, MAX_FORM_EVIDENCE_BYTES),
        });
        let envelope = v1::Envelope {
            event_id: verified.opt_out_event.to_string(),
            organisation_id: claim.organisation.as_str().to_owned(),
            subject_id: claim.subject.as_str().to_owned(),
            occurred_at: Some(timestamp_to_proto(received_at)),
            source: Some(v1::Source {
                system: "consent-ledger intake: one-click unsubscribe (RFC 8058)".to_owned(),
                actor: format!(
                    "recipient, user agent: {}",
                    truncate_chars(&request.user_agent, 200)
                ),
                evidence_ref: evidence.to_string(),
                form_id: "List-Unsubscribe=One-Click".to_owned(),
                url: String::new(),
            }),
            payload: Some(v1::envelope::Payload::OptOutRecorded(v1::OptOutRecorded {
                // The address the message was sent to, when its send
                // recorded one: suppressed for every subject it is used for.
                contact_point: self.send_address(claim).await?,
                channels: vec![claim.channel.to_wire()],
                all_channels: false,
                received_via: v1::OptOutMethod::OneClick as i32,
            })),
            ..v1::Envelope::default()
        };
        let mut receipts = self
            .record_and_wait(vec![(
                envelope,
                claim.organisation.clone(),
                Some(claim.subject.clone()),
            )])
            .await?;
        tracing::info!(
            organisation = %claim.organisation,
            token_id = %verified.token_id,
            channel = ?claim.channel,
            "one-click unsubscribe recorded"
        );
        receipts
            .pop()
            .ok_or_else(|| IntakeError::Ledger(LedgerError::Output("no receipt".to_owned())))
    }

    /// An inbound SMS, as the provider posts it: `body` is the raw form,
    /// `signature` the `x-consent-signature` header. A STOP keyword from a
    /// number some subjects of the receiving number's organisation have
    /// records an SMS opt-out (method reply STOP) for each, with the
    /// inbound message as evidence. Anything else records nothing and says
    /// why in [`SmsOutcome::note`] (providers retry on errors, so only a
    /// bad signature or a malformed form is an error).
    pub async fn sms_inbound(
        &self,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<SmsOutcome, IntakeError> {
        let intake = self
            .inner
            .intake
            .as_ref()
            .filter(|i| i.sms_webhook_secret.is_some())
            .ok_or(IntakeError::NotConfigured("the SMS webhook"))?;
        let secret = intake.sms_webhook_secret.as_deref().map_or(&[][..], |s| s);
        if !signature.is_some_and(|header| verify_webhook(secret, body, header)) {
            return Err(IntakeError::BadSignature);
        }
        let sms = parse_inbound_form(body).map_err(|error| {
            let consent_intake::sms::InboundError::Missing(field) = error;
            IntakeError::Invalid(ValidationError::new(field, "required"))
        })?;
        let mut outcome = SmsOutcome::default();
        if !is_stop_keyword(&sms.body) {
            outcome.note = "not an opt-out keyword (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT): nothing recorded".to_owned();
            return Ok(outcome);
        }
        let region = self.inner.config.entry.phone_region;
        let Some(organisation) = number_to_e164("To", &sms.to, region)
            .ok()
            .and_then(|to| intake.sms_numbers.get(&to).cloned())
        else {
            outcome.note = format!(
                "the receiving number {} is not configured for any organisation: nothing recorded",
                sms.to
            );
            tracing::warn!(to = %sms.to, "SMS STOP to an unconfigured number");
            return Ok(outcome);
        };
        outcome.organisation = Some(organisation.clone());
        let Ok(from) = number_to_e164("From", &sms.from, region) else {
            outcome.note = format!(
                "the sender's number is not a telephone number (E.164, or {region} national \
                 format): nothing recorded"
            );
            return Ok(outcome);
        };
        // The sender's number as stored values compare (its digest when
        // the ledger seals): it goes into the evidence in that form too.
        let contact = self.comparable(
            &organisation,
            &consent_domain::vocabulary::ContactPoint {
                kind: ContactKind::Mobile,
                value: ContactValue::clear(from.clone()),
            },
        );
        let mut subjects: Vec<Option<SubjectId>> = self
            .inner
            .store
            .subjects_by_contact(&contact)
            .map_err(LedgerError::from)?
            .into_iter()
            .filter(|(owner, _)| *owner == organisation)
            .map(|(_, subject)| Some(subject))
            .collect();
        // A number no subject has is still opted out: one opt-out about the
        // number alone suppresses it for whoever it is used for later.
        let number_alone = subjects.is_empty();
        if number_alone {
            subjects.push(None);
        }
        let received_at = self.inner.clock.now();
        let evidence = serde_json::json!({
            "method": "inbound SMS STOP",
            "from": contact.value,
            "to": sms.to,
            "body": truncate_chars(&sms.body, 160),
            "providerMessageId": sms.provider_message_id,
            "receivedAt": received_at.to_string(),
        })
        .to_string();
        let events = subjects
            .into_iter()
            .map(|subject| {
                let event_id = if sms.provider_message_id.is_empty() {
                    String::new()
                } else {
                    match &subject {
                        Some(subject) => derived_event_id(
                            "consent-ledger sms stop",
                            &[
                                organisation.as_str(),
                                subject.as_str(),
                                &sms.provider_message_id,
                            ],
                        ),
                        None => derived_event_id(
                            "consent-ledger sms stop, the number alone",
                            &[organisation.as_str(), &sms.provider_message_id],
                        ),
                    }
                    .to_string()
                };
                let envelope = v1::Envelope {
                    event_id,
                    organisation_id: organisation.as_str().to_owned(),
                    subject_id: subject
                        .as_ref()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    occurred_at: Some(timestamp_to_proto(received_at)),
                    source: Some(v1::Source {
                        system: "consent-ledger intake: SMS STOP webhook".to_owned(),
                        actor: "the subscriber, by text message".to_owned(),
                        evidence_ref: evidence.clone(),
                        form_id: String::new(),
                        url: String::new(),
                    }),
                    payload: Some(v1::envelope::Payload::OptOutRecorded(v1::OptOutRecorded {
                        // The number that sent STOP: suppressed for every
                        // subject it is used for (sealed at append).
                        contact_point: Some(v1::ContactPoint {
                            kind: v1::ContactKind::Mobile as i32,
                            value: from.clone(),
                            sealed: None,
                        }),
                        channels: vec![v1::Channel::Sms as i32],
                        all_channels: false,
                        received_via: v1::OptOutMethod::ReplyStop as i32,
                    })),
                    ..v1::Envelope::default()
                };
                (envelope, organisation.clone(), subject)
            })
            .collect::<Vec<_>>();
        // The provider's retry of a message already recorded is the same
        // fact (its id is derived from the provider's message id): answered
        // from the view, not appended again (it was received at another
        // time, so it would otherwise be the same id with other content).
        let mut replayed = Vec::new();
        let mut new = Vec::new();
        for (envelope, organisation, subject) in events {
            let recorded = match uuid::Uuid::parse_str(&envelope.event_id).ok().map(EventId) {
                Some(id) => self
                    .recorded_position(&organisation, subject.as_ref(), Some(&contact.value), id)?
                    .map(|position| (id, position)),
                None => None,
            };
            match recorded {
                Some((event_id, position)) => replayed.push(IntakeReceipt {
                    organisation,
                    subject,
                    event_id,
                    position: v1::LogPosition::from(&position),
                    replayed: true,
                }),
                None => new.push((envelope, organisation, subject)),
            }
        }
        outcome.recorded = replayed;
        outcome.recorded.extend(self.record_and_wait(new).await?);
        outcome.note = if number_alone {
            format!(
                "no subject of {organisation} has the sender's number: SMS opt-out recorded for \
                 the number alone (it is suppressed for every subject it is used for)"
            )
        } else {
            format!(
                "SMS opt-out recorded for {} subject(s) of {organisation}",
                outcome.recorded.len()
            )
        };
        tracing::info!(
            organisation = %organisation,
            subjects = outcome.recorded.len(),
            "SMS STOP recorded"
        );
        Ok(outcome)
    }

    /// A Global Privacy Control signal: with `Sec-GPC: 1` forwarded,
    /// records an `ObjectionRecorded` (method GPC signal; UK GDPR Art
    /// 21(5)) for the subject, the header as evidence, and waits until the
    /// view has applied it. Without the header, nothing is recorded.
    pub async fn gpc_signal(&self, signal: GpcSignal) -> Result<IntakeReceipt, IntakeError> {
        match signal.sec_gpc.as_deref().map(str::trim) {
            Some("1") => {}
            Some(other) => {
                return Err(IntakeError::Header {
                    header: "Sec-GPC",
                    message: format!(
                        "the `Sec-GPC` header must be `1` (the visitor's Global Privacy Control signal), not `{}`",
                        truncate_chars(other, 40)
                    ),
                })
            }
            None => {
                return Err(IntakeError::Header {
                    header: "Sec-GPC",
                    message: "the visitor's `Sec-GPC: 1` header must be forwarded: without it there is no Global Privacy Control signal to record".to_owned(),
                })
            }
        }
        for (field, value) in [
            ("organisationId", &signal.organisation_id),
            ("subjectId", &signal.subject_id),
        ] {
            if value.trim().is_empty() {
                return Err(IntakeError::Invalid(ValidationError::new(
                    field, "required",
                )));
            }
        }
        let organisation = OrganisationId::new(signal.organisation_id.clone());
        let subject = SubjectId::new(signal.subject_id.clone());
        let received_at = self.inner.clock.now();
        let evidence = serde_json::json!({
            "method": "Global Privacy Control",
            "header": "Sec-GPC: 1",
            "userAgent": truncate_chars(&signal.user_agent, MAX_USER_AGENT_CHARS),
            "receivedAt": received_at.to_string(),
        });
        let envelope = v1::Envelope {
            organisation_id: signal.organisation_id,
            subject_id: signal.subject_id,
            occurred_at: Some(timestamp_to_proto(received_at)),
            source: Some(v1::Source {
                system: "consent-ledger intake: Global Privacy Control".to_owned(),
                actor: "the visitor's browser, forwarded by the organisation's web backend"
                    .to_owned(),
                evidence_ref: evidence.to_string(),
                form_id: String::new(),
                url: String::new(),
            }),
            payload: Some(v1::envelope::Payload::ObjectionRecorded(
                v1::ObjectionRecorded {
                    contact_point: None,
                    received_via: v1::OptOutMethod::GpcSignal as i32,
                },
            )),
            ..v1::Envelope::default()
        };
        let mut receipts = self
            .record_and_wait(vec![(envelope, organisation, Some(subject))])
            .await?;
        receipts
            .pop()
            .ok_or_else(|| IntakeError::Ledger(LedgerError::Output("no receipt".to_owned())))
    }

    /// Appends `events` as one request, then waits until the view has
    /// applied them: the answer is given only once checks refuse.
    /// The address the message of `claim` was sent to, in clear, read from
    /// the send's stored record (opened with the subject's key when the
    /// ledger seals); `None` when the send recorded none, is not in this
    /// view, or its value cannot be opened (the subject is erased).
    async fn send_address(
        &self,
        claim: &UnsubscribeClaim,
    ) -> Result<Option<v1::ContactPoint>, LedgerError> {
        let Some(entry) = self.inner.store.history_entry(
            &claim.organisation,
            &claim.subject,
            &claim.send_event,
        )?
        else {
            return Ok(None);
        };
        let Ok(mut envelope) = consent_schema::decode_envelope(&entry.stored_bytes) else {
            return Ok(None);
        };
        if let Some(sealer) = &self.inner.sealer {
            let (sealer, organisation, subject) = (
                std::sync::Arc::clone(sealer),
                claim.organisation.clone(),
                claim.subject.clone(),
            );
            let key = tokio::task::spawn_blocking(move || {
                sealer.key_store().key(&organisation, &subject)
            })
            .await
            .map_err(|error| LedgerError::KeyStore(format!("the key lookup task failed: {error}")))?
            .map_err(|error| LedgerError::KeyStore(error.to_string()))?;
            consent_sealing::unseal_envelope(&mut envelope, &key);
        }
        let Some(v1::envelope::Payload::MarketingMessageSent(sent)) = envelope.payload else {
            return Ok(None);
        };
        Ok(sent
            .contact_point
            .filter(|point| !point.value.is_empty())
            .map(|point| v1::ContactPoint {
                kind: point.kind,
                value: point.value,
                sealed: None,
            }))
    }

    /// Where the view holds event `id`, recorded under `subject` (its
    /// history) or, without a subject, under `address` (the address's
    /// state).
    pub(crate) fn recorded_position(
        &self,
        organisation: &OrganisationId,
        subject: Option<&SubjectId>,
        address: Option<&ContactValue>,
        id: EventId,
    ) -> Result<Option<EventPosition>, LedgerError> {
        let store = &self.inner.store;
        Ok(match (subject, address) {
            (Some(subject), _) => store
                .history_entry(organisation, subject, &id)?
                .map(|entry| entry.position),
            (None, Some(address)) => store
                .address_state(organisation, address)?
                .and_then(|state| state.facts.get(id)?.position.clone()),
            (None, None) => None,
        })
    }

    pub(crate) async fn record_and_wait(
        &self,
        events: Vec<(v1::Envelope, OrganisationId, Option<SubjectId>)>,
    ) -> Result<Vec<IntakeReceipt>, IntakeError> {
        let (envelopes, whom): (Vec<_>, Vec<_>) = events
            .into_iter()
            .map(|(envelope, organisation, subject)| (envelope, (organisation, subject)))
            .unzip();
        let appended = self
            .append_from(envelopes, crate::metrics::Entry::Intake)
            .await?;
        let positions: Vec<LogPosition> = appended.iter().map(|(_, p)| p.clone()).collect();
        let followed: Vec<LogPosition> = positions
            .iter()
            .filter(|p| self.inner.projection.follows(&p.topic_partition()))
            .cloned()
            .collect();
        self.inner
            .projection
            .wait_for(&followed, self.inner.config.wait_timeout)
            .await
            .map_err(LedgerError::from)?;
        Ok(appended
            .into_iter()
            .zip(whom)
            .map(
                |((event_id, position), (organisation, subject))| IntakeReceipt {
                    organisation,
                    subject,
                    event_id,
                    position: v1::LogPosition::from(position),
                    replayed: false,
                },
            )
            .collect())
    }
}

pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

fn lossy_prefix(bytes: &[u8], max: usize) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(max)]).into_owned()
}
