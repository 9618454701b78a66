//! `GET /readyz`: whether this instance should be sent traffic.
//!
//! The judgement is the ledger's ([`Readiness`]); this maps it to a status
//! code and a body.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use consent_service::{Ledger, Readiness, ReadinessReport};
use serde_json::{json, Value};

/// The `/readyz` body:
/// `{"status": "ready", "recordsBehindStart": 0}` or
/// `{"status": "not_ready", "reason": "...", "recordsBehindStart": 120}`.
pub fn document(report: &ReadinessReport) -> Value {
    json!({
        "status": if report.ready { "ready" } else { "not_ready" },
        "reason": report.reason,
        "recordsBehindStart": report.records_behind_start,
    })
}

/// `GET /readyz`: 200 `{"status": "ready", ...}` when ready, else 503
/// `{"status": "not_ready", "reason": ...}`.
pub async fn readyz(
    State(ledger): State<Ledger>,
    Extension(readiness): Extension<Readiness>,
) -> (StatusCode, Json<Value>) {
    let report = readiness.check(&ledger).await;
    let status = if report.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(document(&report)))
}
