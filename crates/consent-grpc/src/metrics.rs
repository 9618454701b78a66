//! What the gRPC adapter records through the `metrics` facade
//! (`consent_http::metrics` installs the Prometheus recorder and serves
//! `/metrics`): calls and their latency by method and code. Checks and
//! appends are counted with `consent_service::metrics`, as over HTTP.

use std::time::Duration;
use tonic::Code;

/// One finished call (for `CheckStream`, the setting up of its stream).
pub fn record_call(method: &'static str, code: Code, latency: Duration) {
    let labels = [("method", method.to_owned()), ("code", format!("{code:?}"))];
    metrics::counter!("consent_grpc_requests_total", &labels).increment(1);
    metrics::histogram!("consent_grpc_request_duration_seconds", &labels)
        .record(latency.as_secs_f64());
}
