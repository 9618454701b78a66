//! What the ledger's operations count, through the `metrics` facade (no IO:
//! the binary installs the recorder, `consent_http::metrics` serves it), by
//! the transport that asked: checks by outcome, appends by outcome and the
//! events they acknowledged. HTTP and gRPC count under the same names.
//! Also what the decisions and facts say: refusals by rule and reason code,
//! opt-outs and objections by the method they were received by, and failed
//! checkpoint signatures.

use crate::error::LedgerError;
use consent_domain::event::{Event, Fact};
use consent_domain::vocabulary::OptOutMethod;
use consent_schema::v1;

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

/// Counts decided checks as allowed or refused.
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
