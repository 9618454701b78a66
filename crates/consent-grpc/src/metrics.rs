//! The calls the gRPC adapter served, counted by `consent_service::metrics`
//! (which names every metric; `consent_http::metrics` serves `/metrics`)
//! with their method and code. The checks and appends are counted by the
//! ledger itself, as over HTTP.

use std::time::Duration;
use tonic::Code;

/// One finished call (for `CheckStream`, the setting up of its stream).
pub fn record_call(method: &'static str, code: Code, latency: Duration) {
    consent_service::metrics::record_grpc_call(method, code_label(code), latency);
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
