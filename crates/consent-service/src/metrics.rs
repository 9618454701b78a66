//! What the ledger's operations count, through the `metrics` facade (no IO:
//! the binary installs the recorder, `consent_http::metrics` serves it), by
//! the transport that asked: checks by outcome, appends by outcome and the
//! events they acknowledged. HTTP and gRPC count under the same names.

use crate::error::LedgerError;
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
pub fn record_decisions(transport: Transport, decisions: &[v1::Decision]) {
    let allowed = decisions.iter().filter(|d| d.allowed).count() as u64;
    count_checks(transport, "allowed", allowed);
    count_checks(transport, "refused", decisions.len() as u64 - allowed);
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
