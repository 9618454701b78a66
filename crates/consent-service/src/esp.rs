//! ESP events in (docs/INTEGRATION.md, "ESP events in"): the SendGrid,
//! Amazon SES (through SNS), Mailchimp and generic webhooks of an
//! organisation. Each request is authenticated with the provider's own
//! scheme (`consent-intake`'s `esp` modules, pure), read into events, and
//! each event that refuses (an opt-out, an objection, a withdrawal)
//! becomes one ordinary fact per subject with the address (one about the
//! address alone when no subject has it), appended through the ledger and
//! answered once the view has applied it, so a check made after the answer
//! refuses. Its evidence (`source.evidenceRef`) names the provider, its
//! event id and type, and the SHA-256 of the raw payload; its event id is
//! derived from the provider's event id, so a replayed webhook appends
//! nothing twice. Bounces and cleaned addresses are noted (logged and
//! answered), never refusals: no fact of the ledger says "undeliverable".

use crate::error::LedgerError;
use crate::intake::{truncate_chars, IntakeError, IntakeReceipt};
use crate::ledger::Ledger;
use consent_domain::vocabulary::{ContactPoint, ContactValue};
use consent_domain::{EventId, OrganisationId, SubjectId};
use consent_intake::derived_event_id;
use consent_intake::esp::sendgrid::SendGridKey;
use consent_intake::esp::sns::SnsCertificate;
use consent_intake::esp::{
    generic, mailchimp, sendgrid, ses, EspAction, EspDelivery, EspError, EspEvent, IgnoredEvent,
    Provider, SubscriptionConfirmation,
};
use consent_schema::{normalised_value, timestamp_to_proto, v1, Vocabulary};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// The SendGrid Event Webhook of one organisation: its verification key,
/// and how far the signed timestamp may be from now.
#[derive(Clone, Debug)]
pub struct SendGridSettings {
    pub key: SendGridKey,
    pub tolerance_secs: i64,
}

/// The SES notifications of one organisation: the SNS signing certificate
/// that verifies them, and optionally the only topic accepted.
#[derive(Clone, Debug)]
pub struct SesSettings {
    pub certificate: SnsCertificate,
    pub topic_arn: Option<String>,
}

/// The ESP webhooks one organisation has enabled; each absent one answers
/// 404.
#[derive(Clone, Default)]
pub struct EspSettings {
    pub sendgrid: Option<SendGridSettings>,
    pub ses: Option<SesSettings>,
    /// The secret in the Mailchimp webhook's URL.
    pub mailchimp_secret: Option<Zeroizing<Vec<u8>>>,
    /// The generic webhook's HMAC-SHA256 secret.
    pub generic_secret: Option<Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for EspSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EspSettings")
            .field("sendgrid", &self.sendgrid.is_some())
            .field("ses", &self.ses.is_some())
            .field("mailchimp", &self.mailchimp_secret.is_some())
            .field("generic", &self.generic_secret.is_some())
            .finish()
    }
}

/// Every organisation's ESP webhooks.
#[derive(Clone, Debug, Default)]
pub struct EspWebhooks {
    pub organisations: BTreeMap<OrganisationId, EspSettings>,
}

/// A fact an ESP event recorded (or had recorded before: `replayed`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EspReceipt {
    pub provider_event_id: String,
    pub event_type: String,
    /// `opt_out_recorded`, `objection_recorded` or `consent_withdrawn`.
    pub fact: &'static str,
    pub receipt: IntakeReceipt,
}

/// An event noted or ignored, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EspNote {
    pub provider_event_id: String,
    pub event_type: String,
    pub reason: String,
}

/// What one webhook request did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EspOutcome {
    pub organisation: OrganisationId,
    pub provider: Provider,
    /// Lower-case hex SHA-256 of the raw body.
    pub payload_sha256: String,
    pub recorded: Vec<EspReceipt>,
    /// Events kept as evidence only, not refusals (bounces, cleaned
    /// addresses): logged with the payload's digest, nothing appended.
    pub noted: Vec<EspNote>,
    /// Events acknowledged and ignored (not about consent), or that could
    /// not be recorded (an address that is not one).
    pub ignored: Vec<EspNote>,
    /// An SNS subscription to confirm, reported to the operator.
    pub subscription: Option<SubscriptionConfirmation>,
}

impl From<IgnoredEvent> for EspNote {
    fn from(event: IgnoredEvent) -> Self {
        Self {
            provider_event_id: event.provider_event_id,
            event_type: event.event_type,
            reason: event.reason,
        }
    }
}

impl Ledger {
    /// The organisation's settings for `provider`'s webhook, or
    /// [`IntakeError::NotConfigured`].
    fn esp_settings(
        &self,
        organisation: &str,
        provider: Provider,
    ) -> Result<&EspSettings, IntakeError> {
        let settings = self.inner.intake.as_ref().and_then(|intake| {
            intake
                .esp
                .organisations
                .get(&OrganisationId::new(organisation))
        });
        let enabled = settings.is_some_and(|s| match provider {
            Provider::SendGrid => s.sendgrid.is_some(),
            Provider::Ses => s.ses.is_some(),
            Provider::Mailchimp => s.mailchimp_secret.is_some(),
            Provider::Generic => s.generic_secret.is_some(),
        });
        match settings {
            Some(settings) if enabled => Ok(settings),
            _ => Err(IntakeError::EspNotConfigured {
                webhook: provider.webhook_name(),
                organisation: organisation.to_owned(),
            }),
        }
    }

    /// `POST /v1/webhooks/sendgrid/{organisation}`: verifies SendGrid's
    /// ECDSA signature over the timestamp header and the body, refuses a
    /// timestamp older (or newer) than the tolerance, then records the
    /// events.
    pub async fn sendgrid_webhook(
        &self,
        organisation: &str,
        body: &[u8],
        signature: Option<&str>,
        timestamp: Option<&str>,
    ) -> Result<EspOutcome, IntakeError> {
        let settings = self.esp_settings(organisation, Provider::SendGrid)?;
        let sendgrid = settings
            .sendgrid
            .as_ref()
            .ok_or_else(|| unreachable_settings(Provider::SendGrid))?;
        let now = self.inner.clock.now();
        sendgrid
            .key
            .verify(body, signature, timestamp, now, sendgrid.tolerance_secs)
            .map_err(|error| refused(organisation, Provider::SendGrid, error))?;
        let delivery = sendgrid::read_events(body)
            .map_err(|error| refused(organisation, Provider::SendGrid, error))?;
        self.record_delivery(organisation, delivery).await
    }

    /// `POST /v1/webhooks/ses/{organisation}`: verifies the SNS message
    /// signature against the configured certificate (and topic), then
    /// records the SES notification's complaints and notes its bounces. A
    /// subscription confirmation is logged with its `SubscribeURL` and
    /// answered, never followed.
    pub async fn ses_webhook(
        &self,
        organisation: &str,
        body: &[u8],
    ) -> Result<EspOutcome, IntakeError> {
        let settings = self.esp_settings(organisation, Provider::Ses)?;
        let ses_settings = settings
            .ses
            .as_ref()
            .ok_or_else(|| unreachable_settings(Provider::Ses))?;
        let delivery = ses::read_delivery(
            &ses_settings.certificate,
            ses_settings.topic_arn.as_deref(),
            body,
        )
        .map_err(|error| refused(organisation, Provider::Ses, error))?;
        if let Some(subscription) = &delivery.subscription {
            tracing::warn!(
                organisation,
                topic_arn = %subscription.topic_arn,
                subscribe_url = %subscription.subscribe_url,
                "SNS subscription confirmation received: not followed; to confirm, visit the SubscribeURL (or run `aws sns confirm-subscription`)"
            );
        }
        self.record_delivery(organisation, delivery).await
    }

    /// `GET /v1/webhooks/mailchimp/{organisation}/{secret}`: Mailchimp's
    /// check that the URL answers when the webhook is saved. Records
    /// nothing.
    pub fn mailchimp_validation(
        &self,
        organisation: &str,
        secret: &str,
    ) -> Result<(), IntakeError> {
        self.mailchimp_secret(organisation, secret)
    }

    fn mailchimp_secret(&self, organisation: &str, secret: &str) -> Result<(), IntakeError> {
        let settings = self.esp_settings(organisation, Provider::Mailchimp)?;
        let configured = settings
            .mailchimp_secret
            .as_deref()
            .map_or(&[][..], |s| s.as_slice());
        if mailchimp::secret_matches(configured, secret) {
            return Ok(());
        }
        Err(refused(
            organisation,
            Provider::Mailchimp,
            EspError::BadSignature {
                field: "secret",
                what: "the secret in the webhook's URL",
                reason: "it is not the one configured for this organisation".to_owned(),
            },
        ))
    }

    /// `POST /v1/webhooks/mailchimp/{organisation}/{secret}`: the secret in
    /// the URL compared in constant time, then the form's event recorded.
    pub async fn mailchimp_webhook(
        &self,
        organisation: &str,
        secret: &str,
        body: &[u8],
    ) -> Result<EspOutcome, IntakeError> {
        self.mailchimp_secret(organisation, secret)?;
        let delivery = mailchimp::read_form(body)
            .map_err(|error| refused(organisation, Provider::Mailchimp, error))?;
        self.record_delivery(organisation, delivery).await
    }

    /// `POST /v1/webhooks/generic/{organisation}`: the body's HMAC-SHA256
    /// under the organisation's secret, then its one event recorded.
    pub async fn generic_webhook(
        &self,
        organisation: &str,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<EspOutcome, IntakeError> {
        let settings = self.esp_settings(organisation, Provider::Generic)?;
        let secret = settings
            .generic_secret
            .as_deref()
            .map_or(&[][..], |s| s.as_slice());
        generic::verify(secret, body, signature)
            .map_err(|error| refused(organisation, Provider::Generic, error))?;
        let delivery = generic::read_body(organisation, body)
            .map_err(|error| refused(organisation, Provider::Generic, error))?;
        self.record_delivery(organisation, delivery).await
    }

    /// Records each event of an authenticated delivery: the facts that
    /// refuse (one per subject with the address, or one for the address
    /// alone), appended together and answered once applied; the rest noted
    /// or ignored.
    async fn record_delivery(
        &self,
        organisation: &str,
        delivery: EspDelivery,
    ) -> Result<EspOutcome, IntakeError> {
        let organisation = OrganisationId::new(organisation);
        let provider = delivery.provider;
        let received_at = self.inner.clock.now();
        let mut outcome = EspOutcome {
            organisation: organisation.clone(),
            provider,
            payload_sha256: delivery.payload_sha256.clone(),
            recorded: Vec::new(),
            noted: Vec::new(),
            ignored: delivery.ignored.into_iter().map(EspNote::from).collect(),
            subscription: delivery.subscription,
        };
        let mut new = Vec::new();
        let mut new_events = Vec::new();
        for event in delivery.events {
            let note = |reason: String| EspNote {
                provider_event_id: event.provider_event_id.clone(),
                event_type: event.event_type.clone(),
                reason,
            };
            if event.action == EspAction::NotARefusal {
                tracing::info!(
                    organisation = %organisation,
                    provider = provider.as_str(),
                    provider_event_id = %event.provider_event_id,
                    event_type = %event.event_type,
                    payload_sha256 = %delivery.payload_sha256,
                    "ESP event noted, not a refusal (no fact appended)"
                );
                outcome.noted.push(note(format!(
                    "{} is not a refusal: noted with the payload's digest, nothing appended",
                    event.event_type
                )));
                continue;
            }
            let address = match &event.address {
                None => None,
                Some(address) => match normalised_value("address", address.kind, &address.value) {
                    Ok(value) => Some(ContactPoint {
                        kind: address.kind,
                        value: ContactValue::Clear(value),
                    }),
                    Err(error) => {
                        outcome.ignored.push(note(format!(
                            "the address is not a valid {:?} address ({}): nothing recorded",
                            address.kind, error.reason
                        )));
                        continue;
                    }
                },
            };
            // The address as stored values compare (its digest when the
            // ledger seals): what the contact index and the address state
            // are keyed by, and what the event id is derived from.
            let comparable = address.as_ref().map(|a| self.comparable(&organisation, a));
            let subjects: Vec<Option<SubjectId>> = match (&event.subject, &comparable) {
                (Some(subject), _) => vec![Some(SubjectId::new(subject.clone()))],
                (None, Some(contact)) => {
                    let found: Vec<_> = self
                        .inner
                        .store
                        .subjects_by_contact(contact)
                        .map_err(LedgerError::from)?
                        .into_iter()
                        .filter(|(owner, _)| *owner == organisation)
                        .map(|(_, subject)| Some(subject))
                        .collect();
                    if found.is_empty() {
                        vec![None]
                    } else {
                        found
                    }
                }
                (None, None) => Vec::new(),
            };
            if matches!(event.action, EspAction::Withdrawal { .. })
                && subjects.iter().any(Option::is_none)
            {
                outcome.ignored.push(note(format!(
                    "a withdrawal is about a subject's consent, and no subject of {organisation} has the address: nothing recorded (send an opt-out for the address instead)"
                )));
                continue;
            }
            let comparable_value = comparable.as_ref().map(|c| &c.value);
            let comparable_text = comparable_value
                .map(ToString::to_string)
                .unwrap_or_default();
            for subject in subjects {
                let event_id = derived_event_id(
                    "consent-ledger esp event",
                    &[
                        provider.as_str(),
                        organisation.as_str(),
                        &event.provider_event_id,
                        event.action.fact(),
                        &comparable_text,
                        subject
                            .as_ref()
                            .map_or("the address alone", SubjectId::as_str),
                    ],
                );
                if let Some(position) = self.recorded_position(
                    &organisation,
                    subject.as_ref(),
                    comparable_value,
                    event_id,
                )? {
                    outcome.recorded.push(EspReceipt {
                        provider_event_id: event.provider_event_id.clone(),
                        event_type: event.event_type.clone(),
                        fact: event.action.fact(),
                        receipt: IntakeReceipt {
                            organisation: organisation.clone(),
                            subject,
                            event_id,
                            position: v1::LogPosition::from(&position),
                            replayed: true,
                        },
                    });
                    continue;
                }
                let Some(envelope) = esp_envelope(
                    &delivery.payload_sha256,
                    &delivery.delivery_id,
                    provider,
                    &organisation,
                    subject.as_ref(),
                    address.as_ref(),
                    &event,
                    event_id,
                    received_at,
                ) else {
                    continue;
                };
                new.push((envelope, organisation.clone(), subject));
                new_events.push((
                    event.provider_event_id.clone(),
                    event.event_type.clone(),
                    event.action.fact(),
                ));
            }
        }
        let appended = self.record_and_wait(new).await?;
        for ((provider_event_id, event_type, fact), receipt) in new_events.into_iter().zip(appended)
        {
            outcome.recorded.push(EspReceipt {
                provider_event_id,
                event_type,
                fact,
                receipt,
            });
        }
        tracing::info!(
            organisation = %organisation,
            provider = provider.as_str(),
            payload_sha256 = %outcome.payload_sha256,
            recorded = outcome.recorded.iter().filter(|r| !r.receipt.replayed).count(),
            replayed = outcome.recorded.iter().filter(|r| r.receipt.replayed).count(),
            noted = outcome.noted.len(),
            ignored = outcome.ignored.len(),
            "ESP webhook received"
        );
        Ok(outcome)
    }
}

/// Logs a refused request (the provider's retries show up here) and wraps
/// the error.
fn refused(organisation: &str, provider: Provider, error: EspError) -> IntakeError {
    tracing::warn!(
        organisation,
        provider = provider.as_str(),
        field = %error.field(),
        %error,
        "ESP webhook refused"
    );
    IntakeError::Esp(error)
}

fn unreachable_settings(provider: Provider) -> IntakeError {
    IntakeError::Ledger(LedgerError::Output(format!(
        "{} settings vanished",
        provider.webhook_name()
    )))
}

/// The fact an ESP event records for `subject` (or the address alone);
/// `None` for an event noted, which records none.
#[allow(clippy::too_many_arguments)]
fn esp_envelope(
    payload_sha256: &str,
    delivery_id: &str,
    provider: Provider,
    organisation: &OrganisationId,
    subject: Option<&SubjectId>,
    address: Option<&ContactPoint>,
    event: &EspEvent,
    event_id: EventId,
    received_at: consent_domain::Timestamp,
) -> Option<v1::Envelope> {
    // No fact from the future: a provider's clock a little ahead of ours
    // gives the time of receipt.
    let occurred_at = event
        .occurred_at
        .map_or(received_at, |at| at.min(received_at));
    let mut evidence = serde_json::json!({
        "method": format!("{} webhook", provider.as_str()),
        "provider": provider.as_str(),
        "providerEventId": truncate_chars(&event.provider_event_id, 200),
        "eventType": truncate_chars(&event.event_type, 100),
        "payloadSha256": payload_sha256,
        "receivedAt": received_at.to_string(),
    });
    if !delivery_id.is_empty() {
        evidence["deliveryId"] = serde_json::json!(truncate_chars(delivery_id, 200));
    }
    for (name, value) in &event.detail {
        evidence[*name] = serde_json::json!(truncate_chars(value, 200));
    }
    // The address in clear, as the provider sent it (normalised): the
    // append edge seals it like any other.
    let contact_point = address.map(|address| v1::ContactPoint {
        kind: address.kind.to_wire(),
        value: address.value.to_string(),
        sealed: None,
    });
    let payload = match event.action {
        EspAction::OptOut { channel, method } => {
            v1::envelope::Payload::OptOutRecorded(v1::OptOutRecorded {
                contact_point,
                channels: vec![channel.to_wire()],
                all_channels: false,
                received_via: method.to_wire(),
            })
        }
        EspAction::Objection { method } => {
            v1::envelope::Payload::ObjectionRecorded(v1::ObjectionRecorded {
                contact_point,
                received_via: method.to_wire(),
            })
        }
        EspAction::Withdrawal { channel, method } => {
            v1::envelope::Payload::ConsentWithdrawn(v1::ConsentWithdrawn {
                channels: vec![channel.to_wire()],
                purposes: Vec::new(),
                received_via: method.to_wire(),
            })
        }
        EspAction::NotARefusal => return None,
    };
    Some(v1::Envelope {
        event_id: event_id.to_string(),
        organisation_id: organisation.as_str().to_owned(),
        subject_id: subject.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        occurred_at: Some(timestamp_to_proto(occurred_at)),
        source: Some(v1::Source {
            system: format!("consent-ledger intake: {}", provider.webhook_name()),
            actor: format!("the recipient, reported by {}", provider_name(provider)),
            evidence_ref: evidence.to_string(),
            form_id: String::new(),
            url: String::new(),
        }),
        payload: Some(payload),
        ..v1::Envelope::default()
    })
}

fn provider_name(provider: Provider) -> &'static str {
    match provider {
        Provider::SendGrid => "SendGrid",
        Provider::Ses => "Amazon SES",
        Provider::Mailchimp => "Mailchimp",
        Provider::Generic => "the sender of the generic webhook",
    }
}
