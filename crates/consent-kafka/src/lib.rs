//! The Kafka implementation of the ledger's event log.
//!
//! [`KafkaLog`] implements [`consent_log::EventLog`] over a Kafka cluster with
//! rdkafka (librdkafka). It is the production log; the embedded file log in
//! `consent-log` is the default when no Kafka is configured. Both place a key
//! on the partition [`consent_log::partitioner::partition_for`] chooses, so a
//! subject's records sit on the same partition number whichever log holds
//! them, and positions mean the same thing to the projector.
//!
//! Invariants this crate keeps:
//! * the topics of the [`consent_log::LogLayout`] exist with exactly the
//!   layout's partition count before anything is appended or read (topics
//!   are created on open when absent, with infinite retention; a topic with
//!   another partition count is an error, never silently used);
//! * an append is acknowledged only after every record in it was
//!   acknowledged by all in-sync replicas (`acks=all`, idempotent producer),
//!   and fails with [`consent_log::LogError::Unavailable`] within the
//!   configured delivery timeout when the cluster cannot be reached;
//! * readers use manual partition assignment at the offsets they are given:
//!   consumer-group commits are never made and never read, because the
//!   view's own stored offsets are the only source of truth for progress;
//! * record keys, payloads and headers are stored and returned byte for
//!   byte.

mod config;
mod connection;
mod context;
mod error;
mod log;
mod offsets;
mod reader;
#[cfg(feature = "test-support")]
pub mod test_support;
mod topics;

pub use config::{is_secret_setting, KafkaConfig};
pub use log::KafkaLog;
pub use reader::KafkaReader;
