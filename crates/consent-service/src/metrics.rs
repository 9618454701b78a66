//! Everything the ledger counts, through the `metrics` facade (no IO:
//! `consent_http::metrics` installs the Prometheus recorder and serves it
//! at `/metrics`): what is counted, and under which name, is decided here
//! and nowhere else.
//!
//! * The checks and appends a ledger handle serving a transport decides
//!   ([`crate::Ledger::serving`]): checks by outcome, appends by outcome and
//!   the events they acknowledged. HTTP and gRPC count under the same names.
//! * What the decisions and facts say: refusals by rule and reason code,
//!   opt-outs and objections by the method they were received by, and
//!   failed checkpoint signatures.
//! * The calls each adapter served ([`record_http_request`],
//!   [`record_grpc_call`]), labelled in the adapter's own terms (route and
//!   status code, method and gRPC code).
//! * The projection's and the checkpoints' figures, which are not recorded
//!   as they happen: they are read at each scrape
//!   ([`crate::Ledger::record_gauges`]).
//!
//! | metric | type | labels |
//! | --- | --- | --- |
//! | `consent_http_requests_total` | counter | `method`, `route`, `status` |
//! | `consent_http_request_duration_seconds` | histogram | `method`, `route`, `status` |
//! | `consent_grpc_requests_total` | counter | `method`, `code` |
//! | `consent_grpc_request_duration_seconds` | histogram | `method`, `code` |
//! | `consent_checks_total` | counter | `transport`, `outcome` (`allowed`, `refused`, `failed`) |
//! | `consent_appends_total` | counter | `transport`, `outcome` (`acknowledged`, `invalid`, `failed`) |
//! | `consent_appended_events_total` | counter | `transport` |
//! | `consent_projection_lag_records` | gauge | `topic`, `partition` |
//! | `consent_projection_lag_records_sum` | gauge | |
//! | `consent_view_applied_offset` | gauge | `topic`, `partition` |
//! | `consent_log_end_offset` | gauge | `topic`, `partition` |
//! | `consent_log_reachable` | gauge (0 or 1) | |
//! | `consent_projection_dead_letters_total` | counter | |
//! | `consent_projection_opt_out_notices_total` | counter | |
//! | `consent_projection_events_applied_total` | counter | |
//! | `consent_projection_conflicts_total` | counter | |
//! | `consent_projection_batches_total` | counter | |
//! | `consent_refusals_total` | counter | `rule`, `code` (each reason against a refused check) |
//! | `consent_opt_outs_recorded_total` | counter | `method` (`one_click`, `reply_stop`, ...), `fact` (`opt_out_recorded`, `objection_recorded`), `entry` (`api`, `intake`) |
//! | `consent_checkpoint_failures_total` | counter | |
//! | `consent_checkpoint_latest_timestamp_seconds` | gauge (absent before the first checkpoint) | |
//! | `consent_checkpoint_unsigned_records` | gauge | |

use crate::error::LedgerError;
use crate::evidence::CheckpointProgress;
use crate::ledger::Ledger;
use crate::status::LedgerStatus;
use consent_domain::event::{Event, Fact};
use consent_domain::vocabulary::OptOutMethod;
use consent_schema::v1;
use std::borrow::Cow;
use std::time::Duration;

/// The transports, as the `transport` label names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Http,
    Grpc,
}

impl Transport {
    fn label(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Grpc => "grpc",
        }
    }
}

/// Counts decided checks as allowed or refused, and each reason against a
/// refused one by its rule and code (`consent_refusals_total`): a decision
/// with two reasons counts once under each.
pub fn record_decisions(transport: Transport, decisions: &[v1::Decision]) {
    let allowed = decisions.iter().filter(|d| d.allowed).count() as u64;
    count_checks(transport, "allowed", allowed);
    count_checks(transport, "refused", decisions.len() as u64 - allowed);
    // One counter update per distinct (rule, code) of the call, not one
    // per reason: a batch of refusals repeats a few pairs many times, and
    // each update clones its labels and looks the series up.
    let mut refusals: Vec<(&str, &str, u64)> = Vec::new();
    for reason in decisions
        .iter()
        .filter(|decision| !decision.allowed)
        .flat_map(|decision| &decision.reasons_against)
    {
        match refusals
            .iter_mut()
            .find(|(rule, code, _)| *rule == reason.rule_id && *code == reason.code)
        {
            Some((_, _, count)) => *count += 1,
            None => refusals.push((&reason.rule_id, &reason.code, 1)),
        }
    }
    for (rule, code, count) in refusals {
        // Rule ids and codes are the rule sets' own closed vocabulary, so
        // the series stay few.
        metrics::counter!(
            "consent_refusals_total",
            "rule" => rule.to_owned(),
            "code" => code.to_owned()
        )
        .increment(count);
    }
}

/// Counts checks that could not be decided.
pub fn record_failed_checks(transport: Transport, count: usize) {
    count_checks(transport, "failed", count as u64);
}

/// Counts the checks of one call: each decision as allowed or refused, or
/// every check of a call that failed as failed.
pub fn record_checks(
    transport: Transport,
    decided: Result<&[v1::Decision], &LedgerError>,
    requested: usize,
) {
    match decided {
        Ok(decisions) => record_decisions(transport, decisions),
        Err(_) => record_failed_checks(transport, requested),
    }
}

fn count_checks(transport: Transport, outcome: &'static str, count: u64) {
    if count > 0 {
        metrics::counter!("consent_checks_total", "transport" => transport.label(), "outcome" => outcome)
            .increment(count);
    }
}

/// Counts one append call by outcome, and the events it acknowledged.
pub fn record_append<T>(transport: Transport, appended: &Result<Vec<T>, LedgerError>) {
    let outcome = match appended {
        Ok(events) => {
            metrics::counter!("consent_appended_events_total", "transport" => transport.label())
                .increment(events.len() as u64);
            "acknowledged"
        }
        Err(LedgerError::Invalid { .. } | LedgerError::RecordTooLarge { .. }) => "invalid",
        Err(_) => "failed",
    };
    metrics::counter!("consent_appends_total", "transport" => transport.label(), "outcome" => outcome)
        .increment(1);
}

/// How a fact reached the log, as the `entry` label of
/// `consent_opt_outs_recorded_total` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// Appended by a client through the append API (HTTP or gRPC).
    Api,
    /// Recorded by the ledger's own intake endpoints (one-click
    /// unsubscribe, SMS STOP webhook, Global Privacy Control).
    Intake,
}

impl Entry {
    fn label(self) -> &'static str {
        match self {
            Entry::Api => "api",
            Entry::Intake => "intake",
        }
    }
}

/// Counts the opt-outs and objections among acknowledged `events`, by the
/// method they were received by and how they reached the log.
pub fn record_opt_outs<'a>(entry: Entry, events: impl IntoIterator<Item = &'a Event>) {
    for event in events {
        let (fact, method) = match &event.fact {
            Fact::OptOutRecorded(opt_out) => ("opt_out_recorded", opt_out.received_via),
            Fact::ObjectionRecorded(objection) => ("objection_recorded", objection.received_via),
            _ => continue,
        };
        metrics::counter!(
            "consent_opt_outs_recorded_total",
            "method" => method_label(method),
            "fact" => fact,
            "entry" => entry.label()
        )
        .increment(1);
    }
}

/// The `method` label: the method's name in the schema, lower case.
pub fn method_label(method: OptOutMethod) -> &'static str {
    match method {
        OptOutMethod::UnsubscribeLink => "unsubscribe_link",
        OptOutMethod::OneClick => "one_click",
        OptOutMethod::ReplyStop => "reply_stop",
        OptOutMethod::Call => "call",
        OptOutMethod::InPerson => "in_person",
        OptOutMethod::EmailReply => "email_reply",
        OptOutMethod::Letter => "letter",
        OptOutMethod::GpcSignal => "gpc_signal",
        OptOutMethod::PreferenceCentre => "preference_centre",
        OptOutMethod::SpamComplaint => "spam_complaint",
    }
}

/// Registers the counters that alerts watch but that may stay at zero for
/// the process's whole life, so that a scrape shows them (at 0) rather
/// than nothing. Call once the recorder is installed.
pub fn register_zero_counters() {
    metrics::counter!("consent_checkpoint_failures_total").increment(0);
}

/// Counts a checkpoint that could not be signed (scheduled, on demand or
/// for an export).
pub fn record_checkpoint_failure() {
    metrics::counter!("consent_checkpoint_failures_total").increment(1);
}

/// One request the HTTP adapter served, labelled with its method, its
/// route's path template (never the raw path, whose organisation and
/// subject ids would make a series per subject) and its status code.
pub fn record_http_request(
    method: Cow<'static, str>,
    route: Cow<'static, str>,
    status: Cow<'static, str>,
    latency: Duration,
) {
    let labels = [
        ("method", metrics::SharedString::from(method)),
        ("route", metrics::SharedString::from(route)),
        ("status", metrics::SharedString::from(status)),
    ];
    metrics::counter!("consent_http_requests_total", &labels).increment(1);
    metrics::histogram!("consent_http_request_duration_seconds", &labels)
        .record(latency.as_secs_f64());
}

/// One call the gRPC adapter served (for `CheckStream`, the setting up of
/// its stream), labelled with its method and its code's name (`Ok`,
/// `InvalidArgument`).
pub fn record_grpc_call(method: &'static str, code: &'static str, latency: Duration) {
    let labels = [("method", method), ("code", code)];
    metrics::counter!("consent_grpc_requests_total", &labels).increment(1);
    metrics::histogram!("consent_grpc_request_duration_seconds", &labels)
        .record(latency.as_secs_f64());
}

impl Ledger {
    /// Sets the projection's and the checkpoints' figures as of now (for
    /// a scrape): they are the projector's own counters and the
    /// checkpointer's progress, read rather than recorded as they happen.
    pub async fn record_gauges(&self) {
        record_status(&self.status().await);
        if let Some(progress) = self.checkpoint_progress() {
            record_checkpoints(&progress);
        }
    }
}

/// Sets the projection's gauges and counters from `status`. While the log
/// cannot be reached, lag and end offsets keep their last values and
/// `consent_log_reachable` is 0.
pub fn record_status(status: &LedgerStatus) {
    let projection = &status.projection;
    for (partition, offset) in &projection.applied {
        metrics::gauge!(
            "consent_view_applied_offset",
            "topic" => partition.topic.clone(),
            "partition" => partition.partition.to_string()
        )
        .set(*offset as f64);
    }
    if let Some(end) = &status.log_end_offsets {
        for (partition, offset) in end {
            metrics::gauge!(
                "consent_log_end_offset",
                "topic" => partition.topic.clone(),
                "partition" => partition.partition.to_string()
            )
            .set(*offset as f64);
        }
    }
    if let Some(lag) = &status.lag {
        for (partition, behind) in &lag.partitions {
            metrics::gauge!(
                "consent_projection_lag_records",
                "topic" => partition.topic.clone(),
                "partition" => partition.partition.to_string()
            )
            .set(*behind as f64);
        }
        metrics::gauge!("consent_projection_lag_records_sum").set(lag.total as f64);
    }
    metrics::gauge!("consent_log_reachable").set(if status.log_reachable() { 1.0 } else { 0.0 });
    metrics::counter!("consent_projection_dead_letters_total").absolute(projection.dead_letters);
    metrics::counter!("consent_projection_opt_out_notices_total")
        .absolute(projection.opt_out_notices);
    metrics::counter!("consent_projection_events_applied_total")
        .absolute(projection.events_applied);
    metrics::counter!("consent_projection_conflicts_total").absolute(projection.conflicts);
    metrics::counter!("consent_projection_batches_total").absolute(projection.batches);
}

/// Sets the checkpoint gauges: when the latest checkpoint was signed, and
/// how many records the view has committed that none covers yet (a
/// checkpoint that stays behind means evidence cannot be proven to date).
pub fn record_checkpoints(progress: &CheckpointProgress) {
    if let Some(timestamp_ms) = progress.latest_timestamp_ms {
        metrics::gauge!("consent_checkpoint_latest_timestamp_seconds")
            .set(timestamp_ms as f64 / 1000.0);
    }
    metrics::gauge!("consent_checkpoint_unsigned_records").set(progress.unsigned_records() as f64);
}
