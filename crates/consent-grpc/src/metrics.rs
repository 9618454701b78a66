//! What the gRPC adapter records through the `metrics` facade
//! (`consent_http::metrics` installs the Prometheus recorder and serves
//! `/metrics`): calls and their latency by method and code. Checks and
//! appends are counted with `consent_service::metrics`, as over HTTP.

use std::time::Duration;
use tonic::Code;

/// One finished call (for `CheckStream`, the setting up of its stream).
pub fn record_call(method: &'static str, code: Code, latency: Duration) {
    let labels = [("method", method), ("code", code_label(code))];
    metrics::counter!("consent_grpc_requests_total", &labels).increment(1);
    metrics::histogram!("consent_grpc_request_duration_seconds", &labels)
        .record(latency.as_secs_f64());
}

/// The `code` label: the code's name as tonic's `Debug` spells it (`Ok`,
/// `InvalidArgument`), without formatting it for every call.
fn code_label(code: Code) -> &'static str {
    match code {
        Code::Ok => "Ok",
        Code::Cancelled => "Cancelled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_labels_are_the_codes_debug_names() {
        for code in 0..=16 {
            let code = Code::from_i32(code);
            assert_eq!(code_label(code), format!("{code:?}"));
        }
    }
}
