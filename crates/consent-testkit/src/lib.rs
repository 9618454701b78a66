//! The one test kit of the workspace: every crate's tests say their
//! givens, whens and thens with it, the same way.
//!
//! - [`arbitrary`]: generated histories for the properties of the fold
//!   (events of every kind that meet on a few subjects and addresses, and
//!   the deliveries a log may make of them).
//! - [`facts`]: facts as the scenarios say them (`sale("cars")`,
//!   `consent(&[Email], &[Commercial]).pre_ticked()`, `opt_out(..)`), with
//!   the lawful defaults, and the one wording hash ([`facts::WORDING_SHA256`]).
//! - [`scenario`]: given / when / then for the rule engine (`Scenario`,
//!   `Check`, `Then`), with the checks every decision must pass (rules in
//!   rule-set order, every reason cited, nothing from after the check's
//!   time relied on) and the `CONSENT_DECISION_DUMP` hook; generated cases
//!   for properties over every decision (`scenario::generate`).
//! - [`history`]: histories as a compliance officer tells them, for the
//!   replay (`History`, the charity's and the tea merchant's stories).
//! - [`wire`]: facts as producers send them (`consent.v1` envelopes and
//!   check requests): the cycle shop's story, and one valid payload of
//!   every kind.
//! - [`json`]: facts and questions as the HTTP API's JSON, for the tests
//!   that drive a ledger over HTTP or the real binary (the car dealer's
//!   story of the README, the cycle shop's rendered from [`wire`]), and
//!   the readings of its answers (positions, reasons against).
//! - [`ledger`] (feature `ledger`): a running ledger over real parts, the
//!   embedded log, a view store and a projector task, built the way
//!   `consent-ledger serve` builds it (`Ledger::builder` over the
//!   projector's own parts).
//!
//! **Invariant:** a dev-dependency only (the benchmarks' binary excepted),
//! never a normal dependency of a library crate (checked by
//! `tests/architecture.rs`). It panics with a message on a test's own
//! mistakes; it is test code.

pub mod arbitrary;
pub mod facts;
pub mod history;
pub mod json;
#[cfg(feature = "ledger")]
pub mod ledger;
pub mod scenario;
pub mod wire;
