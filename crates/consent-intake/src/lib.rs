//! Opt-out intake where people actually opt out: the pure parts.
//!
//! * [`token`]: signed per-message RFC 8058 unsubscribe tokens, minted when
//!   a send is recorded and verified when the link is used;
//! * [`form`]: whether a POST is RFC 8058's `List-Unsubscribe=One-Click`;
//! * [`sms`]: the STOP keywords, the provider's inbound form and the
//!   webhook's HMAC signature;
//! * [`esp`]: ESP events in (SendGrid, Amazon SES through SNS, Mailchimp,
//!   a generic signed webhook): each provider's authentication, and its
//!   events read into what they mean for the ledger;
//! * [`keyfile`]: the intake secret's key file (the only IO here).
//!
//! What each channel records, and why, is in `docs/OPT-OUTS.md`.
//! Invariant: no IO but the key file, no clock, no async; the ledger's
//! operations over these are in `consent-service` (`intake`).

pub mod esp;
pub mod form;
pub mod keyfile;
pub mod sms;
pub mod token;

pub use form::{check_one_click_form, FormError};
pub use keyfile::{
    generate_secret_file, load_or_generate_secret_file, load_secret_file, parse_secret,
    SecretFileError,
};
pub use sms::{is_stop_keyword, parse_inbound_form, sign_webhook, verify_webhook, InboundSms};
pub use token::{
    derived_event_id, IntakeSecret, TokenError, UnsubscribeClaim, VerifiedToken, SECRET_BYTES,
};
