//! `GET /healthz`: whether this instance should be restarted (liveness).
//!
//! The judgement is the ledger's ([`Ledger::health`]); this maps it to a
//! status code and a body naming each fault.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use consent_service::{Fault, Health, Ledger};
use serde_json::{json, Value};

/// `GET /healthz`: 200 `{"status": "ok"}` while no fault calls for a
/// restart (faults within their bound are listed under `faults`), else 503
/// `{"status": "unhealthy", "reason": "...", "faults": [...]}`.
pub async fn healthz(State(ledger): State<Ledger>) -> (StatusCode, Json<Value>) {
    let health = ledger.health().await;
    let status = if health.live() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(document(&health)))
}

/// The `/healthz` body of `health`.
pub fn document(health: &Health) -> Value {
    if health.clear() {
        return json!({ "status": "ok" });
    }
    let faults: Vec<Value> = health.faults.iter().map(fault_document).collect();
    if health.live() {
        json!({ "status": "ok", "faults": faults })
    } else {
        json!({
            "status": "unhealthy",
            "reason": health.reason(),
            "faults": faults,
        })
    }
}

fn fault_document(fault: &Fault) -> Value {
    json!({
        "kind": fault.kind.as_str(),
        "partition": fault.partition,
        "error": fault.error,
        "lastedSecs": fault.lasted.as_secs(),
        "restartDue": fault.restart_due,
    })
}
