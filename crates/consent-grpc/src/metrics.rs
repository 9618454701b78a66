//! What the gRPC adapter records through the `metrics` facade, under the
//! same names as the HTTP adapter's (`consent_http::metrics`, which also
//! installs the Prometheus recorder and serves `/metrics`): calls and their
//! latency by method and code, checks by outcome, appends by outcome.

use consent_schema::v1;
use consent_service::LedgerError;
use std::time::Duration;
use tonic::Code;

const TRANSPORT: &str = "grpc";

/// One finished call (for `CheckStream`, the setting up of its stream).
pub fn record_call(method: &'static str, code: Code, latency: Duration) {
    let labels = [("method", method.to_owned()), ("code", format!("{code:?}"))];
    metrics::counter!("consent_grpc_requests_total", &labels).increment(1);
    metrics::histogram!("consent_grpc_request_duration_seconds", &labels)
        .record(latency.as_secs_f64());
}

/// Counts decided checks as allowed or refused.
pub fn record_decisions(decisions: &[v1::Decision]) {
    let allowed = decisions.iter().filter(|d| d.allowed).count() as u64;
    count_checks("allowed", allowed);
    count_checks("refused", decisions.len() as u64 - allowed);
}

/// Counts checks that could not be decided.
pub fn record_failed_checks(count: usize) {
    count_checks("failed", count as u64);
}

/// Counts the checks of one unary call by outcome.
pub fn record_checks(decided: Result<&[v1::Decision], &LedgerError>, requested: usize) {
    match decided {
        Ok(decisions) => record_decisions(decisions),
        Err(_) => record_failed_checks(requested),
    }
}

fn count_checks(outcome: &'static str, count: u64) {
    if count > 0 {
        metrics::counter!("consent_checks_total", "transport" => TRANSPORT, "outcome" => outcome)
            .increment(count);
    }
}

/// Counts one append call by outcome, and the events it acknowledged.
pub fn record_append<T>(appended: &Result<Vec<T>, LedgerError>) {
    let outcome = match appended {
        Ok(events) => {
            metrics::counter!("consent_appended_events_total", "transport" => TRANSPORT)
                .increment(events.len() as u64);
            "acknowledged"
        }
        Err(LedgerError::Invalid { .. } | LedgerError::RecordTooLarge { .. }) => "invalid",
        Err(_) => "failed",
    };
    metrics::counter!("consent_appends_total", "transport" => TRANSPORT, "outcome" => outcome)
        .increment(1);
}
