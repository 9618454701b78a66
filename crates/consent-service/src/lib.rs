//! The consent ledger's application layer, without transport.
//!
//! [`Ledger`] ties the event log (system of record), the view the
//! projector maintains, and the rule catalogue together into the
//! operations every transport offers:
//!
//! * [`Ledger::append`]: validate a whole request, then one durable append;
//! * [`Ledger::check`] / [`Ledger::check_batch`]: decide from the view,
//!   after waiting for given log positions (read-your-writes);
//! * [`Ledger::history`]: a subject's stored events, as of a time, with the
//!   decision at that time;
//! * [`Ledger::wait_for`]: read-your-writes without a check;
//! * [`Ledger::subjects_by_address`] and [`Ledger::subject_known`]: finding a
//!   subject by an address (through its digest) or by its id;
//! * [`Ledger::decisions_for_reading`]: decisions a reader asks for (the
//!   console's eligibility matrix), not counted as checks;
//! * [`Ledger::rule_sets`] and [`Ledger::status`];
//! * [`Ledger::health`]: the faults that call for a restart (liveness) or
//!   keep traffic away; [`Readiness`]: whether to send this instance
//!   traffic (readiness);
//! * evidence, with a checkpoint key: [`Ledger::sign_checkpoint`],
//!   [`Ledger::export`] (a sealed bundle), [`Ledger::export_html`] (its
//!   audited report) and [`Ledger::eligibility`] (CSV);
//! * opt-out intake ([`IntakeConfig`]): one-click unsubscribe URLs on
//!   messages sent ([`Ledger::append_response`]),
//!   [`Ledger::one_click_unsubscribe`], [`Ledger::sms_inbound`] and
//!   [`Ledger::gpc_signal`] (docs/OPT-OUTS.md);
//! * long work as jobs with progress ([`jobs`]: a registry each job is
//!   visible in only to its organisation and the admin):
//!   [`Ledger::start_export`] (a bundle, the verifier's result on it and
//!   its report), [`Ledger::start_replay`] (docs/REPLAY.md, from the
//!   running ledger) and [`Ledger::start_preflight`] (a campaign's
//!   recipients checked from a CSV, [`preflight`]);
//! * ESP events in ([`EspWebhooks`]): [`Ledger::sendgrid_webhook`],
//!   [`Ledger::ses_webhook`], [`Ledger::mailchimp_webhook`] and
//!   [`Ledger::generic_webhook`], each authenticated with the provider's
//!   own scheme (docs/INTEGRATION.md, "ESP events in");
//! * [`Ledger::routing`]: a subject's partition, and whether this instance
//!   owns it. An instance that owns only some partitions (see
//!   `consent_projector::OwnedPartitions`) refuses checks and histories of
//!   the others' subjects with [`LedgerError::WrongPartition`]; it accepts
//!   appends for any subject, since the log routes them.
//!
//! API boundary: requests and answers are the `consent.v1` wire messages;
//! everything is validated through `consent-schema` before the domain sees
//! it, and every failure is a [`LedgerError`] variant a transport can map
//! to a status. Side effects (time, ids) come from the [`Clock`] and
//! [`IdGenerator`] the ledger was built with.

mod append;
mod check;
mod clock;
mod digest_key;
mod error;
mod esp;
mod evidence;
mod export_job;
mod find;
mod freshness;
mod health;
mod history;
mod intake;
pub mod jobs;
mod ledger;
pub mod metrics;
pub mod preflight;
mod readiness;
mod replay_job;
mod routing;
mod status;
mod suppressions;
mod wait;

pub use append::EVENT_KIND_HEADER;
pub use clock::{Clock, IdGenerator, SystemClock, UuidV7};
pub use consent_export::SignedCheckpoint;
pub use digest_key::{settle_contact_digest_key, DigestKeyCheck, DigestKeyError};
pub use error::{ErrorKind, LedgerError};
pub use esp::{
    EspNote, EspOutcome, EspReceipt, EspSettings, EspWebhooks, SendGridSettings, SesSettings,
};
pub use evidence::{signed_checkpoint_to_proto, CheckpointProgress};
pub use export_job::{EvidenceExport, ExportVerification};
pub use find::AddressSearch;
pub use freshness::FreshnessConfig;
pub use health::{judge, Fault, FaultKind, Health, HealthConfig, HealthInputs};
pub use intake::{
    GpcSignal, IntakeConfig, IntakeError, IntakeReceipt, OneClickRequest, SmsOutcome, TokenStatus,
};
pub use jobs::{
    Job, JobError, JobId, JobKind, JobLimits, JobOutput, JobProgress, JobState, Viewer,
};
pub use ledger::{Ledger, LedgerBuilder, LedgerConfig};
pub use preflight::{PreflightRequest, PreflightResult};
pub use readiness::{Readiness, ReadinessReport};
pub use replay_job::{ChangeCounts, ReplayReport, ReplayRequest, ReplayResult};
pub use routing::Routing;
pub use status::LedgerStatus;
pub use suppressions::{DEFAULT_SUPPRESSION_PAGE, MAX_SUPPRESSION_PAGE};
pub use wait::MAX_WAIT_MS;
