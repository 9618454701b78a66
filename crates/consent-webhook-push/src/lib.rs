//! Webhook push of the opt-out feed: each configured endpoint receives the
//! `consent.v1.OptOutNotice`s of its organisation, one signed POST each,
//! at least once (docs/INTEGRATION.md, "Opt-outs out").
//!
//! * [`policy`] (pure, time an argument): exponential backoff and the dead
//!   letter after the last try;
//! * [`signature`] (pure): `X-Consent-Ledger-Signature: t=..,v1=..`,
//!   HMAC-SHA256 over the timestamp and the body, and its verification;
//! * [`endpoints`]: the webhooks file and the endpoints' secret files;
//! * [`transport`]: the [`Transport`] trait, one POST, and its reqwest
//!   implementation;
//! * [`position`] and [`dead_letters`]: each endpoint's stored position
//!   and dead letters under `DATA_DIR/webhooks/{endpoint}/`;
//! * [`pusher`]: one [`EndpointPusher`] per endpoint follows the feed from
//!   its stored position and moves it only past what was delivered or
//!   dead-lettered, so a restart resumes and an hour's outage loses
//!   nothing; [`retry_dead_letters`] pushes dead letters again.
//!
//! Invariants: an endpoint's position never passes a notice of its
//! organisation that was neither delivered (2xx) nor stored as a dead
//! letter; an endpoint that fails holds back no other endpoint; no
//! notice, dead letter or log line carries a clear contact value or a
//! secret.

pub mod dead_letters;
pub mod endpoints;
mod error;
mod metrics;
pub mod policy;
pub mod position;
pub mod pusher;
pub mod signature;
pub mod transport;

pub use dead_letters::{DeadLetter, DeadLetterStore};
pub use endpoints::{load_endpoints, Endpoint, EndpointsError};
pub use error::StoreError;
pub use policy::{AfterFailure, RetryPolicy};
pub use position::{PositionStore, Positions};
pub use pusher::{
    dead_letter_store, endpoint_dir, notice_body, request_headers, retry_dead_letters,
    EndpointPusher, PushSettings, RetryReport,
};
pub use signature::{sign, verify, SignatureError, EVENT_ID_HEADER, SIGNATURE_HEADER};
pub use transport::{HttpTransport, Transport};
