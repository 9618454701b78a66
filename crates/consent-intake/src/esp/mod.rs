//! ESP events in (docs/INTEGRATION.md, "ESP events in"): each email
//! service provider's own authentication, and its events read into what
//! they mean for the ledger ([`EspEvent`]), one module per provider:
//!
//! * [`sendgrid`]: the SendGrid Event Webhook, ECDSA P-256 signed;
//! * [`sns`] and [`ses`]: Amazon SES notifications delivered by SNS, whose
//!   message signature is verified against a configured certificate;
//! * [`mailchimp`]: Mailchimp's audience webhooks, a secret in the URL;
//! * [`generic`]: a small JSON body signed with HMAC-SHA256, for the rest.
//!
//! Pure: the time a signature's age is judged against is an argument, and
//! nothing is fetched (SNS's `SigningCertURL` never is). The ledger's
//! operation over these is `consent-service`'s `esp` module.

pub mod generic;
pub mod mailchimp;
pub mod sendgrid;
pub mod ses;
pub mod sns;

use consent_domain::vocabulary::{Channel, ContactKind, OptOutMethod};
use consent_domain::Timestamp;
use sha2::{Digest, Sha256};

/// The providers whose webhooks the ledger reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Provider {
    SendGrid,
    Ses,
    Mailchimp,
    Generic,
}

impl Provider {
    /// Lower case, as in the endpoint's path and the metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::SendGrid => "sendgrid",
            Provider::Ses => "ses",
            Provider::Mailchimp => "mailchimp",
            Provider::Generic => "generic",
        }
    }

    /// The webhook's name in words, for messages and `source.system`.
    pub fn webhook_name(self) -> &'static str {
        match self {
            Provider::SendGrid => "the SendGrid Event Webhook",
            Provider::Ses => "the Amazon SES notifications webhook (SNS)",
            Provider::Mailchimp => "the Mailchimp webhook",
            Provider::Generic => "the generic signed webhook",
        }
    }
}

/// What an ESP's event means for the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EspAction {
    /// An opt-out of `channel` (`OptOutRecorded`).
    OptOut {
        channel: Channel,
        method: OptOutMethod,
    },
    /// An objection to all direct marketing (`ObjectionRecorded`).
    Objection { method: OptOutMethod },
    /// Consent withdrawn for `channel` (`ConsentWithdrawn`, every purpose).
    Withdrawal {
        channel: Channel,
        method: OptOutMethod,
    },
    /// Noted as evidence and not a refusal: a bounce, an address the ESP
    /// cleaned. No fact of the ledger says "undeliverable", so nothing is
    /// appended (docs/INTEGRATION.md says why).
    NotARefusal,
}

impl EspAction {
    /// The fact it becomes, in snake case (`Fact::kind`'s names), or
    /// `noted`.
    pub fn fact(self) -> &'static str {
        match self {
            EspAction::OptOut { .. } => "opt_out_recorded",
            EspAction::Objection { .. } => "objection_recorded",
            EspAction::Withdrawal { .. } => "consent_withdrawn",
            EspAction::NotARefusal => "noted",
        }
    }
}

/// An address an event names, as the provider gave it (the ledger
/// normalises it as every contact value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventAddress {
    pub kind: ContactKind,
    pub value: String,
}

/// One event of a delivery that means something for the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EspEvent {
    /// The provider's id of the event (SendGrid `sg_event_id`, SES
    /// `feedbackId`, the generic body's `providerEventId`; for Mailchimp,
    /// which gives none, one made of its fields: [`mailchimp`]). The
    /// ledger's event id is derived from it, so a replay is the same fact.
    pub provider_event_id: String,
    /// The provider's name of the event (`unsubscribe`, `spamreport`,
    /// `Complaint`...).
    pub event_type: String,
    pub action: EspAction,
    /// The address it is about (email for the ESPs).
    pub address: Option<EventAddress>,
    /// The ledger's subject id, when the provider's body names it (the
    /// generic webhook); otherwise the subjects are those with the address.
    pub subject: Option<String>,
    /// When the provider says it happened.
    pub occurred_at: Option<Timestamp>,
    /// More of the provider's fields kept as evidence (e.g. SendGrid's
    /// `asm_group_id`, SES's `complaintFeedbackType`).
    pub detail: Vec<(&'static str, String)>,
}

/// An event of a delivery that the ledger acknowledges and ignores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoredEvent {
    pub event_type: String,
    pub provider_event_id: String,
    /// Why, in words.
    pub reason: String,
}

/// An SNS subscription confirmation: reported to the operator, never
/// followed by the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionConfirmation {
    pub topic_arn: String,
    /// The URL the operator visits (or passes to `aws sns
    /// confirm-subscription`) to confirm the subscription.
    pub subscribe_url: String,
}

/// One authenticated webhook request, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EspDelivery {
    pub provider: Provider,
    /// Lower-case hex SHA-256 of the raw body, as received: the evidence of
    /// what the provider sent.
    pub payload_sha256: String,
    /// The provider's id of the delivery itself, when it has one (the SNS
    /// `MessageId`).
    pub delivery_id: String,
    pub events: Vec<EspEvent>,
    pub ignored: Vec<IgnoredEvent>,
    pub subscription: Option<SubscriptionConfirmation>,
}

impl EspDelivery {
    pub(crate) fn new(provider: Provider, body: &[u8]) -> Self {
        Self {
            provider,
            payload_sha256: payload_sha256(body),
            delivery_id: String::new(),
            events: Vec::new(),
            ignored: Vec::new(),
            subscription: None,
        }
    }

    pub(crate) fn ignore(&mut self, event_type: &str, provider_event_id: &str, reason: &str) {
        self.ignored.push(IgnoredEvent {
            event_type: event_type.to_owned(),
            provider_event_id: provider_event_id.to_owned(),
            reason: reason.to_owned(),
        });
    }
}

/// Lower-case hex SHA-256 of `body`.
pub fn payload_sha256(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Why a webhook request is refused. Nothing is recorded in any case.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EspError {
    /// A header the provider always sends is missing.
    #[error("the `{header}` header is missing: {provider} signs every request with it")]
    MissingHeader {
        header: &'static str,
        provider: &'static str,
    },
    /// The signature (or the secret in the URL) does not verify.
    #[error("{what} does not verify: {reason}")]
    BadSignature {
        /// The header or field that carries it.
        field: &'static str,
        what: &'static str,
        reason: String,
    },
    /// A genuine signature over a timestamp too far from now: an old
    /// request replayed, or a clock far off.
    #[error("the signed timestamp `{field}` is {age_secs} s from now, more than the {tolerance_secs} s allowed: refused as stale")]
    Stale {
        field: &'static str,
        age_secs: i64,
        tolerance_secs: i64,
    },
    /// The body is not what the provider documents; `field` names where.
    #[error("`{field}`: {reason}")]
    Payload { field: String, reason: String },
}

impl EspError {
    /// The header, field or path segment at fault.
    pub fn field(&self) -> String {
        match self {
            EspError::MissingHeader { header, .. } => (*header).to_owned(),
            EspError::BadSignature { field, .. } | EspError::Stale { field, .. } => {
                (*field).to_owned()
            }
            EspError::Payload { field, .. } => field.clone(),
        }
    }

    /// Whether the request failed authentication (HTTP 403: no signature,
    /// a bad one, a stale one), rather than being malformed (400).
    pub fn is_authentication(&self) -> bool {
        matches!(
            self,
            EspError::MissingHeader { .. } | EspError::BadSignature { .. } | EspError::Stale { .. }
        )
    }

    pub(crate) fn payload(field: impl Into<String>, reason: impl Into<String>) -> Self {
        EspError::Payload {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Why a configured key or certificate cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);
